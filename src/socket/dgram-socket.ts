/**
 * SOCK_DGRAM sockets: UDP through the facade, with Python's and C's semantics.
 */
import { UDP_MAX_PAYLOAD } from '../udp/udp-packet.js';
import type { UdpErrno, UdpLayer } from '../udp/udp-layer.js';
import { UdpEndpoint } from '../udp/udp-layer.js';
import type { Family, SockAddr } from './address.js';
import {
  AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, POLLERR, POLLIN, POLLNVAL, POLLOUT, SOCK_DGRAM, SOL_SOCKET, SO_BROADCAST, SO_ERROR,
  SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SO_TYPE,
} from './constants.js';
import type { IpAddr } from '../ip/ip-address.js';
import { UNSPECIFIED6 } from '../ip/ipv6-address.js';
import type { SocketHost } from './host.js';
import type { Names } from './names.js';
import { Socket, WOULD_BLOCK, describeEnds } from './socket.js';

/** Linux doubles SO_RCVBUF/SO_SNDBUF values (for bookkeeping overhead) and clamps them. */
const MIN_BUF = 2048;
const MAX_BUF = 16 * 1024 * 1024;

/**
 * A UDP socket (SOCK_DGRAM), as Python's: `bind`, `connect`, `sendto`/`send`,
 * `recvfrom`/`recv`. Sending never waits; receiving waits for a datagram as the
 * socket's timeout allows. An ICMP error for an earlier datagram (e.g. port
 * unreachable, ECONNREFUSED) is reported once, by the next call, as on Linux.
 */
export class DgramSocket extends Socket {
  /** @internal The UDP layer's endpoint behind the socket. */
  readonly ep = new UdpEndpoint();

  /** @internal Use `SocketApi.socket(AF_INET, SOCK_DGRAM)`. */
  constructor(host: SocketHost, fd: number, release: (fd: number) => void, private readonly udp: UdpLayer, names: Names, family: Family = AF_INET) {
    super(host, fd, SOCK_DGRAM, release, names, family);
    if (family === AF_INET6) this.ep.localAddr = UNSPECIFIED6;
    this.ep.onEvent = () => this.notify();
  }

  protected describe(): string {
    const e = this.ep;
    return describeEnds('udp', e.localAddr, e.localPort, e.remoteAddr, e.remotePort);
  }

  private fail(err: UdpErrno, syscall: string, detail?: string): never {
    throw this.error(err, syscall, detail);
  }

  /**
   * Binds the socket to `address` (`['', 0]`: any address, an ephemeral port). Throws
   * EADDRINUSE if another socket has the port (unless both set SO_REUSEADDR),
   * EADDRNOTAVAIL for an address that is not this stack's, EINVAL if already bound.
   */
  bind(address: SockAddr): void {
    this.checkOpen('bind');
    const { addr, port } = this.resolveLocal(address, 'bind');
    const err = this.udp.bind(this.ep, addr, port);
    if (err) this.fail(err, 'bind', err === 'EINVAL' ? 'socket is already bound' : undefined);
  }

  /**
   * Sets the default destination; only datagrams from it are received afterwards. Binds
   * an unbound socket to an ephemeral port; `['', 0]` dissolves the association. Rejects
   * with EACCES for a broadcast address without SO_BROADCAST, ENETUNREACH with no route.
   */
  async connect(address: SockAddr): Promise<void> {
    this.checkOpen('connect');
    const { addr, port } = this.known(address, 'connect') ?? (await this.lookup(address, 'connect'));
    const err = this.udp.connect(this.ep, addr, port);
    if (err) this.fail(err, 'connect');
  }

  /** A pending asynchronous error (ICMP) is reported once, by the next call, as on Linux. */
  private takeError(syscall: string): void {
    const e = this.ep.pendingError;
    if (e) {
      this.ep.pendingError = null;
      this.fail(e, syscall, e === 'ECONNREFUSED' ? 'ICMP port unreachable from the peer' : undefined);
    }
  }

