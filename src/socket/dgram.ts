/**
 * The `node:dgram` face on the datagram sockets, with Node's call forms and events:
 *
 *   const s = host.dgram.createSocket('udp4');
 *   s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
 *   s.bind(7);
 *
 * Differences from Node: no multicast, no names (only
 * `localhost`, this stack's own address, which is also the default destination).
 */
import { EventEmitter } from 'node:events';
import { SOCK_DGRAM, AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, SOL_SOCKET, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR } from './constants.js';
import type { DgramSocket } from './dgram-socket.js';
import { ProcessHold } from './host.js';
import { invalidArg, toPort } from './net.js';
import type { SockAddr } from './address.js';
import type { SocketApi } from './socket-api.js';

/** A received datagram's sender and size, as the 'message' event's second argument (Node's `dgram.RemoteInfo`). */
export interface RemoteInfo {
  /** The sender's address (on a 'udp6' socket an IPv4 sender reads `::ffff:a.b.c.d`). */
  address: string;
  /** `'IPv4'` or `'IPv6'`: the socket's family. */
  family: 'IPv4' | 'IPv6';
  /** The sender's port. */
  port: number;
  /** The datagram's length in bytes. */
  size: number;
}

/** `bind(options)`'s options, as Node's `dgram.BindOptions`. */
export interface BindOptions {
  /** The port; 0 or none picks an ephemeral port. */
  port?: number;
  /** The local address; default `'0.0.0.0'` ('udp4') or `'::'` ('udp6'), any. */
  address?: string;
  /** Accepted and ignored (there is no cluster here). */
  exclusive?: boolean;
}

/** `createSocket(options)`'s options, as Node's `dgram.SocketOptions`. */
export interface UdpSocketOptions {
  /** `'udp4'` or `'udp6'`. */
  type: 'udp4' | 'udp6';
  /** 'udp6': IPv6 datagrams only (IPV6_V6ONLY); by default a 'udp6' socket on `::` also takes IPv4. */
  ipv6Only?: boolean;
  /** Set SO_REUSEADDR, so that sockets that all set it can bind the same port. */
  reuseAddr?: boolean;
  /** SO_RCVBUF in bytes (doubled and clamped, as Linux does). */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes (doubled and clamped, as Linux does). */
  sendBufferSize?: number;
  /** Closes the socket when aborted. */
  signal?: AbortSignal;
}

/** `send`'s callback: the error, or null and the number of bytes sent. */
export type SendCallback = (error: Error | null, bytes: number) => void;
type Message = string | Uint8Array | DataView | ReadonlyArray<string | Uint8Array | DataView>;

function bytesOf(m: string | Uint8Array | DataView): Uint8Array {
  if (typeof m === 'string') return Buffer.from(m);
  if (m instanceof Uint8Array) return m;
  if (ArrayBuffer.isView(m)) return new Uint8Array(m.buffer, m.byteOffset, m.byteLength);
  throw invalidArg('msg', 'of type string or an instance of Buffer, TypedArray, DataView or an Array of them', m);
}

/**
 * A UDP socket with `node:dgram`'s API (`dgram.Socket`): `bind`, `connect`, `send`, and
 * the 'listening', 'connect', 'message', 'error' and 'close' events. Made by
 * `host.dgram.createSocket('udp4')`.
 */
export class UdpSocket extends EventEmitter {
  /** The BSD socket underneath (for options this API does not have). */
  readonly sock: DgramSocket;
  private receiving = false;
  private readonly family: 'IPv4' | 'IPv6';
  private closed = false;
  private bound = false;
  private readonly keep: ProcessHold;

