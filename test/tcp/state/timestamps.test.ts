/**
 * Timestamps (RFC 7323) on a connection that negotiated them:
 *  - RTT samples from echoes are bounded by what we actually sent (RFC 7323 §4.1, RFC
 *    6298 §3): a stale or forged echo on an acceptable ACK must not pin the RTO at its
 *    120 s maximum (Linux resends after ~200 ms in the same case);
 *  - TS.Recent moves only for a segment that is accepted (§4.3 R3, §5.3);
 *  - a RST carries TSopt (§3.2).
 */
import { describe, expect, it } from 'vitest';
import { IPV4_HEADER_LEN, IP_PROTO_TCP, Ipv4Packet, writeIpv4Header } from '../../../src/ip/ipv4-packet.js';
import { TcpPacket, emitTcp, parseTcp } from '../../../src/tcp/tcp-packet.js';
import {
  L, LOCAL_ADDR, LOCAL_PORT, R, REMOTE_ADDR, REMOTE_PORT, bytes, flagBits, socketListen, type Seg, type TcpHarness,
} from './harness.js';

const MINUTES_30 = 30 * 60 * 1000;

/** Injects a segment from the remote carrying TSval/TSecr, at `time`. */
function sendTs(h: TcpHarness, s: Seg, ts: [number, number], time = h.now): void {
  h.now = time;
  const payload = bytes(s.payload);
  const frame = new Uint8Array(IPV4_HEADER_LEN + 60 + payload.length);
  const len = emitTcp(
    {
      srcPort: REMOTE_PORT, dstPort: LOCAL_PORT, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: flagBits(s.flags), window: s.win ?? 65535,
      options: { ...(s.mss !== undefined ? { mss: s.mss } : {}), ...(s.wscale !== undefined ? { wscale: s.wscale } : {}), timestamps: { tsVal: ts[0] >>> 0, tsEcr: ts[1] >>> 0 } },
      payload,
    },
    REMOTE_ADDR, LOCAL_ADDR, frame, IPV4_HEADER_LEN,
  );
  writeIpv4Header(frame, 0, REMOTE_ADDR, LOCAL_ADDR, IP_PROTO_TCP, 64, 0, 0, true, false, 0, len);
  h.link.inject(frame.subarray(0, IPV4_HEADER_LEN + len));
  h.link.deliver();
  h.checkErrors();
}

/** The TSval of every segment the stack sent since the last call. */
function sentTs(h: TcpHarness): number[] {
  h.peer.inbox.length = 0;
  return h.link.takeSent().map((f) => {
    const ip = new Ipv4Packet().reset(f, 0, f.length);
    const r = parseTcp(new TcpPacket().reset(f, ip.payloadOffset(), ip.payloadLen()), ip.src(), ip.dst());
    if (typeof r === 'string' || !r.options.timestamps) throw new Error(`no timestamps in what we sent: ${String(r)}`);
    return r.options.timestamps.tsVal;
  });
}

/** Passive open with timestamps; the handshake's echo measures 10 ms. Returns the connection at t=10. */
function establishedWithTs(): TcpHarness {
  const h = socketListen({ tcp: { timestamps: true } });
  sendTs(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 0 }, [1000, 0]);
  const [synAckTs] = sentTs(h);
  sendTs(h, { flags: 'A', seq: R(1), ack: L(1) }, [1010, synAckTs!], 10);
  h.conn = h.listener!.accept()!;
  expect(h.conn.state).toBe('ESTABLISHED');
  expect(h.conn.ts.ok).toBe(true);
  expect(h.conn.rtt.srtt).toBe(10);
  return h;
}

describe('RTT from echoed timestamps is bounded by what we sent', () => {
  it('an acceptable ACK echoing a TSval 30 minutes old does not inflate SRTT or the RTO', () => {
    const h = establishedWithTs();
    const c = h.conn;
    c.send(bytes('hello'), h.now);
    const [dataTs] = sentTs(h);
    // The ACK is acceptable (it acknowledges exactly what we sent), its TSval passes PAWS,
    // but its TSecr names a time long before anything in flight was sent.
    sendTs(h, { flags: 'A', seq: R(1), ack: L(6) }, [1030, (dataTs! - MINUTES_30) >>> 0], 30);
    expect(c.snd.una).toBe(L(6));
    // Unbounded, a 1,800,020 ms sample gave SRTT ~225 s and RTO 120,000 ms.
    expect(c.rtt.srtt).toBeLessThan(1000);
    expect(c.rtt.rto).toBeLessThanOrEqual(1000);
  });

  it('an echo older than the first transmission of the oldest unacknowledged byte takes no timestamp sample; our own send time measures instead', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const handshakeEcho = c.ts.val(0); // our SYN-ACK's TSval: before the data was sent
    c.send(bytes('hello'), h.now); // sent at t=10
    sentTs(h);
    sendTs(h, { flags: 'A', seq: R(1), ack: L(6) }, [1030, handshakeEcho], 30);
    // A sample of 30 ms (now - echo) would be a lie; Karn's timing of 'hello' says 20 ms.
    expect(c.rtt.samples).toBe(2);
    expect(c.rtt.srtt).toBeCloseTo(10 + (20 - 10) / 8, 6);
  });

  it('control: a proper echo still measures on every ACK (RFC 7323 §4.1)', () => {
    const h = establishedWithTs();
    const c = h.conn;
    c.send(bytes('hello'), h.now);
    const [dataTs] = sentTs(h);
    sendTs(h, { flags: 'A', seq: R(1), ack: L(6) }, [1050, dataTs!], 50);
    expect(c.rtt.samples).toBe(2);
    expect(c.rtt.srtt).toBeCloseTo(10 + (40 - 10) / 8, 6);
  });
});

