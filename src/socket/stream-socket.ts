/**
 * SOCK_STREAM sockets: TCP through the facade, with the semantics of Python's and C's
 * sockets (blocking calls as Promises, timeouts, non-blocking mode, POSIX errors).
 */
import { formatEndpoint, isAnyAddr, type IpAddr } from '../ip/ip-address.js';
import { UNSPECIFIED6 } from '../ip/ipv6-address.js';
import { pickEphemeralPort } from '../core/ports.js';
import type { TcpConnection, TcpErrno } from '../tcp/connection.js';
import type { TcpLayer } from '../tcp/tcp-layer.js';
import type { TcpListener } from '../tcp/listener.js';
import { SocketOptions } from '../tcp/socket-options.js';
import { SocketFile } from './socket-file.js';
import { SocketError } from './errors.js';
import type { Family, SockAddr } from './address.js';
import {
  IPPROTO_TCP, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF,
  SO_REUSEADDR, SO_SNDBUF, SO_TYPE, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_NODELAY, TCP_USER_TIMEOUT, IPPROTO_IP, IP_TOS,
  AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, IPV6_TCLASS,
  POLLERR, POLLHUP, POLLIN,
  POLLNVAL, POLLOUT,
} from './constants.js';
import type { SocketHost } from './host.js';
import type { Names } from './names.js';
import { Socket, WOULD_BLOCK, describeEnds } from './socket.js';

const MIN_BUF = 4096;
const MAX_BUF = 16 * 1024 * 1024;
const SOMAXCONN = 4096; // Linux net.core.somaxconn
/** The end of stream, as `recvNow` returns it. */
const EMPTY = Buffer.alloc(0);

/** The SO_LINGER option's value, as C's `struct linger`. */
export interface Linger {
  /** Whether lingering is on; with `linger` 0 it makes close() reset the connection. */
  onoff: boolean;
  /** Seconds to linger; only 0 (reset on close) changes what close() does here. */
  linger: number;
}

/** A TCP_INFO-like snapshot of a connection. */
export interface TcpInfo {
  /** The RFC 9293 state, e.g. `'ESTABLISHED'`. */
  state: string;
  /** This end's address, `ip:port`. */
  local: string;
  /** The peer's address, `ip:port`. */
  remote: string;
  /** Smoothed round-trip time, ms (RFC 6298). */
  srttMs: number;
  /** Round-trip time variation, ms. */
  rttvarMs: number;
  /** Current retransmission timeout, ms (backoff included). */
  rtoMs: number;
  /** Oldest unacknowledged sequence number (SND.UNA), raw. */
  sndUna: number;
  /** Next sequence number to send (SND.NXT), raw. */
  sndNxt: number;
  /** The peer's advertised receive window, bytes (window scaling applied). */
  sndWnd: number;
  /** Next sequence number expected from the peer (RCV.NXT), raw. */
  rcvNxt: number;
  /** What is left of the receive window last advertised, bytes. */
  rcvWnd: number;
  /** Largest segment payload we send, bytes. */
  sndMss: number;
  /** The MSS we advertised, bytes. */
  rcvMss: number;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes (2^31 - 1 while unset). */
  ssthresh: number;
  /** The congestion control algorithm: `'cubic'` or `'newreno'`. */
  congestion: string;
  /** Bytes sent and not yet acknowledged (SYN and FIN count one each). */
  bytesInFlight: number;
  /** Bytes in the send buffer: unsent, or sent and not yet acknowledged. */
  sendQueue: number;
  /** Bytes received and not yet read. */
  recvQueue: number;
  /** Segments sent again, for any reason. */
  retransmits: number;
  /** Entries into fast recovery (RFC 5681 §3.2; RFC 6675 with SACK). */
  fastRetransmits: number;
  /** Retransmission timeouts that fired. */
  timeouts: number;
  /** Segments RACK judged lost (RFC 8985). */
  rackLost: number;
  /** Tail loss probes sent (RFC 8985). */
  tlpProbes: number;
  /** Whether the path has been seen to reorder segments. */
  reordering: boolean;
  /** ECN (RFC 3168) is on for this connection (both SYNs agreed). */
  ecn: boolean;
  /** Segments that arrived marked Congestion Experienced (echoed to the peer with ECE). */
  ecnCeReceived: number;
  /** Window reductions made for the peer's ECE (at most one per window of data). */
  ecnReductions: number;
  /** Segments received. */
  segsIn: number;
  /** Segments sent. */
  segsOut: number;
  /** Data bytes received in order. */
  bytesIn: number;
  /** Data bytes sent, retransmissions included. */
  bytesOut: number;
}

