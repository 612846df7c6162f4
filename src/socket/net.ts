/**
 * The `node:net` face on the stream sockets: `Socket` and `Server` behave as Node's do
 * (the same call forms, events, states and errors), so Node's own `http.Server`, `tls`,
 * `ws` or anything else that takes a `net.Socket` runs over this stack unchanged:
 *
 *   const { net } = host;                                   // a face bound to one stack
 *   net.createServer((sock) => sock.pipe(sock)).listen(7);  // echo
 *   const c = net.connect({ port: 7, host: '10.7.0.1' }, () => c.end('hi\n'));
 *
 * Each class here takes the stack's `SocketApi` first; `netFace(api)` binds them to one
 * stack with Node's exact signatures. Differences from Node: names resolve through the
 * stack's own names (names.ts), no UNIX-domain paths; `connect` defaults to `localhost`,
 * this stack's own address. IPv6 hosts work as in Node (`::` listens on both families).
 * `onread` (Node's read-into-one-buffer option) is honoured; a malformed one throws a
 * TypeError where Node would silently fall back to 'data' events.
 */
import { EventEmitter } from 'node:events';
import type * as nodeNet from 'node:net';
import { Duplex } from 'node:stream';
import { tryParseIpv6 } from '../ip/ipv6-address.js';
import type { SockAddr } from './address.js';
import {
  AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, IPPROTO_TCP, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_LINGER, SO_REUSEADDR, TCP_KEEPIDLE,
  TCP_NODELAY,
} from './constants.js';
import { ProcessHold } from './host.js';
import type { SocketApi } from './socket-api.js';
import { DRAIN_LIMIT_MS, connectionDrained, type StreamSocket } from './stream-socket.js';

const READ_CHUNK = 64 * 1024;
const EMPTY_CHUNK = Buffer.alloc(0);

/** What is left of `list` once its first `n` bytes are sent, as one buffer. */
function rest(list: readonly Buffer[], n: number): Buffer {
  const left: Buffer[] = [];
  for (const b of list) {
    if (n >= b.length) n -= b.length;
    else {
      left.push(n > 0 ? b.subarray(n) : b);
      n = 0;
    }
  }
  return left.length === 1 ? left[0]! : Buffer.concat(left);
}
/** How long a closed socket's connection may keep the process up to deliver its data. */

