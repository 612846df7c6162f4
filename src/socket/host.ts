/**
 * What the socket facade needs from its surroundings: the stack, the time, a way to
 * ask for a poll (so queued frames go out), and timers for socket timeouts. The
 * runtime provides the real ones; simulations provide a manual clock.
 */
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

interface Timer {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

/** One-shot timers on the stack's clock, fired from `stack.poll(now)`. */
export class TimerQueue implements Pollable {
  private timers: Timer[] = [];

  add(at: number, fn: () => void): { cancel(): void } {
    const t: Timer = { at, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }

  poll(now: number): void {
    if (this.timers.length === 0) return;
    // Most polls find nothing due: look before rebuilding the list.
    let any = false;
    for (const t of this.timers) if (t.cancelled || t.at <= now) any = true;
    if (!any) return;
    const due: Timer[] = [];
    this.timers = this.timers.filter((t) => {
      if (t.cancelled) return false;
      if (t.at <= now) {
        due.push(t);
        return false;
      }
      return true;
    });
    for (const t of due) t.fn();
  }

  pollAt(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers) if (!t.cancelled && (at === undefined || t.at < at)) at = t.at;
    return at;
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
