/**
 * Slow start (src/tcp/congestion/slow-start.ts): byte counting bounded as Linux bounds it
 * (RFC 3465 without the L limit, capped at ssthresh), and HyStart++ (RFC 9406).
 */
import { describe, expect, it } from 'vitest';
import { CSS_ROUNDS, N_RTT_SAMPLE, SlowStart, type AckSample } from '../../../src/tcp/congestion/slow-start.js';
import { Cubic } from '../../../src/tcp/congestion/cubic.js';
import { NewReno } from '../../../src/tcp/congestion/new-reno.js';

const MSS = 1000;

describe('slow start by bytes acknowledged', () => {
  it('a stretch ACK of ten segments grows cwnd by ten (no L = 2 SMSS limit, as Linux)', () => {
    for (const cc of [new NewReno(MSS), new Cubic(MSS, () => 10)]) {
      expect(cc.cwnd).toBe(10 * MSS);
      cc.onAck(10 * MSS, 0);
      expect(cc.cwnd).toBe(20 * MSS);
    }
  });

  it('growth stops at ssthresh; what the ACK delivers beyond it goes to congestion avoidance', () => {
    const cc = new NewReno(MSS);
    cc.ssthresh = 12 * MSS;
    cc.onAck(5 * MSS, 0); // 10 + 2 reaches ssthresh; the other 3 segments count toward the +1 MSS of CA
    expect(cc.cwnd).toBe(12 * MSS);
    cc.onAck(9 * MSS, 0); // 3 + 9 = 12 segments counted: one window: +1 MSS
    expect(cc.cwnd).toBe(13 * MSS);
  });
});

describe('HyStart++ (RFC 9406)', () => {
  /** Drives `rounds` rounds of `acks` ACKs each with the given RTT per round; returns the SlowStart and the window. */
  function drive(rtts: number[], acks = 10): { ss: SlowStart; w: { cwnd: number; ssthresh: number; mss: number }; perRound: number[] } {
    const ss = new SlowStart(true);
    const w = { cwnd: 10 * MSS, ssthresh: Number.MAX_SAFE_INTEGER, mss: MSS };
    const s: AckSample = { una: 0, sndNxt: 0, rttMs: -1 };
    const perRound: number[] = [];
    let seq = 0;
    for (const rtt of rtts) {
      const before = w.cwnd;
      // The round's first ACK starts it (windowEnd = SND.NXT); then `acks` more ACKs within it.
      s.sndNxt = seq + 100 * MSS;
      for (let i = 0; i < acks; i++) {
        seq += MSS;
        s.una = seq;
        s.rttMs = rtt;
        ss.onAck(w, MSS, s);
      }
      seq = s.sndNxt; // the round's last ACK covers the round's data: the next ACK starts a new round
      perRound.push(w.cwnd - before);
    }
    return { ss, w, perRound };
  }

  it('steady RTTs: plain slow start (one MSS per MSS acknowledged)', () => {
    const { ss, perRound } = drive([20, 20, 20, 20]);
    expect(ss.inCss).toBe(false);
    expect(perRound).toEqual([10, 10, 10, 10].map((n) => n * MSS));
  });

  it('an RTT rise of RttThresh or more enters Conservative Slow Start: growth divided by 4', () => {
    // RttThresh = clamp(20/8, 4, 16) = 4 ms: 24 ms is a rise.
    const { ss, perRound } = drive([20, 24]);
    expect(ss.inCss).toBe(true);
    // CSS begins with the N_RTT_SAMPLE-th sample of the round: from that ACK on, growth is a quarter.
    expect(perRound[1]).toBe((N_RTT_SAMPLE - 1) * MSS + (10 - N_RTT_SAMPLE + 1) * (MSS / 4));
  });

  it('a rise below RttThresh is not enough', () => {
    const { ss } = drive([20, 23]);
    expect(ss.inCss).toBe(false);
  });

  it('if the RTT falls back below the CSS baseline, slow start resumes', () => {
    const { ss, perRound } = drive([20, 30, 25]);
    expect(ss.inCss).toBe(false);
    // CSS until the round's N_RTT_SAMPLE-th sample shows the fall, full growth from then on.
    expect(perRound[2]).toBe((N_RTT_SAMPLE - 1) * (MSS / 4) + (10 - N_RTT_SAMPLE + 1) * MSS);
  });

  it('after CSS_ROUNDS rounds of CSS, ssthresh = cwnd: congestion avoidance', () => {
    const { ss, w } = drive([20, 30, 30, 30, 30, 30, 30, 30]);
    expect(CSS_ROUNDS).toBe(5);
    expect(ss.exits).toBe(1);
    expect(w.ssthresh).toBe(w.cwnd);
  });

  it('only in the initial slow start: with a finite ssthresh (after a loss), plain slow start', () => {
    const ss = new SlowStart(true);
    const w = { cwnd: 10 * MSS, ssthresh: 1_000 * MSS, mss: MSS };
    let seq = 0;
    for (const rtt of [20, 40, 40, 40, 40, 40, 40]) {
      const s: AckSample = { una: 0, sndNxt: seq + 100 * MSS, rttMs: rtt };
      for (let i = 0; i < 10; i++) {
        seq += MSS;
        s.una = seq;
        ss.onAck(w, MSS, s);
      }
      seq = s.sndNxt;
    }
    expect(ss.inCss).toBe(false);
    expect(w.cwnd).toBe(80 * MSS);
  });
});
