/**
 * RACK-TLP (RFC 8985) on a manual clock (`now` is a plain number of ms), with a
 * RetransmitQueue as the scoreboard: the RACK update for delivered segments (§6.2 steps
 * 1-3: the most recently sent delivered segment, the RTT, reordering detection, and the
 * step 2 filter for ambiguous ACKs of retransmissions), the reordering window (step 4,
 * with D-SACK widening and its decay over 16 recoveries), loss detection and the
 * reordering timer (step 5), and the tail loss probe timeout (§7.2).
 * Sequence numbers start just below 2^32 so segments straddle the wrap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DUP_THRESH, MIN_PTO_MS, Rack, WC_DEL_ACK_MS } from '../../../src/tcp/rack.js';
import { LOST, RETRANS, RetransmitQueue, SACKED } from '../../../src/tcp/retransmit-queue.js';
import { seqAdd } from '../../../src/tcp/seq.js';

/** 2048 bytes below the wrap: the third 1000-byte segment, [2000, 3000), straddles 2^32. */
const ISS = 0xfffff800;
const MSS = 1000;
/** Sequence number `rel` bytes past ISS. */
const S = (rel: number): number => seqAdd(ISS, rel);
/** Segment k: [k * MSS, (k + 1) * MSS). */
const segStart = (k: number): number => S(k * MSS);
const segEnd = (k: number): number => S((k + 1) * MSS);

/** Sends one MSS-sized segment per entry of `times`, segment k at times[k]. */
function sendAt(...times: number[]): RetransmitQueue {
  const q = new RetransmitQueue();
  times.forEach((t, k) => q.onSend(segStart(k), segEnd(k), false, t));
  return q;
}

/** SACKs segment k, reporting to `rack` at `now`. */
function sackSeg(q: RetransmitQueue, rack: Rack, k: number, now: number): void {
  expect(q.sack(segStart(k), segEnd(k), rack, now)).toBeGreaterThan(0);
}

const flagsOf = (q: RetransmitQueue): number[] => Array.from({ length: q.count }, (_, i) => q.flags(i));

describe('RACK.reo_wnd (RFC 8985 §6.2 step 4)', () => {
  it('is zero with no reordering seen once DupThresh segments are SACKed, or in recovery', () => {
    expect(DUP_THRESH).toBe(3);
    const rack = new Rack();
    rack.rttSample(40);
    expect(rack.reoWnd(false, 0, 100)).toBe(10);
    expect(rack.reoWnd(false, 2, 100)).toBe(10);
    expect(rack.reoWnd(false, 3, 100)).toBe(0);
    expect(rack.reoWnd(true, 0, 100)).toBe(0);
  });

  it('once reordering is seen: min(min_RTT / 4 * mult, SRTT), in recovery or not', () => {
    const rack = new Rack();
    rack.rttSample(60);
    rack.rttSample(40); // the minimum is kept
    rack.rttSample(80);
    rack.reorderingSeen = true;
    expect(rack.reoWnd(true, 5, 100)).toBe(10);
    expect(rack.reoWnd(false, 5, 100)).toBe(10);
    expect(rack.reoWnd(false, 5, 8)).toBe(8); // capped at SRTT
  });

  it('before any RTT sample, SRTT stands in for min_RTT', () => {
    const rack = new Rack();
    expect(rack.minRtt).toBe(Infinity);
    expect(rack.reoWnd(false, 0, 80)).toBe(20);
  });
});

