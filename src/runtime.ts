/**
 * The one place that owns time and the event loop (STYLE.md §1). On each batch of frames
 * from the device, or when the stack's next timer is due, it calls `stack.poll(now)` with
 * the real clock, flushes the device's writes, and arms a single timer for `pollAt()`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from './core/clock.js';
import { SeededRand, type Rand } from './core/rand.js';
import type { LinkDevice } from './link/link-device.js';
import type { Stack } from './stack.js';
import { logger } from './core/log.js';

const log = logger('stack');

/** Monotonic milliseconds. */
export const realClock: Clock = { now: () => performance.now() };
/** Milliseconds since the Unix epoch (pcap timestamps, daytime). */
export const wallClock: Clock = { now: () => Date.now() };

/**
 * Randomness straight from the OS CSPRNG, for a stack on a real network: the ISN and SYN
 * cookie keys (RFC 6528 asks for a secret an attacker cannot guess, which a 32-bit seed
 * of a small generator is not), timestamp offsets, ephemeral ports. Buffered, so a draw
 * costs no system call.
 */
export class CryptoRand implements Rand {
  private buf = randomBytes(4096);
  private at = 0;

  /** The next unsigned 32-bit integer from the OS CSPRNG. */
  u32(): number {
    if (this.at + 4 > this.buf.length) {
      this.buf = randomBytes(4096);
      this.at = 0;
    }
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
}

/** The CSPRNG, or with `seed` a SeededRand that replays a run exactly (never for a real network). */
export function osSeededRand(seed?: number): Rand {
  return seed === undefined ? new CryptoRand() : new SeededRand(seed);
}

/**
 * Runs a Stack on Node's event loop: feeds it the device's frames, polls it when its next
 * timer is due, and flushes the device. A StackHost has one as `runtime`.
 */
export class Runtime {
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private wakePending = false;
  private closed = false;
  /**
   * Busy-polling, in microseconds (0: off, the default). For this long after frames
   * arrive, the event loop is kept turning (a chain of setImmediate callbacks, which make
   * libuv poll the device's fd without sleeping), so that the next frame of a
   * request/response exchange is read without the process being woken up. Costs a core
   * while traffic flows; other callbacks still run on every turn.
   */
  busyPollUs = 0;
  private lastFramesAt = -Infinity;
  private spinning = false;
  /** Whether the event loop is being kept turning for the device (busy-polling) now. */
  get busyPolling(): boolean {
    return this.spinning;
  }

  private readonly spin = (): void => {
    if (!this.closed && (this.clock.now() - this.lastFramesAt) * 1000 < this.busyPollUs) setImmediate(this.spin);
    else this.spinning = false;
  };

  /** Nothing runs until `start()`. */
  constructor(
    /** The stack it drives. */
    readonly stack: Stack,
    /** The device it reads frames from and flushes (normally `stack.device`). */
    readonly device: LinkDevice,
    /** Where `now` comes from: monotonic ms, by default the real clock. */
    readonly clock: Clock = realClock,
  ) {
    // On a real network a bug handling one packet is one line on stderr (the connection
    // concerned has been reset and the stack serves on); DEBUG=tcpip:stack adds the stack.
    stack.onInternalError = (err) => {
      process.stderr.write(`tcpip: internal error, counted in stack.internalErrors: ${err instanceof Error ? err.message : String(err)}\n`);
      if (log.enabled) log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    };
  }

  /** Makes the stack the device's receiver and polls once, which arms the timer for what is due next. */
  start(): void {
    this.device.setReceiver(
      this.stack.receiverFor(
        () => this.clock.now(),
        () => {
          if (this.busyPollUs > 0) {
            this.lastFramesAt = this.clock.now();
            if (!this.spinning) {
              this.spinning = true;
              setImmediate(this.spin);
            }
          }
          this.run();
        },
      ),
    );
    this.run();
  }

  /** Polls now: timers, queued work, then writes everything out and re-arms. */
  run(): void {
    if (this.closed) return;
    this.wakePending = false;
    const now = this.clock.now();
    this.device.poll?.(now);
    this.stack.poll(now);
    this.device.flush();
    this.arm();
  }

  /** Asks for a poll soon (after the caller's synchronous work), e.g. after a socket send. */
  wake(): void {
    if (this.wakePending || this.closed) return;
    this.wakePending = true;
    setImmediate(this.runSoon);
  }

  /** Prebound: no closure per wake. */
  private readonly runSoon = (): void => this.run();

  private arm(): void {
    let at = this.stack.pollAt();
    const d = this.device.pollAt?.();
    if (d !== undefined && (at === undefined || d < at)) at = d;
    if (at === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    const delay = Math.max(0, at - this.clock.now());
    if (delay === 0 && (this.stack.ip.loopbackPending() || (this.stack.ip6 !== null && this.stack.ip6.loopbackPending()))) {
      // The loopback interface has datagrams waiting: a timer would wait 1 ms.
      this.wake();
      return;
    }
    if (this.timer && at >= this.timerAt) return; // an earlier timer is already armed
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.run();
    }, Math.ceil(delay));
    // The device's fd watcher keeps the process alive; a pending timer alone must not.
    this.timer.unref();
  }

  /**
   * Whether the stack keeps the Node process alive: the device's watcher is ref'ed while
   * some socket or server wants it (Node's ref/unref), unref'ed otherwise.
   */
  keepAlive(alive: boolean): void {
    if (!this.closed) this.device.ref?.(alive);
  }

  /** Flushes the device's writes, stops polling and closes the device; resolves when it is closed (a second call does nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.device.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.device.close();
  }
}
