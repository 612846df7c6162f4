/**
 * The socket layer's timers (TimerQueue: socket timeouts, select deadlines, idle timeouts
 * of node:net streams): deadline order, cancellation, bounded dead entries, and a busy
 * stream that does not add a timer per read and write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/socket/host.js';
import { netEchoPair } from '../helpers/sim-connection.js';

describe('TimerQueue', () => {
  it('fires what is due in deadline order, each once; cancelled ones never', () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    q.add(30, () => fired.push('c'));
    const b = q.add(20, () => fired.push('b'));
    q.add(10, () => fired.push('a'));
    q.add(40, () => fired.push('d'));
    b.cancel();
    expect(q.pollAt()).toBe(10);
    q.poll(5);
    expect(fired).toEqual([]);
    q.poll(30);
    expect(fired).toEqual(['a', 'c']);
    expect(q.pollAt()).toBe(40);
    q.poll(100);
    q.poll(100);
    expect(fired).toEqual(['a', 'c', 'd']);
    expect(q.pollAt()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('a timer that fires may cancel another due in the same poll (it does not run); timers it adds wait for the next poll', () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    let second: { cancel(): void } | null = null;
    q.add(10, () => {
      fired.push('first');
      second!.cancel();
      q.add(10, () => fired.push('added'));
    });
    second = q.add(11, () => fired.push('second'));
    q.poll(20);
    expect(fired).toEqual(['first']);
    q.poll(20);
    expect(fired).toEqual(['first', 'added']);
  });

  it('matches a list model under any mix of adds, cancels and polls (fast-check)', () => {
    type Cmd = { op: 'add'; at: number } | { op: 'cancel'; k: number } | { op: 'poll'; now: number };
    const cmd = fc.oneof(
      fc.record({ op: fc.constant('add' as const), at: fc.integer({ min: 0, max: 200 }) }),
      fc.record({ op: fc.constant('cancel' as const), k: fc.nat() }),
      fc.record({ op: fc.constant('poll' as const), now: fc.integer({ min: 0, max: 220 }) }),
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 200 }), (cmds: Cmd[]) => {
        const q = new TimerQueue();
        const handles: { cancel(): void }[] = [];
        const model: { id: number; at: number; live: boolean }[] = [];
        const fired: number[] = [];
        let now = 0;
        for (const c of cmds) {
          if (c.op === 'add') {
            const id = handles.length;
            const at = now + c.at;
            handles.push(q.add(at, () => fired.push(id)));
            model.push({ id, at, live: true });
          } else if (c.op === 'cancel') {
            if (handles.length === 0) continue;
            const k = c.k % handles.length;
            handles[k]!.cancel();
            model[k]!.live = false;
          } else {
            now = Math.max(now, c.now);
            const expected = model.filter((m) => m.live && m.at <= now).sort((x, y) => x.at - y.at);
            for (const m of expected) m.live = false;
            const before = fired.length;
            q.poll(now);
            const got = fired.slice(before);
            // The same timers, in deadline order (ties in any order).
            expect([...got].sort((x, y) => x - y)).toEqual(expected.map((m) => m.id).sort((x, y) => x - y));
            for (let i = 1; i < got.length; i++) expect(model[got[i]!]!.at).toBeGreaterThanOrEqual(model[got[i - 1]!]!.at);
          }
          const live = model.filter((m) => m.live);
          expect(q.size).toBe(live.length);
          expect(q.pollAt()).toBe(live.length ? Math.min(...live.map((m) => m.at)) : undefined);
        }
      }),
    );
  });

  it('timers added and cancelled over and over (a keep-alive timeout per request) leave a bounded heap', () => {
    const q = new TimerQueue();
    const keep = q.add(1e9, () => {});
    for (let i = 0; i < 100_000; i++) q.add(60_000 + i, () => {}).cancel();
    expect(q.size).toBe(1);
    expect((q as unknown as { heap: { size: number } }).heap.size).toBeLessThanOrEqual(2 * 1 + 64 + 1);
    keep.cancel();
  });
});

describe("node:net streams' idle timeouts", () => {
  it('a busy stream with a timeout set arms one timer per idle period, not one per read and write', async () => {
    const { net, server, c } = await netEchoPair();
    await net.until(new Promise((r) => c.once('connect', r)));
    let timers = 0;
    const sock = c.sock!;
    const timer = sock.timer.bind(sock);
    sock.timer = (ms, fn) => (timers++, timer(ms, fn));
    const timeouts: number[] = [];
    const t0 = net.clock.now();
    c.setTimeout(1000, () => timeouts.push(net.clock.now() - t0));
    let echoed = 0;
    c.on('data', (d: Buffer) => (echoed += d.length));
    for (let i = 0; i < 200; i++) {
      c.write('x');
      await net.runFor(2);
    }
    expect(echoed).toBe(200);
    expect(timers).toBe(1); // 400 ms of reads and writes: the one timer, not yet due
    await net.runFor(3000);
    // Idle from the last echo (~398 ms): 'timeout' once, 1000 ms later; re-armed once on the way.
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]).toBeGreaterThanOrEqual(1390);
    expect(timeouts[0]).toBeLessThanOrEqual(1410);
    expect(timers).toBe(2);
    c.destroy();
    server.close();
  });
});
