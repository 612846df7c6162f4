/**
 * The common half of every socket in the facade: its descriptor, blocking mode and
 * timeout (Python's `settimeout`/`setblocking`), waiting for readiness, options, and
 * errors that name the call and the socket. Datagram and stream sockets extend it.
 */
import { formatIpv4 } from '../ip/address.js';
import { SocketError, type Errno } from './errors.js';
import type { SocketHost } from './host.js';
import { SOCK_DGRAM, SOCK_STREAM } from './constants.js';
import type { SockAddr } from './address.js';

/** Returned by an attempt that cannot complete yet. */
export const WOULD_BLOCK: unique symbol = Symbol('would block');
export type Attempt<T> = () => T | typeof WOULD_BLOCK;

export abstract class Socket {
  /** null: block forever; 0: non-blocking; > 0: block at most that many ms. */
  private timeoutMs: number | null = null;
  protected closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    protected readonly host: SocketHost,
    readonly fd: number,
    readonly type: typeof SOCK_STREAM | typeof SOCK_DGRAM,
    protected readonly release: (fd: number) => void,
  ) {}

  /** "udp 10.7.0.2:7" / "tcp 10.7.0.2:80 -> 10.7.0.1:40000", for error messages. */
  protected abstract describe(): string;
  abstract getsockname(): SockAddr;
  abstract getpeername(): SockAddr;
  abstract setsockopt(level: number, option: number, value: number | boolean | { onoff: boolean; linger: number }): void;
  abstract getsockopt(level: number, option: number): number | { onoff: boolean; linger: number };
  abstract close(): void | Promise<void>;

  protected who(): string {
    return `fd ${this.fd} (${this.describe()})`;
  }

  /** A one-shot timer on the stack's clock, for the layers above (idle timeouts). */
  timer(ms: number, fn: () => void): { cancel(): void } {
    return stackTimer(this.host, ms, fn);
  }

  protected error(code: Errno, syscall: string, detail?: string): SocketError {
    return new SocketError(code, syscall, this.who(), detail);
  }

  protected checkOpen(syscall: string): void {
    if (this.closed) throw this.error('EBADF', syscall);
  }

  /** Python: None blocks, 0 is non-blocking, seconds otherwise. */
  settimeout(seconds: number | null): void {
    if (seconds !== null && !(seconds >= 0)) throw this.error('EINVAL', 'settimeout', 'timeout must be null or >= 0 seconds');
    this.timeoutMs = seconds === null ? null : seconds * 1000;
  }

  gettimeout(): number | null {
    return this.timeoutMs === null ? null : this.timeoutMs / 1000;
  }

  setblocking(flag: boolean): void {
    this.timeoutMs = flag ? null : 0;
  }

  getblocking(): boolean {
    return this.timeoutMs !== 0;
  }

  private notifyQueued = false;

  /**
   * Wakes every pending call to re-try (data arrived, an error, a state change). The
   * retries run after the stack has finished the segment or timer at hand (a microtask),
   * so that a woken writer never re-enters TCP halfway through processing a segment.
   */
  protected notify(): void {
    if (this.notifyQueued || this.waiters.size === 0) return;
    this.notifyQueued = true;
    queueMicrotask(this.runWaiters);
  }

  /** The waiters of one run, copied here (a waiter may remove itself): reused, not allocated per notify. */
  private readonly running: (() => void)[] = [];

  /** Prebound (no closure per notify, which is per received segment). */
  private readonly runWaiters = (): void => {
    this.notifyQueued = false;
    const run = this.running;
    for (const w of this.waiters) run.push(w);
    for (let i = 0; i < run.length; i++) run[i]!();
    run.length = 0;
  };

  /**
   * Runs `attempt` now, and again on each notify(), until it returns a value or throws.
   * Non-blocking sockets fail at once with EAGAIN; a timeout fails with ETIMEDOUT.
   */
  protected block<T>(syscall: string, attempt: Attempt<T>): Promise<T> {
    try {
      const r = attempt();
      if (r !== WOULD_BLOCK) return Promise.resolve(r);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.timeoutMs === 0) return Promise.reject(this.error('EAGAIN', syscall));
    return new Promise<T>((resolve, reject) => {
      let timer: { cancel(): void } | null = null;
      const done = (): void => {
        this.waiters.delete(retry);
        timer?.cancel();
      };
      const retry = (): void => {
        try {
          const r = attempt();
          if (r === WOULD_BLOCK) return;
          done();
          resolve(r);
        } catch (e) {
          done();
          reject(e);
        }
      };
      this.waiters.add(retry);
      if (this.timeoutMs !== null) {
        const ms = this.timeoutMs;
        timer = this.host.timers.add(this.host.now() + ms, () => {
          done();
          reject(this.error('ETIMEDOUT', syscall, `timed out after ${ms} ms`));
        });
        this.host.wake();
      }
    });
  }
}

/** A one-shot timer on the stack's clock (so that it is deterministic under simulation). */
export function stackTimer(host: SocketHost, ms: number, fn: () => void): { cancel(): void } {
  const t = host.timers.add(host.now() + ms, fn);
  host.wake(); // the runtime re-arms its one timer for the new deadline
  return t;
}

export function describeEnds(proto: string, la: number, lp: number, ra: number, rp: number): string {
  const local = lp === 0 ? 'unbound' : `${formatIpv4(la)}:${lp}`;
  return rp === 0 ? `${proto} ${local}` : `${proto} ${local} -> ${formatIpv4(ra)}:${rp}`;
}