  /** @internal Use `host.dgram.createSocket()`. */
  constructor(private readonly api: SocketApi, opts: Omit<UdpSocketOptions, 'type'> & { type?: 'udp4' | 'udp6' } = {}) {
    super();
    this.keep = new ProcessHold(() => api.host.keepAlive());
    this.sock = api.socket(opts.type === 'udp6' ? AF_INET6 : AF_INET, SOCK_DGRAM).unref(); // the face holds the process itself
    this.family = opts.type === 'udp6' ? 'IPv6' : 'IPv4';
    if (opts.ipv6Only && opts.type === 'udp6') this.sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (opts.reuseAddr) this.sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (opts.recvBufferSize !== undefined) this.setRecvBufferSize(opts.recvBufferSize);
    if (opts.sendBufferSize !== undefined) this.setSendBufferSize(opts.sendBufferSize);
    opts.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  private check(): void {
    if (this.closed) throw Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  }

  /** The socket now has a port: it keeps the process alive and receives. */
  private opened(): void {
    if (this.bound || this.closed) return;
    this.bound = true;
    this.keep.take();
    this.startReceiving();
  }

  /**
   * `bind([port][, address][, cb])` or `bind(options[, cb])`; port 0 or none picks an
   * ephemeral port. 'listening' follows; a failure is an 'error' event (EADDRINUSE).
   */
  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port?: number, callback?: () => void): this;
  bind(callback?: () => void): this;
  bind(options: BindOptions, callback?: () => void): this;
  bind(...args: unknown[]): this {
    this.check();
    const last = args[args.length - 1];
    const cb = typeof last === 'function' ? (last as () => void) : undefined;
    const rest = cb ? args.slice(0, -1) : args;
    let port = 0;
    const any = this.family === 'IPv6' ? '::' : '0.0.0.0';
    let address = any;
    const first = rest[0];
    if (first !== null && typeof first === 'object') {
      const o = first as BindOptions & { fd?: unknown };
      if (o.fd !== undefined) throw invalidArg('options.fd', 'absent (binding to a file descriptor is not supported)', o.fd);
      port = toPort(o.port ?? 0);
      if (o.address !== undefined) address = o.address;
    } else if (first !== undefined && first !== null) {
      port = toPort(first);
      if (rest[1] !== undefined && rest[1] !== null) {
        if (typeof rest[1] !== 'string') throw invalidArg('address', 'of type string', rest[1]);
        address = rest[1] || any;
      }
    }
    if (this.bound) throw Object.assign(new Error('Socket is already bound'), { code: 'ERR_SOCKET_ALREADY_BOUND' });
    try {
      this.sock.bind([address, port]);
    } catch (e) {
      queueMicrotask(() => this.emit('error', e));
      return this;
    }
    if (cb) this.once('listening', cb);
    this.opened();
    queueMicrotask(() => this.emit('listening'));
    return this;
  }