  /**
   * Sends one datagram to `address` (a string is sent as UTF-8) and resolves to its
   * length in bytes; binds an unbound socket to an ephemeral port first. Rejects with
   * EMSGSIZE over 65507 bytes, EACCES for a broadcast without SO_BROADCAST, ENETUNREACH
   * or EHOSTUNREACH with no route, or an earlier datagram's pending ICMP error.
   */
  async sendto(data: Uint8Array | string, address: SockAddr): Promise<number> {
    this.checkOpen('sendto');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const { addr, port } = this.known(address, 'sendto') ?? (await this.lookup(address, 'sendto'));
    if (port === 0) this.fail('EINVAL', 'sendto', 'destination port 0');
    return this.sendImpl('sendto', bytes, addr, port);
  }

  /** As `sendto`, to the connected peer; rejects with EDESTADDRREQ if not connected. */
  async send(data: Uint8Array | string): Promise<number> {
    this.checkOpen('send');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (!this.ep.connected) this.fail('EDESTADDRREQ', 'send', 'not connected: use sendto or connect first');
    return this.sendImpl('send', bytes, 0, 0);
  }

  private sendImpl(syscall: string, bytes: Uint8Array, addr: IpAddr, port: number): number {
    this.takeError(syscall);
    // IPv4's 65,535-byte datagram less its 20-byte header and UDP's 8; IPv6's payload
    // length counts neither IP header, so 65,527 (RFC 8200 §3).
    const max = typeof addr === 'number' && (port !== 0 || typeof this.ep.remoteAddr === 'number') ? UDP_MAX_PAYLOAD : 65535 - 8;
    if (bytes.length > max) this.fail('EMSGSIZE', syscall, `${bytes.length} bytes > ${max}, the largest UDP datagram over ${max === UDP_MAX_PAYLOAD ? 'IPv4' : 'IPv6'}`);
    const err = this.udp.sendTo(this.ep, bytes, addr, port, this.host.now());
    if (err) this.fail(err, syscall, err === 'EACCES' ? 'broadcast needs SO_BROADCAST' : undefined);
    this.host.wake();
    return bytes.length;
  }

  /**
   * As `recvfrom`, into `buffer` (Python's `recvfrom_into`): resolves to [bytes copied,
   * sender]; at most `nbytes` (0: the buffer's length), the rest of the datagram discarded.
   */
  recvfrom_into(buffer: Uint8Array, nbytes = 0): Promise<[number, SockAddr]> {
    if (!(buffer instanceof Uint8Array)) return Promise.reject(this.error('EINVAL', 'recvfrom_into', 'buffer must be a Uint8Array'));
    if (!Number.isInteger(nbytes) || nbytes < 0 || nbytes > buffer.length) return Promise.reject(this.error('EINVAL', 'recvfrom_into', `nbytes ${nbytes} is not 0..${buffer.length} (the buffer's length)`));
    const max = nbytes === 0 ? buffer.length : nbytes;
    return this.block('recvfrom_into', () => {
      this.checkOpen('recvfrom_into');
      this.takeError('recvfrom_into');
      if (this.ep.localPort === 0) this.fail('EINVAL', 'recvfrom_into', 'socket is not bound');
      const d = this.ep.take();
      if (!d) return WOULD_BLOCK;
      const n = Math.min(max, d.data.length);
      buffer.set(d.data.subarray(0, n), 0);
      return [n, this.addrTuple(d.addr, d.port)] as [number, SockAddr];
    });
  }

  /** As `recvfrom_into`, without the sender (Python's `recv_into`). */
  async recv_into(buffer: Uint8Array, nbytes = 0): Promise<number> {
    const [n] = await this.recvfrom_into(buffer, nbytes);
    return n;
  }

  pollEvents(): number {
    if (this.closed) return POLLNVAL;
    let ev = POLLOUT; // a datagram can always be sent (or fail at once)
    if (this.ep.queue.length > 0) ev |= POLLIN;
    if (this.ep.pendingError) ev |= POLLERR;
    return ev;
  }

