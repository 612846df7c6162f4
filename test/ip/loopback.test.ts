/**
 * The loopback interface inside the stack (RFC 1122 §3.2.1.3): 127.0.0.0/8 and the
 * stack's own address never reach the device, and come back up through the whole path.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/ip/address.js';
import { LoopbackQueue, LOOPBACK_ADDR, isLoopback } from '../../src/ip/loopback.js';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM } from '../../src/socket/constants.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { formatConnections, stackReport } from '../../src/observe/report.js';

describe('LoopbackQueue', () => {
  it('keeps datagrams in order across the ring wrap, and refuses when full', () => {
    const q = new LoopbackQueue(100, 8);
    const got: number[][] = [];
    const take = (b: Uint8Array, off: number, len: number): void => void got.push([...b.subarray(off, off + len)]);
    for (let round = 0; round < 20; round++) {
      expect(q.push(new Uint8Array([round, round, round]), 0, 3)).toBe(true);
      expect(q.push(new Uint8Array(40).fill(round), 0, 40)).toBe(true);
      q.drain(take, 1);
      if (round % 3 === 0) q.drain(take, 10);
    }
    q.drain(take, 100);
    expect(got).toHaveLength(40);
    const firsts = got.map((x) => x[0]);
    const expected: number[] = [];
    for (let round = 0; round < 20; round++) expected.push(round, round);
    expect(firsts).toEqual(expected);
    expect(got.every((x) => x.every((y) => y === x[0]))).toBe(true); // no record overwritten
    // Full by bytes, and by records.
    const small = new LoopbackQueue(10, 2);
    expect(small.push(new Uint8Array(8), 0, 8)).toBe(true);
    expect(small.push(new Uint8Array(8), 0, 8)).toBe(false);
    expect(small.push(new Uint8Array(2), 0, 2)).toBe(true);
    expect(small.push(new Uint8Array(0), 0, 0)).toBe(false); // two records already
  });

  it('a delivery that queues more never overwrites the record being delivered', () => {
    const q = new LoopbackQueue(64, 16);
    q.push(new Uint8Array(30).fill(7), 0, 30);
    const seen: number[] = [];
    q.drain((b, off, len) => {
      q.push(new Uint8Array(30).fill(9), 0, 30); // queued while 7s are being read
      seen.push(...b.subarray(off, off + len));
    }, 1);
    expect(seen.every((x) => x === 7)).toBe(true);
  });
});

describe('loopback through the stack', () => {
  it('127/8 is loopback', () => {
    expect(isLoopback(LOOPBACK_ADDR)).toBe(true);
    expect(isLoopback(parseIpv4('127.255.0.9'))).toBe(true);
    expect(isLoopback(parseIpv4('128.0.0.1'))).toBe(false);
  });

  it('a TCP client and server on one stack talk over 127.0.0.1; nothing reaches the device', async () => {
    const { net, a, b } = SimNetwork.pair();
    const srv = a.api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['127.0.0.1', 9527]);
    srv.listen(5);
    const accepted = srv.accept();
    const cli = a.api.socket(AF_INET, SOCK_STREAM);
    await net.until(cli.connect(['127.0.0.1', 9527]));
    const [conn, peer] = await net.until(accepted);
    expect(peer[0]).toBe('127.0.0.1');
    expect(cli.getsockname()[0]).toBe('127.0.0.1');
    expect([...a.stack.tcp.connections].every((c) => c.snd.mss === 65495)).toBe(true); // the loopback MTU's
    const data = new Uint8Array(300_000).map((_, i) => i % 251);
    const sent = net.until(cli.sendall(data));
    let got = 0;
    const chunks: Uint8Array[] = [];
    while (got < data.length) {
      const c = await net.until(conn.recv(65536));
      chunks.push(c);
      got += c.length;
    }
    await sent;
    expect(Buffer.concat(chunks).equals(Buffer.from(data))).toBe(true);
    cli.close();
    conn.close();
    srv.close();
    expect(a.stack.ip.counters.loopback).toBeGreaterThan(10);
    expect(a.stack.ip.counters.sent).toBe(a.stack.ip.counters.loopback); // nothing went to the device
    expect(b.stack.ip.counters.received).toBe(0);
  });

  it('UDP to 127.0.0.1 and to our own address loops back', async () => {
    const { net, a } = SimNetwork.pair();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['127.0.0.1', 5000]);
    const c = a.api.socket(AF_INET, SOCK_DGRAM);
    await c.sendto('hi', ['127.0.0.1', 5000]);
    const [d, from] = await net.until(s.recvfrom(100));
    expect(Buffer.from(d).toString()).toBe('hi');
    expect(from[0]).toBe('127.0.0.1');
    const own = a.api.socket(AF_INET, SOCK_DGRAM);
    own.bind(['', 5001]);
    await c.sendto('self', [a.cidr.split('/')[0]!, 5001]);
    const [d2] = await net.until(own.recvfrom(100));
    expect(Buffer.from(d2).toString()).toBe('self');
  });

  it('127/8 arriving from the wire is dropped and counted; nothing to 127/8 ever leaves', async () => {
    const { net, a, b } = SimNetwork.pair();
    const s = a.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 5000]);
    // b sends to 127.0.0.1: its own loopback, not the wire.
    const c = b.api.socket(AF_INET, SOCK_DGRAM);
    await c.sendto('x', ['127.0.0.1', 5000]);
    await net.runFor(10);
    expect(a.stack.ip.counters.received).toBe(0);
    expect(b.stack.ip.counters.loopback).toBe(1);
  });
});

describe('loopback in captures and reports', () => {
  /** The records of a classic pcap file (24-byte header, 16 per record). */
  function records(pcap: Uint8Array): Uint8Array[] {
    const v = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
    const out: Uint8Array[] = [];
    for (let o = 24; o + 16 <= pcap.length; ) {
      const n = v.getUint32(o + 8, true);
      out.push(pcap.subarray(o + 16, o + 16 + n));
      o += 16 + n;
    }
    return out;
  }

  it('a pcap of the host records what went through its loopback interface; tcpip stat lists loopback connections', async () => {
    const { net, a } = SimNetwork.pair({ pcap: true });
    const srv = a.api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['127.0.0.1', 9527]);
    srv.listen(1);
    const acc = srv.accept();
    const cli = a.api.socket(AF_INET, SOCK_STREAM);
    await net.until(cli.connect(['127.0.0.1', 9527]));
    await net.until(acc);
    const pkts = records(net.pcap());
    const lo = pkts.filter((p) => p[12] === 127 && p[16] === 127); // raw IPv4: source and destination 127/8
    expect(lo.length).toBeGreaterThanOrEqual(3); // SYN, SYN-ACK, ACK at least
    expect(lo.every((p) => p[9] === 6)).toBe(true);
    const report = formatConnections(stackReport(a.stack, 0));
    expect(report).toMatch(/ESTABLISHED .*127\.0\.0\.1:9527 +127\.0\.0\.1:\d+/);
    expect(report).toMatch(/LISTEN .*127\.0\.0\.1:9527/);
  });
});
