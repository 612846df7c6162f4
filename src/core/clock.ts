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
  /** Starts the clock at `start` milliseconds. */
  constructor(start = 0) {
    this.t = start;
  }
  /** The current time in milliseconds. */
  now(): number {
    return this.t;
  }
  /** Moves the clock forward by `ms` milliseconds and returns the new time; throws RangeError for a negative or NaN step. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance(${ms}): time only moves forward`);
    this.t += ms;
    return this.t;
  }
  /** Moves the clock to `ms` milliseconds; throws RangeError if that is earlier than now. */
  set(ms: number): void {
    if (ms < this.t) throw new RangeError(`ManualClock.set(${ms}): earlier than now (${this.t})`);
    this.t = ms;
  }
}