describe('RACK update (RFC 8985 §6.2 steps 1-3)', () => {
  it('keeps the most recently sent delivered segment; RACK.rtt is that segment\'s (Linux tcp_rack_advance)', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    expect(rack.xmitTs).toBe(-1);
    sackSeg(q, rack, 2, 125);
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([20, segEnd(2), 105]);
    expect(rack.endSeq).toBe(0x3b8); // wrapped
    q.ackTo(segEnd(0), rack, 130); // sent earlier: not the RACK segment, and not its RTT
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([20, segEnd(2), 105]);
  });

  it('breaks transmit-time ties by sequence, across the wrap', () => {
    const q = new RetransmitQueue();
    q.onSend(segStart(1), segEnd(1), false, 5); // [1000, 2000): below 2^32
    q.onSend(segStart(2), segEnd(2), false, 5); // [2000, 3000): ends past 2^32
    const rack = new Rack();
    sackSeg(q, rack, 2, 50);
    q.ackTo(segEnd(1), rack, 60);
    expect(rack.endSeq).toBe(segEnd(2));

    const q2 = new RetransmitQueue();
    q2.onSend(segStart(1), segEnd(1), false, 5);
    q2.onSend(segStart(2), segEnd(2), false, 5);
    const rack2 = new Rack();
    sackSeg(q2, rack2, 1, 50);
    expect(rack2.endSeq).toBe(segEnd(1));
    sackSeg(q2, rack2, 2, 60);
    expect(rack2.endSeq).toBe(segEnd(2));
  });

  it('a never-retransmitted segment delivered below the highest delivered sequence means reordering', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    sackSeg(q, rack, 2, 120); // ends past 2^32
    expect(rack.reorderingSeen).toBe(false);
    q.ackTo(segEnd(0), rack, 125);
    expect(rack.reorderingSeen).toBe(true);
    expect(rack.reoWnd(true, 3, 100)).toBeGreaterThan(0);
  });

  it('in-order delivery is not reordering', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    q.ackTo(segEnd(0), rack, 100);
    sackSeg(q, rack, 1, 110);
    sackSeg(q, rack, 2, 120);
    q.ackTo(segEnd(2), rack, 130);
    expect(rack.reorderingSeen).toBe(false);
  });

  it('a retransmitted segment delivered below the highest delivered sequence is not reordering', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    rack.rttSample(50);
    q.onSend(segStart(0), segEnd(0), false, 200);
    sackSeg(q, rack, 2, 120);
    q.ackTo(segEnd(0), rack, 260); // RTT 60: accepted
    expect(rack.xmitTs).toBe(200);
    expect(rack.reorderingSeen).toBe(false);
  });

  it('step 2: a retransmission delivered faster than min_RTT is taken for the original (no update)', () => {
    const rack = new Rack();
    rack.rttSample(50);
    rack.delivered(0, S(1000), false, 60);
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([0, S(1000), 60]);
    rack.delivered(100, S(2000), true, 130); // RTT 30 < 50
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([0, S(1000), 60]);
    rack.delivered(100, S(2000), true, 150); // RTT 50: not below min_RTT
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([100, S(2000), 50]);
    rack.delivered(200, S(3000), false, 210); // an original may be fast
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([200, S(3000), 10]);
  });

  it('step 2: before any RTT sample a retransmission never updates RACK (min_RTT unknown)', () => {
    const rack = new Rack();
    rack.delivered(100, S(2000), true, 1000);
    expect(rack.xmitTs).toBe(-1);
    const q = sendAt(0);
    expect(rack.detectLoss(q, 0, 5000)).toBe(0);
  });

  it('step 2: a retransmission whose timestamp echo predates it is taken for the original (no update)', () => {
    const rack = new Rack();
    rack.rttSample(50);
    rack.beginAck(90); // echoes a TSval sent at 90: the original, not the copy sent at 100
    rack.delivered(100, S(2000), true, 300);
    expect(rack.xmitTs).toBe(-1);
    expect(rack.rtt).toBe(0);
    rack.beginAck(100);
    rack.delivered(100, S(2000), true, 300);
    expect([rack.xmitTs, rack.rtt]).toEqual([100, 200]);

    const noTs = new Rack();
    noTs.rttSample(50);
    noTs.beginAck(-1); // no timestamps: only the RTT test applies
    noTs.delivered(100, S(2000), true, 300);
    expect(noTs.xmitTs).toBe(100);

    const original = new Rack();
    original.beginAck(0); // the echo does not matter for a segment sent once
    original.delivered(100, S(2000), false, 300);
    expect(original.xmitTs).toBe(100);
  });

  it('step 2 through the queue: an ambiguous ACK of a resent segment leaves RACK on the earlier one', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    rack.rttSample(100);
    sackSeg(q, rack, 1, 110);
    expect(rack.xmitTs).toBe(10);
    q.onSend(segStart(2), segEnd(2), false, 200); // a probe resends the last segment
    rack.beginAck(-1);
    sackSeg(q, rack, 2, 230); // 30 ms later: the original's SACK
    expect([rack.xmitTs, rack.endSeq, rack.rtt]).toEqual([10, segEnd(1), 100]);
  });
});