/** Node's error for an argument of the wrong type (`ERR_INVALID_ARG_TYPE`). */
export function invalidArg(name: string, expected: string, got: unknown): TypeError {
  const shown = typeof got === 'function' ? 'a function' : typeof got === 'string' ? `"${got}"` : typeof got === 'object' ? (got === null ? 'null' : 'an object') : String(got);
  return Object.assign(new TypeError(`The "${name}" argument must be ${expected}. Received ${shown}`), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** Node's error for a value out of range (`ERR_SOCKET_BAD_PORT` for ports). */
function badPort(name: string, got: unknown): RangeError {
  return Object.assign(new RangeError(`${name} should be >= 0 and < 65536. Received ${String(got)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
}

/** A port given as a number or a numeric string, checked as Node's validatePort does. */
export function toPort(v: unknown, name = 'port'): number {
  const n = typeof v === 'string' && v.trim().length > 0 ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) throw badPort(name === 'port' ? 'Port' : name, v);
  return n;
}

/**
 * A name that does not resolve fails as Node's dns.lookup does: code ENOTFOUND (EAI_AGAIN
 * stays), syscall getaddrinfo, and the hostname.
 */
function lookupError(err: Error, hostname: string): Error {
  const code = (err as { code?: string }).code;
  if (code !== 'EAI_NONAME' && code !== 'EAI_AGAIN') return err;
  const c = code === 'EAI_NONAME' ? 'ENOTFOUND' : 'EAI_AGAIN';
  return Object.assign(new Error(`getaddrinfo ${c} ${hostname}`), { code: c, errno: (err as { errno?: number }).errno, syscall: 'getaddrinfo', hostname });
}

/** Node's `net.isIPv6`: an IPv6 address in any RFC 4291 text form (a zone allowed). */
function isIPv6Text(s: string): boolean {
  return typeof s === 'string' && tryParseIpv6(s.split('%')[0]!) !== null;
}

/** The socket family for a host: AF_INET6 for an IPv6 address (or when asked for with family 6), else AF_INET. */
function familyForHost(host: string, family?: unknown): typeof AF_INET | typeof AF_INET6 {
  return family === 6 || isIPv6Text(host) ? AF_INET6 : AF_INET;
}

function hostArg(v: unknown, name: string, dflt: string): string {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v !== 'string') throw invalidArg(name, 'of type string', v);
  return v;
}

/** What `new Socket(options)` takes (Node's `SocketConstructorOpts`, less `fd`). */
export interface SocketOptions {
  /** Keep writing after the peer's FIN (default false). */
  allowHalfOpen?: boolean;
  /** Accepted for Node's sake; a stream over this stack is always readable and writable. */
  readable?: boolean;
  /** Accepted for Node's sake, as `readable`. */
  writable?: boolean;
  /** Destroys the socket when aborted. */
  signal?: AbortSignal;
  /** Read into one buffer of the caller's instead of a new `Buffer` per 'data' event (as Node's `onread`). */
  onread?: OnReadOptions;
}

/**
 * Node's `onread`: incoming bytes go into `buffer` and `callback(nread, buffer)` is called
 * for each read, in place of 'data' events, so a reader that consumes each chunk before
 * the next allocates nothing per read. 'end', 'close' and 'error' come as usual; returning
 * `false` from the callback stops reading until `resume()` (or `read()`), as `pause()` does.
 */
export interface OnReadOptions {
  /** The buffer every read fills from its start, or a function that returns the buffer for the next read (called before the first and after each callback). */
  buffer: Uint8Array | (() => Uint8Array);
  /** Called with the number of bytes read into `buf` (1 or more) and `buf` itself; `false` pauses. */
  callback: (nread: number, buf: Uint8Array) => boolean | void;
}

/** What `connect(options)` takes. */
export interface TcpConnectOptions {
  /** The port to connect to. */
  port: number | string;
  /** An IPv4 or IPv6 address, `localhost` or a name; default `localhost` (this stack's own address). */
  host?: string;
  /** 6: resolve `host` as IPv6 (`localhost` is then ::1); 4 or none: IPv4, unless `host` is an IPv6 address. */
  family?: number;
  /** Bind this end to an address of this stack first. */
  localAddress?: string;
  /** Bind this end to a port first. */
  localPort?: number;
  /** Milliseconds of idle time before 'timeout' (as `setTimeout`). */
  timeout?: number;
  /** TCP_NODELAY from the start. */
  noDelay?: boolean;
  /** SO_KEEPALIVE from the start, probing after `keepAliveInitialDelay` ms idle. */
  keepAlive?: boolean;
  /** Idle time in ms before the first keepalive probe (TCP_KEEPIDLE, rounded down to whole seconds); below 1000 the stack's default stays. */
  keepAliveInitialDelay?: number;
  /** Keep writing after the peer's FIN (default false: end() in answer, as Node). */
  allowHalfOpen?: boolean;
  /** Destroys the socket when aborted. */
  signal?: AbortSignal;
  /** Read into one buffer of the caller's instead of a new `Buffer` per 'data' event (as Node's `onread`). */
  onread?: OnReadOptions;
}

/** What `server.listen(options)` takes. */
export interface ListenOptions {
  /** The port; 0 or none picks an ephemeral port. */
  port?: number | string;
  /** This stack's address, `0.0.0.0`, or `::` (the default when the stack has IPv6: both families, as Node). */
  host?: string;
  /** With `::`, take IPv6 connections only (IPV6_V6ONLY). */
  ipv6Only?: boolean;
  /** Accept queue length (default 511, capped at 4096 as Linux's somaxconn). */
  backlog?: number;
  /** Accepted and ignored: every listener here is exclusive to its stack. */
  exclusive?: boolean;
  /** Closes the server when aborted (right after listening, if already aborted). */
  signal?: AbortSignal;
}

/** What `createServer(options)` takes. */
export interface ServerOptions {
  /** Accepted sockets keep their writing side open after the peer's FIN. */
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused. */
  pauseOnConnect?: boolean;
  /** TCP_NODELAY on accepted sockets. */
  noDelay?: boolean;
  /** SO_KEEPALIVE on accepted sockets, probing after `keepAliveInitialDelay` ms idle. */
  keepAlive?: boolean;
  /** Idle time in ms before the first keepalive probe (TCP_KEEPIDLE, rounded down to whole seconds); below 1000 the stack's default stays. */
  keepAliveInitialDelay?: number;
}

type ReadyState = 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';

/**
 * A TCP connection as a `Duplex` stream, shaped like `net.Socket`: 'connect' and
 * 'ready' once established, 'data'/'end' with backpressure, half-close with `end()`,
 * 'close' with `hadError`, `setTimeout` on the stack's clock, `ref`/`unref`.
 */
export class TcpStream extends Duplex {
  private socket: StreamSocket | null;
  /** True while the handshake is under way. */
  connecting = false;
  /** Idle timeout in ms as set by `setTimeout` (undefined when off), as Node's `socket.timeout`. */
  timeout: number | undefined = undefined;
  /** Node's Happy Eyeballs bookkeeping; there is one address family here. */
  readonly autoSelectFamilyAttemptedAddresses: string[] = [];
  private readonly api: SocketApi;
  private readBytes = 0;
  private writtenBytes = 0;
  private reading = false;
  private idleTimer: { cancel(): void } | null = null;
  private readonly keep: ProcessHold;
  private started = false;
  private pauseOnConnect = false;
  /** setNoDelay/setKeepAlive before the socket exists: applied when it does (as Node). */
  private pendingNoDelay: boolean | null = null;
  private pendingKeepAlive: [boolean, number] | null = null;
  /** `onread`: the caller's buffer (null until the generator gives the first), its generator, the callback. */
  private userBuf: Uint8Array | null = null;
  private readonly userBufGen: (() => Uint8Array) | null = null;
  private readonly userCb: ((nread: number, buf: Uint8Array) => boolean | void) | null = null;
  /** `onread`: reading stopped by `pause()` or by the callback returning false, until `resume()`/`read()`. */
  private userStopped = false;

  /** @internal Use `host.net.Socket` / `host.net.connect()` (or `new TcpStream(api)`). */
  constructor(api: SocketApi, opts: SocketOptions = {}, sock: StreamSocket | null = null, pauseOnConnect = false) {
    super({ allowHalfOpen: opts.allowHalfOpen ?? false, emitClose: false, signal: opts.signal });
    this.api = api;
    this.keep = new ProcessHold(() => api.host.keepAlive());
    const onread = (opts as { onread?: unknown }).onread;
    if (onread !== undefined && onread !== null) {
      const { buffer, callback } = onread as { buffer?: unknown; callback?: unknown };
      if (typeof callback !== 'function') throw invalidArg('options.onread.callback', 'of type function', callback);
      if (typeof buffer === 'function') this.userBufGen = buffer as () => Uint8Array;
      else if (buffer instanceof Uint8Array && buffer.length > 0) this.userBuf = buffer;
      else throw invalidArg('options.onread.buffer', 'a non-empty Uint8Array or a function', buffer);
      this.userCb = callback as (nread: number, buf: Uint8Array) => boolean | void;
    }
    // The stream holds the process itself (ref/unref/drain as Node's), not the socket under it.
    sock?.unref();
    this.socket = sock;
    this.pauseOnConnect = pauseOnConnect;
    if (sock) this.established(false);
  }

  /** @internal An accepted connection: established already. */
  static accepted(api: SocketApi, sock: StreamSocket, allowHalfOpen: boolean, pauseOnConnect = false): TcpStream {
    return new TcpStream(api, { allowHalfOpen }, sock, pauseOnConnect);
  }

  /** The stack's socket underneath (null until `connect()` for a `new Socket()`). */
  get sock(): StreamSocket | null {
    return this.socket;
  }

  private established(emit: boolean): void {
    this.started = true;
    this.connecting = false;
    this.keep.take();
    if (emit) {
      this.emit('connect');
      this.emit('ready');
    }
    this.touch();
    // A read asked for while connecting starts now. As Node does, start reading at once
    // (up to the high-water mark) even with no reader, so that the peer's FIN is seen and
    // an idle half-closed connection ends and closes on its own.
    if (this.reading) {
      this.reading = false;
      this._read();
    } else if (!this.pauseOnConnect && (!this.isPaused() || this.readableFlowing === null)) {
      this.read(0);
    }
  }

  // ------------------------------------------------------------------ connecting

  /**
   * Opens the connection, as `socket.connect(port[, host][, cb])` or
   * `socket.connect(options[, cb])`. 'connect' follows once established; failures are
   * 'error' events whose `syscall` is `connect` (ECONNREFUSED, ETIMEDOUT, ENETUNREACH).
   */
  connect(options: TcpConnectOptions | nodeNet.SocketConnectOpts, connectListener?: () => void): this;
  connect(port: number, host: string, connectListener?: () => void): this;
  connect(port: number, connectListener?: () => void): this;
  /** Node's UNIX-domain form: refused here with a TypeError (there are no UNIX-domain sockets on this stack). */
  connect(path: string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [opts, cb] = normalizeConnectArgs(args);
    if (this.destroyed) {
      throw Object.assign(new Error('Socket is closed: make a new one to connect again'), { code: 'ERR_SOCKET_CLOSED' });
    }
    if (this.socket || this.started) throw Object.assign(new Error('Socket is already connecting or connected'), { code: 'ERR_SOCKET_CONNECTING' });
    const port = toPort(opts.port);
    const host = hostArg(opts.host, 'options.host', 'localhost');
    if (cb) this.once('connect', cb);
    const s = this.api.socket(familyForHost(host, (opts as { family?: unknown }).family), SOCK_STREAM).unref();
    this.socket = s;
    this.connecting = true;
    this.started = true;
    this.keep.take();
    // The idle timeout runs through the handshake too, as Node's does.
    if (opts.timeout !== undefined) this.setTimeout(opts.timeout);
    else this.touch();
    try {
      if (opts.noDelay || this.pendingNoDelay) s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      if (opts.keepAlive) this.setKeepAlive(true, opts.keepAliveInitialDelay ?? 0);
      else if (this.pendingKeepAlive) this.setKeepAlive(...this.pendingKeepAlive);
      this.pendingNoDelay = this.pendingKeepAlive = null;
      if (opts.localAddress !== undefined || opts.localPort !== undefined) {
        s.bind([hostArg(opts.localAddress, 'options.localAddress', ''), toPort(opts.localPort ?? 0, 'localPort')]);
      }
    } catch (e) {
      queueMicrotask(() => this.destroy(e as Error));
      return this;
    }
    s.connect([host, port]).then(
      () => {
        if (!this.destroyed) this.established(true);
      },
      (err: Error) => this.destroy(lookupError(err, host)),
    );
    return this;
  }

  // ------------------------------------------------------------------ names and state

  /** The peer's address once connected (kept after close, as Node does). */
  get remoteAddress(): string | undefined {
    return this.peer()?.[0];
  }
  /** The peer's port once connected. */
  get remotePort(): number | undefined {
    return this.peer()?.[1];
  }
  /** `'IPv4'` or `'IPv6'` once connected (an IPv6 server sees IPv4 clients as `::ffff:…`, family `'IPv6'`, as Node). */
  get remoteFamily(): string | undefined {
    return this.peer() ? this.familyName() : undefined;
  }

  private familyName(): string {
    return this.socket?.family === AF_INET6 ? 'IPv6' : 'IPv4';
  }
  /** This end's address once it has one. */
  get localAddress(): string | undefined {
    return this.local()?.[0];
  }
  /** This end's port once it has one. */
  get localPort(): number | undefined {
    return this.local()?.[1];
  }
  /** `'IPv4'` or `'IPv6'` once bound. */
  get localFamily(): string | undefined {
    return this.local() ? this.familyName() : undefined;
  }

  // Kept once known, so that they still read after close (as Node's _peername/_sockname).
  private peerName: SockAddr | undefined;
  private localName: SockAddr | undefined;

  private peer(): SockAddr | undefined {
    if (this.peerName) return this.peerName;
    try {
      this.peerName = this.socket?.getpeername();
    } catch {
      // not connected (yet)
    }
    return this.peerName;
  }
  private local(): SockAddr | undefined {
    if (this.localName) return this.localName;
    try {
      const a = this.socket?.getsockname();
      if (a && a[1] !== 0 && this.socket?.conn && this.socket.conn.state !== 'SYN-SENT') this.localName = a;
      return a && a[1] !== 0 ? a : undefined;
    } catch {
      return undefined;
    }
  }

  /** The local end, as `net.Socket#address()` ({} before it has one). */
  address(): {
    /** The address: IPv4 dotted, IPv6 in RFC 5952 form. */
    address: string;
    /** `'IPv4'` or `'IPv6'`. */
    family: string;
    /** The port. */
    port: number;
  } | {} {
    const l = this.local();
    return l ? { address: l[0], family: this.familyName(), port: l[1] } : {};
  }

  /** Bytes received (handed to the stream). */
  get bytesRead(): number {
    return this.readBytes;
  }
  /** Bytes written (accepted by the socket, plus what waits in the stream's buffer). */
  get bytesWritten(): number {
    return this.writtenBytes + this.writableLength;
  }
  /** True until connected: before `connect()` and while connecting. */
  get pending(): boolean {
    return this.socket === null || this.connecting;
  }
  /** `'opening'` while connecting, then `'open'`, `'readOnly'`/`'writeOnly'` after a half-close, `'closed'`. */
  get readyState(): ReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }
  /** @deprecated as in Node: use `writableLength`. */
  get bufferSize(): number {
    return this.writableLength;
  }

  // ------------------------------------------------------------------ stream internals

  /**
   * @internal The stream's read hook: what is buffered is pushed at once; when nothing
   * is, the socket is watched until something is (no promise either way).
   */
  override _read(): void {
    if (this.userCb) {
      this.readIntoUser();
      return;
    }
    if (this.reading) return;
    const s = this.socket;
    if (!s || this.connecting) {
      this.reading = true; // established() starts it
      return;
    }
    let data: Buffer | null;
    try {
      data = s.recvNow(READ_CHUNK);
    } catch (e) {
      this.destroy(e as Error);
      return;
    }
    if (data !== null) {
      // The stream calls _read again while it wants more.
      this.pushData(data);
      return;
    }
    this.waitForData(s);
  }

  /**
   * Nothing buffered yet: watch the socket (a prebound function, no promise) and read
   * again when its state changes: data, the peer's FIN, an error.
   */
  private waitForData(s: StreamSocket): void {
    this.reading = true;
    s.watch(this.onSocketChange);
  }

  private readonly onSocketChange = (): void => {
    this.socket?.unwatch(this.onSocketChange);
    this.reading = false;
    if (this.destroyed) return;
    if (this.userCb) this.readIntoUser();
    else this._read();
  };

  /** Hands bytes to the stream (the EOF when empty). */
  private pushData(data: Buffer): void {
    if (data.length === 0) {
      this.endOfStream();
      return;
    }
    this.readBytes += data.length;
    this.touch();
    this.push(data);
  }

  /**
   * `onread`: reads into the caller's buffer, each followed by its callback; the bytes
   * never enter the stream's buffer, so nothing is allocated per read. The stream's
   * `_read` is called once; from then on this loop runs until paused, EOF or an error.
   */
  private readIntoUser(): void {
    if (this.reading || this.userStopped) return;
    const s = this.socket;
    if (!s || this.connecting) {
      this.reading = true; // established() starts it
      return;
    }
    // What is buffered now goes to the callback at once, read after read (the ring holds a
    // bounded amount, so this ends); then the socket is watched for more.
    for (;;) {
      if (this.userBuf === null && !this.nextUserBuf()) return;
      let n: number;
      try {
        n = s.recvIntoNow(this.userBuf!);
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      if (n < 0) break;
      if (!this.userRead(n)) return;
    }
    this.waitForData(s);
  }

  /**
   * The peer's FIN, read. As Node's net does: read(0) after the EOF so that 'end' is
   * emitted even with nothing reading (an idle connection the peer half-closed).
   */
  private endOfStream(): void {
    this.push(null);
    queueMicrotask(() => this.read(0));
  }

  /** One read's bytes to the callback (0: the EOF); whether to read on. */
  private userRead(n: number): boolean {
    if (n === 0) {
      this.endOfStream();
      return false;
    }
    this.readBytes += n;
    this.touch();
    if (this.userCb!(n, this.userBuf!) === false) this.userStopped = true;
    if (this.userBufGen && !this.nextUserBuf()) return false;
    return !this.userStopped && !this.destroyed;
  }

  /** Asks `onread.buffer()` for the next buffer: false (and the stream destroyed) if it gives none usable. */
  private nextUserBuf(): boolean {
    const b = this.userBufGen!();
    if (b instanceof Uint8Array && b.length > 0) {
      this.userBuf = b;
      return true;
    }
    this.reading = false;
    this.destroy(invalidArg('options.onread.buffer()', 'to return a non-empty Uint8Array', b));
    return false;
  }

  /** As Node's: with `onread`, also stops reading from the socket. */
  override pause(): this {
    if (this.userCb) this.userStopped = true;
    return super.pause();
  }

  /** As Node's: with `onread`, starts reading from the socket again. */
  override resume(): this {
    this.restartUserReads();
    return super.resume();
  }

  /** As Node's: with `onread`, starts reading from the socket again (after the callback returned false). */
  override read(size?: number): any {
    this.restartUserReads();
    return super.read(size);
  }

  private restartUserReads(): void {
    if (this.userCb && this.userStopped) {
      this.userStopped = false;
      if (this.socket && !this.connecting && !this.destroyed) this.readIntoUser();
    }
  }

  /**
   * @internal The stream's write hook. Connected, what fits in the send buffer is queued
   * at once and the write completes without a promise; the rest (or a write made while
   * connecting) goes through `sendall`.
   */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.one[0] = chunk;
    this.writeList(this.one, chunk.length, cb);
    this.one[0] = EMPTY_CHUNK;
  }

  /**
   * @internal Several chunks written together (corked, as Node's http does with a
   * response's headers and body): queued as one write, so that they leave in one segment
   * where they fit, as the kernel's `writev` would send them.
   */
  override _writev(chunks: { chunk: Buffer; encoding: BufferEncoding }[], cb: (err?: Error | null) => void): void {
    const list: Buffer[] = [];
    let total = 0;
    for (const c of chunks) {
      list.push(c.chunk);
      total += c.chunk.length;
    }
    this.writeList(list, total, cb);
  }

  private readonly one: Buffer[] = [EMPTY_CHUNK];

  private writeList(list: readonly Buffer[], total: number, cb: (err?: Error | null) => void): void {
    const s = this.socket;
    if (s && !this.connecting) {
      this.touch();
      let n: number;
      try {
        n = s.sendvNow(list);
      } catch (e) {
        cb(e as Error);
        return;
      }
      if (n === total) {
        this.writtenBytes += total;
        cb();
        return;
      }
      this.sendRest(s, rest(list, n), total, cb);
      return;
    }
    const kept = list === this.one ? [list[0]!] : list;
    this.whenConnected(cb, () => this.sendRest(this.socket!, Buffer.concat(kept), total, cb));
  }

  private sendRest(s: StreamSocket, bytes: Uint8Array, total: number, cb: (err?: Error | null) => void): void {
    this.touch();
    s.writeAll(bytes).then(() => {
      this.writtenBytes += total;
      cb();
    }, cb);
  }

  /** @internal The stream's end hook: `shutdown(SHUT_WR)`, after the handshake. */
  override _final(cb: (err?: Error | null) => void): void {
    // As node:net: the FIN goes once connected, after the data written before end().
    this.whenConnected(cb, () => {
      try {
        this.socket!.shutdown(SHUT_WR);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    });
  }

  private whenConnected(cb: (err?: Error | null) => void, go: () => void): void {
    if (this.connecting) {
      const onConnect = (): void => {
        this.off('close', onClose);
        go();
      };
      const onClose = (): void => {
        this.off('connect', onConnect);
        // As Node: what was written while connecting fails once the connect does.
        cb(Object.assign(new Error('Socket closed before the connection was established'), { code: 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION' }));
      };
      this.once('connect', onConnect);
      this.once('close', onClose);
      return;
    }
    if (!this.socket) {
      cb(Object.assign(new Error('Socket is closed'), { code: 'ERR_SOCKET_CLOSED' }));
      return;
    }
    go();
  }

  /** @internal The server that accepted this stream counts it down here (before 'close', as Node). */
  onDestroy: (() => void) | null = null;

  /** @internal Closes the socket (a FIN, or a RST with unread data) and emits 'close'. */
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.clearIdle();
    this.connecting = false;
    this.peer();
    this.local();
    const conn = this.socket?.conn ?? null;
    // A recv (or sendall) still pending is not wanted any more: dropped, not failed.
    this.socket?.closeDroppingCalls();
    this.onDestroy?.();
    // Like a kernel socket, a closed connection still delivers what it was given: the
    // process stays up (unless unref'ed) until its data and FIN are acknowledged, the
    // connection ends, or DRAIN_LIMIT_MS pass. ref()/unref() still act on that hold.
    if (this.keep.held && conn && !connectionDrained(conn)) this.drainThenRelease(conn);
    else this.keep.release();
    cb(err);
    process.nextTick(() => this.emit('close', err !== null && err !== undefined));
  }

  // ------------------------------------------------------------------ options

  /** TCP_NODELAY: turn Nagle's algorithm off (the default argument) or on. */
  setNoDelay(noDelay = true): this {
    if (this.socket) this.socket.setsockopt(IPPROTO_TCP, TCP_NODELAY, noDelay);
    else this.pendingNoDelay = noDelay;
    return this;
  }

  /** SO_KEEPALIVE, and TCP_KEEPIDLE from `initialDelay` ms (whole seconds, at least 1). */
  setKeepAlive(enable = false, initialDelay = 0): this {
    if (!this.socket) {
      this.pendingKeepAlive = [enable, initialDelay];
      return this;
    }
    this.socket.setsockopt(SOL_SOCKET, SO_KEEPALIVE, enable);
    if (enable && initialDelay >= 1000) this.socket.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, Math.floor(initialDelay / 1000));
    return this;
  }

  /** As net.Socket#setTimeout: 'timeout' after `ms` without activity (0 turns it off), on the stack's clock. */
  setTimeout(ms: number, cb?: () => void): this {
    if (typeof ms !== 'number' || !(ms >= 0)) throw invalidArg('msecs', 'a non-negative number', ms);
    this.timeout = ms > 0 ? ms : undefined;
    if (cb) {
      if (ms > 0) this.once('timeout', cb);
      else this.off('timeout', cb);
    }
    // A new idle period starts now, with the new length.
    this.clearIdle();
    this.touch();
    return this;
  }

  /** When the stream last saw activity, on the stack's clock (for the idle timeout). */
  private lastActive = 0;

  /**
   * Activity: the idle period starts again. Only the time is noted; the one timer of an
   * idle period, when it fires early, re-arms itself for what is left (as Node's own
   * socket timeouts do), so a busy stream does not add and cancel a timer per read and
   * write.
   */
  private touch(): void {
    const ms = this.timeout;
    if (ms === undefined || this.destroyed || !this.socket) {
      this.clearIdle();
      return;
    }
    this.lastActive = this.api.host.now();
    // On the stack's clock, not a real timer: deterministic under the simulator.
    if (this.idleTimer === null) this.idleTimer = this.socket.timer(ms, this.onIdle);
  }

  private readonly onIdle = (): void => {
    this.idleTimer = null;
    const ms = this.timeout;
    if (ms === undefined || this.destroyed || !this.socket) return;
    const idle = this.api.host.now() - this.lastActive;
    if (idle >= ms) this.emit('timeout');
    else this.idleTimer = this.socket.timer(ms - idle, this.onIdle);
  };

  private clearIdle(): void {
    this.idleTimer?.cancel();
    this.idleTimer = null;
  }

  /** Lets the process exit while this socket is open (as Node's `unref`). */
  unref(): this {
    this.keep.unref();
    return this;
  }

  /** Keeps the process alive while this socket is open again (the default). */
  ref(): this {
    this.keep.ref();
    return this;
  }

  private drainThenRelease(conn: NonNullable<StreamSocket['conn']>): void {
    let timer: { cancel(): void } | null = null;
    const done = (): void => {
      conn.onEvent = () => {};
      timer?.cancel();
      this.keep.release();
    };
    conn.onEvent = () => {
      if (connectionDrained(conn)) done();
    };
    timer = this.api.host.timers.add(this.api.host.now() + DRAIN_LIMIT_MS, done);
  }

  /** Ends the writing side and destroys the socket once everything is written. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Aborts the connection with a RST (SO_LINGER 0) and destroys the stream. */
  resetAndDestroy(): this {
    if (this.socket && !this.destroyed) {
      try {
        this.socket.setsockopt(SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
      } catch {
        // a closed socket: nothing to reset
      }
    }
    this.destroy();
    return this;
  }

  /** The TCP_INFO-like snapshot of this connection (null before it exists). */
  info() {
    return this.socket?.tcpInfo() ?? null;
  }
}

function normalizeConnectArgs(args: unknown[]): [TcpConnectOptions, (() => void) | undefined] {
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? (last as () => void) : undefined;
  const rest = cb ? args.slice(0, -1) : args;
  const first = rest[0];
  if (first !== null && typeof first === 'object') {
    const o = first as TcpConnectOptions & { path?: unknown };
    if (o.path !== undefined) throw invalidArg('options.path', 'unsupported here (no UNIX-domain sockets; give a port)', o.path);
    if (o.port === undefined) throw invalidArg('options.port', 'of type number or string', undefined);
    return [o, cb];
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\s*\d+\s*$/.test(first))) {
    return [{ port: first, host: rest[1] as string | undefined }, cb];
  }
  if (typeof first === 'string') throw invalidArg('port', 'a port number (UNIX-domain paths are not supported)', first);
  throw invalidArg('options', 'an object or a port number', first);
}

/**
 * A TCP server shaped like `net.Server`: `listen` in Node's call forms, 'listening',
 * 'connection', 'error' (with `syscall` `listen`), `close` that waits for the open
 * connections before 'close', `getConnections`, `maxConnections`, `ref`/`unref`.
 */
export class TcpServer extends EventEmitter {
  /** Close connections beyond this many open ones at once (as Node); unlimited by default. */
  maxConnections = Infinity;
  private sock: StreamSocket | null = null;
  private closing = false;
  private readonly open = new Set<TcpStream>();
  private readonly keep: ProcessHold;
  private readonly opts: ServerOptions;

  /** @internal Use `host.net.createServer()` (or `new TcpServer(api)`). */
  constructor(
    private readonly api: SocketApi,
    optsOrListener?: ServerOptions | ((s: TcpStream) => void),
    listener?: (s: TcpStream) => void,
  ) {
    super();
    this.keep = new ProcessHold(() => api.host.keepAlive());
    if (typeof optsOrListener === 'function') {
      listener = optsOrListener;
      optsOrListener = {};
    }
    this.opts = optsOrListener ?? {};
    if (listener) this.on('connection', listener);
  }

  /** True while listening. */
  get listening(): boolean {
    return this.sock !== null;
  }

  /** The number of open connections (deprecated in Node; `getConnections` is the API). */
  get connections(): number {
    return this.open.size;
  }

  /**
   * Starts listening, in any of Node's forms: `listen(port[, host][, backlog][, cb])`,
   * `listen(port, cb)`, `listen({ port, host, backlog }[, cb])`, `listen([cb])` (an
   * ephemeral port). A bad argument throws a TypeError naming it; a port in use is an
   * 'error' event with code EADDRINUSE.
   */
  listen(port?: number, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, hostname?: string, listeningListener?: () => void): this;
  listen(port?: number, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, listeningListener?: () => void): this;
  /** Node's UNIX-domain forms: refused here with a TypeError. */
  listen(path: string, backlog?: number, listeningListener?: () => void): this;
  listen(path: string, listeningListener?: () => void): this;
  listen(options: ListenOptions | nodeNet.ListenOptions, listeningListener?: () => void): this;
  /** Node's handle forms (and `listen(cb)`): a handle is refused here with a TypeError. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  listen(handle: any, backlog?: number, listeningListener?: () => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  listen(handle: any, listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const last = args[args.length - 1];
    const cb = typeof last === 'function' ? (last as () => void) : undefined;
    const rest = cb ? args.slice(0, -1) : args;
    let port = 0;
    // As Node: `::` (both families) when there is IPv6, else 0.0.0.0.
    const anyHost = this.api.host.stack.ip6 !== null ? '::' : '0.0.0.0';
    let host = anyHost;
    let ipv6Only = false;
    let backlog = 511;
    let signal: AbortSignal | undefined;
    const first = rest[0];
    if (first !== null && typeof first === 'object') {
      const o = first as ListenOptions & { path?: unknown; fd?: unknown; handle?: unknown };
      if (o.path !== undefined || o.fd !== undefined || o.handle !== undefined) {
        throw invalidArg('options', 'an object with port and host (no UNIX-domain paths, fds or handles here)', first);
      }
      port = o.port === undefined ? 0 : toPort(o.port);
      host = hostArg(o.host, 'options.host', anyHost);
      ipv6Only = o.ipv6Only === true;
      if (o.backlog !== undefined) backlog = this.backlogArg(o.backlog);
      signal = o.signal;
    } else if (first !== undefined && first !== null) {
      if (typeof first === 'string' && !/^\s*\d+\s*$/.test(first)) throw invalidArg('port', 'a port number (UNIX-domain paths are not supported)', first);
      port = toPort(first);
      let i = 1;
      if (typeof rest[i] !== 'number') host = hostArg(rest[i++], 'host', anyHost);
      if (rest[i] !== undefined) backlog = this.backlogArg(rest[i]);
    }
    if (this.sock) throw Object.assign(new Error('Listen method has been called more than once without closing.'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    if (cb) this.once('listening', cb);
    const s = this.api.socket(familyForHost(host), SOCK_STREAM).unref();
    try {
      s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      if (s.family === AF_INET6 && ipv6Only) s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
      if (this.opts.noDelay) s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      if (this.opts.keepAlive) s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
      s.bind([host, port]);
      s.listen(backlog);
    } catch (e) {
      s.close();
      if (cb) this.off('listening', cb);
      queueMicrotask(() => this.emit('error', Object.assign(e as Error, { syscall: 'listen' })));
      return this;
    }
    this.sock = s;
    this.closing = false;
    this.keep.take();
    queueMicrotask(() => this.emit('listening'));
    this.acceptLoop(s);
    if (signal) {
      // As Node: an aborted signal closes the server (already aborted: right after listening).
      if (signal.aborted) process.nextTick(() => this.sock === s && this.close());
      else {
        const onAbort = (): void => void (this.sock === s && this.close());
        signal.addEventListener('abort', onAbort, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
    return this;
  }

  private backlogArg(v: unknown): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalidArg('backlog', 'a non-negative integer', v);
    return Math.max(1, v);
  }

  /**
   * Takes every connection queued on the listening socket, then watches it (one prebound
   * function, no promise per connection) until more arrive.
   */
  private acceptLoop(s: StreamSocket): void {
    while (this.sock === s) {
      let conn: StreamSocket | null;
      try {
        conn = s.acceptNow();
      } catch (e) {
        if (this.sock === s) this.emit('error', e);
        return;
      }
      if (conn === null) {
        this.watching = s;
        s.watch(this.onListenerChange);
        return;
      }
      conn.unref();
      if (this.open.size >= this.maxConnections) {
        // As Node: over the limit the connection is closed at once (a FIN), and 'drop' says so.
        const [localAddress, localPort] = conn.getsockname();
        const [remoteAddress, remotePort] = conn.getpeername();
        conn.close();
        const family = s.family === AF_INET6 ? 'IPv6' : 'IPv4';
        this.emit('drop', { localAddress, localPort, localFamily: family, remoteAddress, remotePort, remoteFamily: family });
        continue;
      }
      const stream = TcpStream.accepted(this.api, conn, this.opts.allowHalfOpen ?? false, this.opts.pauseOnConnect ?? false);
      if (this.opts.keepAlive) stream.setKeepAlive(true, this.opts.keepAliveInitialDelay ?? 0);
      if (this.opts.pauseOnConnect) stream.pause();
      this.open.add(stream);
      stream.onDestroy = () => {
        this.open.delete(stream);
        this.maybeClosed();
      };
      this.emit('connection', stream);
    }
  }

  /** The listening socket being watched for connections. */
  private watching: StreamSocket | null = null;

  private readonly onListenerChange = (): void => {
    const s = this.watching;
    if (!s) return;
    s.unwatch(this.onListenerChange);
    this.watching = null;
    this.acceptLoop(s);
  };

  /** The listening address, or null when not listening. */
  address(): {
    /** The address: IPv4 dotted, IPv6 in RFC 5952 form (`::` for both families). */
    address: string;
    /** `'IPv4'` or `'IPv6'`. */
    family: string;
    /** The port. */
    port: number;
  } | null {
    if (!this.sock) return null;
    const [address, port] = this.sock.getsockname();
    return { address, family: this.sock.family === AF_INET6 ? 'IPv6' : 'IPv4', port };
  }

  /** Counts the open connections (as Node: through a callback). */
  getConnections(cb: (error: Error | null, count: number) => void): this {
    const n = this.open.size;
    queueMicrotask(() => cb(null, n));
    return this;
  }

  /**
   * Stops accepting; 'close' (and `cb`) follow once every open connection has closed,
   * as with Node. Closing a server that is not listening calls `cb` with
   * ERR_SERVER_NOT_RUNNING.
   */
  close(cb?: (err?: Error) => void): this {
    if (!this.sock) {
      if (cb) queueMicrotask(() => cb(Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' })));
      return this;
    }
    if (cb) this.once('close', cb);
    const s = this.sock;
    this.sock = null;
    this.closing = true;
    s.close();
    this.keep.release();
    this.maybeClosed();
    return this;
  }

  private maybeClosed(): void {
    if (!this.closing || this.open.size > 0) return;
    this.closing = false;
    process.nextTick(() => this.emit('close'));
  }

  /** Lets the process exit while this server listens. */
  unref(): this {
    this.keep.unref();
    return this;
  }

  /** Keeps the process alive while this server listens again (the default). */
  ref(): this {
    this.keep.ref();
    return this;
  }

  /** `await using server = ...`: closes it and waits for 'close'. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.sock) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }
}

/** As `net.createServer([options][, connectionListener])`, on the stack behind `api`. */
export function createServer(api: SocketApi, listener?: (s: TcpStream) => void): TcpServer;
export function createServer(api: SocketApi, options?: ServerOptions, listener?: (s: TcpStream) => void): TcpServer;
export function createServer(api: SocketApi, a?: ServerOptions | ((s: TcpStream) => void), b?: (s: TcpStream) => void): TcpServer {
  return new TcpServer(api, a, b);
}

/**
 * As `net.connect`/`net.createConnection`: `connect(api, port[, host][, cb])` or
 * `connect(api, options[, cb])`; the stream emits 'connect' once established.
 */
export function connect(api: SocketApi, options: TcpConnectOptions | nodeNet.NetConnectOpts, connectListener?: () => void): TcpStream;
export function connect(api: SocketApi, port: number | string, host?: string, connectListener?: () => void): TcpStream;
export function connect(api: SocketApi, port: number | string, connectListener?: () => void): TcpStream;
export function connect(api: SocketApi, ...args: unknown[]): TcpStream {
  const [opts] = normalizeConnectArgs(args);
  const s = new TcpStream(api, { allowHalfOpen: opts.allowHalfOpen, signal: opts.signal, onread: (opts as TcpConnectOptions).onread });
  return (s.connect as (...a: unknown[]) => TcpStream)(...args);
}

/** `node:net` bound to one stack: what `host.net` is. */
export interface NetFace {
  /** `new net.Socket()`, unconnected until `connect()`. */
  Socket: {
    /** A socket not yet connected: call `connect()` on it. */
    new (options?: SocketOptions): TcpStream;
  };
  /** `new net.Server()`. */
  Server: {
    /** A server not yet listening: call `listen()` on it. */
    new (options?: ServerOptions | ((s: TcpStream) => void), listener?: (s: TcpStream) => void): TcpServer;
  };
  /** As `net.createServer([options][, connectionListener])`. */
  createServer(listener?: (s: TcpStream) => void): TcpServer;
  /** As `net.createServer(options[, connectionListener])`. */
  createServer(options?: ServerOptions, listener?: (s: TcpStream) => void): TcpServer;
  /** As `net.connect`: 'connect' follows once established; defaults to `localhost`, this stack's own address. */
  connect(options: TcpConnectOptions | nodeNet.NetConnectOpts, connectListener?: () => void): TcpStream;
  /** As `net.connect(port[, host][, connectListener])`; `host` defaults to `localhost`, this stack's own address. */
  connect(port: number | string, host?: string, connectListener?: () => void): TcpStream;
  /** As `net.connect(port[, connectListener])`, to `localhost` (this stack's own address). */
  connect(port: number | string, connectListener?: () => void): TcpStream;
  /** The same as `connect(options[, connectListener])`. */
  createConnection(options: TcpConnectOptions | nodeNet.NetConnectOpts, connectListener?: () => void): TcpStream;
  /** The same as `connect(port[, host][, connectListener])`. */
  createConnection(port: number | string, host?: string, connectListener?: () => void): TcpStream;
  /** The same as `connect(port[, connectListener])`. */
  createConnection(port: number | string, connectListener?: () => void): TcpStream;
  /** 4 for an IPv4 address, 6 for an IPv6 address, else 0 (as `net.isIP`). */
  isIP(input: string): number;
  /** As `net.isIPv4`. */
  isIPv4(input: string): boolean;
  /** As `net.isIPv6`. */
  isIPv6(input: string): boolean;
}

/** The `node:net` face of one stack's sockets. */
export function netFace(api: SocketApi): NetFace {
  const conn = (...args: unknown[]): TcpStream => (connect as (api: SocketApi, ...a: unknown[]) => TcpStream)(api, ...args);
  const isIPv4 = (s: string): boolean => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
  return {
    Socket: class extends TcpStream {
      constructor(options?: SocketOptions) {
        super(api, options);
      }
    },
    Server: class extends TcpServer {
      constructor(options?: ServerOptions | ((s: TcpStream) => void), listener?: (s: TcpStream) => void) {
        super(api, options, listener);
      }
    },
    createServer: (a?: ServerOptions | ((s: TcpStream) => void), b?: (s: TcpStream) => void) => new TcpServer(api, a, b),
    connect: conn as NetFace['connect'],
    createConnection: conn as NetFace['createConnection'],
    isIP: (s: string) => (isIPv4(s) ? 4 : isIPv6Text(s) ? 6 : 0),
    isIPv4,
    isIPv6: isIPv6Text,
  };
}
