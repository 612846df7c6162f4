/**
 * Host names for the socket facade, as Python's `socket` module has them:
 * `gethostname()`, `gethostbyname()`, `getaddrinfo()`, and the names `connect()` and
 * `sendto()` accept. A name is looked up in order:
 *
 *   1. a dotted IPv4 address or an IPv6 address, `''` (any: 0.0.0.0 or :: by the
 *      socket's family), `'0.0.0.0'`, `'::'`, `'<broadcast>'`;
 *   2. `localhost` (127.0.0.1 or ::1, the loopback interface) and the stack's own host
 *      name (its address on the device of the family asked, so that the kernel side
 *      reaches a server bound to it, and the stack itself reaches it through the loopback
 *      interface);
 *   3. the hosts table given to the stack (`hosts`, like /etc/hosts);
 *   4. DNS, when name servers are given: a stub resolver (RFC 1035) over the stack's own
 *      UDP, with a random query ID and a random source port per query and an answer
 *      taken only from the server asked, for the ID and question asked (RFC 5452 §9);
 *      each server is tried in turn, `dnsAttempts` rounds, `dnsTimeoutMs` each.
 *
 * There is no cache: every lookup asks again (a stub's job; a cache belongs in the server).
 * DNS asks for A records only; an AF_INET6 socket reaches the IPv4 addresses it finds.
 */
import { BROADCAST, formatIpv4, type Ipv4Addr } from '../ip/address.js';
import { formatIp, tryParseIp, type IpAddr } from '../ip/ip-address.js';
import { LOOPBACK6, UNSPECIFIED6 } from '../ip/ipv6-address.js';
import { LOOPBACK_ADDR } from '../ip/loopback.js';
import { DNS_PORT, MAX_UDP_MESSAGE, encodeQuery, isValidName, parseAnswer } from '../dns/message.js';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, IPPROTO_TCP, IPPROTO_UDP } from './constants.js';
import { SocketError } from './errors.js';
import type { SocketHost } from './host.js';
import type { DgramSocket } from './dgram-socket.js';
import type { SockAddr } from './address.js';

/** How a stack's names are set up (all optional: `openTun`/`createStack` options). */
export interface NameOptions {
  /** What `gethostname()` returns, and a name for the stack's own address (RFC 1123 §2.1 labels). Default: the device's name. */
  hostName?: string;
  /** More names and their IPv4 or IPv6 addresses, as /etc/hosts has them: `{ 'printer.lan': '10.7.0.9' }`. */
  hosts?: Record<string, string>;
  /** DNS servers' IPv4 addresses, asked in turn (RFC 1035). None: only the names above resolve. */
  nameservers?: string[];
  /** How long to wait for each server's answer, ms (default 2000). */
  dnsTimeoutMs?: number;
  /** Rounds over the servers before giving up (default 2, as resolv.conf's `attempts`). */
  dnsAttempts?: number;
}

/** One `getaddrinfo()` result, as Python's tuple: (family, type, proto, canonname, sockaddr). */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: [string, number] | [string, number, number, number]];

/** Opens the UDP sockets DNS queries go out on. */
export type DgramOpener = () => DgramSocket;

export class Names {
  readonly hostName: string;
  private readonly hosts = new Map<string, IpAddr>();
  private readonly servers: Ipv4Addr[];
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(
    private readonly host: SocketHost,
    private readonly openDgram: DgramOpener,
    opts: NameOptions,
    defaultHostName: string,
  ) {
    this.hostName = opts.hostName ?? defaultHostName;
    if (!isValidName(this.hostName)) throw new RangeError(`host name ${JSON.stringify(this.hostName)} is not a valid name (RFC 1123: letters, digits and hyphens, dot-separated labels of 1 to 63)`);
    for (const [name, addr] of Object.entries(opts.hosts ?? {})) {
      if (!isValidName(name)) throw new RangeError(`hosts: ${JSON.stringify(name)} is not a valid name`);
      this.hosts.set(name.toLowerCase(), parseAnyAddr(addr, `hosts[${JSON.stringify(name)}]`));
    }
    this.servers = (opts.nameservers ?? []).map((s) => parseAddr(s, 'nameservers'));
    this.timeoutMs = opts.dnsTimeoutMs ?? 2000;
    this.attempts = opts.dnsAttempts ?? 2;
    if (!(this.timeoutMs > 0) || !Number.isInteger(this.attempts) || this.attempts < 1) throw new RangeError('dnsTimeoutMs must be > 0 and dnsAttempts an integer >= 1');
  }