describe('RACK loss detection and the reordering timer (RFC 8985 §6.2 step 5)', () => {
  /** Segments A..D sent at 0, 10, 20, 30; C SACKed at 130: RACK.rtt = 110, RACK.xmit_ts = 20. */
  function scenario(): { q: RetransmitQueue; rack: Rack } {
    const q = sendAt(0, 10, 20, 30);
    const rack = new Rack();
    rack.rttSample(100);
    sackSeg(q, rack, 2, 130);
    expect([rack.xmitTs, rack.rtt]).toEqual([20, 110]);
    return { q, rack };
  }

  it('with a zero window, marks at once every segment sent before the RACK segment', () => {
    const { q, rack } = scenario();
    const reo = rack.reoWnd(true, q.sackedSegs, 100);
    expect(reo).toBe(0);
    expect(rack.detectLoss(q, reo, 130)).toBe(2);
    expect(flagsOf(q)).toEqual([LOST, LOST, SACKED, 0]); // D was sent after C
    expect(rack.timeout).toBe(0);
    expect(q.lostBytes).toBe(2000);
    expect(rack.detectLoss(q, reo, 131)).toBe(0); // lost and waiting: not counted again
  });

  it('marks only segments whose deadline xmit + rtt + reo_wnd has passed; the timer covers the rest', () => {
    const { q, rack } = scenario();
    const reo = rack.reoWnd(false, q.sackedSegs, 100);
    expect(reo).toBe(25);
    // deadlines: A 0 + 110 + 25 = 135, B 10 + 110 + 25 = 145
    expect(rack.detectLoss(q, reo, 130)).toBe(0);
    expect(flagsOf(q)).toEqual([0, 0, SACKED, 0]);
    expect(rack.timeout).toBe(15); // RFC 8985: the largest remaining time of those pending
    expect(rack.detectLoss(q, reo, 135)).toBe(1); // A's deadline is now
    expect(flagsOf(q)).toEqual([LOST, 0, SACKED, 0]);
    expect(rack.timeout).toBe(10);
    expect(rack.detectLoss(q, reo, 144)).toBe(0);
    expect(rack.timeout).toBe(1);
    expect(rack.detectLoss(q, reo, 145)).toBe(1);
    expect(flagsOf(q)).toEqual([LOST, LOST, SACKED, 0]);
    expect(rack.timeout).toBe(0);
    // D was sent after the RACK segment: never lost by RACK, however late
    expect(rack.detectLoss(q, reo, 1e6)).toBe(0);
    expect(q.flags(3)).toBe(0);
  });

  it('does nothing before any segment was delivered', () => {
    const q = sendAt(0, 10);
    const rack = new Rack();
    expect(rack.detectLoss(q, 0, 1e6)).toBe(0);
    expect(rack.timeout).toBe(0);
    expect(flagsOf(q)).toEqual([0, 0]);
  });

  it('detects a lost retransmission once a segment sent after it is delivered', () => {
    const q = sendAt(0, 10);
    const rack = new Rack();
    rack.rttSample(100);
    sackSeg(q, rack, 1, 110);
    expect(rack.detectLoss(q, 0, 110)).toBe(1);
    q.onSend(segStart(0), segEnd(0), false, 200); // A resent
    expect(flagsOf(q)).toEqual([RETRANS, SACKED]);
    expect(rack.detectLoss(q, 0, 1000)).toBe(0); // the RACK segment (B at 10) is older than the copy
    q.onSend(segStart(2), segEnd(2), false, 210); // new data, C, after the copy
    sackSeg(q, rack, 2, 320);
    expect([rack.xmitTs, rack.rtt]).toEqual([210, 110]);
    // A's copy: deadline 200 + 110 = 310
    expect(rack.detectLoss(q, 0, 320)).toBe(1);
    expect(q.flags(0) & LOST).toBe(LOST);
  });

  it('a retransmitted RACK segment makes older originals further on in sequence lost too', () => {
    const q = sendAt(0, 10, 20, 30);
    const rack = new Rack();
    rack.rttSample(100);
    q.onTimeout();
    q.onSend(segStart(0), segEnd(0), false, 300); // after an RTO, A again
    q.ackTo(segEnd(0), rack, 420); // RTT 120: the copy's ACK
    expect([rack.xmitTs, rack.endSeq]).toEqual([300, segEnd(0)]);
    expect(rack.detectLoss(q, 0, 420)).toBe(3); // B, C and D went out before the copy of A
    expect(flagsOf(q)).toEqual([LOST, LOST, LOST]);
  });

  it('a retransmitted RACK segment: records past it in sequence are all examined, whatever their marks', () => {
    // After two RTOs, B's latest copy (260) went out after A's (250) and carries no mark
    // (lost, then the lost mark cleared by the second RTO), while C and D are originals
    // from long before: transmit times no longer follow sequence order past B.
    const q = sendAt(0, 10, 20, 30);
    const rack = new Rack();
    rack.rttSample(100);
    q.onTimeout();
    q.onSend(segStart(0), segEnd(0), false, 250);
    q.onSend(segStart(1), segEnd(1), false, 260);
    q.markLost(1);
    q.onTimeout();
    q.ackTo(segEnd(0), rack, 370); // A's copy, RTT 120
    expect([rack.xmitTs, rack.endSeq]).toEqual([250, segEnd(0)]);
    expect(rack.detectLoss(q, 0, 370)).toBe(2); // C and D; B went out after A's copy
    expect(flagsOf(q).map((f) => f & LOST)).toEqual([0, LOST, LOST]);
  });

  it('an original RACK segment: originals after it in sequence are not examined', () => {
    const q = sendAt(0, 10, 20, 30);
    const rack = new Rack();
    rack.rttSample(100);
    q.ackTo(segEnd(0), rack, 110);
    expect(rack.detectLoss(q, 0, 1e6)).toBe(0);
    expect(flagsOf(q)).toEqual([0, 0, 0]);
  });
});

