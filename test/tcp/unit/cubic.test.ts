/** CUBIC (RFC 9438) on the manual clock: the window after a loss and its cubic growth. */
import { describe, expect, it } from 'vitest';
import { Cubic } from '../../../src/tcp/congestion/cubic.js';

const MSS = 1000;

/** Acknowledges a window's worth of data once per RTT for `ms` of simulated time. */
function run(cc: Cubic, fromMs: number, ms: number, rttMs: number): number {
  let now = fromMs;
  while (now < fromMs + ms) {
    const w = cc.cwnd;
    for (let acked = 0; acked < w; acked += MSS) cc.onAck(MSS, now);
    now += rttMs;
  }
  return now;
}

describe('CUBIC', () => {
  it('starts at 10 segments and slow-starts', () => {
    const cc = new Cubic(MSS, () => 100);
    expect(cc.cwnd).toBe(10 * MSS);
    cc.onAck(MSS, 0);
    expect(cc.cwnd).toBe(11 * MSS);
  });

  it('a loss multiplies the window by beta = 0.7 (RFC 9438 §4.6)', () => {
    const cc = new Cubic(MSS, () => 100);
    cc.cwnd = 100 * MSS;
    cc.onCongestionEvent(100 * MSS);
    expect(cc.ssthresh).toBe(70 * MSS);
    expect(cc.cwnd).toBe(100 * MSS); // during recovery cwnd is loss recovery's (reno-recovery.ts, sack-recovery.ts)
    cc.onRecoveryEnd();
    expect(cc.cwnd).toBe(70 * MSS);
  });

  it('grows back to W_max after about K seconds, concave before and convex after', () => {
    const rtt = 100;
    const cc = new Cubic(MSS, () => rtt);
    cc.cwnd = 100 * MSS;
    cc.onCongestionEvent(100 * MSS);
    cc.onRecoveryEnd();
    // K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) = 4.22 s
    const K = Math.cbrt((100 * 0.3) / 0.4) * 1000;
    let now = 1_000_000;
    const samples: [number, number][] = [];
    for (let t = 0; t <= 8000; t += 500) {
      now = run(cc, now, 500, rtt);
      samples.push([t + 500, cc.cwnd / MSS]);
    }
    const at = (ms: number): number => samples.find(([t]) => t >= ms)![1];
    expect(at(K - 500)).toBeLessThan(100);
    expect(at(K + 500)).toBeGreaterThan(97);
    expect(at(K + 500)).toBeLessThan(106);
    // Concave: growth slows as W_max approaches; convex: it speeds up beyond it.
    const early = at(1500) - at(1000);
    const nearK = at(K) - at(K - 500);
    const late = at(8000) - at(7500);
    expect(early).toBeGreaterThan(nearK);
    expect(late).toBeGreaterThan(nearK);
  });

  it('an RTO falls back to one segment and remembers W_max', () => {
    const cc = new Cubic(MSS, () => 50);
    cc.cwnd = 40 * MSS;
    cc.onRto(40 * MSS);
    expect(cc.cwnd).toBe(MSS);
    expect(cc.ssthresh).toBe(28 * MSS);
  });

  it('fast convergence: a second loss below the last maximum lowers W_max further (§4.7)', () => {
    const a = new Cubic(MSS, () => 100);
    a.cwnd = 100 * MSS;
    a.onCongestionEvent(100 * MSS);
    a.onRecoveryEnd();
    a.cwnd = 80 * MSS;
    a.onCongestionEvent(80 * MSS);
    expect(a.ssthresh).toBe(56 * MSS);
  });

  it('restart after idle caps the window at the initial window', () => {
    const cc = new Cubic(MSS);
    cc.cwnd = 50 * MSS;
    cc.onIdleRestart();
    expect(cc.cwnd).toBe(10 * MSS);
  });
});