  /** The stack's host name (Python's `socket.gethostname()`). */
  gethostname(): string {
    return this.hostName;
  }

  /**
   * A name known without asking DNS (steps 1-3 above), or null. `family` picks what `''`,
   * `localhost` and the host name mean; a numeric address is what it is (the socket layer
   * checks that it fits the socket).
   */
  local(name: string, family: number = AF_INET): IpAddr | null {
    const six = family === AF_INET6;
    if (name === '') return six ? UNSPECIFIED6 : 0;
    if (name === '0.0.0.0') return 0;
    if (name === '<broadcast>' || name === '255.255.255.255') return BROADCAST;
    const numeric = tryParseIp(name);
    if (numeric !== null) return numeric;
    const key = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
    if (key === 'localhost' || key.endsWith('.localhost')) return six ? LOOPBACK6 : LOOPBACK_ADDR; // RFC 6761 §6.3
    if (key === this.hostName.toLowerCase()) return six ? (this.host.stack.ip6?.route.addr ?? this.host.stack.route.addr) : this.host.stack.route.addr;
    const h = this.hosts.get(key);
    if (h === undefined) return null;
    return six || typeof h === 'number' ? h : null;
  }

  /**
   * The addresses of `name` (steps 1-4). Rejects with EAI_NONAME when it has none (or
   * DNS says so), EAI_AGAIN when no server answered.
   */
  async lookup(name: string, syscall = 'getaddrinfo', family: number = AF_INET): Promise<IpAddr[]> {
    const l = this.local(name, family);
    if (l !== null) return [l];
    if (typeof name !== 'string' || !isValidName(name)) throw new SocketError('EAI_NONAME', syscall, JSON.stringify(name), 'not a valid host name');
    if (this.servers.length === 0) throw new SocketError('EAI_NONAME', syscall, JSON.stringify(name), 'not a local name, and no name server is configured (nameservers)');
    return this.query(name, syscall);
  }

  /** The first IPv4 address of `name`, dotted (Python's `socket.gethostbyname()`). */
  async gethostbyname(name: string): Promise<string> {
    const [a] = await this.lookup(name, 'gethostbyname');
    return formatIp(a!);
  }