/** How long a closed connection may keep the process alive while it delivers what it was given. */
export const DRAIN_LIMIT_MS = 30_000;

/** Nothing of ours is left to deliver: all data and the FIN acknowledged, or the connection over. */
export function connectionDrained(c: TcpConnection): boolean {
  return c.state === 'CLOSED' || c.state === 'TIME-WAIT' || c.state === 'FIN-WAIT-2' || c.state === 'LISTEN' || (c.snd.buf.length === 0 && c.snd.una === c.snd.max && !c.snd.finQueued);
}

export function tcpInfo(c: TcpConnection): TcpInfo {
  return {
    state: c.state,
    local: formatEndpoint(c.localAddr, c.localPort),
    remote: formatEndpoint(c.remoteAddr, c.remotePort),
    srttMs: c.rtt.srtt,
    rttvarMs: c.rtt.rttvar,
    rtoMs: c.rtt.rto,
    sndUna: c.snd.una,
    sndNxt: c.snd.nxt,
    sndWnd: c.snd.wnd,
    rcvNxt: c.rcv.nxt,
    rcvWnd: c.rcv.advertisedWindow(),
    sndMss: c.snd.mss,
    rcvMss: c.rcv.mss,
    cwnd: c.cc.cwnd,
    ssthresh: Math.min(c.cc.ssthresh, 0x7fffffff),
    congestion: c.cc.name,
    bytesInFlight: c.inFlight(),
    sendQueue: c.snd.buf.length,
    recvQueue: c.rcv.buf.length,
    retransmits: c.stats.retransmits,
    fastRetransmits: c.stats.fastRetransmits,
    timeouts: c.stats.timeouts,
    rackLost: c.stats.rackLost,
    tlpProbes: c.stats.tlpProbes,
    reordering: c.rack.reorderingSeen,
    ecn: c.ecn.ok,
    ecnCeReceived: c.stats.ecnCeReceived,
    ecnReductions: c.stats.ecnReductions,
    segsIn: c.stats.segsIn,
    segsOut: c.stats.segsOut,
    bytesIn: c.stats.bytesIn,
    bytesOut: c.stats.bytesOut,
  };
}

/**
 * A TCP socket (SOCK_STREAM), as Python's: `bind`, `listen`/`accept` on the server side,
 * `connect` on the client side, then `send`/`sendall`/`recv`, `shutdown` and `close`.
 * Calls that wait return Promises and honour the socket's timeout.
 */
export class StreamSocket extends Socket {
  /** @internal The TCP connection, once connecting, connected or accepted. */
  conn: TcpConnection | null = null;
  /** @internal The TCP listener, once listening. */
  listener: TcpListener | null = null;
  private boundAddr: IpAddr = 0;
  /** IPV6_V6ONLY (AF_INET6 only; see TcpLayer.listen). */
  private v6only = false;
  private boundPort = 0;
  private reuseAddr = false;
  private linger: Linger = { onoff: false, linger: 0 };
  /**
   * The socket's options: one object, shared with its connection (setsockopt changes the
   * connection with no copy) and with its listener (which copies it once into each
   * connection it accepts). An accepted socket takes its connection's.
   */
  private opts: SocketOptions;
  /** The connection was established at some point: a failure without an error is then ECONNRESET, not ECONNREFUSED. */
  private everConnected = false;

  /** @internal Use `SocketApi.socket(AF_INET, SOCK_STREAM)`. */
  constructor(
    host: SocketHost,
    fd: number,
    release: (fd: number) => void,
    private readonly tcp: TcpLayer,
    /** Allocates a descriptor for an accepted connection. */
    private readonly adopt: (c: TcpConnection, family: Family) => StreamSocket,
    names: Names,
    conn?: TcpConnection,
    family: Family = AF_INET,
  ) {
    super(host, fd, SOCK_STREAM, release, names, family);
    if (family === AF_INET6) this.boundAddr = UNSPECIFIED6;
    this.opts = new SocketOptions(tcp.config);
    if (conn) this.attach(conn);
  }

  private attach(c: TcpConnection): void {
    this.conn = c;
    c.onEvent = () => this.notify();
    // An accepted connection carries what it inherited from its listener.
    this.opts = c.opts;
    if (c.state !== 'SYN-SENT') this.everConnected = true;
  }

  protected describe(): string {
    const c = this.conn;
    if (c) return describeEnds('tcp', c.localAddr, c.localPort, c.remoteAddr, c.remotePort);
    if (this.listener) return `tcp listening ${formatEndpoint(this.listener.localAddr, this.listener.localPort)}`;
    return describeEnds('tcp', this.boundAddr, this.boundPort, 0, 0);
  }

