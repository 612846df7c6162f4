/**
 * RingBuffer against a plain array model: the model is the window of `capacity` byte
 * positions starting at the head (readable bytes first, then out-of-order bytes written
 * with writeAt), so every push/peek/consume/read/writeAt/commit can be checked, across
 * the wrap point of the underlying storage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../../src/tcp/ring-buffer.js';

/** The window [head, head + capacity): a byte, or undefined where nothing was written. */
class Model {
  win: (number | undefined)[];
  length = 0;
  constructor(readonly capacity: number) {
    this.win = new Array<number | undefined>(capacity).fill(undefined);
  }
  get free(): number {
    return this.capacity - this.length;
  }
  writeAt(offset: number, bytes: Uint8Array): number {
    const n = Math.max(0, Math.min(bytes.length, this.capacity - offset));
    for (let i = 0; i < n; i++) this.win[offset + i] = bytes[i];
    return n;
  }
  push(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.free);
    this.writeAt(this.length, bytes.subarray(0, n));
    this.length += n;
    return n;
  }
  commit(n: number): void {
    this.length = Math.min(this.capacity, this.length + n);
  }
  consume(n: number): void {
    const k = Math.min(n, this.length);
    this.win = [...this.win.slice(k), ...new Array<number | undefined>(k).fill(undefined)];
    this.length -= k;
  }
  read(max: number): (number | undefined)[] {
    const n = Math.min(max, this.length);
    const out = this.win.slice(0, n);
    this.consume(n);
    return out;
  }
}

type Cmd =
  | { op: 'push'; bytes: Uint8Array }
  | { op: 'consume'; n: number }
  | { op: 'read'; max: number }
  | { op: 'writeAt'; gap: number; bytes: Uint8Array }
  | { op: 'commit'; n: number };

const bytesArb = fc.uint8Array({ minLength: 0, maxLength: 24 });
const pushArb = bytesArb.map((bytes): Cmd => ({ op: 'push', bytes }));
const consumeArb = fc.nat(24).map((n): Cmd => ({ op: 'consume', n }));
const readArb = fc.nat(24).map((max): Cmd => ({ op: 'read', max }));
/** writeAt `gap` bytes past the readable end (gap 0 = in order), as the receive path does. */
const writeAtArb = fc.tuple(fc.nat(20), bytesArb).map(([gap, bytes]): Cmd => ({ op: 'writeAt', gap, bytes }));
const commitArb = fc.nat(24).map((n): Cmd => ({ op: 'commit', n }));

/** Compares everything observable, only where the model knows the byte. */
function expectSame(rb: RingBuffer, m: Model): void {
  expect(rb.length).toBe(m.length);
  expect(rb.free).toBe(m.free);
  const all = new Uint8Array(rb.capacity);
  rb.peek(0, all, 0, rb.capacity);
  for (let i = 0; i < rb.capacity; i++) {
    const want = m.win[i];
    if (want !== undefined && all[i] !== want) {
      throw new Error(`byte ${i} past the head: ring has ${all[i]}, model has ${want} (length ${m.length})`);
    }
  }
}

/**
 * One command on both. `keepOne`: consume/read never empty a non-empty buffer (the
 * buffer draining to empty is its own case: see the regression test below).
 */
function step(rb: RingBuffer, m: Model, c: Cmd, keepOne: boolean): void {
  switch (c.op) {
    case 'push':
      expect(rb.push(c.bytes, 0, c.bytes.length)).toBe(m.push(c.bytes));
      break;
    case 'consume': {
      const n = keepOne && m.length > 0 ? Math.min(c.n, m.length - 1) : c.n;
      rb.consume(n);
      m.consume(n);
      break;
    }
    case 'read': {
      const max = keepOne && m.length > 0 ? Math.min(c.max, m.length - 1) : c.max;
      const want = m.read(max);
      const got = rb.read(max);
      expect(got.length).toBe(want.length);
      want.forEach((w, i) => {
        if (w !== undefined) expect(got[i]).toBe(w);
      });
      break;
    }
    case 'writeAt': {
      const off = m.length + c.gap;
      expect(rb.writeAt(off, c.bytes, 0, c.bytes.length)).toBe(m.writeAt(off, c.bytes));
      break;
    }
    case 'commit':
      rb.commit(c.n);
      m.commit(c.n);
      break;
  }
}

/** Runs commands on a ring and the model, comparing them after each. */
function run(capacity: number, cmds: Cmd[], keepOne: boolean): void {
  const rb = new RingBuffer(capacity);
  const m = new Model(capacity);
  for (const c of cmds) {
    step(rb, m, c, keepOne);
    expectSame(rb, m);
  }
}

