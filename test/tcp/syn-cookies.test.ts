/**
 * SYN flood and SYN cookies (RFC 4987): spoofed SYNs fill a listener's SYN queue, after
 * which SYN-ACKs carry cookies and no state; legitimate clients still connect, and
 * forged final ACKs do not make connections.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { parseIpv4 } from '../../src/ip/address.js';
import { IP_PROTO_TCP, writeIpv4Header } from '../../src/ip/ipv4-packet.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, AF_INET6, SOCK_STREAM, SHUT_WR } from '../../src/socket/constants.js';
import { parseIpv6 } from '../../src/ip/ipv6-address.js';
import { writeIpv6Header } from '../../src/ip/ipv6-packet.js';
import { ACK, SYN, emitTcp } from '../../src/tcp/tcp-packet.js';
import { SynCookies } from '../../src/tcp/syn-cookies.js';

const B = parseIpv4('10.7.0.2');

function segment(src: number, sport: number, seq: number, ack: number, flags: number): Uint8Array {
  const frame = new Uint8Array(20 + 24);
  const n = emitTcp({ srcPort: sport, dstPort: 80, seq, ack, flags, window: 65535, options: flags & SYN ? { mss: 1460 } : {}, payload: new Uint8Array(0) }, src, B, frame, 20);
  writeIpv4Header(frame, 0, src, B, IP_PROTO_TCP, 64, 0, 1, true, false, 0, n);
  return frame.subarray(0, 20 + n);
}

describe('SYN cookies', () => {
  it('cookies round-trip the MSS class and window scale, and expire after two periods', () => {
    const c = new SynCookies(new SeededRand(5));
    const cookie = c.make(1, 80, 2, 40000, 12345, 1460, 7, 1_000_000);
    expect(c.check(1, 80, 2, 40000, 12345, cookie, 1_000_000)).toEqual({ mss: 1460, wscale: 7 });
    expect(c.check(1, 80, 2, 40000, 12345, cookie, 1_000_000 + 64_000)).toEqual({ mss: 1460, wscale: 7 });
    expect(c.check(1, 80, 2, 40000, 12345, cookie, 1_000_000 + 3 * 64_000)).toBeNull();
    expect(c.check(1, 80, 2, 40001, 12345, cookie, 1_000_000)).toBeNull(); // another port
    expect(c.check(1, 80, 2, 40000, 12346, cookie, 1_000_000)).toBeNull(); // another ISN
    expect(c.check(1, 80, 2, 40000, 12345, cookie ^ 1, 1_000_000)).toBeNull();
    const plain = c.make(1, 80, 2, 40000, 12345, 1000, -1, 1_000_000);
    expect(c.check(1, 80, 2, 40000, 12345, plain, 1_000_000)).toEqual({ mss: 536, wscale: -1 });
  });

  it('a legitimate client connects and talks during a flood of spoofed SYNs', async () => {
    const { net, a, b } = SimNetwork.pair();
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    l.bind(['', 80]);
    l.listen(16);
    const rand = new SeededRand(99);
    // 2000 spoofed SYNs from addresses that will never answer.
    for (let i = 0; i < 2000; i++) {
      const src = parseIpv4(`10.7.0.${100 + (i % 150)}`);
      b.link.inject(segment(src, 1024 + (rand.u32() % 60000), rand.u32(), 0, SYN));
    }
    await net.runFor(1);
    const tcp = b.stack.tcp;
    const listener = tcp.listenerList()[0]!;
    expect(listener.synQueue.size).toBeLessThanOrEqual(16);
    expect(tcp.counters.syncookiesSent).toBeGreaterThan(0);
    const stateless = tcp.counters.syncookiesSent;
    // The legitimate client, mid-flood.
    const c = a.api.socket(AF_INET, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['10.7.0.2', 80]));
    const [s] = await net.until(accepted);
    expect(tcp.counters.syncookiesSent).toBe(stateless + 1); // its SYN got a cookie too
    expect(tcp.counters.syncookiesRecv).toBe(1);
    await c.sendall('hello through the flood');
    c.shutdown(SHUT_WR);
    expect(Buffer.from(await net.until(s.recv(100))).toString()).toBe('hello through the flood');
    // Memory stayed bounded: connections are only the embryos the queue allowed, plus ours.
    expect(tcp.connections.size).toBeLessThanOrEqual(16 + 2);
    // The embryos time out (SYN-ACK retries) and are freed.
    await net.runFor(200_000);
    expect(listener.synQueue.size).toBe(0);
  });

  it('forged final ACKs make no connection: not even checked unless cookies were sent lately', async () => {
    const { net, b } = SimNetwork.pair();
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    l.bind(['', 80]);
    l.listen(4);
    const rand = new SeededRand(3);
    for (let i = 0; i < 1000; i++) {
      b.link.inject(segment(parseIpv4('10.7.0.77'), 5000 + i, rand.u32(), rand.u32(), ACK));
    }
    await net.runFor(1);
    const tcp = b.stack.tcp;
    expect(tcp.counters.syncookiesRecv).toBe(0);
    expect(tcp.counters.syncookiesFailed).toBe(0); // no cookie went out: the ACKs get RSTs
    // After a flood has made the listener send cookies, forged ACKs are checked and fail.
    for (let i = 0; i < 50; i++) b.link.inject(segment(parseIpv4(`10.7.0.${100 + i}`), 2000 + i, rand.u32(), 0, SYN));
    await net.runFor(1);
    expect(tcp.counters.syncookiesSent).toBeGreaterThan(0);
    for (let i = 0; i < 1000; i++) b.link.inject(segment(parseIpv4('10.7.0.77'), 5000 + i, rand.u32(), rand.u32(), ACK));
    await net.runFor(1);
    expect(tcp.counters.syncookiesRecv).toBe(0);
    expect(tcp.counters.syncookiesFailed).toBe(1000);
    expect(tcp.listenerList()[0]!.acceptQueue.length).toBe(0);
  });
});

describe('SYN cookies over IPv6', () => {
  it('cookies cover the 128-bit addresses: another address, or the same low bits, fails', () => {
    const c = new SynCookies(new SeededRand(5));
    const la = parseIpv6('fd00:7::2');
    const ra = parseIpv6('fd00:7::1');
    const cookie = c.make(la, 80, ra, 40000, 12345, 1440, 7, 1_000_000);
    expect(c.check(la, 80, ra, 40000, 12345, cookie, 1_000_000)).toEqual({ mss: 1440, wscale: 7 });
    expect(c.check(la, 80, parseIpv6('fd00:8::1'), 40000, 12345, cookie, 1_000_000)).toBeNull(); // same low 64 bits, another prefix
    expect(c.check(la, 80, 1, 40000, 12345, cookie, 1_000_000)).toBeNull(); // an IPv4 address
  });

  it('a legitimate IPv6 client connects during a flood of spoofed IPv6 SYNs', async () => {
    const { net, a, b } = SimNetwork.pair({ ipv6: true });
    const l = b.api.socket(AF_INET6, SOCK_STREAM);
    l.bind(['', 80]);
    l.listen(16);
    const rand = new SeededRand(98);
    const B6 = parseIpv6('fd00:7::2');
    for (let i = 0; i < 1000; i++) {
      const src = parseIpv6(`fd00:7::${(0x100 + (i % 300)).toString(16)}`);
      const tcpLen = 24;
      const frame = new Uint8Array(40 + tcpLen);
      emitTcp({ srcPort: 1024 + (rand.u32() % 60000), dstPort: 80, seq: rand.u32(), ack: 0, flags: SYN, window: 65535, options: { mss: 1440 }, payload: new Uint8Array(0) }, src, B6, frame, 40);
      writeIpv6Header(frame, 0, src, B6, IP_PROTO_TCP, 64, 0, 0, tcpLen);
      b.link.inject(frame);
    }
    await net.runFor(1);
    const tcp = b.stack.tcp;
    expect(tcp.listenerList()[0]!.synQueue.size).toBeLessThanOrEqual(16);
    expect(tcp.counters.syncookiesSent).toBeGreaterThan(0);
    const c = a.api.socket(AF_INET6, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['fd00:7::2', 80]));
    const [s] = await net.until(accepted);
    await net.until(c.sendall('through the flood'));
    expect(Buffer.from(await net.until(s.recv(100))).toString()).toBe('through the flood');
  });
});
