/**
 * The socket facade and the Node faces over IPv6, on two simulated dual-stack hosts
 * (a: 10.7.0.1 + fd00:7::1, b: 10.7.0.2 + fd00:7::2): AF_INET6 with Python's 4-tuples,
 * the dual-stack listener (RFC 3493 §5.3, IPv4 peers as ::ffff:a.b.c.d), IPV6_V6ONLY,
 * inet_pton/inet_ntop, and `net`/`dgram` with IPv6 hosts and 'udp6'.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import {
  AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
} from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';
import type { TcpStream } from '../../src/socket/net.js';

function pair(): ReturnType<typeof SimNetwork.pair> {
  return SimNetwork.pair({ ipv6: true });
}

function listen6(b: ReturnType<typeof pair>['b'], port: number, v6only = false): StreamSocket {
  const l = b.api.socket(AF_INET6, SOCK_STREAM);
  l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  if (v6only) l.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
  l.bind(['', port]);
  l.listen(8);
  return l;
}

describe('AF_INET6 stream sockets', () => {
  it('connect and accept over IPv6 with (host, port, flowinfo, scope_id) tuples', async () => {
    const { net, a, b } = pair();
    const l = listen6(b, 7);
    expect(l.getsockname()).toEqual(['::', 7, 0, 0]);
    const c = a.api.socket(AF_INET6, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['fd00:7::2', 7]));
    const [conn, peer] = await net.until(accepted);
    expect(peer).toEqual(['fd00:7::1', c.getsockname()[1], 0, 0]);
    expect(c.getpeername()).toEqual(['fd00:7::2', 7, 0, 0]);
    expect(conn.getsockname()).toEqual(['fd00:7::2', 7, 0, 0]);
    await net.until(c.sendall('six'));
    expect(Buffer.from(await net.until(conn.recv(10))).toString()).toBe('six');
    // TCP over IPv6 announces MTU - 60 (RFC 8200 §8.3 / RFC 9293 §3.7.1).
    expect(c.tcpInfo()!.rcvMss).toBe(1440);
    expect(c.conn!.describe()).toBe(`[fd00:7::1]:${c.getsockname()[1]} > [fd00:7::2]:7`);
  });

  it('a dual-stack listener on :: takes IPv4 clients, seen as ::ffff:10.7.0.1', async () => {
    const { net, a, b } = pair();
    const l = listen6(b, 7);
    const c = a.api.socket(AF_INET, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['10.7.0.2', 7]));
    const [conn, peer] = await net.until(accepted);
    expect(peer).toEqual(['::ffff:10.7.0.1', c.getsockname()[1], 0, 0]);
    expect(conn.getsockname()).toEqual(['::ffff:10.7.0.2', 7, 0, 0]);
  });

  it('IPV6_V6ONLY keeps IPv4 out (refused), and frees the port for an IPv4 listener', async () => {
    const { net, a, b } = pair();
    const v6 = listen6(b, 7, true);
    expect(() => v6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)).toThrow(/before bind/);
    const c = a.api.socket(AF_INET, SOCK_STREAM);
    await expect(net.until(c.connect(['10.7.0.2', 7]))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const l4 = b.api.socket(AF_INET, SOCK_STREAM);
    l4.bind(['', 7]);
    l4.listen(1);
    // Without V6ONLY the two would conflict, as on Linux.
    const l6 = b.api.socket(AF_INET6, SOCK_STREAM);
    l6.bind(['', 8]);
    l6.listen(1);
    const l4b = b.api.socket(AF_INET, SOCK_STREAM);
    expect(() => l4b.bind(['', 8])).toThrow(/EADDRINUSE/);
  });

  it('an AF_INET6 socket may name an IPv4 peer as ::ffff:a.b.c.d', async () => {
    const { net, a, b } = pair();
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    l.bind(['', 7]);
    l.listen(1);
    const c = a.api.socket(AF_INET6, SOCK_STREAM);
    await net.until(c.connect(['::ffff:10.7.0.2', 7]));
    expect(c.getpeername()).toEqual(['::ffff:10.7.0.2', 7, 0, 0]);
  });

  it('clear errors: an IPv6 address on an AF_INET socket, a bad tuple, a stack without IPv6', async () => {
    const { net, a } = pair();
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    await expect(net.until(s.connect(['fd00:7::2', 7]))).rejects.toMatchObject({ code: 'EAFNOSUPPORT' });
    const s6 = a.api.socket(AF_INET6, SOCK_STREAM);
    expect(() => s6.bind(['::', 7, 0, 0, 0] as never)).toThrow(/EINVAL/);
    expect(() => s6.bind(['fd00:7::99', 7])).toThrow(/EADDRNOTAVAIL/);
    const v4only = SimNetwork.pair();
    const t = v4only.a.api.socket(AF_INET6, SOCK_STREAM);
    await expect(v4only.net.until(t.connect(['fd00:7::2', 7]))).rejects.toMatchObject({ code: 'ENETUNREACH', message: expect.stringMatching(/no IPv6 address/) });
  });

  it('::1 goes through the loopback interface', async () => {
    const { net, a } = pair();
    const l = listen6(a, 7);
    const c = a.api.socket(AF_INET6, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['localhost', 7]));
    const [, peer] = await net.until(accepted);
    expect(peer[0]).toBe('::1');
    expect(a.stack.ip6!.counters.loopback).toBeGreaterThan(0);
  });
});

describe('AF_INET6 datagram sockets', () => {
  it('sendto/recvfrom over IPv6, and IPv4 senders seen as ::ffff:… on a dual-stack socket', async () => {
    const { net, a, b } = pair();
    const s = b.api.socket(AF_INET6, SOCK_DGRAM);
    s.bind(['', 7]);
    const c6 = a.api.socket(AF_INET6, SOCK_DGRAM);
    await net.until(c6.sendto('six', ['fd00:7::2', 7]));
    const [d6, from6] = await net.until(s.recvfrom(100));
    expect([Buffer.from(d6).toString(), from6[0]]).toEqual(['six', 'fd00:7::1']);
    const c4 = a.api.socket(AF_INET, SOCK_DGRAM);
    await net.until(c4.sendto('four', ['10.7.0.2', 7]));
    const [d4, from4] = await net.until(s.recvfrom(100));
    expect([Buffer.from(d4).toString(), from4[0]]).toEqual(['four', '::ffff:10.7.0.1']);
    // The answer goes back to the mapped address, over IPv4.
    await net.until(s.sendto('back', from4));
    const [back] = await net.until(c4.recvfrom(100));
    expect(Buffer.from(back).toString()).toBe('back');
  });

  it('a closed port answers with ICMPv6 port unreachable: ECONNREFUSED on a connected socket', async () => {
    const { net, a } = pair();
    const c = a.api.socket(AF_INET6, SOCK_DGRAM);
    await net.until(c.connect(['fd00:7::2', 9999]));
    await net.until(c.send('anyone?'));
    await net.runFor(10);
    await expect(net.until(c.recv(10))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a datagram bigger than the MTU goes out in IPv6 fragments and arrives whole', async () => {
    const { net, a, b } = pair();
    const s = b.api.socket(AF_INET6, SOCK_DGRAM);
    s.bind(['', 9]);
    const c = a.api.socket(AF_INET6, SOCK_DGRAM);
    const big = new Uint8Array(20_000).map((_, i) => i & 255);
    await net.until(c.sendto(big, ['fd00:7::2', 9]));
    const [got] = await net.until(s.recvfrom(65535));
    expect(Buffer.from(got)).toEqual(Buffer.from(big));
    expect(a.stack.ip6!.counters.fragmentsSent).toBe(14);
    expect(b.stack.ip6!.counters.reassembled).toBe(1);
  });
});

describe('inet_pton / inet_ntop', () => {
  it('round-trips both families in RFC 5952 form, with clear errors', () => {
    const { a } = pair();
    expect(Array.from(a.api.inet_pton(AF_INET, '10.7.0.1'))).toEqual([10, 7, 0, 1]);
    expect(a.api.inet_ntop(AF_INET6, a.api.inet_pton(AF_INET6, '2001:0DB8:0:0:0:0:0:1'))).toBe('2001:db8::1');
    expect(a.api.inet_ntop(AF_INET6, a.api.inet_pton(AF_INET6, '::ffff:10.7.0.1'))).toBe('::ffff:10.7.0.1');
    expect(() => a.api.inet_pton(AF_INET, 'fd00::1')).toThrow(/EINVAL/);
    expect(() => a.api.inet_pton(AF_INET6, '1::2::3')).toThrow(/EINVAL/);
    expect(() => a.api.inet_ntop(AF_INET6, new Uint8Array(4))).toThrow(/EINVAL/);
    expect(() => a.api.inet_pton(99, '1.2.3.4')).toThrow(/EAFNOSUPPORT/);
  });
});

describe('the Node faces over IPv6', () => {
  it('net: a server listens on :: by default (both families), remoteFamily is IPv6 for either', async () => {
    const { net, a, b } = pair();
    const seen: { address?: string; family?: string }[] = [];
    const server = b.net.createServer((s: TcpStream) => {
      seen.push({ address: s.remoteAddress, family: s.remoteFamily });
      s.end('hi');
    });
    server.listen(80);
    await net.runFor(1);
    expect(server.address()).toEqual({ address: '::', family: 'IPv6', port: 80 });
    for (const host of ['fd00:7::2', '10.7.0.2']) {
      const c = a.net.connect(80, host);
      const done = new Promise<void>((r) => c.on('close', () => r()));
      c.resume();
      await net.until(done);
    }
    expect(seen).toEqual([{ address: 'fd00:7::1', family: 'IPv6' }, { address: '::ffff:10.7.0.1', family: 'IPv6' }]);
    expect(a.net.isIP('fd00:7::2')).toBe(6);
    expect(a.net.isIPv6('::ffff:1.2.3.4')).toBe(true);
    expect(a.net.isIP('10.7.0.2')).toBe(4);
  });

  it("dgram: 'udp6' sockets send and receive, rinfo.family is IPv6", async () => {
    const { net, a, b } = pair();
    const srv = b.dgram.createSocket('udp6');
    const got = new Promise<{ msg: string; family: string; address: string }>((r) => srv.on('message', (m, info) => r({ msg: String(m), family: info.family, address: info.address })));
    srv.bind(7);
    await net.runFor(1);
    expect(srv.address()).toEqual({ address: '::', family: 'IPv6', port: 7 });
    const cli = a.dgram.createSocket('udp6');
    cli.send('over six', 7, 'fd00:7::2');
    expect(await net.until(got)).toEqual({ msg: 'over six', family: 'IPv6', address: 'fd00:7::1' });
    expect(() => a.dgram.createSocket('udp7' as 'udp6')).toThrow(/Bad socket type/);
  });
});
