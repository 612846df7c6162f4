/**
 * NewReno: RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery, the
 * RFC 6928 initial window, and the RFC 5681 §4.1 restart window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CongestionControl } from '../../../src/tcp/congestion/congestion-control.js';
import { NewReno } from '../../../src/tcp/congestion/new-reno.js';
import { INITIAL_WINDOW_SEGMENTS } from '../../../src/tcp/congestion/congestion-control.js';

const MSS = 1460;

/** Used through the interface that the connection sees. */
const make = (mss = MSS): CongestionControl => new NewReno(mss);

/** Acks one full window in MSS-sized ACKs (one round trip); returns the bytes acked. */
function ackOneWindow(cc: CongestionControl, mss = MSS): number {
  const segs = Math.floor(cc.cwnd / mss);
  for (let i = 0; i < segs; i++) cc.onAck(mss, 0);
  return segs * mss;
}

describe('NewReno', () => {
  it('starts with IW = 10 * MSS (RFC 6928) and no threshold', () => {
    expect(INITIAL_WINDOW_SEGMENTS).toBe(10);
    const cc = make(MSS);
    expect(cc.name).toBe('newreno');
    expect(cc.cwnd).toBe(14600);
    expect(cc.ssthresh).toBeGreaterThanOrEqual(2 ** 31); // "arbitrarily high" (RFC 5681 §3.1)
    expect(make(536).cwnd).toBe(5360);
  });

  describe('slow start', () => {
    it('grows by the bytes each ACK delivers (RFC 3465 byte counting; a stretch ACK counts whole, as Linux)', () => {
      const cc = make(MSS);
      cc.onAck(MSS, 0);
      expect(cc.cwnd).toBe(14600 + 1460);
      cc.onAck(100, 0);
      expect(cc.cwnd).toBe(16060 + 100);
      cc.onAck(10 * MSS, 0); // a stretch ACK of ten segments: ten
      expect(cc.cwnd).toBe(16160 + 10 * MSS);
    });

    it('grows by exactly the bytes acked while below ssthresh, and never past it', () => {
      fc.assert(fc.property(fc.integer({ min: 536, max: 9000 }), fc.integer({ min: 20, max: 200 }), fc.array(fc.integer({ min: 1, max: 30_000 }), { maxLength: 30 }), (mss, thresh, acks) => {
        const cc = make(mss);
        cc.ssthresh = thresh * mss;
        for (const a of acks) {
          const before = cc.cwnd;
          cc.onAck(a, 0);
          if (before + a <= cc.ssthresh) expect(cc.cwnd - before).toBe(a);
          else if (before < cc.ssthresh) expect(cc.cwnd).toBeLessThanOrEqual(cc.ssthresh + mss); // at ssthresh, then at most one MSS of avoidance
        }
      }));
    });

    it('doubles the window each round trip of full-sized segments', () => {
      const cc = make(MSS);
      ackOneWindow(cc);
      expect(cc.cwnd).toBe(2 * 14600);
      ackOneWindow(cc);
      expect(cc.cwnd).toBe(4 * 14600);
    });
  });

  describe('congestion avoidance', () => {
    it('adds one MSS per cwnd of acked bytes (RFC 5681 3.3, byte counting)', () => {
      const cc = make(MSS);
      cc.ssthresh = cc.cwnd; // cwnd >= ssthresh: congestion avoidance
      for (let i = 0; i < 9; i++) cc.onAck(MSS, 0);
      expect(cc.cwnd).toBe(14600); // 9/10 of a window: not yet
      cc.onAck(MSS, 0);
      expect(cc.cwnd).toBe(14600 + MSS);
    });

    it('about one MSS per round trip, whatever the ACK sizes', () => {
      fc.assert(fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), (segs, rtts, perAck) => {
        const cc = make(MSS);
        cc.cwnd = segs * MSS;
        cc.ssthresh = cc.cwnd;
        for (let r = 0; r < rtts; r++) {
          const start = cc.cwnd;
          let acked = 0;
          while (acked < start) {
            const a = Math.min(perAck * MSS, start - acked);
            cc.onAck(a, 0);
            acked += a;
          }
          // one round trip acks one window: exactly one more MSS
          expect(cc.cwnd).toBe(start + MSS);
        }
      }));
    });

    it('the switch happens at ssthresh', () => {
      const cc = make(MSS);
      cc.ssthresh = 14600 + 2 * MSS;
      cc.onAck(MSS, 0); // slow start
      cc.onAck(MSS, 0); // slow start: cwnd reaches ssthresh
      expect(cc.cwnd).toBe(cc.ssthresh);
      cc.onAck(MSS, 0); // congestion avoidance: a fraction only
      expect(cc.cwnd).toBe(cc.ssthresh);
    });
  });

  describe('fast retransmit and recovery (RFC 5681 §3.2, RFC 6582)', () => {
    it('a congestion event sets ssthresh = max(flight/2, 2 MSS) and leaves cwnd to loss recovery', () => {
      const cc = make(MSS);
      const before = cc.cwnd;
      cc.onCongestionEvent(20_000, 0);
      expect(cc.ssthresh).toBe(10_000);
      expect(cc.cwnd).toBe(before);
      cc.onCongestionEvent(1000, 0);
      expect(cc.ssthresh).toBe(2 * MSS);
    });

    it('holds for any flight size', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (flight) => {
        const cc = make(MSS);
        cc.onCongestionEvent(flight, 0);
        expect(cc.ssthresh).toBe(Math.max(Math.floor(flight / 2), 2 * MSS));
      }));
    });

    it('recovery end: cwnd = min(ssthresh, max(flight, MSS) + MSS) (RFC 6582 step 5)', () => {
      const a = make(MSS);
      a.onCongestionEvent(20_000, 0);
      a.onRecoveryEnd(30_000);
      expect(a.cwnd).toBe(10_000);
      const b = make(MSS);
      b.onCongestionEvent(20_000, 0);
      b.onRecoveryEnd(0);
      expect(b.cwnd).toBe(2 * MSS);
      const c = make(MSS);
      c.onCongestionEvent(20_000, 0);
      c.onRecoveryEnd(4000);
      expect(c.cwnd).toBe(4000 + MSS);
    });

    it('after recovery, congestion avoidance starts from scratch', () => {
      const cc = make(MSS);
      cc.onCongestionEvent(20 * MSS, 0);
      cc.onRecoveryEnd(20 * MSS); // cwnd = ssthresh = 10 MSS
      expect(cc.cwnd).toBe(cc.ssthresh);
      ackOneWindow(cc);
      expect(cc.cwnd).toBe(11 * MSS);
    });
  });

  describe('retransmission timeout', () => {
    it('cwnd = 1 MSS (the loss window), ssthresh = max(flight/2, 2 MSS)', () => {
      const cc = make(MSS);
      cc.onRto(30_000, 0);
      expect(cc.cwnd).toBe(MSS);
      expect(cc.ssthresh).toBe(15_000);
      const small = make(MSS);
      small.onRto(100, 0);
      expect(small.ssthresh).toBe(2 * MSS);
    });

    it('then slow start up to ssthresh, then one MSS per round trip with no leftover credit', () => {
      const cc = make(MSS);
      cc.ssthresh = cc.cwnd; // congestion avoidance
      for (let i = 0; i < 9; i++) cc.onAck(MSS, 0); // 9/10 of a window of credit
      cc.onRto(8 * MSS, 0); // ssthresh 4 MSS
      expect(cc.ssthresh).toBe(4 * MSS);
      cc.onAck(MSS, 0);
      expect(cc.cwnd).toBe(2 * MSS);
      ackOneWindow(cc);
      expect(cc.cwnd).toBe(4 * MSS);
      cc.onAck(MSS, 0); // credit from before the timeout must be gone
      expect(cc.cwnd).toBe(4 * MSS);
      for (let i = 0; i < 3; i++) cc.onAck(MSS, 0);
      expect(cc.cwnd).toBe(5 * MSS);
    });
  });

  describe('restart after idle (RFC 5681 §4.1)', () => {
    it('caps cwnd at the initial window', () => {
      const big = make(MSS);
      ackOneWindow(big);
      expect(big.cwnd).toBe(29_200);
      big.onIdleRestart(0);
      expect(big.cwnd).toBe(14_600);
    });

    it('leaves a smaller window alone', () => {
      const cc = make(MSS);
      cc.onRto(10 * MSS, 0);
      cc.onIdleRestart(0);
      expect(cc.cwnd).toBe(MSS);
    });
  });
});