  /**
   * Python's `socket.getaddrinfo(host, port, family=0, type=0, proto=0)`: one entry per
   * address and socket type (SOCK_STREAM and SOCK_DGRAM unless `type` picks one).
   * `host` null is the wildcard; `port` a number or a numeric string.
   */
  async getaddrinfo(host: string | null, port: number | string | null, family = 0, type = 0, proto = 0): Promise<AddrInfo[]> {
    if (family !== 0 && family !== AF_INET && family !== AF_INET6) throw new SocketError('EAI_FAMILY', 'getaddrinfo', `family ${family}`, 'AF_INET, AF_INET6 or 0 (both)');
    const p = port === null ? 0 : typeof port === 'number' ? port : /^\d+$/.test(port) ? Number(port) : NaN;
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new SocketError('EAI_SERVICE', 'getaddrinfo', JSON.stringify(port), 'a port number 0..65535 (service names are not resolved)');
    const found: IpAddr[] = [];
    const has6 = this.host.stack.ip6 !== null;
    // IPv4 first, then IPv6 (family 0 asks for both, as getaddrinfo's AF_UNSPEC).
    if (family !== AF_INET6) {
      const numeric = host === null ? null : tryParseIp(host);
      if (host === null) found.push(0);
      else if (numeric === null || typeof numeric === 'number') found.push(...(await this.lookup(host, 'getaddrinfo', AF_INET).catch((e: unknown) => { if (family === AF_INET || numeric !== null || !has6) throw e; return []; })));
    }
    if (family !== AF_INET && (has6 || family === AF_INET6)) {
      const numeric = host === null ? null : tryParseIp(host);
      if (host === null) found.push(UNSPECIFIED6);
      else if (numeric !== null) { if (typeof numeric !== 'number') found.push(numeric); }
      else {
        const l = this.local(host, AF_INET6);
        if (l !== null && typeof l !== 'number') found.push(l);
      }
    }
    if (found.length === 0) throw new SocketError('EAI_NONAME', 'getaddrinfo', JSON.stringify(host), family === AF_INET6 ? 'no IPv6 address for it' : 'no address for it');
    const types = type === 0 ? [SOCK_STREAM, SOCK_DGRAM] : [type];
    const out: AddrInfo[] = [];
    for (const a of found) {
      for (const t of types) {
        const pr = proto !== 0 ? proto : t === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
        out.push(typeof a === 'number' ? [AF_INET, t, pr, '', [formatIpv4(a), p]] : [AF_INET6, t, pr, '', [formatIp(a), p, 0, 0]]);
      }
    }
    return out;
  }

  /** Asks the name servers for the A records of `name`. */
  private async query(name: string, syscall: string): Promise<Ipv4Addr[]> {
    const rand = this.host.stack.rand;
    let servfail = false;
    for (let round = 0; round < this.attempts; round++) {
      for (const server of this.servers) {
        // A fresh socket per query: a random ephemeral port (RFC 6056) and a random ID,
        // 32 bits a spoofer must guess together (RFC 5452 §9.2).
        const id = rand.u32() & 0xffff;
        const s = this.openDgram();
        try {
          await s.sendto(encodeQuery(id, name), [formatIpv4(server), DNS_PORT]);
          const deadline = this.host.now() + this.timeoutMs;
          for (;;) {
            const left = deadline - this.host.now();
            if (left <= 0) break;
            s.settimeout(left / 1000);
            let got: [Uint8Array, SockAddr];
            try {
              got = await s.recvfrom(MAX_UDP_MESSAGE);
            } catch (e) {
              const code = (e as { code?: string }).code;
              if (code === 'ETIMEDOUT' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') break;
              throw e;
            }
            const [data, [from, fromPort]] = got;
            // Only the server asked, from its port (RFC 5452 §9.1); anything else is ignored.
            if (from !== formatIpv4(server) || fromPort !== DNS_PORT) continue;
            const a = parseAnswer(data, id, name);
            if (typeof a === 'string') continue; // not the answer to this query
            if (a.kind === 'addresses') return a.addresses;
            if (a.kind === 'noname') throw new SocketError('EAI_NONAME', syscall, JSON.stringify(name), `the name server ${formatIpv4(server)} knows no address for it`);
            servfail = true; // SERVFAIL or REFUSED: the next server may do better
            break;
          }
        } finally {
          s.close();
        }
      }
    }
    throw new SocketError('EAI_AGAIN', syscall, JSON.stringify(name), servfail ? 'the name servers failed to answer (SERVFAIL)' : `no answer from ${this.servers.map(formatIpv4).join(', ')} (${this.attempts} x ${this.timeoutMs} ms)`);
  }
}

function parseAddr(s: string, what: string): Ipv4Addr {
  const a = tryParseIp(s);
  if (a === null || typeof a !== 'number') throw new RangeError(`${what}: ${JSON.stringify(s)} is not an IPv4 address`);
  return a;
}

function parseAnyAddr(s: string, what: string): IpAddr {
  const a = tryParseIp(s);
  if (a === null) throw new RangeError(`${what}: ${JSON.stringify(s)} is not an IPv4 or IPv6 address`);
  return a;
}