  private now(): number {
    return this.host.now();
  }

  // ------------------------------------------------------------------ set-up

  /**
   * Binds the socket to `address` before `listen` or `connect` (port 0: an ephemeral
   * port is picked then). Throws EADDRINUSE if the port is in use (SO_REUSEADDR allows
   * it while only old connections hold it, never while something listens on it),
   * EADDRNOTAVAIL for an address that is not this stack's, EINVAL if already bound.
   */
  bind(address: SockAddr): void {
    this.checkOpen('bind');
    if (this.boundPort !== 0 || this.conn || this.listener) throw this.error('EINVAL', 'bind', 'socket is already bound');
    const { addr, port } = this.resolveLocal(address, 'bind');
    if (!isAnyAddr(addr) && !this.host.stack.ipLayer.isBindable(addr)) throw this.error('EADDRNOTAVAIL', 'bind');
    // SO_REUSEADDR lets a port be reused while old connections linger (TIME-WAIT), never
    // while something listens on it (Linux).
    if (port !== 0 && (this.tcp.hasListenerFor(addr, port, this.v6only) || (this.tcp.portInUse(port, false) && !this.reuseAddr))) {
      throw this.error('EADDRINUSE', 'bind', `port ${port} is in use`);
    }
    this.boundAddr = addr;
    this.boundPort = port;
  }

  /**
   * Starts listening, with up to `backlog` (1 to 4096, Linux's somaxconn) established
   * connections waiting for `accept`; an unbound socket listens on an ephemeral port.
   * Called again, it only changes the backlog. Throws EINVAL on a connected socket,
   * EADDRINUSE if the port is taken.
   */
  listen(backlog = 128): void {
    this.checkOpen('listen');
    if (this.conn) throw this.error('EINVAL', 'listen', 'socket is connected');
    if (this.listener) {
      this.listener.backlog = Math.max(1, Math.min(backlog, SOMAXCONN));
      return;
    }
    let port = this.boundPort;
    if (port === 0) {
      // An unbound socket listens on an ephemeral port, as on Linux.
      port = pickEphemeralPort(this.host.stack.rand, (p) => this.tcp.portInUse(p));
      if (port === -1) throw this.error('EADDRINUSE', 'listen', 'no ephemeral port is free');
    }
    const l = this.tcp.listen(port, this.boundAddr, Math.max(1, Math.min(backlog, SOMAXCONN)), this.v6only);
    if (l === 'EADDRINUSE') throw this.error('EADDRINUSE', 'listen', `port ${port} is in use`);
    this.boundPort = port;
    this.listener = l;
    l.onEvent = () => this.notify();
    l.opts = this.opts;
  }

  /**
   * Resolves to [connection socket, peer address] (Python's accept()), waiting for a
   * connection as the timeout allows. Rejects with EINVAL if the socket is not
   * listening, EAGAIN (non-blocking) or ETIMEDOUT if none came.
   */
  accept(): Promise<[StreamSocket, SockAddr]> {
    return this.block('accept', () => {
      this.checkOpen('accept');
      const l = this.listener;
      if (!l) throw this.error('EINVAL', 'accept', 'socket is not listening');
      const c = l.accept();
      if (!c) return WOULD_BLOCK;
      const s = this.adopt(c, this.family);
      return [s, this.addrTuple(c.remoteAddr, c.remotePort)] as [StreamSocket, SockAddr];
    });
  }

  /**
   * @internal The `node:net` server's accept, without waiting or a promise: the next
   * established connection as a socket, or null when none is queued. Throws as `accept`.
   */
  acceptNow(): StreamSocket | null {
    this.checkOpen('accept');
    const l = this.listener;
    if (!l) throw this.error('EINVAL', 'accept', 'socket is not listening');
    const c = l.accept();
    return c ? this.adopt(c, this.family) : null;
  }