describe('D-SACK widening of the reordering window (RFC 8985 §6.2 step 4)', () => {
  it('raises reo_wnd_mult once per round trip with D-SACKs (SND.UNA passing the SND.NXT of the last raise)', () => {
    const rack = new Rack();
    rack.rttSample(40);
    rack.reorderingSeen = true;
    expect(rack.reoWndMult).toBe(1);
    rack.onDsack(S(0), S(4000)); // the round ends when SND.UNA reaches S(4000), past 2^32
    expect(rack.reoWndMult).toBe(2);
    expect(rack.reoWnd(false, 0, 1000)).toBe(20);
    rack.onDsack(S(1000), S(4500));
    rack.onDsack(S(3999), S(5000));
    expect(rack.reoWndMult).toBe(2);
    rack.onDsack(S(4000), S(6000));
    expect(rack.reoWndMult).toBe(3);
    expect(rack.reoWnd(false, 0, 1000)).toBe(30);
    rack.onDsack(S(5000), S(7000));
    expect(rack.reoWndMult).toBe(3);
    rack.onDsack(S(6500), S(7000));
    expect(rack.reoWndMult).toBe(4);
  });

  it('resets reo_wnd_mult to 1 after 16 recoveries without a D-SACK', () => {
    const rack = new Rack();
    rack.onDsack(S(0), S(1000));
    expect(rack.reoWndMult).toBe(2);
    for (let i = 0; i < 15; i++) rack.onRecoveryEnd();
    expect(rack.reoWndMult).toBe(2);
    rack.onRecoveryEnd();
    expect(rack.reoWndMult).toBe(1);
    rack.onRecoveryEnd();
    expect(rack.reoWndMult).toBe(1);
  });

  it('a D-SACK in a new round restarts the count of 16', () => {
    const rack = new Rack();
    rack.onDsack(S(0), S(1000));
    for (let i = 0; i < 10; i++) rack.onRecoveryEnd();
    rack.onDsack(S(1000), S(2000));
    expect(rack.reoWndMult).toBe(3);
    for (let i = 0; i < 15; i++) rack.onRecoveryEnd();
    expect(rack.reoWndMult).toBe(3);
    rack.onRecoveryEnd();
    expect(rack.reoWndMult).toBe(1);
  });

  it('recoveries without any D-SACK leave the multiplier at 1', () => {
    const rack = new Rack();
    for (let i = 0; i < 20; i++) rack.onRecoveryEnd();
    expect(rack.reoWndMult).toBe(1);
  });
});

