/**
 * The per-connection socket options (setsockopt), owned once. A socket holds one
 * `SocketOptions`; its connection uses that same object (setsockopt on a connected
 * socket changes the connection with no copy), a listener's is copied once into each
 * connection it accepts (as Linux's accepted sockets inherit TCP_NODELAY, SO_KEEPALIVE,
 * the keepalive times and the buffer sizes), and nothing else writes it.
 */
import type { TcpConfig } from './config.js';

export class SocketOptions {
  /** TCP_NODELAY: send small segments at once (no Nagle, RFC 1122 §4.2.3.4). */
  nodelay = false;
  /** SO_KEEPALIVE (RFC 1122 §4.2.3.6), and its TCP_KEEPIDLE / TCP_KEEPINTVL (ms) and TCP_KEEPCNT. */
  keepalive = false;
  keepIdleMs: number;
  keepIntvlMs: number;
  keepCnt: number;
  /** SO_SNDBUF / SO_RCVBUF in bytes. */
  sndBuf: number;
  rcvBuf: number;
  /** TCP_USER_TIMEOUT (RFC 5482, RFC 9293 MUST-21 R2 per connection), ms; 0: the retry counts decide. */
  userTimeoutMs = 0;
  /** TCP_MAXSEG before the connection: the largest segment we advertise and send (0: the route's). */
  maxSeg = 0;
  /** IP_TOS: the TOS byte of our segments (DSCP; the two ECN bits are the stack's, RFC 3168). */
  tos = 0;

  constructor(config: Readonly<TcpConfig>) {
    this.keepIdleMs = config.keepIdleMs;
    this.keepIntvlMs = config.keepIntvlMs;
    this.keepCnt = config.keepCnt;
    this.sndBuf = config.sndBuf;
    this.rcvBuf = config.rcvBuf;
  }

  /** A copy (an accepted connection's options, from its listener's). */
  clone(config: Readonly<TcpConfig>): SocketOptions {
    const o = new SocketOptions(config);
    o.nodelay = this.nodelay;
    o.keepalive = this.keepalive;
    o.keepIdleMs = this.keepIdleMs;
    o.keepIntvlMs = this.keepIntvlMs;
    o.keepCnt = this.keepCnt;
    o.sndBuf = this.sndBuf;
    o.rcvBuf = this.rcvBuf;
    o.userTimeoutMs = this.userTimeoutMs;
    o.maxSeg = this.maxSeg;
    o.tos = this.tos;
    return o;
  }
}