  /**
   * Resolves to the next datagram (at most `bufsize` bytes of it; the rest is discarded,
   * as POSIX says) and its sender, waiting for one as the timeout allows. Rejects with
   * EINVAL if the socket is not bound, EAGAIN (non-blocking) or ETIMEDOUT if none came.
   */
  recvfrom(bufsize: number): Promise<[Uint8Array, SockAddr]> {
    return this.block('recvfrom', () => {
      this.checkOpen('recvfrom');
      this.takeError('recvfrom');
      if (this.ep.localPort === 0) this.fail('EINVAL', 'recvfrom', 'socket is not bound');
      const d = this.ep.take();
      if (!d) return WOULD_BLOCK;
      const data = d.data.length > bufsize ? d.data.subarray(0, Math.max(0, bufsize)) : d.data;
      return [data, this.addrTuple(d.addr, d.port)] as [Uint8Array, SockAddr];
    });
  }

  /** As `recvfrom`, without the sender's address. */
  async recv(bufsize: number): Promise<Uint8Array> {
    const [data] = await this.recvfrom(bufsize);
    return data;
  }

  /** The socket's own address; `['0.0.0.0', 0]` until it is bound. */
  getsockname(): SockAddr {
    this.checkOpen('getsockname');
    return this.addrTuple(this.ep.localAddr, this.ep.localPort);
  }

  /** The connected peer's address. Throws ENOTCONN if not connected. */
  getpeername(): SockAddr {
    this.checkOpen('getpeername');
    if (!this.ep.connected) throw this.error('ENOTCONN', 'getpeername');
    return this.addrTuple(this.ep.remoteAddr, this.ep.remotePort);
  }

  /**
   * Sets a SOL_SOCKET option: SO_REUSEADDR, SO_BROADCAST, SO_RCVBUF or SO_SNDBUF (in
   * bytes, doubled and clamped as Linux does). Throws ENOPROTOOPT for any other.
   */
  setsockopt(level: number, option: number, value: number | boolean): void {
    this.checkOpen('setsockopt');
    const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    if (level === IPPROTO_IPV6 && option === IPV6_V6ONLY && this.family === AF_INET6 && typeof v === 'number') {
      // RFC 3493 §5.3: only before bind.
      if (this.ep.localPort !== 0) throw this.error('EINVAL', 'setsockopt', 'IPV6_V6ONLY must be set before bind');
      this.ep.v6only = v !== 0;
      return;
    }
    if (level !== SOL_SOCKET || typeof v !== 'number') throw this.error('ENOPROTOOPT', 'setsockopt', `option ${level}/${option} is not supported on UDP sockets`);
    switch (option) {
      case SO_REUSEADDR: this.ep.reuseAddr = v !== 0; return;
      case SO_BROADCAST: this.ep.broadcast = v !== 0; return;
      case SO_RCVBUF: this.ep.rcvBuf = Math.min(MAX_BUF, Math.max(MIN_BUF, v * 2)); return;
      case SO_SNDBUF: this.ep.sndBuf = Math.min(MAX_BUF, Math.max(MIN_BUF, v * 2)); return;
      default: throw this.error('ENOPROTOOPT', 'setsockopt', `option ${option} is not supported on UDP sockets`);
    }
  }

  /**
   * Reads a SOL_SOCKET option: those setsockopt takes, SO_TYPE, or SO_ERROR (the pending
   * error's errno, or 0; reading clears it). Throws ENOPROTOOPT for any other.
   */
  getsockopt(level: number, option: number): number {
    this.checkOpen('getsockopt');
    if (level === IPPROTO_IPV6 && option === IPV6_V6ONLY && this.family === AF_INET6) return this.ep.v6only ? 1 : 0;
    if (level !== SOL_SOCKET) throw this.error('ENOPROTOOPT', 'getsockopt');
    switch (option) {
      case SO_REUSEADDR: return this.ep.reuseAddr ? 1 : 0;
      case SO_BROADCAST: return this.ep.broadcast ? 1 : 0;
      case SO_RCVBUF: return this.ep.rcvBuf;
      case SO_SNDBUF: return this.ep.sndBuf;
      case SO_TYPE: return SOCK_DGRAM;
      case SO_ERROR: {
        const e = this.ep.pendingError;
        this.ep.pendingError = null;
        return e ? this.error(e, 'getsockopt').errno : 0;
      }
      default: throw this.error('ENOPROTOOPT', 'getsockopt');
    }
  }

  /** Closes the socket: its port is free again and queued datagrams are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.udp.close(this.ep);
    this.release(this.fd);
    this.keep.release();
    this.notify();
  }
}
