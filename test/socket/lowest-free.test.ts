/**
 * LowestFree hands out descriptors as POSIX does (always the lowest free number), checked
 * against a model that scans, over random sequences of takes and gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LowestFree } from '../../src/socket/lowest-free.js';

describe('LowestFree', () => {
  it('always takes the lowest free number (model: a scan of the taken set)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 300 }), (ops) => {
        const lf = new LowestFree(3);
        const taken = new Set<number>();
        for (const [take, pick] of ops) {
          if (take || taken.size === 0) {
            let want = 3;
            while (taken.has(want)) want++;
            const got = lf.take();
            expect(got).toBe(want);
            taken.add(got);
          } else {
            const n = [...taken][pick % taken.size]!;
            taken.delete(n);
            lf.give(n);
          }
        }
      }),
    );
  });

  it('hands out 100,000 numbers in order, and again after they all come back in a mixed order', () => {
    const lf = new LowestFree(3);
    const n = 100_000;
    for (let i = 0; i < n; i++) expect(lf.take()).toBe(3 + i);
    for (let i = n - 1; i >= 0; i -= 2) lf.give(3 + i);
    for (let i = 0; i < n; i += 2) lf.give(3 + i);
    for (let i = 0; i < n; i++) if (lf.take() !== 3 + i) throw new Error(`expected ${3 + i}`);
  });
});