describe('TLP probe timeout (RFC 8985 §7.2)', () => {
  it('is 2 * SRTT, plus the worst-case delayed ACK for a one-segment flight', () => {
    const rack = new Rack();
    expect(WC_DEL_ACK_MS).toBe(200);
    expect(rack.pto(100, true, 5, 10_000)).toBe(200);
    expect(rack.pto(100, true, 2, 10_000)).toBe(200);
    expect(rack.pto(100, true, 1, 10_000)).toBe(200 + WC_DEL_ACK_MS);
  });

  it('is one second without an RTT sample', () => {
    const rack = new Rack();
    expect(rack.pto(0, false, 5, 10_000)).toBe(1000);
    expect(rack.pto(0, false, 1, 10_000)).toBe(1000);
  });

  it('is floored at MIN_PTO_MS and never fires after the RTO would (it goes instead of it)', () => {
    const rack = new Rack();
    expect(rack.pto(100, true, 5, 150)).toBe(150);
    expect(rack.pto(0, false, 5, 300)).toBe(300);
    expect(MIN_PTO_MS).toBe(10);
    expect(rack.pto(2, true, 5, 10_000)).toBe(MIN_PTO_MS);
    // an RTO due in less than MIN_PTO_MS: the probe goes at the RTO's time, instead of it
    expect(rack.pto(100, true, 5, 3)).toBe(3);
  });

  it('property: never after the RTO, at least min(MIN_PTO_MS, RTO left), never above 2 * SRTT + WCDelAckT', () => {
    const rack = new Rack();
    fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.boolean(), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 60_000 }), (srtt, has, segs, rtoLeft) => {
      const p = rack.pto(srtt, has, segs, rtoLeft);
      expect(p).toBeGreaterThanOrEqual(Math.min(MIN_PTO_MS, rtoLeft));
      expect(p).toBeLessThanOrEqual(rtoLeft);
      expect(p).toBeLessThanOrEqual(Math.max(MIN_PTO_MS, has ? 2 * srtt + WC_DEL_ACK_MS : 1000));
    }), { numRuns: 300 });
  });

  it('resetTlp forgets an outstanding probe', () => {
    const rack = new Rack();
    rack.tlpActive = true;
    rack.resetTlp();
    expect(rack.tlpActive).toBe(false);
  });
});

/** Two RFC 8985 rules the first version got wrong (found by these tests, fixed). */
describe('RFC 8985 §6.2 step 3 details', () => {
  it('§6.2 step 3: a resent segment, lost again and then ACKed, is still "retransmitted": no reordering inferred', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    rack.rttSample(100);
    sackSeg(q, rack, 2, 120); // RACK.fack = end of C
    expect(rack.detectLoss(q, 0, 120)).toBe(2); // A and B lost
    q.onSend(segStart(0), segEnd(0), false, 130); // A resent
    q.onSend(segStart(1), segEnd(1), false, 131); // B resent
    sackSeg(q, rack, 1, 240); // B's copy arrives (RTT 109)
    expect(rack.detectLoss(q, 0, 240)).toBe(1); // A's copy (deadline 130 + 109 = 239) lost too
    expect(rack.reorderingSeen).toBe(false);
    q.ackTo(segEnd(0), rack, 250); // A arrives after all (one of its two transmissions)
    // A was retransmitted, so its late delivery is no evidence of reordering (RFC 8985
    // §6.2 step 3: "Segment.retransmitted is FALSE"). src reports it as never
    // retransmitted because RetransmitQueue.markLost clears RETRANS.
    expect(rack.reorderingSeen).toBe(false);
  });

  it('§6.2 step 3: RACK.fack advances even for a delivery that step 2 skips', () => {
    const q = sendAt(0, 10, 20);
    const rack = new Rack();
    rack.rttSample(100);
    q.onSend(segStart(2), segEnd(2), false, 200); // a tail loss probe resends C
    sackSeg(q, rack, 2, 230); // RTT 30 < min_RTT: the original C was SACKed; step 2 skips it
    q.ackTo(segEnd(0), rack, 240); // A, sent once, delivered below C: reordering
    // RFC 8985 step 3 runs for every newly acknowledged segment (RACK.fack = C's end), so
    // A's delivery below it sets reordering_seen; src skips step 3 along with step 2.
    expect(rack.reorderingSeen).toBe(true);
  });
});
