/**
 * The lazy timer heap: each item has one live entry (its `heapAt`); rescheduling pushes a
 * new entry and the old one goes dead, skipped when it reaches the top.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerHeap } from '../../src/core/timer-heap.js';

interface Item {
  heapAt: number;
  name: string;
}
const item = (name: string): Item => ({ heapAt: -1, name });

describe('TimerHeap', () => {
  it('pops items in time order, each only when due', () => {
    const h = new TimerHeap<Item>();
    const a = item('a');
    const b = item('b');
    const c = item('c');
    h.schedule(b, 20);
    h.schedule(a, 10);
    h.schedule(c, 30);
    expect(h.peek()).toBe(10);
    expect(h.popDue(9)).toBeUndefined();
    expect(h.popDue(25)?.name).toBe('a');
    expect(h.popDue(25)?.name).toBe('b');
    expect(h.popDue(25)).toBeUndefined();
    expect(a.heapAt).toBe(-1); // popped: no live entry
    expect(h.popDue(30)?.name).toBe('c');
    expect(h.peek()).toBeUndefined();
  });

  it('rescheduling leaves only the newest entry live; unscheduling (-1) leaves none', () => {
    const h = new TimerHeap<Item>();
    const a = item('a');
    const b = item('b');
    h.schedule(a, 10);
    h.schedule(a, 50); // the entry at 10 is dead now
    h.schedule(b, 20);
    h.schedule(b, -1);
    expect(h.peek()).toBe(50);
    expect(h.popDue(100)?.name).toBe('a');
    expect(h.popDue(100)).toBeUndefined();
  });

  it('compact() drops the dead entries and keeps the order', () => {
    const h = new TimerHeap<Item>();
    const items = Array.from({ length: 10 }, (_, i) => item(`i${i}`));
    for (let round = 0; round < 5; round++) items.forEach((x, i) => h.schedule(x, 100 * round + i));
    expect(h.size).toBe(50);
    h.compact();
    expect(h.size).toBe(10);
    const order: string[] = [];
    for (let x = h.popDue(1e9); x; x = h.popDue(1e9)) order.push(x.name);
    expect(order).toEqual(items.map((x) => x.name));
  });

  it('agrees with a sorted list under any sequence of schedules and pops', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: -1, max: 100 })), { maxLength: 200 }), fc.integer({ min: 0, max: 100 }), (ops, now) => {
        const h = new TimerHeap<Item>();
        const items = Array.from({ length: 8 }, (_, i) => item(String(i)));
        for (const [i, t] of ops) h.schedule(items[i]!, t);
        const want = items.filter((x) => x.heapAt >= 0 && x.heapAt <= now).sort((x, y) => x.heapAt - y.heapAt).map((x) => x.heapAt);
        const got: number[] = [];
        for (;;) {
          const t = h.peek();
          const x = h.popDue(now);
          if (!x) break;
          got.push(t!);
        }
        expect(got).toEqual(want);
      }),
    );
  });
});