  /**
   * Active open; resolves once ESTABLISHED. Non-blocking: fails with EINPROGRESS and goes
   * on. Rejects with ECONNREFUSED (a RST in reply), ETIMEDOUT (SYN retries ran out, or the
   * socket's timeout, which aborts the attempt), ENETUNREACH with no route, EISCONN or
   * EALREADY if already connected or connecting, EINVAL for port 0 or a listening socket.
   */
  async connect(address: SockAddr): Promise<void> {
    this.checkOpen('connect');
    if (this.listener) throw this.error('EINVAL', 'connect', 'socket is listening');
    const { addr, port } = this.known(address, 'connect') ?? (await this.lookup(address, 'connect'));
    if (port === 0) throw this.error('EINVAL', 'connect', 'port 0');
    if (this.conn) {
      if (this.conn.state === 'SYN-SENT') throw this.error('EALREADY', 'connect');
      throw this.error('EISCONN', 'connect');
    }
    if (typeof addr === 'number' ? this.host.stack.route.nextHop(addr) === -1 : this.host.stack.ipLayer.sourceFor(addr) === null || (this.host.stack.ip6 !== null && this.host.stack.ip6.route.nextHop(addr) === null)) {
      throw this.error('ENETUNREACH', 'connect', typeof addr === 'number' ? undefined : this.host.stack.ip6 === null ? 'this stack has no IPv6 address' : undefined);
    }
    const c = this.tcp.newConnection(this.now(), this.opts);
    this.attach(c);
    this.everConnected = false;
    const err = this.tcp.connect(c, this.boundPort, addr, port, this.now());
    if (err) {
      this.conn = null;
      throw this.error(err, 'connect');
    }
    this.host.wake();
    if (!this.getblocking()) throw this.error('EINPROGRESS', 'connect');
    try {
      await this.block('connect', () => {
        if (c.state === 'SYN-SENT' || c.state === 'SYN-RECEIVED') return WOULD_BLOCK;
        if (c.state === 'CLOSED') throw this.connError(c, 'connect');
        this.everConnected = true;
        return undefined;
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'ETIMEDOUT' && c.state !== 'CLOSED') c.abort(this.now(), 'connect timed out');
      throw e;
    }
  }

  private connError(c: TcpConnection, syscall: string): Error {
    const code: TcpErrno = c.error ?? (this.everConnected ? 'ECONNRESET' : 'ECONNREFUSED');
    const why: Record<TcpErrno, string> = {
      ECONNREFUSED: 'connection refused (RST in reply to SYN)',
      ECONNRESET: 'connection reset by peer',
      ETIMEDOUT: 'no answer from the peer: retransmissions or keepalive probes ran out',
      EPIPE: 'the connection is closed for sending',
      ENOTCONN: 'not connected',
      ECONNABORTED: 'connection aborted',
    };
    return this.error(code, syscall, why[code]);
  }

  private connected(syscall: string): TcpConnection {
    this.checkOpen(syscall);
    if (!this.conn) throw this.error('ENOTCONN', syscall);
    return this.conn;
  }

  // ------------------------------------------------------------------ data

  /**
   * Queues what fits in the send buffer (waiting for room if none); resolves to the bytes
   * queued. Rejects with ENOTCONN if not connected, EPIPE after `shutdown(SHUT_WR)` or once
   * the connection is closing, or the connection's error (ECONNRESET, ETIMEDOUT).
   */
  send(data: Uint8Array | string): Promise<number> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return this.block('send', () => this.trySend(bytes, 'send'));
  }

  /** The connection, if it may take data now; throws what `send` would (ENOTCONN, EPIPE, the connection's error). */
  private sendable(syscall: string): TcpConnection {
    const c = this.connected(syscall);
    if (c.error) throw this.connError(c, syscall);
    if (c.snd.finQueued) throw this.error('EPIPE', syscall, 'the socket was shut down for writing');
    const st = c.state;
    if (st === 'CLOSED') throw this.connError(c, syscall);
    if (st !== 'ESTABLISHED' && st !== 'CLOSE-WAIT' && st !== 'SYN-SENT' && st !== 'SYN-RECEIVED') throw this.error('EPIPE', syscall);
    return c;
  }

  private trySend(bytes: Uint8Array, syscall: string): number | typeof WOULD_BLOCK {
    const c = this.sendable(syscall);
    if (bytes.length === 0) return 0;
    const n = c.send(bytes, this.now());
    if (n === 0) return WOULD_BLOCK;
    this.host.wake();
    return n;
  }

  /** Queues what fits of `list`, in order, as one write; 0 if none fits (or all are empty). */
  private trySendv(list: readonly Uint8Array[], syscall: string): number {
    const c = this.sendable(syscall);
    const n = c.sendv(list, this.now());
    if (n > 0) this.host.wake();
    return n;
  }

  /**
   * Python's `sendmsg(buffers)` without ancillary data: the buffers are gathered into one
   * write (as `writev`), so small pieces sent together leave in one segment. Waits for
   * room if none; resolves to the bytes queued, which may be fewer than the total (as
   * `send`). Rejects as `send` does, and with EINVAL if `buffers` is not an array of
   * Uint8Arrays.
   */
  sendmsg(buffers: readonly Uint8Array[]): Promise<number> {
    if (!Array.isArray(buffers) || !buffers.every((b) => b instanceof Uint8Array)) {
      return Promise.reject(this.error('EINVAL', 'sendmsg', 'buffers must be an array of Uint8Arrays'));
    }
    let total = 0;
    for (const b of buffers) total += b.length;
    return this.block('sendmsg', () => {
      const n = this.trySendv(buffers, 'sendmsg');
      return n === 0 && total > 0 ? WOULD_BLOCK : n;
    });
  }

