/**
 * The BSD-style socket facade: one socket table and one descriptor space for every
 * socket of a stack, whatever its type.
 *
 *   const net = new SocketApi(host);
 *   const s = net.socket(AF_INET, SOCK_DGRAM);
 *   s.bind(['', 8081]);
 *   const [data, addr] = await s.recvfrom(1024);
 */
import type { UdpLayer } from '../udp/udp-layer.js';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from './constants.js';
import type { Family } from './address.js';
import { StreamSocket } from './stream-socket.js';
import type { TcpConnection } from '../tcp/connection.js';
import { DgramSocket } from './dgram-socket.js';
import { SocketError } from './errors.js';
import type { SocketHost } from './host.js';
import type { Socket } from './socket.js';
import { Names, type AddrInfo, type NameOptions } from './names.js';
import { Poll, select, type Selectable } from './select.js';

/** A host name from a device's name (`tcpip0`), or `tcpip` if the name is not one. */
function defaultHostName(device: string): string {
  const n = device.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return n.length > 0 ? n : 'tcpip';
}

/**
 * The BSD socket facade on one stack, shaped like Python's `socket` module
 * (`host.socket.socket(AF_INET, SOCK_STREAM)`). It owns the stack's descriptor table.
 */
export class SocketApi {
  private readonly table = new Map<number, Socket>();
  /** The host's names: `gethostname()`, the hosts table, DNS (names.ts). */
  readonly names: Names;

  /** A facade on `host`'s stack; a StackHost or SimHost has one already, as `socket`. */
  constructor(
    /** The stack, clock and timers the sockets run on. */
    readonly host: SocketHost,
    /** Host name, hosts table and name servers (default host name: the device's name). */
    names: NameOptions = {},
  ) {
    this.names = new Names(host, () => this.socket(AF_INET, SOCK_DGRAM), names, defaultHostName(host.stack.device.name));
  }

  /** The stack's host name (Python's `socket.gethostname()`). */
  gethostname(): string {
    return this.names.gethostname();
  }

  /** The IPv4 address of `name`, dotted (Python's `socket.gethostbyname()`); rejects with EAI_NONAME or EAI_AGAIN. */
  gethostbyname(name: string): Promise<string> {
    return this.names.gethostbyname(name);
  }

  /** Python's `socket.getaddrinfo(host, port, family, type, proto)`: [family, type, proto, canonname, [address, port]] entries. */
  getaddrinfo(host: string | null, port: number | string | null, family = 0, type = 0, proto = 0): Promise<AddrInfo[]> {
    return this.names.getaddrinfo(host, port, family, type, proto);
  }

  /** @internal The stack's UDP layer. */
  get udp(): UdpLayer {
    return this.host.stack.udp;
  }

  /** A new UDP socket. */
  socket(family: number, type: typeof SOCK_DGRAM): DgramSocket;
  /** A new TCP socket. */
  socket(family: number, type: typeof SOCK_STREAM): StreamSocket;
  /**
   * A new socket with the lowest free descriptor, as Python's `socket.socket(family, type)`.
   * Throws EAFNOSUPPORT for a family other than AF_INET and AF_INET6, EPROTONOSUPPORT for a type other
   * than SOCK_STREAM or SOCK_DGRAM.
   */
  socket(family: number, type: number): Socket;
  socket(family: number, type: number): Socket {
    if (family !== AF_INET && family !== AF_INET6) throw new SocketError('EAFNOSUPPORT', 'socket', `family ${family}`, 'AF_INET (IPv4) or AF_INET6 (IPv6)');
    if (type !== SOCK_DGRAM && type !== SOCK_STREAM) throw new SocketError('EPROTONOSUPPORT', 'socket', `type ${type}`, 'only SOCK_STREAM and SOCK_DGRAM are supported');
    const fd = this.allocFd();
    const release = (n: number): void => void this.table.delete(n);
    let s: Socket;
    if (type === SOCK_DGRAM) s = new DgramSocket(this.host, fd, release, this.udp, this.names, family);
    else if (type === SOCK_STREAM) s = this.stream(fd, family);
    else throw new SocketError('EPROTONOSUPPORT', 'socket', `type ${type}`, 'only SOCK_STREAM and SOCK_DGRAM are supported');
    this.table.set(fd, s);
    return s;
  }

  private stream(fd: number, family: Family, conn?: TcpConnection): StreamSocket {
    const release = (n: number): void => void this.table.delete(n);
    return new StreamSocket(this.host, fd, release, this.host.stack.tcp, (c, f) => this.adopt(c, f), this.names, conn, family);
  }

  /** A descriptor for a connection accept() hands out (of its listening socket's family). */
  private adopt(c: TcpConnection, family: Family): StreamSocket {
    const fd = this.allocFd();
    const s = this.stream(fd, family, c);
    this.table.set(fd, s);
    return s;
  }

  private allocFd(): number {
    // The lowest free descriptor, as POSIX requires of socket() and accept();
    // 0, 1 and 2 are left out, as in a process.
    let fd = 3;
    while (this.table.has(fd)) fd++;
    return fd;
  }

  /** The socket behind a descriptor, or EBADF. */
  get(fd: number): Socket {
    const s = this.table.get(fd);
    if (!s) throw new SocketError('EBADF', 'lookup', `fd ${fd}`, 'no such socket');
    return s;
  }

  /**
   * Python's `select.select(rlist, wlist, xlist[, timeout])` over sockets or descriptors:
   * resolves to the ready sublists, waiting up to `timeout` seconds on the stack's clock
   * (null: no limit, 0: look once). See select.ts.
   */
  select(rlist: Selectable[], wlist: Selectable[], xlist: Selectable[], timeout: number | null = null): Promise<[Selectable[], Selectable[], Selectable[]]> {
    return select(this.host, (x) => (typeof x === 'number' ? this.get(x) : x), rlist, wlist, xlist, timeout);
  }

  /** Python's `select.poll()`: register sockets with POLLIN/POLLOUT, then `await p.poll(ms)`. */
  poll(): Poll {
    return new Poll(this.host, (x) => (typeof x === 'number' ? (this.table.get(x) ?? null) : x));
  }

  /** Every open socket (for `tcpip stat` and the HTTP page). */
  list(): Socket[] {
    return [...this.table.values()];
  }
}