describe('the floor for echoes moves while the flight never drains', () => {
  // Without SACK the floor was only "when the flight began": in a transfer that never
  // drains, an echo from long ago but after that start still timed segments. Each ACK of
  // the segment our own clock times (Karn) now raises it to when that segment was sent.
  it('an echo older than the last Karn-timed segment acknowledged takes no sample, though newer than the flight start', () => {
    const h = establishedWithTs();
    const c = h.conn;
    c.opts.nodelay = true;
    expect(c.sackOk).toBe(false);
    c.send(bytes('aaaa'), h.now); // t=10: the flight starts; timed
    const [ts1] = sentTs(h);
    h.now = 100;
    c.send(bytes('bbbb'), h.now); // t=100: not timed (one at a time)
    sentTs(h);
    sendTs(h, { flags: 'A', seq: R(1), ack: L(5) }, [1110, ts1!], 110); // the timed segment: floor -> 10
    h.now = 120;
    c.send(bytes('cccc'), h.now); // t=120: timed now
    sentTs(h);
    h.now = 125;
    c.send(bytes('dddd'), h.now); // t=125
    sentTs(h);
    sendTs(h, { flags: 'A', seq: R(1), ack: L(13) }, [1130, c.ts.val(120)], 130); // bbbb and cccc: floor -> 120
    const samples = c.rtt.samples;
    const srtt = c.rtt.srtt;
    // An echo of t=50: after the flight began (t=10), long before anything still in flight.
    sendTs(h, { flags: 'A', seq: R(1), ack: L(17) }, [1500, c.ts.val(50)], 500);
    expect(c.snd.una).toBe(L(17));
    expect(c.rtt.samples).toBe(samples);
    expect(c.rtt.srtt).toBe(srtt);
  });
});

describe('TS.Recent and RST', () => {
  // RFC 7323 §4.3 (R3) with §5.3 and RFC 5961 §5.2: TS.Recent is taken from a segment only
  // once it is accepted. One spoofed in-window segment with a huge TSval and an ACK for
  // data never sent is dropped; were its TSval kept, the next real segment would fail PAWS.
  it('a segment dropped for an unacceptable ACK does not move TS.Recent; the next real segment is accepted', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const recent = c.ts.recent;
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1) + 100_000, payload: 'spoof' }, [(recent + 0x1000_0000) >>> 0, 0], 20);
    expect(c.ts.recent).toBe(recent);
    expect(h.stack.tcp.counters.dropAckUnacceptable).toBe(1);
    sentTs(h); // (its challenge ACK)
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'hello' }, [(recent + 20) >>> 0, 0], 30);
    expect(h.stack.tcp.counters.dropPaws).toBe(0);
    expect(new TextDecoder().decode(c.read(100, h.now)!)).toBe('hello');
    expect(c.ts.recent).toBe((recent + 20) >>> 0);
  });

  it('a segment without ACK does not move TS.Recent either', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const recent = c.ts.recent;
    sendTs(h, { flags: 'P', seq: R(1), payload: 'noack' }, [(recent + 0x1000_0000) >>> 0, 0], 20);
    expect(c.ts.recent).toBe(recent);
  });

  // RFC 7323 §3.2: TSopt "SHOULD be sent in an <RST> segment".
  it('close with unread data resets the connection, and the RST carries timestamps', () => {
    const h = establishedWithTs();
    const c = h.conn;
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'unread' }, [1020, c.ts.val(10)], 20);
    sentTs(h); // the ACK
    c.abort(h.now, 'close with unread data');
    const [tsval] = sentTs(h); // throws if the RST has no timestamps
    expect(tsval).toBe(c.ts.val(h.now));
  });
});