  /**
   * @internal The `node:net` face's write, without waiting or a promise: queues what fits
   * of `list` now, as one write, and returns the bytes queued. Throws as `send` does.
   */
  sendvNow(list: readonly Uint8Array[]): number {
    return this.trySendv(list, 'write');
  }

  /** @internal The `node:net` face's write of what `sendvNow` could not queue: as `sendall`, its errors from syscall `write` (as Node's). */
  writeAll(bytes: Uint8Array): Promise<void> {
    return this.sendAllAs(bytes, 'write');
  }

  /**
   * @internal The `node:net` face's read, without waiting or a promise: up to `max` bytes
   * buffered now, an empty array at end of stream, or null when none have arrived yet.
   * Throws as `recv` does.
   */
  recvNow(max: number): Buffer | null {
    const c = this.connected('read');
    const ready = Math.min(c.readable(), max);
    if (ready > 0) {
      // One Buffer (small ones are slices of Node's shared pool), filled to its end here:
      // no array, backing store and Buffer view each.
      const data = Buffer.allocUnsafe(ready);
      const n = c.readInto(data, 0, ready, this.now());
      this.wakeIfSent(c);
      return n === ready ? data : data.subarray(0, n);
    }
    return this.nothingToRead(c, 'read') ? EMPTY : null;
  }

  /**
   * @internal As `recvNow`, into `buffer` from its start: the bytes copied, 0 at end of
   * stream, -1 when none have arrived yet.
   */
  recvIntoNow(buffer: Uint8Array): number {
    const c = this.connected('read');
    const n = c.readInto(buffer, 0, buffer.length, this.now());
    if (n > 0) {
      this.wakeIfSent(c);
      return n;
    }
    return this.nothingToRead(c, 'read') ? 0 : -1;
  }

  /** Sends everything (Python's sendall): resolves once all of it is queued; rejects as `send` does. */
  sendall(data: Uint8Array | string): Promise<void> {
    return this.sendAllAs(typeof data === 'string' ? Buffer.from(data) : data, 'sendall');
  }

  private async sendAllAs(bytes: Uint8Array, syscall: string): Promise<void> {
    while (bytes.length > 0) {
      const n = await this.block(syscall, () => this.trySend(bytes, syscall));
      bytes = bytes.subarray(n);
    }
  }

  /**
   * Resolves to up to `bufsize` bytes, waiting for some as the timeout allows; an empty
   * array at end of stream (the peer's FIN) or after `shutdown(SHUT_RD)`. Rejects with
   * ENOTCONN if not connected, or the connection's error (ECONNRESET, ETIMEDOUT).
   */
  recv(bufsize: number): Promise<Uint8Array> {
    return this.block('recv', () => {
      const c = this.connected('recv');
      const data = c.read(Math.max(0, bufsize), this.now());
      if (data) {
        this.wakeIfSent(c);
        return data;
      }
      return this.nothingToRead(c, 'recv') ? new Uint8Array(0) : WOULD_BLOCK;
    });
  }

  /**
   * As `recv`, into `buffer` (Python's `recv_into`): resolves to the number of bytes
   * copied to its start, at most `nbytes` (0: the buffer's length); 0 at end of stream.
   * Nothing is allocated. Rejects with EINVAL when `nbytes` exceeds the buffer.
   */
  recv_into(buffer: Uint8Array, nbytes = 0): Promise<number> {
    if (!(buffer instanceof Uint8Array)) return Promise.reject(this.error('EINVAL', 'recv_into', 'buffer must be a Uint8Array'));
    if (!Number.isInteger(nbytes) || nbytes < 0 || nbytes > buffer.length) return Promise.reject(this.error('EINVAL', 'recv_into', `nbytes ${nbytes} is not 0..${buffer.length} (the buffer's length)`));
    const max = nbytes === 0 ? buffer.length : nbytes;
    return this.block('recv_into', () => {
      const c = this.connected('recv_into');
      const n = c.readInto(buffer, 0, max, this.now());
      if (n > 0) {
        this.wakeIfSent(c);
        return n;
      }
      return this.nothingToRead(c, 'recv_into') ? 0 : WOULD_BLOCK;
    });
  }

