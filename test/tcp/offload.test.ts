/**
 * TCP checksum and segmentation offload end to end, in simulated time: two stacks where
 * the sender's link is an OffloadLink (test/helpers/offload-link.ts, the kernel's part
 * of TSO) and the receiver's is a plain link. A multi-megabyte transfer with the
 * sender's ISS just below 2^32 arrives intact; the sender hands the link segments of
 * many MSSes, whole multiples of the MSS except at the end of the queued data, with
 * partial checksums; every packet on the wire fits the MTU and verifies. The same over
 * a seeded lossy FaultLink under the OffloadLink still arrives intact. A receiver handed
 * whole big segments (as GRO delivers them) ACKs them at once. The OffloadLink itself
 * is checked first, against hand-built segments and src-independent readers. The last
 * describe pins that a multi-MSS segment's sub-MSS tail waits for Nagle, as without offload.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { IP_PROTO_TCP, writeIpv4Header } from '../../src/ip/ipv4-packet.js';
import { FaultLink, NO_FAULTS } from '../../src/link/fault-link.js';
import type { LinkDevice } from '../../src/link/link-device.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { SimNetwork, type SimHost } from '../../src/sim/sim-network.js';
import { SHUT_WR } from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';
import { ACK, CWR, FIN, PSH } from '../../src/tcp/tcp-packet.js';
import { OffloadLink } from '../helpers/offload-link.js';
import { expectSameBytes, ip, naiveChecksum, readIpv4 } from '../helpers/packets.js';
import { connectedPair } from '../helpers/sim-connection.js';
import { Segment } from '../../src/tcp/segment.js';
import type { OptionsToSend } from '../../src/tcp/options.js';

/** The header writer the tests use: one `Segment`, emitted (the stack writes headers the same way). */
function writeTcpHeader(
  b: Uint8Array, o: number, src: number, dst: number, srcPort: number, dstPort: number, seq: number, ack: number, flags: number,
  window: number, opts: OptionsToSend | null, payloadLen: number, urgent = 0, partialChecksum = false,
): number {
  const s = new Segment().set(srcPort, dstPort, seq, ack, flags, window);
  s.urgent = urgent;
  s.opts.setFrom(opts);
  return s.emit(b, o, src, dst, payloadLen, partialChecksum);
}


const MTU = 1500;
/** The payload of a full-sized segment: MSS 1460 less 12 bytes of timestamps option. */
const MSS_DATA = 1448;
const SENDER_ISS = 0xfff00000; // the transfer wraps the sequence space

/** A seeded pseudo-random byte pattern (no period a bug could line up with). */
function randomBytes(n: number, seed: number): Uint8Array {
  const r = new SeededRand(seed);
  const b = new Uint8Array(n);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = r.u32();
    b[i] = x;
    b[i + 1] = x >>> 8;
    b[i + 2] = x >>> 16;
    b[i + 3] = x >>> 24;
  }
  for (; i < n; i++) b[i] = r.u32();
  return b;
}

/** Does this TCP segment (inside an IPv4 packet) verify, by the naive reference over the pseudo-header? */
function tcpVerifies(pkt: Uint8Array): boolean {
  const d = readIpv4(pkt);
  const seg = d.payload;
  const ph = new Uint8Array(12 + seg.length);
  ph.set(pkt.subarray(12, 20));
  ph[9] = IP_PROTO_TCP;
  ph[10] = seg.length >> 8;
  ph[11] = seg.length & 0xff;
  ph.set(seg, 12);
  return naiveChecksum(ph) === 0;
}

/** Records every frame that reaches the wire (what the inner link is handed). */
class WireTap implements LinkDevice {
  readonly sizes: number[] = [];
  frames: Uint8Array[] | null = null;
  constructor(readonly inner: LinkDevice) {}
  get name(): string { return this.inner.name; }
  get medium() { return this.inner.medium; }
  get mtu(): number { return this.inner.mtu; }
  get mac(): Uint8Array | null { return this.inner.mac; }
  send(b: Uint8Array, off: number, len: number): void {
    this.sizes.push(len);
    this.frames?.push(b.slice(off, off + len));
    this.inner.send(b, off, len);
  }
  flush(): void { this.inner.flush(); }
  setReceiver(rx: Parameters<LinkDevice['setReceiver']>[0]): void { this.inner.setReceiver(rx); }
  poll(now: number): void { this.inner.poll?.(now); }
  pollAt(): number | undefined { return this.inner.pollAt?.(); }
  close(): Promise<void> { return this.inner.close(); }
}