describe('RingBuffer: fixtures', () => {
  it('push, read, and wrap around the end of the storage', () => {
    const rb = new RingBuffer(8);
    expect(rb.push(Uint8Array.from([1, 2, 3, 4, 5, 6]), 0, 6)).toBe(6);
    rb.consume(5); // head at 5
    expect(rb.push(Uint8Array.from([7, 8, 9, 10, 11, 12, 13]), 0, 7)).toBe(7); // positions 6,7,0..4
    expect(rb.length).toBe(8);
    expect(rb.free).toBe(0);
    expect(Array.from(rb.read(100))).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    expect(rb.length).toBe(0);
  });

  it('push takes only what fits, from the given offset', () => {
    const rb = new RingBuffer(4);
    const src = Uint8Array.from([9, 9, 1, 2, 3, 4, 5]);
    expect(rb.push(src, 2, 5)).toBe(4);
    expect(rb.push(src, 2, 1)).toBe(0);
    expect(Array.from(rb.read(4))).toEqual([1, 2, 3, 4]);
  });

  it('out-of-order bytes become readable on commit, across the wrap', () => {
    const rb = new RingBuffer(8);
    rb.push(Uint8Array.from([0, 0, 0, 0, 0, 0]), 0, 6);
    rb.consume(5); // head 5, one readable byte
    // a hole of 2 bytes, then 3 bytes that land on storage positions 0..2
    expect(rb.writeAt(3, Uint8Array.from([30, 31, 32]), 0, 3)).toBe(3);
    expect(rb.length).toBe(1);
    expect(rb.writeAt(1, Uint8Array.from([10, 11]), 0, 2)).toBe(2); // the hole (positions 6, 7)
    rb.commit(5);
    expect(Array.from(rb.read(6))).toEqual([0, 10, 11, 30, 31, 32]);
  });

  it('writeAt stops at the capacity and commit never exceeds it', () => {
    const rb = new RingBuffer(8);
    expect(rb.writeAt(6, Uint8Array.from([1, 2, 3, 4]), 0, 4)).toBe(2);
    expect(rb.writeAt(8, Uint8Array.from([1]), 0, 1)).toBe(0);
    expect(rb.writeAt(20, Uint8Array.from([1]), 0, 1)).toBe(0);
    rb.commit(100);
    expect(rb.length).toBe(8);
    expect(rb.free).toBe(0);
  });

  it('consume and read take at most what is readable', () => {
    const rb = new RingBuffer(4);
    rb.push(Uint8Array.from([1, 2]), 0, 2);
    expect(Array.from(rb.read(10))).toEqual([1, 2]);
    expect(rb.read(10).length).toBe(0);
    rb.consume(3);
    expect(rb.length).toBe(0);
  });
});

describe('RingBuffer: model-based', () => {
  it('push / peek / consume / read across the wrap', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 32 }),
      fc.array(fc.oneof(pushArb, consumeArb, readArb), { maxLength: 40 }),
      (cap, cmds) => run(cap, cmds, false),
    ));
  });

  it('writeAt + commit of out-of-order data, while the buffer never drains to empty', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 32 }),
      fc.array(fc.oneof(pushArb, consumeArb, readArb, writeAtArb, commitArb), { maxLength: 40 }),
      (cap, cmds) => run(cap, cmds, true),
    ));
  });

  // The same model, with reads allowed to drain the buffer (regression: see below).
  it('writeAt + commit of out-of-order data, with reads that drain the buffer', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 32 }),
      fc.array(fc.oneof(pushArb, consumeArb, readArb, writeAtArb, commitArb), { maxLength: 40 }),
      (cap, cmds) => run(cap, cmds, false),
    ));
  });
});

describe('RingBuffer: out-of-order data survives the application reading everything', () => {
  // The receive path (input.ts text()) writes out-of-order data at rcvBuf.length + off
  // and the application may read every in-order byte before the hole is filled.
  // Regression: consume() used to reset head to 0 when length reached 0, which moved the
  // out-of-order bytes (fixed in 18f8fe1; this test and the property above fail on 77ab869).
  it('read to empty, then fill the hole and commit', () => {
    const rb = new RingBuffer(8);
    rb.push(Uint8Array.from([1, 2, 3]), 0, 3); // head 0, length 3
    rb.consume(2); // head 2, length 1
    rb.writeAt(rb.length + 2, Uint8Array.from([9]), 0, 1); // out of order: 2 bytes past the end
    expect(Array.from(rb.read(1))).toEqual([3]); // the application reads everything
    rb.writeAt(rb.length, Uint8Array.from([7, 8]), 0, 2); // the hole is filled
    rb.commit(3);
    expect(Array.from(rb.read(3))).toEqual([7, 8, 9]);
  });
});

describe('RingBuffer: spare storage', () => {
  // A ring at its first storage size (4 KiB) that empties gives the storage to the spares,
  // and the next ring to need storage takes it: two rings draining and filling in turn
  // must never see each other's bytes, nor lose their own out-of-order bytes.
  it('two rings sharing spare storage each behave as the model (with and without out-of-order data)', () => {
    const bigArb = fc.constant(null).map((): Cmd => ({ op: 'push', bytes: new Uint8Array(3000).fill(7) }));
    const cmdArb = fc.oneof(pushArb, consumeArb, readArb, writeAtArb, bigArb, fc.nat(4000).map((n): Cmd => ({ op: 'consume', n })));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), cmdArb), { maxLength: 60 }), (steps) => {
        const rings = [new RingBuffer(5000), new RingBuffer(5000)];
        const models = [new Model(5000), new Model(5000)];
        for (const [second, c] of steps) {
          step(rings[second ? 1 : 0]!, models[second ? 1 : 0]!, c, false);
          expectSame(rings[0]!, models[0]!);
          expectSame(rings[1]!, models[1]!);
        }
      }),
    );
  });

  it('an emptied ring holds no storage; a grown one keeps its own', () => {
    const rb = new RingBuffer(100_000);
    rb.push(new Uint8Array(100), 0, 100);
    expect(rb.allocated).toBe(4096);
    rb.consume(100);
    expect(rb.allocated).toBe(0); // back to the spares
    rb.push(new Uint8Array(10_000), 0, 10_000);
    expect(rb.allocated).toBe(16_384);
    rb.consume(10_000);
    expect(rb.allocated).toBe(16_384); // a bulk connection's ring is kept
  });
});
