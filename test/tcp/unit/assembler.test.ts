/**
 * The out-of-order Assembler against a boolean-array model: bit i says "byte i past
 * RCV.NXT has arrived"; the ranges must always be the maximal runs of set bits, and an
 * add that would need more than maxRanges runs returns false and changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Assembler } from '../../../src/tcp/assembler.js';

const SPAN = 64;

/** Maximal runs of true, as [start, end). */
function runs(bits: boolean[]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  while (i < bits.length) {
    if (!bits[i]) {
      i++;
      continue;
    }
    const s = i;
    while (i < bits.length && bits[i]) i++;
    out.push([s, i]);
  }
  return out;
}

type Cmd = { op: 'add'; start: number; len: number } | { op: 'takeFront' } | { op: 'shift'; n: number } | { op: 'clear' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), start: fc.nat(40), len: fc.integer({ min: -2, max: 12 }) }) },
  { weight: 2, arbitrary: fc.constant<Cmd>({ op: 'takeFront' }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('shift' as const), n: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'clear' }) },
);

function run(maxRanges: number, cmds: Cmd[]): { rejected: number } {
  const a = new Assembler(maxRanges);
  let bits = new Array<boolean>(SPAN).fill(false);
  let rejected = 0;
  for (const c of cmds) {
    switch (c.op) {
      case 'add': {
        const before = a.toArray();
        const next = bits.slice();
        for (let i = c.start; i < c.start + c.len; i++) next[i] = true;
        const fits = runs(next).length <= maxRanges;
        expect(a.add(c.start, c.start + c.len)).toBe(fits);
        if (fits) bits = next;
        else {
          rejected++;
          expect(a.toArray()).toEqual(before); // unchanged
        }
        break;
      }
      case 'takeFront': {
        let n = 0;
        while (n < SPAN && bits[n]) n++;
        expect(a.takeFront()).toBe(n);
        bits = [...bits.slice(n), ...new Array<boolean>(n).fill(false)];
        break;
      }
      case 'shift':
        a.shift(c.n);
        bits = [...bits.slice(c.n), ...new Array<boolean>(c.n).fill(false)];
        break;
      case 'clear':
        a.clear();
        bits.fill(false);
        break;
    }
    const want = runs(bits);
    expect(a.toArray()).toEqual(want);
    expect(a.count).toBe(want.length);
    expect(a.isEmpty()).toBe(want.length === 0);
    expect(a.count).toBeLessThanOrEqual(maxRanges);
  }
  return { rejected };
}

describe('Assembler: fixtures', () => {
  it('merges overlapping and adjacent ranges', () => {
    const a = new Assembler();
    expect(a.add(10, 20)).toBe(true);
    expect(a.add(30, 40)).toBe(true);
    expect(a.toArray()).toEqual([[10, 20], [30, 40]]);
    expect(a.add(20, 30)).toBe(true); // touches both: one range
    expect(a.toArray()).toEqual([[10, 40]]);
    expect(a.add(5, 12)).toBe(true); // overlaps the start
    expect(a.add(38, 45)).toBe(true); // overlaps the end
    expect(a.toArray()).toEqual([[5, 45]]);
    expect(a.add(0, 100)).toBe(true); // covers everything
    expect(a.toArray()).toEqual([[0, 100]]);
  });

  it('an empty or inverted range changes nothing', () => {
    const a = new Assembler();
    expect(a.add(5, 5)).toBe(true);
    expect(a.add(9, 3)).toBe(true);
    expect(a.isEmpty()).toBe(true);
  });

  it('takeFront returns the contiguous bytes at offset 0 and shifts the rest down', () => {
    const a = new Assembler();
    a.add(10, 20);
    expect(a.takeFront()).toBe(0); // a hole at the front
    a.add(0, 5);
    expect(a.takeFront()).toBe(5);
    expect(a.toArray()).toEqual([[5, 15]]);
    a.add(0, 5);
    expect(a.takeFront()).toBe(15);
    expect(a.isEmpty()).toBe(true);
  });

  it('shift drops what is now below RCV.NXT and clips a straddling range', () => {
    const a = new Assembler();
    a.add(2, 6);
    a.add(10, 20);
    a.shift(12);
    expect(a.toArray()).toEqual([[0, 8]]);
    a.shift(100);
    expect(a.isEmpty()).toBe(true);
  });

  it('the range cap: one more range is refused and nothing changes; merging still works', () => {
    const a = new Assembler(2);
    expect(a.add(0, 1)).toBe(true);
    expect(a.add(4, 5)).toBe(true);
    expect(a.add(8, 9)).toBe(false);
    expect(a.toArray()).toEqual([[0, 1], [4, 5]]);
    expect(a.add(1, 4)).toBe(true); // merges into one, freeing a slot
    expect(a.add(8, 9)).toBe(true);
    expect(a.toArray()).toEqual([[0, 5], [8, 9]]);
  });

  it('holds no range storage until the first range: a connection that only ever receives in order never allocates it', () => {
    const a = new Assembler();
    const storage = (): number => (a as unknown as { r: Int32Array }).r.length;
    expect(storage()).toBe(0);
    expect(a.takeFront()).toBe(0);
    a.shift(100);
    expect(a.isEmpty()).toBe(true);
    expect(storage()).toBe(0);
    expect(a.add(10, 20)).toBe(true);
    expect(storage()).toBeGreaterThan(0);
    expect(a.toArray()).toEqual([[10, 20]]);
  });

  it('defaults to 32 ranges', () => {
    const a = new Assembler();
    for (let i = 0; i < 32; i++) expect(a.add(2 * i + 1, 2 * i + 2)).toBe(true);
    expect(a.count).toBe(32);
    expect(a.add(100, 101)).toBe(false);
    expect(a.count).toBe(32);
  });
});

describe('Assembler: model-based', () => {
  it('matches the boolean-array model, including the cap', () => {
    let rejections = 0;
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(cmdArb, { maxLength: 40 }), (maxRanges, cmds) => {
      rejections += run(maxRanges, cmds).rejected;
    }), { numRuns: 300 });
    // the cap path must actually have been exercised
    expect(rejections).toBeGreaterThan(0);
  });
});