  /**
   * After a read: a poll is wanted only if the read made the connection send (a window
   * update, RFC 1122 §4.2.3.3), which touches it for the next poll. Most reads send
   * nothing, and skip the runtime's turn (a setImmediate and a poll) a wake costs.
   */
  private wakeIfSent(c: TcpConnection): void {
    if (c.touchPending) this.host.wake();
  }

  /** Nothing is buffered: true at end of stream (or after SHUT_RD, or closed without error); throws the connection's error. */
  private nothingToRead(c: TcpConnection, syscall: string): boolean {
    if (c.atEof() || c.rcv.rdShut) return true;
    if (c.state === 'CLOSED') {
      if (c.error) throw this.connError(c, syscall);
      return true;
    }
    return false;
  }

  /**
   * `connect` that reports failure as an error number instead (Python's `connect_ex`):
   * resolves to 0 once connected, or the errno (ECONNREFUSED, ETIMEDOUT, EINPROGRESS on a
   * non-blocking socket, ...). A name that does not resolve still rejects (gaierror).
   */
  async connect_ex(address: SockAddr): Promise<number> {
    try {
      await this.connect(address);
      return 0;
    } catch (e) {
      if (e instanceof SocketError && !e.code.startsWith('EAI_')) return e.errno;
      throw e;
    }
  }

  /**
   * A file-like object over the connection (Python's `makefile`): `readline()`,
   * `read(n)`, `write()`, `flush()`, `close()`. `mode` is 'r', 'w' or 'rw', with 'b' for
   * bytes instead of text (`encoding` default utf-8). Closing it flushes and leaves the
   * socket open.
   */
  makefile(mode = 'r', options: { encoding?: string } = {}): SocketFile {
    this.checkOpen('makefile');
    return new SocketFile(this, mode, options.encoding ?? 'utf-8');
  }

  pollEvents(): number {
    if (this.closed) return POLLNVAL;
    const l = this.listener;
    if (l) return l.acceptQueue.length > 0 ? POLLIN : 0;
    const c = this.conn;
    if (!c) return POLLOUT | POLLHUP; // as Linux reports a stream socket that is not connected
    // As Linux's tcp_poll: nothing while the handshake is under way; then data or EOF to
    // read, room to write (or a write that would fail at once), and HUP/ERR once closed.
    if (c.state === 'SYN-SENT' || c.state === 'SYN-RECEIVED') return 0;
    let ev = 0;
    if (c.readable() > 0 || c.atEof() || c.rcv.rdShut) ev |= POLLIN;
    if (c.state === 'CLOSED') {
      ev |= POLLIN | POLLOUT | POLLHUP;
      if (c.error) ev |= POLLERR;
      return ev;
    }
    if (c.snd.finQueued || c.sendSpace() > 0) ev |= POLLOUT;
    return ev;
  }