  /** `connect(port[, address][, cb])`: the default destination, and the only source received from. */
  connect(port: number, address?: string, callback?: (err?: Error) => void): void;
  connect(port: number, callback: (err?: Error) => void): void;
  connect(port: number, address?: string | ((err?: Error) => void), callback?: (err?: Error) => void): void {
    this.check();
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    }
    const p = toPort(port);
    if (p === 0) throw Object.assign(new RangeError('Port should be > 0 and < 65536. Received 0.'), { code: 'ERR_SOCKET_BAD_PORT' });
    if (address !== undefined && typeof address !== 'string') throw invalidArg('address', 'of type string', address);
    this.sock.connect([address || 'localhost', p]).then(
      () => {
        this.opened();
        this.emit('connect');
        callback?.();
      },
      (e: Error) => (callback ? callback(e) : this.emit('error', e)),
    );
  }

  /** Dissolves the association made by `connect`. */
  disconnect(): void {
    this.check();
    if (!this.sock.ep.connected) throw Object.assign(new Error('Not connected'), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
    void this.sock.connect([this.family === 'IPv6' ? '::' : '0.0.0.0', 0]);
  }

  /**
   * Sends one datagram, in Node's forms: `send(msg[, offset, length][, port][, address][, cb])`.
   * `msg` is a string, a Buffer/TypedArray/DataView, or an array of them sent as one
   * datagram. On a connected socket port and address are left out. `cb(err, bytes)`;
   * without a callback a failure is an 'error' event.
   */
  send(msg: Message, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: Message, port?: number, callback?: SendCallback): void;
  send(msg: Message, callback?: SendCallback): void;
  send(msg: string | Uint8Array | DataView, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: string | Uint8Array | DataView, offset: number, length: number, port?: number, callback?: SendCallback): void;
  send(msg: string | Uint8Array | DataView, offset: number, length: number, callback?: SendCallback): void;
  send(msg: Message, ...args: unknown[]): void {
    this.check();
    const connected = this.sock.ep.connected;
    let a = args;
    let cb: SendCallback | undefined;
    let n = a.length;
    for (let i = 0; i < a.length; i++) {
      if (typeof a[i] === 'function') {
        cb = a[i] as SendCallback;
        n = i;
        break;
      }
    }
    while (n > 0 && a[n - 1] === undefined) n--;
    if (n !== a.length) a = a.slice(0, n);
    let data: Uint8Array;
    if (Array.isArray(msg)) {
      const parts = msg.map((m) => bytesOf(m as string | Uint8Array | DataView));
      data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } else {
      data = bytesOf(msg as string | Uint8Array | DataView);
    }
    // Node: unconnected, a third argument (port) or fourth (address) means the offset form;
    // connected, a numeric second argument (length) does.
    const offsetForm = connected ? typeof a[1] === 'number' : a.length >= 3;
    if (offsetForm) {
      if (Array.isArray(msg)) throw invalidArg('offset', 'absent when msg is an array', a[0]);
      const off = a[0];
      const len = a[1];
      if (typeof off !== 'number' || !Number.isInteger(off) || off < 0 || off > data.length) {
        throw Object.assign(new RangeError('"offset" is outside of buffer bounds'), { code: 'ERR_BUFFER_OUT_OF_BOUNDS' });
      }
      if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || off + len > data.length) {
        throw Object.assign(new RangeError('"length" is outside of buffer bounds'), { code: 'ERR_BUFFER_OUT_OF_BOUNDS' });
      }
      data = data.subarray(off, off + len);
      a = a.slice(2);
    }
    let p: Promise<number>;
    if (connected) {
      if (a.length > 0) throw Object.assign(new Error('Already connected'), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
      p = this.sock.send(data);
    } else {
      if (a.length === 0) throw Object.assign(new Error('Not connected: give a port'), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
      const port = toPort(a[0]);
      if (port === 0) throw Object.assign(new RangeError('Port should be > 0 and < 65536. Received 0.'), { code: 'ERR_SOCKET_BAD_PORT' });
      const address = a[1];
      if (address !== undefined && address !== null && typeof address !== 'string') throw invalidArg('address', 'of type string', address);
      p = this.sock.sendto(data, [(address as string | undefined) || 'localhost', port]);
    }
    p.then(
      (n) => {
        this.opened(); // sending bound an ephemeral port
        cb?.(null, n);
      },
      (e: Error) => (cb ? cb(e, 0) : this.emit('error', e)),
    );
  }

  private startReceiving(): void {
    if (this.receiving || this.closed) return;
    this.receiving = true;
    void (async () => {
      while (!this.closed) {
        try {
          const [data, [address, port]] = await this.sock.recvfrom(65535);
          this.emit('message', Buffer.from(data.buffer, data.byteOffset, data.length), { address, family: this.family, port, size: data.length });
        } catch (e) {
          if (this.closed) break;
          const err = e as Error & { code?: string };
          if (err.code === 'EINVAL') break; // not bound yet
          this.emit('error', err);
        }
      }
    })();
  }

  /** The bound address; throws EBADF-like ERR_SOCKET_DGRAM_NOT_RUNNING when closed. */
  address(): {
    /** The address: IPv4 dotted, IPv6 in RFC 5952 form. */
    address: string;
    /** `'IPv4'` or `'IPv6'`. */
    family: 'IPv4' | 'IPv6';
    /** The port. */
    port: number;
  } {
    this.check();
    const [address, port] = this.sock.getsockname();
    return { address, family: this.family, port };
  }

  /** The connected peer's address; throws ERR_SOCKET_DGRAM_NOT_CONNECTED if not connected. */
  remoteAddress(): {
    /** The address: IPv4 dotted, IPv6 in RFC 5952 form. */
    address: string;
    /** `'IPv4'` or `'IPv6'`. */
    family: 'IPv4' | 'IPv6';
    /** The port. */
    port: number;
  } {
    this.check();
    let a: SockAddr;
    try {
      a = this.sock.getpeername();
    } catch {
      throw Object.assign(new Error('Not connected'), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
    }
    return { address: a[0], family: this.family, port: a[1] };
  }

  /** Allows (or forbids) sending to broadcast addresses (SO_BROADCAST). */
  setBroadcast(flag: boolean): void {
    this.sock.setsockopt(SOL_SOCKET, SO_BROADCAST, flag);
  }

  /** Sets SO_RCVBUF, in bytes (doubled and clamped, as Linux does). */
  setRecvBufferSize(n: number): void {
    this.sock.setsockopt(SOL_SOCKET, SO_RCVBUF, n);
  }

  /** Sets SO_SNDBUF, in bytes (doubled and clamped, as Linux does). */
  setSendBufferSize(n: number): void {
    this.sock.setsockopt(SOL_SOCKET, SO_SNDBUF, n);
  }

  /** SO_RCVBUF, in bytes: what queued datagrams may take before more are dropped. */
  getRecvBufferSize(): number {
    return this.sock.getsockopt(SOL_SOCKET, SO_RCVBUF);
  }

  /** SO_SNDBUF, in bytes. */
  getSendBufferSize(): number {
    return this.sock.getsockopt(SOL_SOCKET, SO_SNDBUF);
  }

  /** Lets the process exit while this socket is open. */
  unref(): this {
    this.keep.unref();
    return this;
  }

  /** Keeps the process alive while this socket is open again (the default). */
  ref(): this {
    this.keep.ref();
    return this;
  }

  /** Closes the socket; 'close' follows, and `cb` with it. Closing again only calls `cb`. */
  close(cb?: () => void): this {
    if (this.closed) {
      if (cb) queueMicrotask(cb);
      return this;
    }
    this.closed = true;
    this.sock.close();
    this.keep.release();
    if (cb) this.once('close', cb);
    queueMicrotask(() => this.emit('close'));
    return this;
  }

  /** Closes the socket (for `await using`); resolves after 'close'. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((r) => this.close(r));
  }
}

type MessageListener = (msg: Buffer, rinfo: RemoteInfo) => void;

export function createSocket(api: SocketApi, type: 'udp4' | 'udp6', listener?: MessageListener): UdpSocket;
export function createSocket(api: SocketApi, opts: UdpSocketOptions, listener?: MessageListener): UdpSocket;
export function createSocket(api: SocketApi, typeOrOpts: 'udp4' | 'udp6' | UdpSocketOptions, listener?: MessageListener): UdpSocket {
  const opts = typeof typeOrOpts === 'string' ? { type: typeOrOpts } : typeOrOpts;
  if (opts === null || typeof opts !== 'object') throw invalidArg('type', "'udp4', 'udp6' or an options object", typeOrOpts);
  if (opts.type !== 'udp4' && opts.type !== 'udp6') {
    throw Object.assign(new TypeError(`Bad socket type specified. Valid types are: udp4, udp6 (got ${String(opts.type)})`), { code: 'ERR_SOCKET_BAD_TYPE' });
  }
  const s = new UdpSocket(api, opts);
  if (listener) s.on('message', listener);
  return s;
}

/** `node:dgram` bound to one stack: what `host.dgram` is. */
export interface DgramFace {
  /** A new UDP socket, as `dgram.createSocket('udp4')` or `('udp6')`; `listener` is added for 'message'. */
  createSocket(type: 'udp4' | 'udp6', listener?: MessageListener): UdpSocket;
  /** A new UDP socket with options, as `dgram.createSocket(options)`; `listener` is added for 'message'. Throws ERR_SOCKET_BAD_TYPE unless `type` is `'udp4'` or `'udp6'`. */
  createSocket(opts: UdpSocketOptions, listener?: MessageListener): UdpSocket;
}

/** Builds the `node:dgram` face on a SocketApi (a StackHost or SimHost has one as `dgram`). */
export function dgramFace(api: SocketApi): DgramFace {
  return {
    createSocket: (t: 'udp4' | 'udp6' | UdpSocketOptions, l?: MessageListener) => createSocket(api, t as UdpSocketOptions, l),
  };
}