describe('TIME-WAIT with timestamps', () => {
  // RFC 7323 §5.3 R1: PAWS drops a segment whose TSval is *less* than TS.Recent; the peer's
  // FIN sent again carries the same TSval as before, and must get its ACK (and restart 2*MSL).
  it("the peer's FIN again, with the same TSval, is acknowledged, not dropped by PAWS", () => {
    const h = establishedWithTs();
    const c = h.conn;
    c.closeOrphan(h.now);
    const [finTs] = sentTs(h); // our FIN
    sendTs(h, { flags: 'FA', seq: R(1), ack: L(2) }, [1100, finTs!], 100);
    sentTs(h); // our ACK of their FIN
    expect(h.stack.tcp.timeWaitCount).toBe(1);
    sendTs(h, { flags: 'FA', seq: R(1), ack: L(2) }, [1100, finTs!], 600); // the same segment again
    expect(sentTs(h)).toHaveLength(1);
    expect(h.stack.tcp.counters.dropPaws).toBe(0);
    expect(h.stack.tcp.counters.timeWaitFinAcked).toBe(1);
  });
});

describe('PAWS (RFC 7323 §5.3 R1)', () => {
  // "If ... SEG.TSval < TS.Recent and if TS.Recent is valid ..., then treat the arriving
  // segment as not acceptable: Send an acknowledgment in reply as specified in RFC 793
  // page 69 and drop the segment."
  it('a segment whose TSval is older than TS.Recent is dropped and answered with an ACK; its data is not delivered', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const recent = c.ts.recent;
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'old' }, [(recent - 1) >>> 0, 0], 20);
    expect(h.stack.tcp.counters.dropPaws).toBe(1);
    expect(c.stats.pawsDropped).toBe(1);
    expect(c.readable()).toBe(0);
    expect(c.rcv.nxt).toBe(R(1));
    expect(c.ts.recent).toBe(recent);
    expect(sentTs(h)).toHaveLength(1); // the ACK
  });

  it('a TSval equal to TS.Recent passes (R1 drops only what is older), and a newer one moves TS.Recent (R3)', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const recent = c.ts.recent;
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'same' }, [recent, 0], 20);
    expect(h.stack.tcp.counters.dropPaws).toBe(0);
    expect(c.readable()).toBe(4);
    h.advance(100); // our delayed ACK: Last.ACK.sent = R+5
    sentTs(h);
    sendTs(h, { flags: 'PA', seq: R(5), ack: L(1), payload: 'new' }, [(recent + 7) >>> 0, 0], 110);
    expect(c.readable()).toBe(7);
    expect(c.ts.recent).toBe((recent + 7) >>> 0);
  });

  it('R3 takes TS.Recent only from a segment at or before Last.ACK.sent (RFC 7323 §4.3)', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const recent = c.ts.recent;
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'a' }, [(recent + 1) >>> 0, 0], 20); // RCV.NXT = Last.ACK.sent: taken
    expect(c.ts.recent).toBe((recent + 1) >>> 0);
    // Our ACK of 'a' is delayed: Last.ACK.sent is still R+1, so 'b' at R+2 does not move TS.Recent.
    sendTs(h, { flags: 'PA', seq: R(2), ack: L(1), payload: 'b' }, [(recent + 9) >>> 0, 0], 21);
    expect(c.readable()).toBe(2);
    expect(c.ts.recent).toBe((recent + 1) >>> 0);
  });

  it('TSval comparison is modulo 2^32: a TSval past the wrap is newer, not older', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const step = 0x7ff0_0000; // less than 2^31: each is newer than the one before
    const first = c.ts.recent;
    let ts = first;
    let seq = 1;
    for (let i = 0; i < 3; i++) {
      ts = (ts + step) >>> 0;
      sendTs(h, { flags: 'PA', seq: R(seq), ack: L(1), payload: 'x' }, [ts, 0], 20 + 100 * i);
      seq++;
      expect(c.ts.recent, `step ${i}`).toBe(ts);
      h.advance(h.now + 50); // the delayed ACK moves Last.ACK.sent
      sentTs(h);
    }
    expect(first + 3 * step).toBeGreaterThan(0xffff_ffff); // the TSvals did wrap past 2^32
    expect(h.stack.tcp.counters.dropPaws).toBe(0);
    expect(c.readable()).toBe(3);
  });

  it('a RST is not subject to PAWS: an exact RST with an old TSval still resets', () => {
    const h = establishedWithTs();
    const c = h.conn;
    sendTs(h, { flags: 'R', seq: R(1) }, [(c.ts.recent - 100) >>> 0, 0], 20);
    expect(c.state).toBe('CLOSED');
    expect(c.error).toBe('ECONNRESET');
  });

  // RFC 7323 §5.5: after 24 days idle TS.Recent is no longer valid (the peer's clock may
  // have wrapped half its space); the segment is accepted and TS.Recent taken from it.
  it('after 24 days without a segment, an old TSval no longer fails PAWS', () => {
    const h = establishedWithTs();
    const c = h.conn;
    const days24 = 24 * 24 * 3600 * 1000;
    const recent = c.ts.recent;
    sendTs(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'late' }, [(recent - 1000) >>> 0, 0], 10 + days24 + 1);
    expect(h.stack.tcp.counters.dropPaws).toBe(0);
    expect(c.readable()).toBe(4);
    expect(c.ts.recent).toBe((recent - 1000) >>> 0);
  });
});