// ---------------------------------------------------------------- the helper itself

describe('OffloadLink (the test double for the kernel side)', () => {
  const SRC = ip('10.7.0.1');
  const DST = ip('10.7.0.2');

  /** An IPv4 TCP segment as the stack hands it over: partial checksum, any length. */
  function bigSegment(payload: Uint8Array, seq: number, flags: number): Uint8Array {
    const b = new Uint8Array(20 + 20 + payload.length);
    b.set(payload, 40);
    writeTcpHeader(b, 20, SRC, DST, 40000, 9, seq, 77, flags, 1000, null, payload.length, 0, true);
    writeIpv4Header(b, 0, SRC, DST, IP_PROTO_TCP, 64, 0, 0xfffe, true, false, 0, 20 + payload.length);
    return b;
  }

  function setup(): { off: OffloadLink; wire: MemoryLink } {
    const [la, lb] = MemoryLink.pair('ip', MTU);
    return { off: new OffloadLink(la), wire: lb };
  }

  it('cuts a segment of 3.5 pieces into four, each a valid packet, reassembling to the payload', () => {
    const { off, wire } = setup();
    const payload = randomBytes(3 * 1000 + 500, 7);
    off.send(bigSegment(payload, 0xfffffc00, ACK | PSH | FIN | CWR), 0, 40 + payload.length, 1000);
    const pkts = wire.inbox;
    expect(pkts.map((p) => p.length)).toEqual([1040, 1040, 1040, 540]);
    const got: Uint8Array[] = [];
    pkts.forEach((p, i) => {
      const d = readIpv4(p); // header checksum by the naive reference
      expect(d.repr).toMatchObject({ src: SRC, dst: DST, ident: (0xfffe + i) & 0xffff, dontFrag: true, payloadLen: p.length - 20 });
      expect(tcpVerifies(p)).toBe(true);
      const seq = ((p[24]! << 24) | (p[25]! << 16) | (p[26]! << 8) | p[27]!) >>> 0;
      expect(seq).toBe((0xfffffc00 + i * 1000) >>> 0); // wraps past 2^32
      const last = i === pkts.length - 1;
      expect(p[33]).toBe(ACK | (last ? PSH | FIN : 0) | (i === 0 ? CWR : 0));
      got.push(p.subarray(40));
    });
    expectSameBytes(Buffer.concat(got), payload);
    expect(off.bigSegments).toEqual([{ payload: 3500, tso: 1000, flags: ACK | PSH | FIN | CWR, seq: 0xfffffc00 }]);
    expect(off.problems).toEqual([]);
  });

  it('only completes the checksum of a segment that fits one piece', () => {
    const { off, wire } = setup();
    const payload = randomBytes(1000, 8);
    const seg = bigSegment(payload, 5, ACK);
    off.send(seg, 0, seg.length, 1000);
    expect(wire.inbox).toHaveLength(1);
    expect(tcpVerifies(wire.inbox[0]!)).toBe(true);
    expectSameBytes(wire.inbox[0]!.subarray(40), payload);
    expect(off.bigSegments).toEqual([]);
  });

  it('reports a checksum that is not the partial pseudo-header sum', () => {
    const { off } = setup();
    const seg = bigSegment(randomBytes(10, 9), 5, ACK);
    seg[37]! ^= 1;
    off.send(seg, 0, seg.length, 1448);
    expect(off.problems).toHaveLength(1);
    expect(off.problems[0]).toMatch(/partial checksum/);
  });
});

// ---------------------------------------------------------------- whole stacks

interface Run {
  net: SimNetwork;
  a: SimHost;
  b: SimHost;
  off: OffloadLink;
  tap: WireTap;
  fault: FaultLink | null;
}

function offloadPair(loss: number, seed: number, segment = true): Run {
  let off: OffloadLink | null = null;
  let tap: WireTap | null = null;
  let fault: FaultLink | null = null;
  const { net, a, b } = SimNetwork.pair({
    mtu: MTU,
    seed,
    wrap: (link, clock, i) => {
      if (i !== 0) return link;
      // sender: stack -> OffloadLink (cuts) -> WireTap (sees the wire) -> FaultLink -> wire
      let inner: LinkDevice = link;
      if (loss > 0) inner = fault = new FaultLink(link, { ...NO_FAULTS, loss, seed }, new SeededRand(seed), clock);
      tap = new WireTap(inner);
      off = new OffloadLink(tap, { segment });
      return off;
    },
  });
  a.stack.tcp.issOverride = () => SENDER_ISS;
  return { net, a, b, off: off!, tap: tap!, fault };
}

