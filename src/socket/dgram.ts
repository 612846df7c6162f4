/**
 * A Node-style face on the datagram sockets, shaped like `node:dgram`, so that Node
 * programmers feel at home:
 *
 *   const s = createSocket(api, 'udp4');
 *   s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
 *   s.bind(7);
 */
import { EventEmitter } from 'node:events';
import { SOCK_DGRAM, AF_INET, SOL_SOCKET, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR } from './constants.js';
import type { DgramSocket } from './dgram-socket.js';
import type { SocketApi } from './socket-api.js';

export interface RemoteInfo {
  address: string;
  family: 'IPv4';
  port: number;
  size: number;
}

type Callback = (err: Error | null) => void;

export class UdpSocket extends EventEmitter {
  readonly sock: DgramSocket;
  private receiving = false;
  private closed = false;

  constructor(api: SocketApi, opts: { reuseAddr?: boolean } = {}) {
    super();
    this.sock = api.socket(AF_INET, SOCK_DGRAM);
    if (opts.reuseAddr) this.sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  }

  bind(port = 0, address = '0.0.0.0', cb?: () => void): this {
    try {
      this.sock.bind([address, port]);
    } catch (e) {
      queueMicrotask(() => this.emit('error', e));
      return this;
    }
    if (cb) this.once('listening', cb);
    queueMicrotask(() => {
      this.emit('listening');
      this.startReceiving();
    });
    return this;
  }

  connect(port: number, address = '127.0.0.1', cb?: Callback): void {
    this.sock.connect([address, port]).then(
      () => {
        this.emit('connect');
        cb?.(null);
        this.startReceiving();
      },
      (e: Error) => (cb ? cb(e) : this.emit('error', e)),
    );
  }

  send(msg: Uint8Array | string, port?: number | Callback, address?: string, cb?: Callback): void {
    let p: Promise<number>;
    if (typeof port === 'function' || port === undefined) {
      cb = port as Callback | undefined;
      p = this.sock.send(msg);
    } else {
      p = this.sock.sendto(msg, [address ?? '127.0.0.1', port]);
    }
    p.then(
      () => cb?.(null),
      (e: Error) => (cb ? cb(e) : this.emit('error', e)),
    );
    this.startReceiving();
  }

  private startReceiving(): void {
    if (this.receiving || this.closed) return;
    this.receiving = true;
    void (async () => {
      while (!this.closed) {
        try {
          const [data, [address, port]] = await this.sock.recvfrom(65535);
          this.emit('message', Buffer.from(data.buffer, data.byteOffset, data.length), { address, family: 'IPv4', port, size: data.length });
        } catch (e) {
          if (this.closed) break;
          const err = e as Error & { code?: string };
          if (err.code === 'EINVAL') break; // not bound yet
          this.emit('error', err);
        }
      }
    })();
  }

  address(): { address: string; family: 'IPv4'; port: number } {
    const [address, port] = this.sock.getsockname();
    return { address, family: 'IPv4', port };
  }

  remoteAddress(): { address: string; family: 'IPv4'; port: number } {
    const [address, port] = this.sock.getpeername();
    return { address, family: 'IPv4', port };
  }

  setBroadcast(flag: boolean): void {
    this.sock.setsockopt(SOL_SOCKET, SO_BROADCAST, flag);
  }

  setRecvBufferSize(n: number): void {
    this.sock.setsockopt(SOL_SOCKET, SO_RCVBUF, n);
  }

  setSendBufferSize(n: number): void {
    this.sock.setsockopt(SOL_SOCKET, SO_SNDBUF, n);
  }

  close(cb?: () => void): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    queueMicrotask(() => {
      this.emit('close');
      cb?.();
    });
  }
}

export function createSocket(api: SocketApi, type: 'udp4', listener?: (msg: Buffer, rinfo: RemoteInfo) => void): UdpSocket;
export function createSocket(api: SocketApi, opts: { type: 'udp4'; reuseAddr?: boolean }, listener?: (msg: Buffer, rinfo: RemoteInfo) => void): UdpSocket;
export function createSocket(
  api: SocketApi,
  typeOrOpts: 'udp4' | { type: 'udp4'; reuseAddr?: boolean },
  listener?: (msg: Buffer, rinfo: RemoteInfo) => void,
): UdpSocket {
  const opts = typeof typeOrOpts === 'string' ? { type: typeOrOpts } : typeOrOpts;
  if (opts.type !== 'udp4') throw new TypeError(`createSocket: only 'udp4' is supported, not ${String(opts.type)}`);
  const s = new UdpSocket(api, opts);
  if (listener) s.on('message', listener);
  return s;
}
