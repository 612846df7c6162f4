/**
 * The retransmission timer's estimator (RFC 6298), against the RFC's formulas written
 * out again here, with Linux's 200 ms floor on the variance term (RTO = SRTT +
 * max(G, 4*RTTVAR, 200 ms), as Linux's TCP_RTO_MIN) and 120 s ceiling.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INITIAL_RTO_MS, MAX_RTO_MS, MIN_RTO_MS, RttEstimator } from '../../../src/tcp/rtt.js';

/** RFC 6298 §2 as a reference model (G = 1 ms, K = 4, alpha = 1/8, beta = 1/4). */
class Reference {
  srtt = 0;
  rttvar = 0;
  base = 1000;
  n = 0;
  sample(r: number): void {
    if (this.n === 0) {
      this.srtt = r; // (2.2)
      this.rttvar = r / 2;
    } else {
      this.rttvar = (3 / 4) * this.rttvar + (1 / 4) * Math.abs(this.srtt - r); // (2.3), old SRTT
      this.srtt = (7 / 8) * this.srtt + (1 / 8) * r;
    }
    this.n++;
    this.base = Math.min(120_000, this.srtt + Math.max(1, 4 * this.rttvar, 200));
  }
}

describe('RttEstimator', () => {
  it('constants: 1 s before any sample, 200 ms floor, 120 s ceiling', () => {
    expect(INITIAL_RTO_MS).toBe(1000);
    expect(MIN_RTO_MS).toBe(200);
    expect(MAX_RTO_MS).toBe(120_000);
    const e = new RttEstimator();
    expect(e.rto).toBe(1000); // RFC 6298 (2.1)
    expect(e.samples).toBe(0);
  });

  it('first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR (RFC 6298 2.2)', () => {
    const e = new RttEstimator();
    e.sample(100);
    expect(e.srtt).toBe(100);
    expect(e.rttvar).toBe(50);
    expect(e.rto).toBe(300);
    expect(e.samples).toBe(1);
  });

  it('first sample: RTO = R + max(200, 2R) for any R up to the ceiling', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 200_000 }), (r) => {
      const e = new RttEstimator();
      e.sample(r);
      expect(e.srtt).toBe(r);
      expect(e.rttvar).toBe(r / 2);
      expect(e.rto).toBe(Math.min(120_000, r + Math.max(200, 2 * r)));
    }));
  });

  it('a second sample: RTTVAR with the old SRTT, then SRTT (RFC 6298 2.3)', () => {
    const e = new RttEstimator();
    e.sample(100);
    e.sample(200);
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
    expect(e.rttvar).toBe(62.5);
    expect(e.srtt).toBe(112.5);
    expect(e.rto).toBe(112.5 + 4 * 62.5);
  });

  it('the RTO stays 200 ms above SRTT, however small the variation (Linux, not RFC 6298 2.4)', () => {
    const e = new RttEstimator();
    for (let i = 0; i < 50; i++) e.sample(1);
    expect(e.srtt).toBeCloseTo(1, 10);
    expect(e.rto).toBeCloseTo(201, 10);
  });

  it('the ceiling is 120 s, however large the samples', () => {
    const e = new RttEstimator();
    e.sample(100_000); // 3R = 300 s
    expect(e.rto).toBe(120_000);
  });

  it('follows the RFC 6298 formulas for any sequence of samples', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 1, maxLength: 40 }), (samples) => {
      const e = new RttEstimator();
      const m = new Reference();
      for (const r of samples) {
        e.sample(r);
        m.sample(r);
        expect(e.srtt).toBeCloseTo(m.srtt, 6);
        expect(e.rttvar).toBeCloseTo(m.rttvar, 6);
        expect(e.rto).toBeCloseTo(m.base, 6);
        expect(e.rto).toBeGreaterThanOrEqual(200);
        expect(e.rto).toBeLessThanOrEqual(120_000);
      }
      expect(e.samples).toBe(samples.length);
    }));
  });

  it('converges to a steady RTT, with RTTVAR shrinking', () => {
    const e = new RttEstimator();
    e.sample(500);
    for (let i = 0; i < 200; i++) e.sample(100);
    expect(e.srtt).toBeCloseTo(100, 3);
    expect(e.rttvar).toBeLessThan(0.01);
    expect(e.rto).toBeCloseTo(300, 2); // 100 + max(G, 4 * ~0, 200)
  });

  it('backoff doubles the timeout (RFC 6298 5.5) and clamps at 120 s', () => {
    const e = new RttEstimator();
    e.sample(100); // 300
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      e.backoff();
      seen.push(e.rto);
    }
    expect(seen).toEqual([600, 1200, 2400, 4800, 9600, 19200, 38400, 76800, 120_000, 120_000, 120_000, 120_000]);
  });

  it('backoff before any sample starts from the initial 1 s', () => {
    const e = new RttEstimator();
    const seen: number[] = [];
    for (let i = 0; i < 9; i++) {
      e.backoff();
      seen.push(e.rto);
    }
    expect(seen).toEqual([2000, 4000, 8000, 16000, 32000, 64000, 120_000, 120_000, 120_000]);
  });

  it('after k backoffs the timeout is min(120 s, RTO * 2^k)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 50_000 }), fc.nat(40), (r, k) => {
      const e = new RttEstimator();
      e.sample(r);
      const base = e.rto;
      for (let i = 0; i < k; i++) e.backoff();
      expect(e.rto).toBe(Math.min(120_000, base * 2 ** k));
    }));
  });

  it('a new sample ends the backoff (RFC 6298 5.7)', () => {
    const e = new RttEstimator();
    e.sample(100);
    for (let i = 0; i < 20; i++) e.backoff();
    expect(e.rto).toBe(120_000);
    e.sample(100);
    // RTTVAR = 3/4 * 50 + 0 = 37.5; SRTT = 100; RTO = 100 + max(150, 200) = 300, not doubled
    expect(e.backoffs).toBe(0);
    expect(e.rto).toBe(300);
    e.backoff();
    expect(e.rto).toBe(600);
  });

  it('a negative measurement counts as 0', () => {
    const e = new RttEstimator();
    e.sample(-50);
    expect(e.srtt).toBe(0);
    expect(e.rttvar).toBe(0);
    expect(e.rto).toBe(200);
  });
});
