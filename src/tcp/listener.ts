/**
 * A listening endpoint (RFC 9293 LISTEN) and its listen path: segments for the port
 * (RFC 9293 §3.10.7.2), the queue of embryonic (SYN-RECEIVED) connections and the queue
 * of established ones waiting for accept(), and SYN cookies (RFC 4987 §3.6) once the SYN
 * queue is full. Closing a listener resets every connection it had not handed out.
 */
import type { IpAddr } from '../ip/ip-address.js';
import type { TcpConfig } from './config.js';
import type { TcpConnection } from './connection.js';
import { cookieOpen, passiveOpen } from './handshake.js';
import { wscaleFor } from './receive.js';
import type { Segment } from './segment.js';
import { peerSendMss } from './send.js';
import { seqAdd, seqGt } from './seq.js';
import { SocketOptions } from './socket-options.js';
import { COOKIE_VALID_MS, type SynCookies } from './syn-cookies.js';
import { ACK, FIN, RST, SYN } from './tcp-packet.js';
import type { TokenBucket } from '../core/token-bucket.js';

/** What the listen path needs from the TCP layer. */
export interface ListenEnv {
  readonly config: TcpConfig;
  readonly cookies: SynCookies;
  /** SYN cookies' own rate limit (see tcp-layer.ts). */
  readonly cookieLimit: TokenBucket;
  /** The largest segment payload the route to `dst` carries. */
  mtuMssTo(dst: IpAddr): number;
  /** Counts an event on the layer's counters. */
  count(what: 'listenRstIgnored' | 'listenNoSyn' | 'listenSynFin' | 'listenDrops' | 'syncookiesSent' | 'syncookiesRecv' | 'syncookiesFailed' | 'syncookiesRateLimited' | 'passiveOpens'): void;
  /** A connection for the 4-tuple with these options, registered with the layer. */
  newConnection(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, opts: SocketOptions, now: number): TcpConnection;
  /** ISS for a new connection (RFC 9293 §3.4.1, RFC 6528). */
  chooseIss(c: TcpConnection, now: number): number;
  /** The arriving segment, traced against its new connection. */
  traceArrival(c: TcpConnection, s: Segment, src: IpAddr, dst: IpAddr, now: number): void;
  traceOpen(c: TcpConnection, active: boolean, now: number): void;
  /** A SYN-ACK that keeps no state: ISS `cookie`, our MSS, window scale if the SYN offered it. */
  sendCookieSynAck(s: Segment, src: IpAddr, dst: IpAddr, cookie: number, wscale: number, window: number, now: number): void;
  /** RFC 9293 §3.10.7.1: the segment gets a RST as if there were no connection. */
  reset(s: Segment, src: IpAddr, dst: IpAddr, now: number): void;
  /** The segment goes on to the connection's state machine (input.ts). */
  deliver(c: TcpConnection, s: Segment, now: number): void;
}

export class TcpListener {
  readonly synQueue = new Set<TcpConnection>();
  readonly acceptQueue: TcpConnection[] = [];
  closed = false;
  /** IPV6_V6ONLY on a listener on `::`: IPv6 connections only (see TcpLayer.listen). */
  v6only = false;
  /** When this listener last answered with a SYN cookie (-inf: never). */
  lastCookieAt = -Infinity;
  /** Called when a connection is ready to accept. */
  onEvent: () => void = () => {};
  /** The listening socket's options (its own object): each accepted connection gets a copy. */
  opts: SocketOptions;

