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
import { tryParseIp } from '../ip/ip-address.js';
import { formatIpv6, readIpv6, tryParseIpv6, writeIpv6 } from '../ip/ipv6-address.js';
import { StreamSocket } from './stream-socket.js';
import type { TcpConnection } from '../tcp/connection.js';
import { DgramSocket } from './dgram-socket.js';
import { SocketError } from './errors.js';
import type { SocketHost } from './host.js';
import type { Socket } from './socket.js';
import { Names, type AddrInfo, type NameOptions } from './names.js';
import { LowestFree } from './lowest-free.js';
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
  private readonly fds = new LowestFree(3);
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

  /**
   * Python's `socket.inet_pton(family, text)`: the address's bytes in network order (4 for
   * AF_INET, 16 for AF_INET6, any RFC 4291 text form). Throws EINVAL for text that is not
   * an address of that family, EAFNOSUPPORT for another family.
   */
  inet_pton(family: number, text: string): Uint8Array {
    if (family === AF_INET) {
      const a = tryParseIp(text);
      if (a === null || typeof a !== 'number' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) throw new SocketError('EINVAL', 'inet_pton', JSON.stringify(text), 'not a dotted IPv4 address');
      return Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    }
    if (family === AF_INET6) {
      const a = tryParseIpv6(text);
      if (a === null) throw new SocketError('EINVAL', 'inet_pton', JSON.stringify(text), 'not an IPv6 address');
      const b = new Uint8Array(16);
      writeIpv6(b, 0, a);
      return b;
    }
    throw new SocketError('EAFNOSUPPORT', 'inet_pton', `family ${family}`, 'AF_INET or AF_INET6');
  }

  /**
   * Python's `socket.inet_ntop(family, bytes)`: the text form, RFC 5952's for IPv6
   * (`2001:db8::1`, IPv4-mapped as `::ffff:10.7.0.1`). Throws EINVAL for a wrong length.
   */
  inet_ntop(family: number, bytes: Uint8Array): string {
    if (family === AF_INET) {
      if (!(bytes instanceof Uint8Array) || bytes.length !== 4) throw new SocketError('EINVAL', 'inet_ntop', 'AF_INET', 'needs 4 bytes');
      return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
    }
    if (family === AF_INET6) {
      if (!(bytes instanceof Uint8Array) || bytes.length !== 16) throw new SocketError('EINVAL', 'inet_ntop', 'AF_INET6', 'needs 16 bytes');
      return formatIpv6(readIpv6(bytes, 0));
    }
    throw new SocketError('EAFNOSUPPORT', 'inet_ntop', `family ${family}`, 'AF_INET or AF_INET6');
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
    const release = this.release;
    let s: Socket;
    if (type === SOCK_DGRAM) s = new DgramSocket(this.host, fd, release, this.udp, this.names, family);
    else if (type === SOCK_STREAM) s = this.stream(fd, family);
    else throw new SocketError('EPROTONOSUPPORT', 'socket', `type ${type}`, 'only SOCK_STREAM and SOCK_DGRAM are supported');
    this.table.set(fd, s);
    return s;
  }

  private stream(fd: number, family: Family, conn?: TcpConnection): StreamSocket {
    const release = this.release;
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
    return this.fds.take();
  }

  /** A socket closed: its descriptor is free again. */
  private readonly release = (fd: number): void => {
    if (this.table.delete(fd)) this.fds.give(fd);
  };

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
