/**
 * Sequence number arithmetic modulo 2^32 (RFC 9293 §3.4): properties over the whole space,
 * with most inputs drawn near the wrap point (2^32) where bugs hide.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt, seqMax, seqMin } from '../../../src/tcp/seq.js';

const TWO31 = 2 ** 31;

/** Any u32, but half the time within 1024 of the wrap point. */
const seqArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: -1024, max: 1023 }).map((d) => (0x1_0000_0000 + d) >>> 0),
);
/** A distance that the signed comparison can order: 1 .. 2^31 - 1. */
const distArb = fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: TWO31 - 1 }));
const isU32 = (x: number): boolean => Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

describe('seqAdd / seqDiff', () => {
  it('wrap at 2^32 (fixtures)', () => {
    expect(seqAdd(0xffffff00, 0x100)).toBe(0);
    expect(seqAdd(0xffffff00, 0x110)).toBe(0x10);
    expect(seqAdd(0xffffffff, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(0xffffffff);
    expect(seqDiff(0x10, 0xffffff00)).toBe(0x110);
    expect(seqDiff(0xffffff00, 0x10)).toBe(-0x110);
    expect(seqDiff(5, 5)).toBe(0);
  });

  it('seqAdd always gives an unsigned 32-bit value', () => {
    fc.assert(fc.property(seqArb, fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), (a, n) => {
      expect(isU32(seqAdd(a, n))).toBe(true);
    }));
  });

  it('seqDiff(seqAdd(a, n), a) === n for every |n| < 2^31', () => {
    fc.assert(fc.property(seqArb, fc.integer({ min: -TWO31, max: TWO31 - 1 }), (a, n) => {
      expect(seqDiff(seqAdd(a, n), a)).toBe(n);
    }));
  });

  it('seqAdd(b, seqDiff(a, b)) === a for all a, b', () => {
    fc.assert(fc.property(seqArb, seqArb, (a, b) => {
      expect(seqAdd(b, seqDiff(a, b))).toBe(a);
    }));
  });

  it('seqDiff is antisymmetric except at the ambiguous distance 2^31', () => {
    fc.assert(fc.property(seqArb, seqArb, (a, b) => {
      fc.pre(seqDiff(a, b) !== -TWO31);
      expect(seqDiff(b, a) + seqDiff(a, b)).toBe(0); // (not toBe(-d): 0 and -0 differ for Object.is)
    }));
  });

  it('adding is associative modulo 2^32', () => {
    fc.assert(fc.property(seqArb, fc.integer({ min: -TWO31, max: TWO31 }), fc.integer({ min: -TWO31, max: TWO31 }), (a, m, n) => {
      expect(seqAdd(seqAdd(a, m), n)).toBe(seqAdd(a, m + n));
    }));
  });
});

describe('comparisons', () => {
  it('order across the wrap (fixtures)', () => {
    expect(seqLt(0xffffff00, 0x10)).toBe(true);
    expect(seqLt(0x10, 0xffffff00)).toBe(false);
    expect(seqGt(0x10, 0xffffff00)).toBe(true);
    expect(seqLe(0xffffffff, 0)).toBe(true);
    expect(seqGe(0, 0xffffffff)).toBe(true);
    expect(seqLt(0x7fffffff, 0x80000000)).toBe(true);
    // Plain `<` would say the opposite; that is the bug these helpers exist to prevent.
    expect(0xffffff00 < 0x10).toBe(false);
    expect(seqMax(0xffffff00, 0x10)).toBe(0x10);
    expect(seqMin(0xffffff00, 0x10)).toBe(0xffffff00);
  });

  it('seqLt, seqLe, seqGt, seqGe agree with the sign of seqDiff', () => {
    fc.assert(fc.property(seqArb, seqArb, (a, b) => {
      const d = seqDiff(a, b);
      expect(seqLt(a, b)).toBe(d < 0);
      expect(seqLe(a, b)).toBe(d <= 0);
      expect(seqGt(a, b)).toBe(d > 0);
      expect(seqGe(a, b)).toBe(d >= 0);
      expect(seqLe(a, b)).toBe(seqLt(a, b) || a === b);
    }));
  });

  it('seqLt is irreflexive and antisymmetric (distance != 2^31)', () => {
    fc.assert(fc.property(seqArb, seqArb, (a, b) => {
      expect(seqLt(a, a)).toBe(false);
      expect(seqLe(a, a)).toBe(true);
      fc.pre(a !== b && seqDiff(a, b) !== -TWO31);
      // exactly one of a < b, b < a
      expect(seqLt(a, b)).not.toBe(seqLt(b, a));
      expect(seqGt(a, b)).toBe(seqLt(b, a));
    }));
  });

  it('a < a + d for every distance 0 < d < 2^31, wherever a is', () => {
    fc.assert(fc.property(seqArb, distArb, (a, d) => {
      const b = seqAdd(a, d);
      expect(seqLt(a, b)).toBe(true);
      expect(seqGt(b, a)).toBe(true);
      expect(seqLt(b, a)).toBe(false);
      expect(seqMax(a, b)).toBe(b);
      expect(seqMin(a, b)).toBe(a);
    }));
  });

  it('the order of a window of points is the order of their offsets, across the wrap', () => {
    fc.assert(fc.property(
      seqArb,
      fc.array(fc.integer({ min: 0, max: TWO31 - 1 }), { minLength: 2, maxLength: 12 }),
      (base, offsets) => {
        // all pairwise distances are < 2^31 because every offset is in [0, 2^31)
        for (const i of offsets) {
          for (const j of offsets) {
            const x = seqAdd(base, i);
            const y = seqAdd(base, j);
            expect(seqLt(x, y)).toBe(i < j);
            expect(seqLe(x, y)).toBe(i <= j);
            expect(seqDiff(y, x)).toBe(j - i);
          }
        }
      },
    ));
  });

  it('is transitive within a half-space', () => {
    fc.assert(fc.property(seqArb, distArb, distArb, (a, d1, d2) => {
      fc.pre(d1 + d2 < TWO31);
      const b = seqAdd(a, d1);
      const c = seqAdd(b, d2);
      expect(seqLt(a, b) && seqLt(b, c)).toBe(true);
      expect(seqLt(a, c)).toBe(true);
    }));
  });
});

describe('seqInRange', () => {
  it('a window that straddles 2^32 (fixtures)', () => {
    const lo = 0xffffff00;
    const hi = seqAdd(lo, 0x200); // 0x100
    expect(hi).toBe(0x100);
    expect(seqInRange(0xffffff00, lo, hi)).toBe(true); // lo is in
    expect(seqInRange(0xffffffff, lo, hi)).toBe(true);
    expect(seqInRange(0, lo, hi)).toBe(true);
    expect(seqInRange(0xff, lo, hi)).toBe(true);
    expect(seqInRange(0x100, lo, hi)).toBe(false); // hi is out
    expect(seqInRange(0xfffffeff, lo, hi)).toBe(false);
    expect(seqInRange(0x80000000, lo, hi)).toBe(false);
  });

  it('an empty window holds nothing', () => {
    fc.assert(fc.property(seqArb, seqArb, (x, lo) => {
      expect(seqInRange(x, lo, lo)).toBe(false);
    }));
  });

  it('lo + k is in [lo, lo + w) iff 0 <= k < w, for windows near 2^32', () => {
    fc.assert(fc.property(
      seqArb,
      fc.integer({ min: 1, max: TWO31 - 1 }),
      // k from well before the window to well after it, but within 2^31 of lo
      fc.integer({ min: -(TWO31 - 1), max: TWO31 - 1 }),
      (lo, w, k) => {
        fc.pre(k - w < TWO31 && k - w >= -TWO31);
        const x = seqAdd(lo, k);
        expect(seqInRange(x, lo, seqAdd(lo, w))).toBe(k >= 0 && k < w);
      },
    ));
  });

  it('small windows just below 2^32 (exhaustive over x near the edges)', () => {
    for (let start = -8; start <= 8; start++) {
      const lo = (0x1_0000_0000 + start - 4) >>> 0;
      const hi = seqAdd(lo, 8);
      for (let k = -4; k < 12; k++) {
        expect(seqInRange(seqAdd(lo, k), lo, hi)).toBe(k >= 0 && k < 8);
      }
    }
  });
});