  constructor(
    readonly localAddr: IpAddr,
    readonly localPort: number,
    public backlog: number,
    config: Readonly<TcpConfig>,
  ) {
    this.opts = new SocketOptions(config);
  }

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
      c.leaveListener();
      c.abort(now, 'listener closed');
    }
    this.synQueue.clear();
    this.acceptQueue.length = 0;
    this.onEvent();
  }

  // ------------------------------------------------------------------ the listen path

  /**
   * RFC 9293 §3.10.7.2: a segment for this listener from src:sport to dst. `issAbove`
   * (-1: none): the segment reopens a 4-tuple in TIME-WAIT, whose old SND.NXT this is.
   */
  segmentArrives(s: Segment, src: IpAddr, dst: IpAddr, now: number, env: ListenEnv, issAbove = -1): void {
    if (s.has(RST)) {
      env.count('listenRstIgnored'); // RFC 9293 §3.10.7.2: "An incoming RST should be ignored"
      return;
    }
    if (s.has(ACK)) {
      // The ACK that completes a handshake answered with a SYN cookie? Only shortly after
      // cookies were sent (Linux: tcp_synq_no_recent_overflow), so that a stream of
      // forged ACKs cannot grind through the cookie's MAC at other times.
      if (env.config.synCookies && !s.has(SYN) && now - this.lastCookieAt < COOKIE_VALID_MS && this.cookieAck(s, src, dst, now, env)) return;
      env.reset(s, src, dst, now);
      return;
    }
    if (!s.has(SYN)) {
      env.count('listenNoSyn'); // FIN, NULL and other scans of a listening port
      return;
    }
    if (s.has(FIN)) {
      // RFC 9293 §3.10.7.2 gives a SYN+FIN no meaning in LISTEN; it is a scanner's or
      // fingerprinter's packet, and Linux discards it (tcp_rcv_state_process).
      env.count('listenSynFin');
      return;
    }
    if (this.acceptQueueFull()) {
      env.count('listenDrops'); // the application is behind; the peer will retransmit its SYN
      return;
    }
    if (!this.hasRoom(env.config.maxSynBacklog)) {
      if (env.config.synCookies) this.sendCookie(s, src, dst, now, env);
      else env.count('listenDrops');
      return;
    }
    const c = this.embryo(s, src, dst, now, env);
    let iss = env.chooseIss(c, now);
    // Reopening a 4-tuple in TIME-WAIT: start past anything the old incarnation sent
    // (RFC 1122 §4.2.2.13; Linux uses the old SND.NXT + 65535 + 2), or its duplicates
    // could land in the new sequence space.
    if (issAbove !== -1 && !seqGt(iss, seqAdd(issAbove, 65537))) iss = seqAdd(issAbove, 65537);
    passiveOpen(c, s, iss, now);
    this.synQueue.add(c);
    env.traceOpen(c, false, now);
    env.traceArrival(c, s, src, dst, now);
    c.at(now); // the state change is traced at this time
    c.setState('SYN-RECEIVED', 'SYN received by a listener');
    c.output(now); // SYN-ACK
  }

  /** A connection born of this listener, in LISTEN, with a copy of the listener's options. */
  private embryo(s: Segment, src: IpAddr, dst: IpAddr, now: number, env: ListenEnv): TcpConnection {
    const c = env.newConnection(dst, s.dstPort, src, s.srcPort, this.opts.clone(env.config), now);
    c.bornOf(this);
    env.count('passiveOpens');
    return c;
  }

  /** SYN queue full: answer with a SYN-ACK whose ISS is a cookie, and keep nothing (RFC 4987). */
  private sendCookie(s: Segment, src: IpAddr, dst: IpAddr, now: number, env: ListenEnv): void {
    if (!env.cookieLimit.take(now)) {
      env.count('syncookiesRateLimited');
      return;
    }
    const o = s.opts;
    const cookie = env.cookies.make(dst, s.dstPort, src, s.srcPort, s.seq, peerSendMss(o.mss, env.mtuMssTo(src)), o.wscale, now);
    this.lastCookieAt = now;
    // The window scale and window the connection will have (its buffer is the listener's size).
    const rcvBuf = this.opts.rcvBuf;
    env.sendCookieSynAck(s, src, dst, cookie, o.wscale >= 0 ? wscaleFor(rcvBuf) : -1, Math.min(65535, rcvBuf), now);
    env.count('syncookiesSent');
  }

  /** An ACK for this listener: if it returns a valid cookie, the connection is made now. */
  private cookieAck(s: Segment, src: IpAddr, dst: IpAddr, now: number, env: ListenEnv): boolean {
    const irs = seqAdd(s.seq, -1);
    const iss = seqAdd(s.ack, -1);
    const got = env.cookies.check(dst, s.dstPort, src, s.srcPort, irs, iss, now);
    if (!got) {
      env.count('syncookiesFailed');
      return false;
    }
    if (this.acceptQueueFull()) {
      // Linux drops such an ACK (tcp_abort_on_overflow=0): the client's next segment
      // carries the same cookie and succeeds once the application has accepted.
      env.count('listenDrops');
      return true;
    }
    env.count('syncookiesRecv');
    const c = this.embryo(s, src, dst, now, env);
    cookieOpen(c, s, iss, irs, got.mss, got.wscale, now);
    this.synQueue.add(c);
    env.traceOpen(c, false, now);
    c.at(now);
    c.setState('SYN-RECEIVED', 'valid SYN cookie in the ACK');
    env.deliver(c, s, now); // the ACK completes the handshake; any data goes in
    return true;
  }
}