/** Sends `data` from a to b; returns what b read, all of it, up to EOF, and a's socket. */
async function transfer(r: { net: SimNetwork; a: SimHost; b: SimHost }, data: Uint8Array): Promise<{ got: Uint8Array; cli: StreamSocket }> {
  const { cli, conn } = await connectedPair(r.net, r.a, r.b, 9);
  const sending = cli.sendall(data).then(() => cli.shutdown(SHUT_WR));
  const chunks: Uint8Array[] = [];
  const receiving = (async () => {
    for (;;) {
      const d = await conn.recv(1 << 20);
      if (d.length === 0) return;
      chunks.push(d);
    }
  })();
  await r.net.until(Promise.all([sending, receiving]), 3_600_000);
  return { got: Buffer.concat(chunks), cli };
}

describe('TCP over a link with checksum and segmentation offload (simulated)', () => {
  it('a 4 MiB transfer arrives intact; the link gets segments of many MSSes, the wire only MTU-sized packets', async () => {
    const r = offloadPair(0, 11);
    expect(r.a.stack.ip.tcpOffloadTo(r.b.stack.ip.route.addr)).toBe(true);
    expect(r.b.stack.ip.tcpOffloadTo(r.a.stack.ip.route.addr)).toBe(false);
    const data = randomBytes(4 * 1024 * 1024, 12345);
    const { got } = await transfer(r, data);
    expectSameBytes(got, data);

    const { off, tap } = r;
    expect(off.problems).toEqual([]);
    // Every TCP segment went through the offload path; nothing else was sent.
    expect(off.counters.plainFrames).toBe(0);
    expect(off.counters.tsoFrames).toBeGreaterThan(0);
    // The stack made use of segmentation: big segments, far fewer than the wire's packets.
    const big = off.bigSegments;
    expect(big.length).toBeGreaterThan(10);
    expect(Math.max(...big.map((s) => s.payload))).toBeGreaterThan(20 * MSS_DATA);
    expect(off.counters.tsoFrames * 4).toBeLessThan(tap.sizes.length);
    for (const s of big) {
      expect(s.tso).toBe(MSS_DATA); // pieces are full-sized segments: MTU - 20 - 20 - 12
      expect(s.payload).toBeGreaterThan(MSS_DATA);
    }
    // Whole MSSes, except a tail that ends the data queued so far (PSH) or carries FIN:
    // a segment cut short by a window ends on an MSS boundary.
    const notWhole = big.filter((s) => s.payload % MSS_DATA !== 0 && (s.flags & (PSH | FIN)) === 0);
    expect(notWhole.map((s) => ({ rseq: (s.seq - SENDER_ISS) >>> 0, payload: s.payload }))).toEqual([]);
    // The wire: nothing above the MTU, and full-sized packets are exactly the MTU.
    expect(Math.max(...tap.sizes)).toBe(MTU);
    expect(off.counters.maxFrameOut).toBe(MTU);
    // The receiver found every packet valid.
    expect(r.b.stack.tcp.counters.badChecksum).toBe(0);
    expect(r.b.stack.ip.counters.badChecksum).toBe(0);
    expect(r.b.stack.tcp.counters.segsIn).toBeGreaterThanOrEqual(Math.ceil(data.length / MSS_DATA));
  }, 30_000);

  it('every packet on the wire verifies by the reference checksum (a shorter transfer, all frames kept)', async () => {
    const r = offloadPair(0, 21);
    r.tap.frames = [];
    const data = randomBytes(512 * 1024 + 333, 99);
    expectSameBytes((await transfer(r, data)).got, data);
    expect(r.off.problems).toEqual([]);
    const frames = r.tap.frames;
    expect(frames.length).toBeGreaterThan(data.length / MSS_DATA);
    let bad = 0;
    for (const f of frames) {
      expect(f.length).toBeLessThanOrEqual(MTU);
      if (!tcpVerifies(f)) bad++;
    }
    expect(bad).toBe(0);
    expect(r.off.bigSegments.length).toBeGreaterThan(0);
  }, 30_000);

  it('over a lossy link (1% loss both ways, seeded) under the offload link, 4 MiB still arrive intact', async () => {
    const r = offloadPair(0.01, 31);
    const data = randomBytes(4 * 1024 * 1024, 4242);
    const { got, cli } = await transfer(r, data);
    expectSameBytes(got, data);
    expect(r.off.problems).toEqual([]);
    expect(r.fault!.counters.lost).toBeGreaterThan(20); // the loss did happen
    expect(cli.tcpInfo()!.retransmits).toBeGreaterThan(0);
    expect(r.off.bigSegments.length).toBeGreaterThan(0);
    expect(Math.max(...r.tap.sizes)).toBeLessThanOrEqual(MTU);
    expect(r.a.stack.tcp.counters.outErrors).toBe(0);
  }, 30_000);
});

