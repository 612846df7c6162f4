/**
 * The common half of every socket in the facade: its descriptor, blocking mode and
 * timeout (Python's `settimeout`/`setblocking`), waiting for readiness, options, and
 * errors that name the call and the socket. Datagram and stream sockets extend it.
 */
import { formatEndpoint, type IpAddr } from '../ip/ip-address.js';
import { SocketError, type Errno } from './errors.js';
import type { KeepAlive, SocketHost } from './host.js';
import { SOCK_DGRAM, SOCK_STREAM } from './constants.js';
import { localAddr, lookupAddr, resolveAddr, sockAddr, type Family, type SockAddr } from './address.js';
import type { Names } from './names.js';

/** Returned by an attempt that cannot complete yet. */
export const WOULD_BLOCK: unique symbol = Symbol('would block');
export type Attempt<T> = () => T | typeof WOULD_BLOCK;

/**
 * A socket of the BSD facade, shaped like Python's `socket.socket`: calls that can wait
 * return Promises, and fail with a SocketError whose `code` is a POSIX errno. Made by
 * `SocketApi.socket()`: a StreamSocket (TCP) or a DgramSocket (UDP).
 */
export abstract class Socket {
  /** null: block forever; 0: non-blocking; > 0: block at most that many ms. */
  private timeoutMs: number | null = null;
  protected closed = false;
  /** The calls waiting on this socket, and select/poll and node:net watchers. */
  private readonly waiters = new Callbacks();
  /**
   * What keeps the process alive for this socket: an open socket does (a Python program
   * runs while its sockets wait; a Node program would otherwise exit in the middle of an
   * `await s.recv()`), until `unref()` or `close()`. A stream socket closed with data or
   * its FIN still unacknowledged keeps it until they are (or 30 s pass), so that what was
   * sent is not lost when the program ends right after `close()`.
   */
  protected readonly keep: KeepAlive;
  /** `unref()` was called (and not undone). */
  protected unrefd = false;

  /** @internal Use `SocketApi.socket()`. */
  constructor(
    protected readonly host: SocketHost,
    /** The descriptor: the lowest free number from 3 up, within its SocketApi (Python's `fileno()`). */
    readonly fd: number,
    /** SOCK_STREAM or SOCK_DGRAM. */
    readonly type: typeof SOCK_STREAM | typeof SOCK_DGRAM,
    protected readonly release: (fd: number) => void,
    /** Names the calls that take an address resolve (names.ts). */
    protected readonly names: Names,
    /** AF_INET or AF_INET6: the form of the addresses it takes and reports (address.ts). */
    readonly family: Family,
  ) {
    this.keep = host.keepAlive();
  }

  /** @internal An address known without DNS (bind), or EAI_NONAME. */
  protected resolveLocal(address: SockAddr, syscall: string): { addr: IpAddr; port: number } {
    return resolveAddr(address, this.names, this.family, syscall, this.who());
  }

  /** @internal An address known without DNS, or null (then `lookup` asks DNS): callers stay synchronous when they can. */
  protected known(address: SockAddr, syscall: string): { addr: IpAddr; port: number } | null {
    return localAddr(address, this.names, this.family, syscall, this.who());
  }

  /** @internal An address, asking DNS for a name when the host does not know it. */
  protected lookup(address: SockAddr, syscall: string): Promise<{ addr: IpAddr; port: number }> {
    return lookupAddr(address, this.names, this.family, syscall, this.who());
  }

  /** @internal The tuple this socket reports for (addr, port). */
  protected addrTuple(addr: IpAddr, port: number): SockAddr {
    return sockAddr(addr, port, this.family);
  }

  /**
   * Lets the process exit while this socket is open, as Node's `socket.unref()` (the
   * `net` and `dgram` faces use it on the sockets under them, and hold the process
   * themselves). Returns the socket.
   */
  unref(): this {
    this.unrefd = true;
    this.keep.unref();
    return this;
  }

  /** Undoes `unref()`: the open socket keeps the process alive again (the default). Returns the socket. */
  ref(): this {
    this.unrefd = false;
    this.keep.ref();
    return this;
  }

  /** "udp 10.7.0.2:7" / "tcp 10.7.0.2:80 -> 10.7.0.1:40000", for error messages. */
  protected abstract describe(): string;
  /** The socket's own address, `[host, port]`. Throws EBADF once closed. */
  abstract getsockname(): SockAddr;
  /** The address of the peer the socket is connected to. Throws ENOTCONN if it is not connected. */
  abstract getpeername(): SockAddr;
  /** Sets an option (`SOL_SOCKET` or `IPPROTO_TCP` level; `true`/`false` stand for 1/0). Throws ENOPROTOOPT for an option the socket does not support. */
  abstract setsockopt(level: number, option: number, value: number | boolean | { onoff: boolean; linger: number }): void;
  /** Reads an option's value. Throws ENOPROTOOPT for an option the socket does not support. */
  abstract getsockopt(level: number, option: number): number | {
    /** SO_LINGER: whether lingering is on. */
    onoff: boolean;
    /** SO_LINGER: seconds to linger. */
    linger: number;
  };
  /** Closes the socket and frees its descriptor; later calls fail with EBADF. Closing twice does nothing. */
  abstract close(): void | Promise<void>;
  /**
   * The socket's readiness now, as `poll()` reports it: POLLIN, POLLOUT, POLLERR, POLLHUP
   * (POLLNVAL once closed). `select()` and `poll()` (select.ts) are built on it.
   */
  abstract pollEvents(): number;

