/**
 * What the socket facade needs from its surroundings: the stack, the time, a way to
 * ask for a poll (so queued frames go out), and timers for socket timeouts. The
 * runtime provides the real ones; simulations provide a manual clock.
 */
import { TimerHeap, type HeapItem } from '../core/timer-heap.js';
import type { Pollable, Stack } from '../stack.js';

/**
 * What a SocketApi runs on: the stack, its clock, a way to ask for a poll, timers for
 * socket timeouts, and holds on the process. A StackHost or SimHost carries one as `host`.
 */
export interface SocketHost {
  /** The stack the sockets are opened on. */
  readonly stack: Stack;
  /** The current time in ms, on the stack's clock. */
  now(): number;
  /** Asks for `stack.poll()` and a device flush soon (after the caller's synchronous work). */
  wake(): void;
  /** One-shot timers on the stack's clock (socket timeouts and the like), fired from `stack.poll()`. */
  readonly timers: TimerQueue;
  /**
   * A hold on the process for one socket or server (Node's ref/unref): while any hold is
   * ref'ed, the host keeps the Node process alive.
   */
  keepAlive(): KeepAlive;
}

/** One socket's or server's share in keeping the process alive (ref'ed when made). */
export interface KeepAlive {
  /** Keeps the process alive again (no-op if already ref'ed or released). */
  ref(): void;
  /** Lets the process exit as far as this hold is concerned. */
  unref(): void;
  /** The socket is closed: the hold is gone for good. */
  release(): void;
}

/**
 * One socket's or server's hold on the process, as its ref()/unref() see it: taken when
 * it opens (ref'ed unless unref() came first), given back when it is done.
 */
export class ProcessHold {
  private hold: KeepAlive | null = null;
  private unrefd = false;

  constructor(private readonly make: () => KeepAlive) {}

  get held(): boolean {
    return this.hold !== null;
  }


  take(): void {
    if (this.hold) return;
    this.hold = this.make();
    if (this.unrefd) this.hold.unref();
  }

  ref(): void {
    this.unrefd = false;
    this.hold?.ref();
  }

  unref(): void {
    this.unrefd = true;
    this.hold?.unref();
  }

  release(): void {
    this.hold?.release();
    this.hold = null;
  }
}

/**
 * Counts the ref'ed holds and says when the count crosses zero, so that the runtime can
 * ref or unref the device's handle.
 */
export class KeepAliveCount {
  private refs = 0;

  /** `onChange(true)` is called when the first hold is ref'ed, `onChange(false)` when the last is unref'ed or released. */
  constructor(private readonly onChange: (alive: boolean) => void = () => {}) {}

  /** Whether any hold is ref'ed. */
  get alive(): boolean {
    return this.refs > 0;
  }

  /** A new hold, ref'ed. (A small object with its methods on the prototype: one per socket.) */
  hold(): KeepAlive {
    return new Hold(this);
  }

  /** @internal A hold became ref'ed (+1) or stopped being (-1). */
  change(delta: 1 | -1): void {
    const before = this.refs;
    this.refs += delta;
    if (before === 0 && this.refs === 1) this.onChange(true);
    else if (before === 1 && this.refs === 0) this.onChange(false);
  }
}

class Hold implements KeepAlive {
  private reffed = false;
  private released = false;

  constructor(private readonly count: KeepAliveCount) {
    this.ref();
  }

  ref(): void {
    if (this.reffed || this.released) return;
    this.reffed = true;
    this.count.change(1);
  }

  unref(): void {
    if (!this.reffed) return;
    this.reffed = false;
    this.count.change(-1);
  }

  release(): void {
    this.unref();
    this.released = true;
  }
}

/** One timer of a TimerQueue: its handle too (`cancel`), with no closure per timer. */
class QueuedTimer implements HeapItem {
  heapAt = -1;
  /** Cancelled, or fired: `fn` is not to run (again). */
  done = false;

  constructor(
    private readonly queue: TimerQueue,
    readonly fn: () => void,
  ) {}

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.queue.dropped(this);
  }
}

/**
 * One-shot timers on the stack's clock, fired from `stack.poll(now)`: a binary heap, so
 * that adding, cancelling and finding what is due cost O(log n) however many sockets have
 * timers (idle timeouts on 10,000 keep-alive connections), where a list scanned on every
 * poll cost O(n). A cancelled timer stays in the heap until it reaches the top, or until
 * dead entries outnumber live ones and the heap is rebuilt.
 */
export class TimerQueue implements Pollable {
  private readonly heap = new TimerHeap<QueuedTimer>();
  private live = 0;
  /** The timers of one poll, gathered before any fires (reused). */
  private readonly due: (QueuedTimer | null)[] = [];

  /** Calls `fn` from the first poll at or after `at` (unless cancelled first). */
  add(at: number, fn: () => void): { cancel(): void } {
    const t = new QueuedTimer(this, fn);
    this.heap.schedule(t, Math.max(0, at));
    this.live++;
    if (this.heap.size > 2 * this.live + 64) this.heap.compact();
    return t;
  }

  /** @internal A timer was cancelled: its entry goes dead. */
  dropped(t: QueuedTimer): void {
    if (t.heapAt < 0) return; // gathered for firing already
    this.heap.schedule(t, -1);
    this.live--;
  }

  /** Fires, in deadline order, the timers due at `now`; timers they add fire at a later poll. */
  poll(now: number): void {
    const due = this.due;
    let n = 0;
    for (let t = this.heap.popDue(now); t !== undefined; t = this.heap.popDue(now)) {
      this.live--;
      due[n++] = t;
    }
    for (let i = 0; i < n; i++) {
      const t = due[i]!;
      due[i] = null;
      // One that fired may have cancelled another due now.
      if (t.done) continue;
      t.done = true;
      t.fn();
    }
  }

  /** The earliest deadline of a live timer, if any. */
  pollAt(): number | undefined {
    return this.heap.peek();
  }

  /** Timers waiting (not cancelled, not fired). */
  get size(): number {
    return this.live;
  }
}

/**
 * A host on a stack, with a TimerQueue registered on it. `alive` hears when the first
 * socket or server that keeps the process alive opens and when the last one closes.
 */
export function makeHost(stack: Stack, now: () => number, wake: () => void, alive?: KeepAliveCount): SocketHost {
  const timers = new TimerQueue();
  stack.addPollable(timers);
  const count = alive ?? new KeepAliveCount();
  return { stack, now, wake, timers, keepAlive: () => count.hold() };
}
