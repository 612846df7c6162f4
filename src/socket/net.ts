/**
 * Node-style streams on the stream sockets, shaped like `node:net`: `createServer` and
 * `connect` give `Duplex` streams with backpressure, so Node's own `http.Server` (or
 * anything else that takes a stream) can run over this stack:
 *
 *   const server = createServer(api, (sock) => sock.pipe(sock));   // echo
 *   server.listen(7);
 *   http.createServer(handler) ... server.on('connection', (s) => httpServer.emit('connection', s));
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { AF_INET, IPPROTO_TCP, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_REUSEADDR, TCP_KEEPIDLE, TCP_NODELAY } from './constants.js';
import type { SocketApi } from './socket-api.js';
import type { StreamSocket } from './stream-socket.js';

const READ_CHUNK = 64 * 1024;

export class TcpStream extends Duplex {
  private reading = false;
  private idleMs = 0;
  private idleTimer: { cancel(): void } | null = null;

  constructor(readonly sock: StreamSocket) {
    super({ allowHalfOpen: true });
    this.on('data', () => this.touch());
  }

  get remoteAddress(): string | undefined {
    try {
      return this.sock.getpeername()[0];
    } catch {
      return undefined;
    }
  }
  get remotePort(): number | undefined {
    try {
      return this.sock.getpeername()[1];
    } catch {
      return undefined;
    }
  }
  get remoteFamily(): string {
    return 'IPv4';
  }
  get localAddress(): string {
    return this.sock.getsockname()[0];
  }
  get localPort(): number {
    return this.sock.getsockname()[1];
  }

  address(): { address: string; family: string; port: number } {
    const [address, port] = this.sock.getsockname();
    return { address, family: 'IPv4', port };
  }

  override _read(): void {
    if (this.reading) return;
    this.reading = true;
    this.sock.recv(READ_CHUNK).then(
      (data) => {
        this.reading = false;
        if (data.length === 0) {
          this.push(null);
          return;
        }
        if (this.push(Buffer.from(data.buffer, data.byteOffset, data.length))) this._read();
      },
      (err: Error) => {
        this.reading = false;
        this.destroy(err);
      },
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.touch();
    this.sock.sendall(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    try {
      this.sock.shutdown(SHUT_WR);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.clearIdle();
    this.sock.close();
    cb(err);
  }

  setNoDelay(noDelay = true): this {
    this.sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelayMs = 0): this {
    this.sock.setsockopt(SOL_SOCKET, SO_KEEPALIVE, enable);
    if (enable && initialDelayMs >= 1000) this.sock.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, Math.floor(initialDelayMs / 1000));
    return this;
  }

  /** As net.Socket#setTimeout: 'timeout' after `ms` without activity (0 turns it off). */
  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms;
    if (cb) this.once('timeout', cb);
    this.touch();
    return this;
  }

  private touch(): void {
    this.clearIdle();
    if (this.idleMs > 0 && !this.destroyed) {
      // On the stack's clock, not a real timer: deterministic under the simulator.
      this.idleTimer = this.sock.timer(this.idleMs, () => {
        this.idleTimer = null;
        this.emit('timeout');
      });
    }
  }

  private clearIdle(): void {
    this.idleTimer?.cancel();
    this.idleTimer = null;
  }

  /** The TCP_INFO-like snapshot of this connection. */
  info() {
    return this.sock.tcpInfo();
  }
}

export class TcpServer extends EventEmitter {
  private sock: StreamSocket | null = null;
  private closed = false;

  constructor(
    private readonly api: SocketApi,
    listener?: (s: TcpStream) => void,
  ) {
    super();
    if (listener) this.on('connection', listener);
  }

  listen(port = 0, host = '0.0.0.0', backlog = 511, cb?: () => void): this {
    const s = this.api.socket(AF_INET, SOCK_STREAM);
    try {
      s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      s.bind([host, port]);
      s.listen(backlog);
    } catch (e) {
      s.close();
      queueMicrotask(() => this.emit('error', e));
      return this;
    }
    this.sock = s;
    if (cb) this.once('listening', cb);
    queueMicrotask(() => this.emit('listening'));
    void this.acceptLoop(s);
    return this;
  }

  private async acceptLoop(s: StreamSocket): Promise<void> {
    while (!this.closed) {
      try {
        const [conn] = await s.accept();
        this.emit('connection', new TcpStream(conn));
      } catch (e) {
        if (this.closed) return;
        this.emit('error', e);
        return;
      }
    }
  }

  address(): { address: string; family: string; port: number } | null {
    if (!this.sock) return null;
    const [address, port] = this.sock.getsockname();
    return { address, family: 'IPv4', port };
  }

  close(cb?: () => void): this {
    this.closed = true;
    this.sock?.close();
    queueMicrotask(() => {
      this.emit('close');
      cb?.();
    });
    return this;
  }
}

export function createServer(api: SocketApi, listener?: (s: TcpStream) => void): TcpServer {
  return new TcpServer(api, listener);
}

/** As net.connect(port, host): the stream emits 'connect' once established. */
export function connect(api: SocketApi, port: number, host = '127.0.0.1', cb?: () => void): TcpStream {
  const s = api.socket(AF_INET, SOCK_STREAM);
  const stream = new TcpStream(s);
  if (cb) stream.once('connect', cb);
  s.connect([host, port]).then(
    () => stream.emit('connect'),
    (err: Error) => stream.destroy(err),
  );
  return stream;
}
