/**
 * Time for the protocol core. Nothing under src/ip, src/tcp or src/udp reads a clock:
 * every entry point takes `now` (monotonic milliseconds) from its caller. The runtime
 * passes the real clock's reading; tests pass a ManualClock's.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional allowed). */
  now(): number;
}

/** A clock that moves only when told to: tests and simulations never wait in real time. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance(${ms}): time only moves forward`);
    this.t += ms;
    return this.t;
  }
  set(ms: number): void {
    if (ms < this.t) throw new RangeError(`ManualClock.set(${ms}): earlier than now (${this.t})`);
    this.t = ms;
  }
}
