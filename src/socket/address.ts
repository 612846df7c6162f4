/**
 * Socket addresses are tuples, as in Python's socket module: `[host, port]` for AF_INET
 * (`['10.7.0.1', 7]`; `''` or `'0.0.0.0'` is any address; `'localhost'` is 127.0.0.1),
 * `[host, port, flowinfo, scope_id]` for AF_INET6 (`['fd00:7::1', 7, 0, 0]`; `''` or `'::'`
 * is any address, `'localhost'` ::1; a link-local host may carry its zone,
 * `'fe80::1%tcpip0'`). An AF_INET6 socket given `[host, port]` takes it as Python does.
 * An AF_INET6 socket sees IPv4 peers as IPv4-mapped addresses, `::ffff:10.7.0.1`
 * (RFC 4291 §2.5.5.2), and may name one that way to reach an IPv4 host.
 */
import type { IpAddr } from '../ip/ip-address.js';
import { formatIp } from '../ip/ip-address.js';
import { formatIpv6, isLinkLocal6, isV4Mapped, v4Mapped } from '../ip/ipv6-address.js';
import { AF_INET, AF_INET6 } from './constants.js';
import type { Names } from './names.js';
import { SocketError } from './errors.js';

/**
 * A socket address. AF_INET: `[host, port]`, host a dotted IPv4 address, `''` or
 * `'0.0.0.0'` for any, `'localhost'`, `'<broadcast>'`, or a name (see names.ts).
 * AF_INET6: `[host, port, flowinfo, scope_id]` (the last two may be left out), host an
 * IPv6 address in any RFC 4291 form, `''` or `'::'` for any, `'localhost'` (::1) or a name.
 */
export type SockAddr = [host: string, port: number] | [host: string, port: number, flowinfo: number, scopeId: number];

/** AF_INET or AF_INET6. */
export type Family = typeof AF_INET | typeof AF_INET6;

function checkAddr(a: SockAddr, family: Family, syscall: string, who: string): [string, number] {
  const shape = family === AF_INET6 ? '[host, port, flowinfo, scope_id]' : '[host, port]';
  if (!Array.isArray(a) || a.length < 2 || a.length > (family === AF_INET6 ? 4 : 2)) throw new SocketError('EINVAL', syscall, who, `address must be ${shape}`);
  const [host, port] = a;
  if (typeof host !== 'string') throw new SocketError('EINVAL', syscall, who, 'host must be a string');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SocketError('EINVAL', syscall, who, `port ${port} is not 0..65535`);
  for (const [i, what] of [[2, 'flowinfo'], [3, 'scope_id']] as const) {
    const v = (a as unknown[])[i];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff)) throw new SocketError('EINVAL', syscall, who, `${what} ${String(v)} is not a 32-bit unsigned integer`);
  }
  // A zone on a link-local address names the interface; the stack has one.
  const zone = host.indexOf('%');
  return [zone >= 0 && family === AF_INET6 ? host.slice(0, zone) : host, port];
}

/**
 * Checks that an address found for `host` fits the socket's family, and gives the form
 * the transports use: IPv4-mapped IPv6 addresses become IPv4 addresses.
 */
export function forFamily(addr: IpAddr, family: Family, host: string, syscall: string, who: string): IpAddr {
  if (family === AF_INET) {
    if (typeof addr !== 'number') throw new SocketError('EAFNOSUPPORT', syscall, who, `"${host}" is an IPv6 address: use an AF_INET6 socket`);
    return addr;
  }
  if (typeof addr === 'number') return addr; // through a name or '::ffff:a.b.c.d'
  return isV4Mapped(addr) ? addr.w3 : addr;
}

/**
 * `[host, port]` with a host known without DNS: an address, `localhost`, the stack's host
 * name or a hosts-table name (`bind` takes only these). Throws EAI_NONAME for another name.
 */
export function resolveAddr(a: SockAddr, names: Names, family: Family, syscall: string, who: string): { addr: IpAddr; port: number } {
  const [host, port] = checkAddr(a, family, syscall, who);
  const addr = names.local(host, family);
  if (addr === null) throw new SocketError('EAI_NONAME', syscall, who, `"${host}" is not an IP address or a name this host knows without DNS`);
  return { addr: forFamily(addr, family, host, syscall, who), port };
}

/** `[host, port]` when the host is known without DNS, else null (the caller then awaits `lookupAddr`). */
export function localAddr(a: SockAddr, names: Names, family: Family, syscall: string, who: string): { addr: IpAddr; port: number } | null {
  const [host, port] = checkAddr(a, family, syscall, who);
  const addr = names.local(host, family);
  return addr === null ? null : { addr: forFamily(addr, family, host, syscall, who), port };
}

/** `[host, port]`, asking DNS for a name the host does not know itself (see names.ts). */
export async function lookupAddr(a: SockAddr, names: Names, family: Family, syscall: string, who: string): Promise<{ addr: IpAddr; port: number }> {
  const local = localAddr(a, names, family, syscall, who);
  if (local !== null) return local;
  const [addr] = await names.lookup(a[0], syscall, family);
  return { addr: forFamily(addr!, family, a[0], syscall, who), port: a[1] };
}

/** The tuple a socket of `family` reports for (addr, port): IPv4 peers of an AF_INET6 socket as `::ffff:a.b.c.d`. */
export function sockAddr(addr: IpAddr, port: number, family: Family = AF_INET): SockAddr {
  if (family === AF_INET) return [formatIp(addr), port];
  const a6 = typeof addr === 'number' ? (addr === 0 ? '::' : formatIpv6(v4Mapped(addr))) : formatIpv6(addr);
  return [a6, port, 0, typeof addr !== 'number' && isLinkLocal6(addr) ? 1 : 0];
}
