/**
 * The datagram half of the socket facade, whole-stack, on two simulated hosts over an
 * in-memory wire and a manual clock (no real time passes).
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_BROADCAST, SO_RCVBUF, SO_REUSEADDR } from '../../src/socket/constants.js';
import { createSocket } from '../../src/socket/dgram.js';
import { EPHEMERAL_MAX, EPHEMERAL_MIN } from '../../src/core/ports.js';

function setup() {
  const { net, a, b } = SimNetwork.pair(); // a = 10.7.0.1, b = 10.7.0.2
  return { net, a, b };
}

function bytes(n: number, seed = 1): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 31 + seed) & 0xff;
  return d;
}

describe('SOCK_DGRAM sockets', () => {
  it('sendto and recvfrom carry a datagram and its sender', async () => {
    const { net, a, b } = setup();
    const server = b.api.socket(AF_INET, SOCK_DGRAM);
    server.bind(['', 8081]);
    const client = a.api.socket(AF_INET, SOCK_DGRAM);
    expect(await client.sendto(Buffer.from('hello'), ['10.7.0.2', 8081])).toBe(5);
    const [data, addr] = await net.until(server.recvfrom(1024));
    expect(Buffer.from(data).toString()).toBe('hello');
    expect(addr[0]).toBe('10.7.0.1');
    expect(addr[1]).toBe(client.getsockname()[1]);
  });

  it('picks ephemeral ports at random within the Linux range (RFC 6056)', async () => {
    const { a } = setup();
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const s = a.api.socket(AF_INET, SOCK_DGRAM);
      s.bind(['', 0]);
      const p = s.getsockname()[1];
      expect(p).toBeGreaterThanOrEqual(EPHEMERAL_MIN);
      expect(p).toBeLessThanOrEqual(EPHEMERAL_MAX);
      ports.add(p);
    }
    expect(ports.size).toBe(20);
    const sorted = [...ports].sort((x, y) => x - y);
    // Not sequential: consecutive allocations are not neighbours.
    expect(sorted[sorted.length - 1]! - sorted[0]!).toBeGreaterThan(100);
  });

  it('datagrams of 0, 1, 1472, 1473, 8000 and 65507 bytes echo intact (fragmented by IP)', async () => {
    const { net, a, b } = setup();
    const server = b.api.socket(AF_INET, SOCK_DGRAM);
    server.bind(['', 7]);
    const client = a.api.socket(AF_INET, SOCK_DGRAM);
    await client.connect(['10.7.0.2', 7]);
    for (const size of [0, 1, 1472, 1473, 8000, 65507]) {
      const payload = bytes(size, size);
      await client.send(payload);
      const [got, from] = await net.until(server.recvfrom(65535));
      await server.sendto(got, from);
      const back = await net.until(client.recv(65535));
      expect(back.length).toBe(size);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(payload))).toBe(0);
    }
    expect(a.stack.ip.counters.fragmentsSent).toBeGreaterThan(40);
    expect(b.stack.ip.counters.reassembled).toBe(3); // 1473, 8000 and 65507 on the way out
    expect(a.stack.ip.counters.reassembled).toBe(3); // and their echoes on the way back
  });

  it('refuses datagrams over 65507 bytes with EMSGSIZE', async () => {
    const { a } = setup();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    await expect(s.sendto(new Uint8Array(65508), ['10.7.0.2', 9])).rejects.toMatchObject({ code: 'EMSGSIZE' });
  });

  it('a closed port answers with ICMP port unreachable; a connected socket then fails with ECONNREFUSED', async () => {
    const { net, a, b } = setup();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    await s.connect(['10.7.0.2', 4444]);
    await s.send('anyone?');
    await net.runFor(10);
    expect(b.stack.udp.counters.noPort).toBe(1);
    expect(b.stack.ip.icmp.counters.errorsSent).toBe(1);
    await expect(s.recv(100)).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'recvfrom' });
    // Reported once, like Linux's sk_err.
    s.settimeout(0);
    await expect(s.recv(100)).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('an unconnected socket is not told of ICMP errors (as on Linux)', async () => {
    const { net, a } = setup();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    await s.sendto('x', ['10.7.0.2', 4444]);
    await net.runFor(10);
    s.settimeout(0);
    await expect(s.recvfrom(100)).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('a connected socket only receives from its peer', async () => {
    const { net, a, b } = setup();
    const s = b.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 5000]);
    await s.connect(['10.7.0.1', 6000]);
    const right = a.api.socket(AF_INET, SOCK_DGRAM);
    right.bind(['', 6000]);
    const wrong = a.api.socket(AF_INET, SOCK_DGRAM);
    wrong.bind(['', 6001]);
    await wrong.sendto('wrong', ['10.7.0.2', 5000]);
    await right.sendto('right', ['10.7.0.2', 5000]);
    expect(Buffer.from(await net.until(s.recv(100))).toString()).toBe('right');
    expect(b.stack.udp.counters.noPort).toBe(1);
  });

  it('demultiplexes: connected 4-tuple first, then bound address, then wildcard', async () => {
    const { net, a, b } = setup();
    const wildcard = b.api.socket(AF_INET, SOCK_DGRAM);
    wildcard.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    wildcard.bind(['', 53]);
    const bound = b.api.socket(AF_INET, SOCK_DGRAM);
    bound.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    bound.bind(['10.7.0.2', 53]);
    const connected = b.api.socket(AF_INET, SOCK_DGRAM);
    connected.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    connected.bind(['10.7.0.2', 53]);
    await connected.connect(['10.7.0.1', 1111]);
    const c1 = a.api.socket(AF_INET, SOCK_DGRAM);
    c1.bind(['', 1111]);
    const c2 = a.api.socket(AF_INET, SOCK_DGRAM);
    c2.bind(['', 2222]);
    await c1.sendto('to-connected', ['10.7.0.2', 53]);
    await c2.sendto('to-bound', ['10.7.0.2', 53]);
    await c2.sendto('to-wildcard', ['10.7.0.255', 53]).catch(() => undefined); // needs SO_BROADCAST
    c2.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    await c2.sendto('to-wildcard', ['10.7.0.255', 53]);
    expect(Buffer.from(await net.until(connected.recv(100))).toString()).toBe('to-connected');
    expect(Buffer.from(await net.until(bound.recv(100))).toString()).toBe('to-bound');
    expect(Buffer.from(await net.until(wildcard.recv(100))).toString()).toBe('to-wildcard');
  });

  it('broadcast needs SO_BROADCAST (EACCES otherwise)', async () => {
    const { a } = setup();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    await expect(s.sendto('x', ['255.255.255.255', 9])).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('bind conflicts fail with EADDRINUSE unless both sockets set SO_REUSEADDR', () => {
    const { b } = setup();
    const s1 = b.api.socket(AF_INET, SOCK_DGRAM);
    s1.bind(['', 7000]);
    const s2 = b.api.socket(AF_INET, SOCK_DGRAM);
    expect(() => s2.bind(['10.7.0.2', 7000])).toThrow(/EADDRINUSE/);
    const r1 = b.api.socket(AF_INET, SOCK_DGRAM);
    const r2 = b.api.socket(AF_INET, SOCK_DGRAM);
    r1.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    r2.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    r1.bind(['', 7001]);
    expect(() => r2.bind(['', 7001])).not.toThrow();
    expect(() => b.api.socket(AF_INET, SOCK_DGRAM).bind(['10.9.9.9', 1])).toThrow(/EADDRNOTAVAIL/);
    expect(() => s1.bind(['', 7002])).toThrow(/EINVAL/);
  });

  it('a timeout fails recvfrom with ETIMEDOUT after exactly that much (simulated) time', async () => {
    const { net, b } = setup();
    const s = b.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 9999]);
    s.settimeout(1.5);
    const t0 = net.clock.now();
    const err = await net.until(s.recvfrom(10).then(() => null, (e: unknown) => e));
    expect(err).toMatchObject({ code: 'ETIMEDOUT', syscall: 'recvfrom' });
    expect((err as Error).message).toMatch(/^recvfrom fd 3 \(udp 0\.0\.0\.0:9999\): ETIMEDOUT/);
    expect(net.clock.now() - t0).toBe(1500);
  });

  it('non-blocking mode fails with EAGAIN at once', async () => {
    const { b } = setup();
    const s = b.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 9999]);
    s.setblocking(false);
    expect(s.getblocking()).toBe(false);
    await expect(s.recvfrom(10)).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('a full receive buffer drops datagrams and counts them', async () => {
    const { net, a, b } = setup();
    const s = b.api.socket(AF_INET, SOCK_DGRAM);
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 2048); // Linux doubles it: 4096
    expect(s.getsockopt(SOL_SOCKET, SO_RCVBUF)).toBe(4096);
    s.bind(['', 9000]);
    const c = a.api.socket(AF_INET, SOCK_DGRAM);
    for (let i = 0; i < 10; i++) await c.sendto(new Uint8Array(1000), ['10.7.0.2', 9000]);
    await net.runFor(10);
    expect(b.stack.udp.counters.rcvbufErrors).toBe(6);
    s.settimeout(0);
    let n = 0;
    while (await s.recvfrom(2000).then(() => true, () => false)) n++;
    expect(n).toBe(4);
  });

  it('closed sockets fail with EBADF; a pending recv is woken with EBADF', async () => {
    const { net, b } = setup();
    const s = b.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 9001]);
    const pending = s.recvfrom(10);
    s.close();
    await expect(net.until(pending)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(s.sendto('x', ['10.7.0.1', 1])).rejects.toMatchObject({ code: 'EBADF' });
    // The port is free again.
    expect(() => b.api.socket(AF_INET, SOCK_DGRAM).bind(['', 9001])).not.toThrow();
  });

  it('names its peer, or says ENOTCONN', async () => {
    const { a } = setup();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    expect(() => s.getpeername()).toThrow(/ENOTCONN/);
    await s.connect(['10.7.0.2', 53]);
    expect(s.getpeername()).toEqual(['10.7.0.2', 53]);
    expect(s.getsockname()[0]).toBe('0.0.0.0');
  });

  it('descriptors are the lowest free numbers, shared by the whole socket table', () => {
    const { a } = setup();
    const s3 = a.api.socket(AF_INET, SOCK_DGRAM);
    const s4 = a.api.socket(AF_INET, SOCK_DGRAM);
    expect([s3.fd, s4.fd]).toEqual([3, 4]);
    s3.close();
    expect(a.api.socket(AF_INET, SOCK_DGRAM).fd).toBe(3);
    expect(a.api.get(4)).toBe(s4);
    expect(() => a.api.socket(AF_INET, 99)).toThrow(/EPROTONOSUPPORT/);
    expect(() => a.api.socket(1, SOCK_STREAM)).toThrow(/EAFNOSUPPORT/); // AF_UNIX
  });

  it('sends to itself through the loopback interface (localhost is 127.0.0.1)', async () => {
    const { net, a } = setup();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 1234]);
    const c = a.api.socket(AF_INET, SOCK_DGRAM);
    await c.sendto('self', ['localhost', 1234]);
    const [d, from] = await net.until(s.recvfrom(10));
    expect(Buffer.from(d).toString()).toBe('self');
    expect(from[0]).toBe('127.0.0.1');
  });
});

describe('Node-style dgram sockets', () => {
  it('createSocket / bind / send / message events', async () => {
    const { net, a, b } = setup();
    const server = createSocket(b.api, 'udp4');
    server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
    const listening = new Promise<void>((r) => server.bind(7, '0.0.0.0', r));
    await net.until(listening);
    expect(server.address()).toEqual({ address: '0.0.0.0', family: 'IPv4', port: 7 });
    const client = createSocket(a.api, 'udp4');
    const reply = new Promise<[Buffer, { address: string; port: number; size: number }]>((r) => client.once('message', (m, i) => r([m, i])));
    client.send('ping', 7, '10.7.0.2');
    const [m, info] = await net.until(reply);
    expect(m.toString()).toBe('ping');
    expect(info).toMatchObject({ address: '10.7.0.2', port: 7, size: 4 });
    client.close();
    server.close();
  });

  it('emits error for a bind conflict', async () => {
    const { net, b } = setup();
    createSocket(b.api, 'udp4').bind(7);
    const s = createSocket(b.api, 'udp4');
    const err = new Promise<Error>((r) => s.once('error', r));
    s.bind(7);
    expect(await net.until(err)).toMatchObject({ code: 'EADDRINUSE' });
  });
});