describe('a receiver handed segments of many MSSes (as GRO delivers them)', () => {
  // input.ts: a segment larger than a full-sized one counts as the full segments it holds
  // for "ACK at least every second full-sized segment" (RFC 1122 §4.2.3.2). Over a wire
  // without latency nothing else advances the clock, so a delayed ACK (40 ms) would show.
  it('ACKs each at once: the transfer takes no simulated time, and the data arrives intact', async () => {
    const r = offloadPair(0, 41, false);
    const data = randomBytes(2 * 1024 * 1024, 77);
    const t0 = r.net.clock.now();
    const { got } = await transfer(r, data);
    expectSameBytes(got, data);
    expect(r.off.problems).toEqual([]);
    expect(r.off.bigSegments.length).toBeGreaterThan(5);
    expect(Math.max(...r.tap.sizes)).toBeGreaterThan(20 * MSS_DATA); // big segments did cross whole
    expect(r.b.stack.tcp.counters.badChecksum).toBe(0);
    expect(r.net.clock.now() - t0).toBe(0);
  }, 30_000);
});

// ---------------------------------------------------------------- Nagle and the tail of a big segment

/** Wire packets carrying data but less than a full-sized segment (IP 20 + TCP 32 + data); the SYN counts too. */
function runts(sizes: number[]): number {
  return sizes.filter((n) => n > 20 + 32 && n < MTU).length;
}

describe('segmentation offload keeps Nagle', () => {
  // A multi-segment write that takes all the queued data, e.g. 1504 bytes left in the
  // send buffer while sendall() refills it, must not go whole: the device would cut a
  // 56-byte runt off its end mid-stream, although the 1448 bytes before it are then
  // unacknowledged. Without offload the same send stops after the full segment and
  // Nagle (RFC 9293 §3.7.4, the `inFlight && !this.nodelay` branch) holds the 56 bytes
  // until more data or the ACK comes. Linux's tcp_mss_split_point applies its Nagle
  // check to such a partial tail too. Seen with seed 11: five segments of 1504 bytes
  // (flags PA) in mid-stream, five 108-byte packets on the wire that the run without
  // offload does not send.
  it('a sub-MSS remainder of the queued data waits, as without offload: no runt mid-stream', async () => {
    const data = randomBytes(4 * 1024 * 1024, 12345);
    const r = offloadPair(0, 11);
    expectSameBytes((await transfer(r, data)).got, data);

    // The same transfer without offload, for the count of sub-MSS packets.
    const plain = SimNetwork.pair({ mtu: MTU, seed: 11, wrap: (link, _clock, i) => (i === 0 ? new WireTap(link) : link) });
    plain.a.stack.tcp.issOverride = () => SENDER_ISS;
    expectSameBytes((await transfer(plain, data)).got, data);
    const plainSizes = (plain.a.device as WireTap).sizes;

    const end = (SENDER_ISS + 1 + data.length) >>> 0; // the last data byte's successor
    const midStreamRemainders = r.off.bigSegments
      .filter((s) => s.payload % MSS_DATA !== 0 && ((s.seq + s.payload) >>> 0) !== end)
      .map((s) => ({ rseq: (s.seq - SENDER_ISS) >>> 0, payload: s.payload, flags: s.flags, runt: s.payload % MSS_DATA }));
    expect({
      midStreamRemainders: midStreamRemainders.slice(0, 3),
      count: midStreamRemainders.length,
      runtsBeyondNoOffload: Math.max(0, runts(r.tap.sizes) - runts(plainSizes)),
    }).toEqual({ midStreamRemainders: [], count: 0, runtsBeyondNoOffload: 0 });
  }, 30_000);
});
