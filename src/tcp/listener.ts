/**
 * A listening endpoint (RFC 9293 LISTEN): the queue of embryonic (SYN-RECEIVED)
 * connections and the queue of established ones waiting for accept(). Closing a listener
 * resets every connection it had not handed out.
 */
import type { Ipv4Addr } from '../ip/address.js';
import type { TcpConnection } from './connection.js';

/** Options an accepted connection inherits from its listening socket. */
export interface InheritedOptions {
  nodelay: boolean;
  keepalive: boolean;
  keepIdleMs: number | null;
  keepIntvlMs: number | null;
  keepCnt: number | null;
  sndBuf: number | null;
  rcvBuf: number | null;
}

export class TcpListener {
  readonly synQueue = new Set<TcpConnection>();
  readonly acceptQueue: TcpConnection[] = [];
  closed = false;
  /** When this listener last answered with a SYN cookie (-inf: never). */
  lastCookieAt = -Infinity;
  /** Called when a connection is ready to accept. */
  onEvent: () => void = () => {};
  readonly inherit: InheritedOptions = {
    nodelay: false, keepalive: false, keepIdleMs: null, keepIntvlMs: null, keepCnt: null, sndBuf: null, rcvBuf: null,
  };

  constructor(
    readonly localAddr: Ipv4Addr,
    readonly localPort: number,
    public backlog: number,
  ) {}

  /**
   * Room for another embryonic connection? The backlog bounds connections not yet
   * accepted, embryonic or established (as BSD counts it), so an accept queue never
   * outgrows it; the SYN queue is also capped on its own (Linux tcp_max_syn_backlog).
   */
  hasRoom(maxSynBacklog: number): boolean {
    return this.acceptQueue.length + this.synQueue.size < this.backlog && this.synQueue.size < maxSynBacklog;
  }

  /** The accept queue alone is full: the application is not keeping up, and new SYNs wait. */
  acceptQueueFull(): boolean {
    return this.acceptQueue.length >= this.backlog;
  }

  /** An embryonic connection finished its handshake, or died. */
  onEmbryoDone(c: TcpConnection, established: boolean): void {
    this.synQueue.delete(c);
    if (established && !this.closed) {
      this.acceptQueue.push(c);
      this.onEvent();
    }
  }

  accept(): TcpConnection | undefined {
    return this.acceptQueue.shift();
  }

  /** Stops listening: connections not yet accepted are reset (RFC 9293 §3.10.4). */
  close(now: number): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.synQueue, ...this.acceptQueue]) {
      c.listener = null;
      c.abort(now, 'listener closed');
    }
    this.synQueue.clear();
    this.acceptQueue.length = 0;
    this.onEvent();
  }
}