  /**
   * Shuts down one or both directions: SHUT_RD throws away what is buffered and what
   * arrives later (still acknowledged), SHUT_WR sends a FIN after the queued data,
   * SHUT_RDWR does both. The descriptor stays open. Throws ENOTCONN if not connected,
   * EINVAL for another `how`.
   */
  shutdown(how: number): void {
    const c = this.connected('shutdown');
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) throw this.error('EINVAL', 'shutdown', `how=${how}`);
    if (c.state === 'CLOSED' && !c.error) throw this.error('ENOTCONN', 'shutdown');
    if (how === SHUT_RD || how === SHUT_RDWR) c.shutdownReceive();
    if (how === SHUT_WR || how === SHUT_RDWR) c.shutdownSend(this.now());
    this.host.wake();
    this.notify();
  }

  /**
   * Closes the descriptor. A connection closes gracefully (FIN after the queued data)
   * and finishes on its own; with SO_LINGER {onoff, linger: 0}, or with unread data
   * (RFC 2525 §2.17, as Linux does), it is reset instead.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const now = this.now();
    if (this.listener) {
      this.tcp.unlisten(this.listener, now);
      this.listener = null;
    }
    const c = this.conn;
    if (c && c.state !== 'CLOSED') {
      c.onEvent = () => {};
      if ((this.linger.onoff && this.linger.linger === 0) || c.readable() > 0) {
        c.abort(now, this.linger.onoff ? 'close with SO_LINGER 0' : 'close with unread data');
      } else {
        c.closeOrphan(now);
      }
    }
    if (c && !this.unrefd && !connectionDrained(c)) this.releaseWhenDrained(c, now);
    else this.keep.release();
    this.release(this.fd);
    this.host.wake();
    this.notify();
  }

  /** The process stays up (if ref'ed) until the orphaned connection has delivered its data and FIN, or DRAIN_LIMIT_MS. */
  private releaseWhenDrained(c: TcpConnection, now: number): void {
    let timer: { cancel(): void } | null = null;
    const done = (): void => {
      c.onEvent = () => {};
      timer?.cancel();
      this.keep.release();
    };
    c.onEvent = () => {
      if (connectionDrained(c)) done();
    };
    timer = this.host.timers.add(now + DRAIN_LIMIT_MS, done);
  }

  // ------------------------------------------------------------------ names and options

  /** The socket's own address: the connection's local end, or what it is bound to (`['0.0.0.0', 0]` if neither). */
  getsockname(): SockAddr {
    this.checkOpen('getsockname');
    if (this.conn && this.conn.localPort !== 0) return this.addrTuple(this.conn.localAddr, this.conn.localPort);
    return this.addrTuple(this.boundAddr, this.boundPort);
  }

  /** The peer's address. Throws ENOTCONN if the socket is not connected (or still connecting). */
  getpeername(): SockAddr {
    const c = this.connected('getpeername');
    if (c.state === 'SYN-SENT' || (c.state === 'CLOSED' && !this.everConnected)) throw this.error('ENOTCONN', 'getpeername');
    return this.addrTuple(c.remoteAddr, c.remotePort);
  }

  /**
   * Sets an option. SOL_SOCKET: SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER (a Linger),
   * SO_SNDBUF and SO_RCVBUF (bytes, doubled and clamped to 4 KiB..16 MiB as Linux does).
   * IPPROTO_TCP: TCP_NODELAY, TCP_KEEPIDLE and TCP_KEEPINTVL (seconds, 1..32767),
   * TCP_KEEPCNT (1..127). A listening socket passes TCP_NODELAY, the keepalive options
   * and the buffer sizes on to the connections it accepts. Throws ENOPROTOOPT for any
   * other option, EINVAL for a bad value.
   */
  setsockopt(level: number, option: number, value: number | boolean | Linger): void {
    this.checkOpen('setsockopt');
    const num = (): number => {
      if (typeof value === 'object') throw this.error('EINVAL', 'setsockopt', 'expected a number');
      return typeof value === 'boolean' ? (value ? 1 : 0) : value;
    };
    const positive = (max: number): number => {
      const v = num();
      if (!Number.isInteger(v) || v < 1 || v > max) throw this.error('EINVAL', 'setsockopt', `value ${v} is not 1..${max}`);
      return v;
    };
    const c = this.conn;
    if (level === SOL_SOCKET) {
      switch (option) {
        case SO_REUSEADDR: this.reuseAddr = num() !== 0; return;
        case SO_KEEPALIVE:
          this.opts.keepalive = num() !== 0;
          this.rearm();
          return;
        case SO_LINGER: {
          if (typeof value !== 'object') throw this.error('EINVAL', 'setsockopt', 'SO_LINGER takes { onoff, linger }');
          this.linger = { onoff: value.onoff, linger: Math.max(0, value.linger) };
          return;
        }
        case SO_SNDBUF:
        case SO_RCVBUF: {
          // Linux doubles the value (to allow for bookkeeping) and clamps it.
          const v = Math.min(MAX_BUF, Math.max(MIN_BUF, num() * 2));
          if (option === SO_SNDBUF) this.opts.sndBuf = v;
          else this.opts.rcvBuf = v;
          c?.resizeBuffers(option === SO_SNDBUF ? v : null, option === SO_RCVBUF ? v : null);
          return;
        }
        default: break;
      }
    } else if (level === IPPROTO_TCP) {
      switch (option) {
        case TCP_NODELAY:
          this.opts.nodelay = num() !== 0;
          if (c) {
            c.output(this.now()); // Linux pushes pending data when Nagle is turned off
            this.host.wake();
          }
          return;
        // Linux limits: TCP_KEEPIDLE and TCP_KEEPINTVL 1..32767 s, TCP_KEEPCNT 1..127.
        case TCP_KEEPIDLE: this.opts.keepIdleMs = positive(32767) * 1000; this.rearm(); return;
        case TCP_KEEPINTVL: this.opts.keepIntvlMs = positive(32767) * 1000; this.rearm(); return;
        case TCP_KEEPCNT: this.opts.keepCnt = positive(127); return;
        case TCP_USER_TIMEOUT: {
          // RFC 5482 / Linux: ms that sent data may stay unacknowledged; 0 is "the retry counts".
          const v = num();
          if (!Number.isInteger(v) || v < 0) throw this.error('EINVAL', 'setsockopt', `TCP_USER_TIMEOUT ${v} is not a whole number of ms >= 0`);
          this.opts.userTimeoutMs = v;
          return;
        }
        case TCP_MAXSEG: {
          // Before the connection: caps the MSS we advertise and send (Linux: 88..32767).
          const v = num();
          if (!Number.isInteger(v) || v < 88 || v > 32767) throw this.error('EINVAL', 'setsockopt', `TCP_MAXSEG ${v} is not 88..32767`);
          if (c && c.state !== 'CLOSED') throw this.error('EISCONN', 'setsockopt', 'TCP_MAXSEG applies before the connection is made');
          this.opts.maxSeg = v;
          return;
        }
        default: break;
      }
    } else if ((level === IPPROTO_IP && option === IP_TOS) || (level === IPPROTO_IPV6 && option === IPV6_TCLASS && this.family === AF_INET6)) {
      // RFC 9293 MUST-48: the application may set the DSCP; the ECN bits stay the stack's
      // (RFC 3168 §6.1.1). IPV6_TCLASS is the same byte in the IPv6 header (RFC 3542 §6.5).
      const v = num();
      if (!Number.isInteger(v) || v < 0 || v > 255) throw this.error('EINVAL', 'setsockopt', `${level === IPPROTO_IP ? 'IP_TOS' : 'IPV6_TCLASS'} ${v} is not 0..255`);
      this.opts.tos = v & 0xfc;
      return;
    } else if (level === IPPROTO_IPV6 && option === IPV6_V6ONLY && this.family === AF_INET6) {
      // RFC 3493 §5.3; Linux refuses it once the socket is bound.
      if (this.listener || this.conn || this.boundPort !== 0) throw this.error('EINVAL', 'setsockopt', 'IPV6_V6ONLY must be set before bind');
      this.v6only = num() !== 0;
      return;
    }
    throw this.error('ENOPROTOOPT', 'setsockopt', `option ${level}/${option} is not supported on TCP sockets`);
  }

  /** A keepalive option changed: the connection's timer follows. */
  private rearm(): void {
    if (this.conn) {
      this.conn.armKeepalive(this.now());
      this.host.wake();
    }
  }

  /**
   * Reads an option: those setsockopt takes (buffer sizes as the buffers are, keepalive
   * times in seconds), and SO_TYPE, SO_ERROR (the connection's error as an errno, or 0)
   * and TCP_MAXSEG (the send MSS). Throws ENOPROTOOPT for any other.
   */
  getsockopt(level: number, option: number): number | Linger {
    this.checkOpen('getsockopt');
    const c = this.conn;
    if (level === SOL_SOCKET) {
      switch (option) {
        case SO_REUSEADDR: return this.reuseAddr ? 1 : 0;
        case SO_KEEPALIVE: return this.opts.keepalive ? 1 : 0;
        case SO_LINGER: return { ...this.linger };
        case SO_SNDBUF: return c ? c.snd.buf.capacity : this.opts.sndBuf;
        case SO_RCVBUF: return c ? c.rcv.buf.capacity : this.opts.rcvBuf;
        case SO_TYPE: return SOCK_STREAM;
        case SO_ERROR: {
          return c?.error ? this.error(c.error, 'getsockopt').errno : 0;
        }
        default: break;
      }
    } else if (level === IPPROTO_TCP) {
      switch (option) {
        case TCP_NODELAY: return this.opts.nodelay ? 1 : 0;
        case TCP_KEEPIDLE: return Math.round(this.opts.keepIdleMs / 1000);
        case TCP_KEEPINTVL: return Math.round(this.opts.keepIntvlMs / 1000);
        case TCP_KEEPCNT: return this.opts.keepCnt;
        case TCP_MAXSEG: return c ? c.snd.mss : this.opts.maxSeg || this.tcp.mtuMss;
        case TCP_USER_TIMEOUT: return this.opts.userTimeoutMs;
        default: break;
      }
    } else if ((level === IPPROTO_IP && option === IP_TOS) || (level === IPPROTO_IPV6 && option === IPV6_TCLASS && this.family === AF_INET6)) {
      return this.opts.tos;
    } else if (level === IPPROTO_IPV6 && option === IPV6_V6ONLY && this.family === AF_INET6) {
      return this.v6only ? 1 : 0;
    }
    throw this.error('ENOPROTOOPT', 'getsockopt', `option ${level}/${option} is not supported on TCP sockets`);
  }

  /** A TCP_INFO-like snapshot, or null for a socket with no connection. */
  tcpInfo(): TcpInfo | null {
    return this.conn ? tcpInfo(this.conn) : null;
  }
}