  /** The descriptor (Python's `fileno()`). */
  fileno(): number {
    return this.fd;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal Calls `fn` (after the event at hand) whenever the socket's state may have changed; until `unwatch`. */
  watch(fn: () => void): void {
    this.waiters.add(fn);
  }

  /**
   * @internal Closes the socket and drops its pending calls unsettled, instead of failing
   * each with EBADF: for the node:net face, which discards their outcome once it destroys
   * its stream (building those errors, stack traces and all, was 7% of the time of a
   * `Connection: close` HTTP load). Its calls have no timeouts, so nothing else holds them.
   */
  closeDroppingCalls(): void {
    this.waiters.clear();
    void this.close();
  }

  /** @internal Stops a `watch`. */
  unwatch(fn: () => void): void {
    this.waiters.remove(fn);
  }

  protected who(): string {
    return `fd ${this.fd} (${this.describe()})`;
  }

  /** @internal A one-shot timer on the stack's clock, for the layers above (idle timeouts). */
  timer(ms: number, fn: () => void): { cancel(): void } {
    return stackTimer(this.host, ms, fn);
  }

  protected error(code: Errno, syscall: string, detail?: string): SocketError {
    return new SocketError(code, syscall, this.who(), detail);
  }

  protected checkOpen(syscall: string): void {
    if (this.closed) throw this.error('EBADF', syscall);
  }

  /**
   * Sets how long blocking calls wait, as Python's `settimeout`: null blocks forever, 0
   * makes the socket non-blocking (calls that would wait fail with EAGAIN), a positive
   * number of seconds makes them fail with ETIMEDOUT after that long. Throws EINVAL for
   * a negative or NaN value.
   */
  settimeout(seconds: number | null): void {
    if (seconds !== null && !(seconds >= 0)) throw this.error('EINVAL', 'settimeout', 'timeout must be null or >= 0 seconds');
    this.timeoutMs = seconds === null ? null : seconds * 1000;
  }

  /** The timeout in seconds: null when blocking without limit, 0 when non-blocking. */
  gettimeout(): number | null {
    return this.timeoutMs === null ? null : this.timeoutMs / 1000;
  }

  /** `setblocking(true)` is `settimeout(null)`, `setblocking(false)` is `settimeout(0)`. */
  setblocking(flag: boolean): void {
    this.timeoutMs = flag ? null : 0;
  }

  /** False if the socket is non-blocking (timeout 0), true otherwise (with or without a timeout). */
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
    if (this.notifyQueued || this.waiters.count === 0) return;
    this.notifyQueued = true;
    queueMicrotask(this.runWaiters);
  }

  /** The waiters of one run, copied here (a waiter may remove itself): reused, not allocated per notify. */
  private readonly running = new Callbacks();

  /** Prebound (no closure per notify, which is per received segment). */
  private readonly runWaiters = (): void => {
    this.notifyQueued = false;
    const run = this.running;
    run.copyFrom(this.waiters);
    for (let i = 0; i < run.count; i++) run.at(i)();
    run.clear();
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
        this.unwatch(retry);
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

/**
 * A few callbacks in order, in an array that never shrinks: a socket's waiters come and
 * go once per blocked call, and neither a Set (its table) nor an array whose length is
 * cut (its backing store, trimmed and grown again) would come and go without allocating.
 */
class Callbacks {
  private readonly fns: ((() => void) | null)[] = [];
  count = 0;

  at(i: number): () => void {
    return this.fns[i]!;
  }

  add(fn: () => void): void {
    for (let i = 0; i < this.count; i++) if (this.fns[i] === fn) return;
    this.fns[this.count++] = fn;
  }

  remove(fn: () => void): void {
    const f = this.fns;
    let i = 0;
    while (i < this.count && f[i] !== fn) i++;
    if (i === this.count) return;
    for (; i < this.count - 1; i++) f[i] = f[i + 1]!;
    f[--this.count] = null;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.fns[i] = null;
    this.count = 0;
  }

  copyFrom(o: Callbacks): void {
    this.clear();
    for (let i = 0; i < o.count; i++) this.fns[i] = o.fns[i]!;
    this.count = o.count;
  }
}

/** A one-shot timer on the stack's clock (so that it is deterministic under simulation). */
export function stackTimer(host: SocketHost, ms: number, fn: () => void): { cancel(): void } {
  const t = host.timers.add(host.now() + ms, fn);
  host.wake(); // the runtime re-arms its one timer for the new deadline
  return t;
}

export function describeEnds(proto: string, la: IpAddr, lp: number, ra: IpAddr, rp: number): string {
  const local = lp === 0 ? 'unbound' : formatEndpoint(la, lp);
  return rp === 0 ? `${proto} ${local}` : `${proto} ${local} -> ${formatEndpoint(ra, rp)}`;
}
