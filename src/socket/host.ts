/**
 * What the socket facade needs from its surroundings: the stack, the time, a way to
 * ask for a poll (so queued frames go out), and timers for socket timeouts. The
 * runtime provides the real ones; simulations provide a manual clock.
 */
import type { Pollable, Stack } from '../stack.js';

export interface SocketHost {
  readonly stack: Stack;
  now(): number;
  /** Asks for `stack.poll()` and a device flush soon (after the caller's synchronous work). */
  wake(): void;
  readonly timers: TimerQueue;
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

/** A host on a stack, with a TimerQueue registered on it. */
export function makeHost(stack: Stack, now: () => number, wake: () => void): SocketHost {
  const timers = new TimerQueue();
  stack.addPollable(timers);
  return { stack, now, wake, timers };
}
