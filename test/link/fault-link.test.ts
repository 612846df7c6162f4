import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../../src/core/clock.js';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS, parseFaultSpec, type FaultConfig } from '../../src/link/fault-link.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { toHex } from '../helpers/packets.js';

/** A FaultLink over one end of a MemoryLink; `far` is the other end. */
function rig(config: Partial<FaultConfig>, seed = config.seed ?? 1) {
  const [near, far] = MemoryLink.pair('ip', 1500);
  const clock = new ManualClock();
  const link = new FaultLink(near, { ...NO_FAULTS, ...config }, new SeededRand(seed), clock);
  const received: string[] = [];
  let batches = 0;
  link.setReceiver({ frame: (b, o, n) => received.push(toHex(b.subarray(o, o + n))), batchEnd: () => batches++ });
  return {
    link, near, far, clock, received,
    batches: () => batches,
    /** What reached the far end so far. */
    arrived: () => far.inbox.map(toHex),
  };
}

function frameNo(i: number, len = 20): Uint8Array {
  const b = new Uint8Array(len);
  b[0] = i >> 8;
  b[1] = i & 255;
  for (let k = 2; k < len; k++) b[k] = (i * 31 + k) & 255;
  return b;
}

/** Sends `n` frames one ms apart, polling as the runtime would, then drains. */
function run(config: Partial<FaultConfig>, seed: number, n = 200) {
  const r = rig(config, seed);
  for (let i = 0; i < n; i++) {
    r.link.send(frameNo(i), 0, 20);
    r.clock.advance(1);
    r.link.poll(r.clock.now());
  }
  r.clock.advance(10_000);
  r.link.poll(r.clock.now());
  return { arrived: r.arrived(), counters: { ...r.link.counters } };
}

const MIXED: Partial<FaultConfig> = { loss: 0.2, duplicate: 0.1, reorder: 0.1, corrupt: 0.05, delayMs: 5, jitterMs: 3 };

