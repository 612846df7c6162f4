/**
 * Readiness multiplexing over the facade's sockets, as Python's `select` module offers
 * it, on the stack's clock (deterministic under simulation):
 *
 *   const [r, w, x] = await api.select([server, ...clients], [], [], 1.0);
 *   const p = api.poll(); p.register(sock, POLLIN); const events = await p.poll(1000);
 *
 * Readiness is each socket's `pollEvents()` (Linux's tcp_poll/udp_poll); `select` reads
 * it as Linux's select does: readable on POLLIN, POLLHUP or POLLERR, writable on POLLOUT
 * or POLLERR, exceptional on POLLPRI (never here: there is no urgent data, RFC 6093).
 */
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from './constants.js';
import { SocketError } from './errors.js';
import type { SocketHost } from './host.js';
import type { Socket } from './socket.js';
import { stackTimer } from './socket.js';

const READ_SET = POLLIN | POLLHUP | POLLERR;
const WRITE_SET = POLLOUT | POLLERR;
const EXCEPT_SET = POLLPRI;

/** Something select() and poll() take: a socket, or its descriptor. */
export type Selectable = Socket | number;

/**
 * Waits until one of `check` returns non-null, any watched socket changes, or
 * `timeoutMs` passes (null: no limit; 0: look once). Resolves to the result, or to
 * `onTimeout()` at the deadline.
 */
function waitFor<T>(host: SocketHost, socks: Socket[], timeoutMs: number | null, check: () => T | null, onTimeout: () => T): Promise<T> {
  let now: T | null;
  try {
    now = check();
  } catch (e) {
    return Promise.reject(e);
  }
  if (now !== null) return Promise.resolve(now);
  if (timeoutMs === 0) return Promise.resolve(onTimeout());
  return new Promise<T>((resolve, reject) => {
    let timer: { cancel(): void } | null = null;
    const stop = (): void => {
      for (const s of socks) s.unwatch(retry);
      timer?.cancel();
    };
    const done = (v: T): void => {
      stop();
      resolve(v);
    };
    const retry = (): void => {
      let r: T | null;
      try {
        r = check();
      } catch (e) {
        stop();
        reject(e);
        return;
      }
      if (r !== null) done(r);
    };
    for (const s of socks) s.watch(retry);
    if (timeoutMs !== null) timer = stackTimer(host, timeoutMs, () => done(onTimeout()));
  });
}

/**
 * Python's `select.select(rlist, wlist, xlist[, timeout])`: resolves to the sublists
 * that are ready, waiting until one is or `timeout` seconds pass (null or omitted: no
 * limit; 0: poll). Rejects with EBADF for a closed socket or an unknown descriptor,
 * EINVAL for a negative timeout.
 */
export function select(
  host: SocketHost, resolve: (x: Selectable) => Socket,
  rlist: Selectable[], wlist: Selectable[], xlist: Selectable[], timeout: number | null = null,
): Promise<[Selectable[], Selectable[], Selectable[]]> {
  if (timeout !== null && !(timeout >= 0)) return Promise.reject(new SocketError('EINVAL', 'select', `timeout ${timeout}`, 'timeout must be null or >= 0 seconds'));
  let r: Socket[], w: Socket[], x: Socket[];
  try {
    r = rlist.map(resolve);
    w = wlist.map(resolve);
    x = xlist.map(resolve);
  } catch (e) {
    return Promise.reject(e);
  }
  const all = [...new Set([...r, ...w, ...x])];
  const check = (): [Selectable[], Selectable[], Selectable[]] | null => {
    // A socket closed while select() waits: EBADF, as select(2) on a closed descriptor.
    for (const s of all) if (s.isClosed) throw new SocketError('EBADF', 'select', `fd ${s.fd}`, 'the socket was closed');
    const rr = rlist.filter((_, i) => r[i]!.pollEvents() & READ_SET);
    const ww = wlist.filter((_, i) => w[i]!.pollEvents() & WRITE_SET);
    const xx = xlist.filter((_, i) => x[i]!.pollEvents() & EXCEPT_SET);
    return rr.length + ww.length + xx.length > 0 ? [rr, ww, xx] : null;
  };
  return waitFor(host, all, timeout === null ? null : timeout * 1000, check, () => [[], [], []]);
}

/**
 * Python's `select.poll()` object: `register(sock, events)`, `modify`, `unregister`, and
 * `poll(timeoutMs)` resolving to `[fd, events]` pairs. POLLERR, POLLHUP and POLLNVAL are
 * reported whether asked for or not, as poll(2) does.
 */
export class Poll {
  private readonly registered = new Map<number, { sock: Socket | null; events: number }>();

  /** @internal Use `SocketApi.poll()`. */
  constructor(
    private readonly host: SocketHost,
    private readonly resolve: (x: Selectable) => Socket | null,
  ) {}

  /** Watches `s` for `events` (default POLLIN | POLLPRI | POLLOUT); registering again changes them. */
  register(s: Selectable, events = POLLIN | POLLPRI | POLLOUT): void {
    const fd = typeof s === 'number' ? s : s.fd;
    this.registered.set(fd, { sock: this.resolve(s), events });
  }

  /** Changes the events of a registered socket; EBADF... as Python, ENOENT-like: throws if it is not registered. */
  modify(s: Selectable, events: number): void {
    const fd = typeof s === 'number' ? s : s.fd;
    const e = this.registered.get(fd);
    if (!e) throw new SocketError('EBADF', 'poll.modify', `fd ${fd}`, 'not registered');
    e.events = events;
  }

  /** Stops watching `s`; throws if it is not registered (Python raises KeyError). */
  unregister(s: Selectable): void {
    const fd = typeof s === 'number' ? s : s.fd;
    if (!this.registered.delete(fd)) throw new SocketError('EBADF', 'poll.unregister', `fd ${fd}`, 'not registered');
  }

  /** Resolves to `[fd, events]` for each ready descriptor, waiting up to `timeoutMs` (null, omitted or negative: no limit). */
  poll(timeoutMs: number | null = null): Promise<[number, number][]> {
    const entries = [...this.registered.entries()];
    const socks = entries.map(([, e]) => e.sock).filter((s): s is Socket => s !== null);
    const check = (): [number, number][] | null => {
      const out: [number, number][] = [];
      for (const [fd, e] of entries) {
        const ev = e.sock === null || e.sock.isClosed ? POLLNVAL : e.sock.pollEvents() & (e.events | POLLERR | POLLHUP | POLLNVAL);
        if (ev !== 0) out.push([fd, ev]);
      }
      return out.length > 0 ? out : null;
    };
    return waitFor(this.host, socks, timeoutMs === null || timeoutMs < 0 ? null : timeoutMs, check, () => []);
  }
}
