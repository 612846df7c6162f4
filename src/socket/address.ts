/**
 * Socket addresses are `[host, port]` pairs, as in Python's socket module:
 * `['10.7.0.1', 7]`; `''` or `'0.0.0.0'` is any address; `'localhost'` is 127.0.0.1, the
 * stack's loopback interface.
 */
import { formatIpv4, type Ipv4Addr } from '../ip/address.js';
import type { Names } from './names.js';
import { SocketError } from './errors.js';

/**
 * A socket address `[host, port]`, as in Python: host is a dotted IPv4 address, `''` or
 * `'0.0.0.0'` for any, `'localhost'` for 127.0.0.1 (the loopback interface),
 * `'<broadcast>'`, or a name (the stack's host name, a hosts-table name, or one DNS knows:
 * see names.ts).
 */
export type SockAddr = [host: string, port: number];

function checkAddr(a: SockAddr, syscall: string, who: string): [string, number] {
  if (!Array.isArray(a) || a.length !== 2) throw new SocketError('EINVAL', syscall, who, 'address must be [host, port]');
  const [host, port] = a;
  if (typeof host !== 'string') throw new SocketError('EINVAL', syscall, who, 'host must be a string');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SocketError('EINVAL', syscall, who, `port ${port} is not 0..65535`);
  return [host, port];
}

/**
 * `[host, port]` with a host known without DNS: an address, `localhost`, the stack's host
 * name or a hosts-table name (`bind` takes only these). Throws EAI_NONAME for another name.
 */
export function resolveAddr(a: SockAddr, names: Names, syscall: string, who: string): { addr: Ipv4Addr; port: number } {
  const [host, port] = checkAddr(a, syscall, who);
  const addr = names.local(host);
  if (addr === null) throw new SocketError('EAI_NONAME', syscall, who, `"${host}" is not an IPv4 address or a name this host knows without DNS`);
  return { addr, port };
}

/** `[host, port]` when the host is known without DNS, else null (the caller then awaits `lookupAddr`). */
export function localAddr(a: SockAddr, names: Names, syscall: string, who: string): { addr: Ipv4Addr; port: number } | null {
  const [host, port] = checkAddr(a, syscall, who);
  const addr = names.local(host);
  return addr === null ? null : { addr, port };
}

/** `[host, port]`, asking DNS for a name the host does not know itself (see names.ts). */
export async function lookupAddr(a: SockAddr, names: Names, syscall: string, who: string): Promise<{ addr: Ipv4Addr; port: number }> {
  const local = localAddr(a, names, syscall, who);
  if (local !== null) return local;
  const [addr] = await names.lookup(a[0], syscall);
  return { addr: addr!, port: a[1] };
}

export function sockAddr(addr: Ipv4Addr, port: number): SockAddr {
  return [formatIpv4(addr), port];
}