describe('FaultLink: determinism', () => {
  it('the same seed gives the same fate for every frame', () => {
    const a = run(MIXED, 7);
    const b = run(MIXED, 7);
    expect(b).toEqual(a);
    // ... and the faults did happen, so the comparison means something.
    expect(a.counters.lost).toBeGreaterThan(0);
    expect(a.counters.duplicated).toBeGreaterThan(0);
    expect(a.counters.reordered).toBeGreaterThan(0);
    expect(a.counters.corrupted).toBeGreaterThan(0);
  });

  it('a different seed gives a different fate sequence', () => {
    expect(run(MIXED, 8).arrived).not.toEqual(run(MIXED, 7).arrived);
  });

  it('every frame is lost or delivered, duplicates once more (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.record({
          loss: fc.double({ min: 0, max: 1, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 1, noNaN: true }),
          reorder: fc.double({ min: 0, max: 1, noNaN: true }),
          corrupt: fc.double({ min: 0, max: 1, noNaN: true }),
          delayMs: fc.nat(50),
          jitterMs: fc.nat(20),
        }),
        (seed, config) => {
          const a = run(config, seed, 60);
          expect(run(config, seed, 60)).toEqual(a);
          const c = a.counters;
          expect(a.arrived.length).toBe(60 - c.lost + c.duplicated);
          expect(c.passed).toBe(a.arrived.length);
          expect(c.rateDropped).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('FaultLink: faults', () => {
  it('no faults: frames pass straight through, in order, at once', () => {
    const r = rig({});
    for (let i = 0; i < 5; i++) r.link.send(frameNo(i), 0, 20);
    expect(r.arrived()).toEqual([0, 1, 2, 3, 4].map((i) => toHex(frameNo(i))));
    expect(r.link.pollAt()).toBeUndefined();
  });

  it('loss=100% drops everything, both ways', () => {
    const r = rig({ loss: 1 });
    for (let i = 0; i < 50; i++) r.link.send(frameNo(i), 0, 20);
    for (let i = 0; i < 50; i++) r.far.send(frameNo(i), 0, 20);
    r.near.deliver();
    r.clock.advance(1000);
    r.link.poll(r.clock.now());
    expect(r.arrived()).toEqual([]);
    expect(r.received).toEqual([]);
    expect(r.link.counters.lost).toBe(100);
    expect(r.link.counters.passed).toBe(0);
  });

  it('delay holds outgoing frames until poll(now) reaches the delay, in order', () => {
    const r = rig({ delayMs: 20 });
    r.link.send(frameNo(1), 0, 20);
    r.clock.set(5);
    r.link.send(frameNo(2), 0, 20);
    expect(r.arrived()).toEqual([]);
    expect(r.link.pollAt()).toBe(20);
    r.clock.set(19);
    r.link.poll(19);
    expect(r.arrived()).toEqual([]);
    r.clock.set(20);
    r.link.poll(20);
    expect(r.arrived()).toEqual([toHex(frameNo(1))]);
    expect(r.link.pollAt()).toBe(25);
    r.clock.set(30);
    r.link.poll(30);
    expect(r.arrived()).toEqual([toHex(frameNo(1)), toHex(frameNo(2))]);
    expect(r.link.counters).toMatchObject({ delayed: 2, passed: 2 });
  });

  it('delay holds incoming frames too, and releases them as one batch', () => {
    const r = rig({ delayMs: 20 });
    r.far.send(frameNo(1), 0, 20);
    r.far.send(frameNo(2), 0, 20);
    r.near.deliver();
    expect(r.received).toEqual([]);
    r.clock.set(20);
    r.link.poll(20);
    expect(r.received).toEqual([toHex(frameNo(1)), toHex(frameNo(2))]);
    expect(r.batches()).toBeGreaterThanOrEqual(1);
  });

  it('a held frame is a copy: the sender may reuse its buffer at once', () => {
    const r = rig({ delayMs: 1 });
    const b = frameNo(9);
    r.link.send(b, 0, 20);
    b.fill(0);
    r.clock.set(1);
    r.link.poll(1);
    expect(r.arrived()).toEqual([toHex(frameNo(9))]);
  });

  it('duplicate=100% delivers every frame twice', () => {
    const r = rig({ duplicate: 1 });
    for (let i = 0; i < 3; i++) r.link.send(frameNo(i), 0, 20);
    r.link.poll(0);
    expect(r.arrived()).toEqual([0, 0, 1, 1, 2, 2].map((i) => toHex(frameNo(i))));
  });

  it('corrupt=100% flips exactly one bit of every frame', () => {
    const r = rig({ corrupt: 1 });
    for (let i = 0; i < 20; i++) r.link.send(frameNo(i), 0, 20);
    // Altered frames are held until the next poll (never released from inside send()).
    expect(r.far.inbox).toHaveLength(0);
    expect(r.link.pollAt()).toBe(r.clock.now());
    r.link.poll(r.clock.now());
    const got = r.far.inbox;
    expect(got).toHaveLength(20);
    got.forEach((f, i) => {
      const want = frameNo(i);
      let bits = 0;
      for (let k = 0; k < 20; k++) bits += popcount(f[k]! ^ want[k]!);
      expect(bits).toBe(1);
    });
  });

  it("dir=out leaves incoming frames alone", () => {
    const r = rig({ loss: 1, directions: 'out' });
    r.far.send(frameNo(1), 0, 20);
    r.near.deliver();
    r.link.send(frameNo(2), 0, 20);
    expect(r.received).toEqual([toHex(frameNo(1))]);
    expect(r.arrived()).toEqual([]);
  });

  it('a rate limit spaces frames out and tail-drops beyond 100 ms of queue', () => {
    // 1000-byte frames at 80 kbit/s: 100 ms each.
    const r = rig({ rateBps: 80_000 });
    for (let i = 0; i < 4; i++) r.link.send(frameNo(i, 1000), 0, 1000);
    expect(r.link.counters.rateDropped).toBe(2); // the queue holds 100 ms: frames 0 and 1 fit
    r.clock.set(100);
    r.link.poll(100);
    expect(r.arrived()).toHaveLength(1);
    r.clock.set(200);
    r.link.poll(200);
    expect(r.arrived()).toHaveLength(2);
  });
});

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

describe('parseFaultSpec', () => {
  it("parses 'loss=5%,dup=1%,delay=20ms,seed=7'", () => {
    expect(parseFaultSpec('loss=5%,dup=1%,delay=20ms,seed=7')).toEqual({ ...NO_FAULTS, loss: 0.05, duplicate: 0.01, delayMs: 20, seed: 7 });
  });

  it('parses every key, fractions as well as percentages', () => {
    const c = parseFaultSpec('loss=0.5, duplicate=2%,reorder=2%,corrupt=0.1%,delay=20,jitter=5ms,rate=10mbit,dir=in,seed=1');
    expect(c).toMatchObject({ loss: 0.5, duplicate: 0.02, reorder: 0.02, delayMs: 20, jitterMs: 5, rateBps: 10e6, directions: 'in', seed: 1 });
    expect(c.corrupt).toBeCloseTo(0.001, 12);
    expect(parseFaultSpec('rate=64k').rateBps).toBe(64_000);
    expect(parseFaultSpec('rate=1.5Gbps').rateBps).toBe(1.5e9);
    expect(parseFaultSpec('')).toEqual(NO_FAULTS);
  });

  it.each([
    ['loss', /"loss" is not key=value/],
    ['loss=150%', /loss=150% is not a probability/],
    ['loss=-1', /loss=-1 is not a probability/],
    ['loss=abc', /loss=abc is not a probability/],
    ['dup=2', /dup=2 is not a probability/],
    ['delay=-5ms', /delay=-5ms is not a duration/],
    ['delay=20s', /delay=20s is not a duration/],
    ['rate=fast', /rate=fast is not like 10mbit/],
    ['dir=sideways', /dir=sideways is not both\|in\|out/],
    ['seed=1.5', /seed=1.5 is not an integer/],
    ['speed=1', /unknown key "speed"/],
    ['Loss=5%', /is not key=value/],
  ])('rejects %j with a message naming the problem', (spec, message) => {
    expect(() => parseFaultSpec(spec)).toThrow(message);
    expect(() => parseFaultSpec(spec)).toThrow(/^--fault: /);
  });

  it.each(['loss=%', 'delay=ms', 'jitter=ms', 'seed='])('rejects %j (an empty number is not zero)', (spec) => {
    expect(() => parseFaultSpec(spec)).toThrow(/--fault/);
  });
});
