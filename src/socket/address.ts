/**
 * Socket addresses are `[host, port]` pairs, as in Python's socket module:
 * `['10.7.0.1', 7]`; `''` or `'0.0.0.0'` is any address; `'localhost'` is 127.0.0.1, the
 * stack's loopback interface.
 */
import { ANY, BROADCAST, formatIpv4, parseIpv4, type Ipv4Addr } from '../ip/address.js';
import { LOOPBACK_ADDR } from '../ip/loopback.js';
import { SocketError } from './errors.js';

/**
 * A socket address `[host, port]`, as in Python: host is a dotted IPv4 address, `''` or
 * `'0.0.0.0'` for any, `'localhost'` for 127.0.0.1 (the loopback interface), or
 * `'<broadcast>'`; other names are resolved by the calls that take them (see names.ts).
 */
export type SockAddr = [host: string, port: number];

export function resolveAddr(a: SockAddr, ownAddr: Ipv4Addr, syscall: string, who: string): { addr: Ipv4Addr; port: number } {
  if (!Array.isArray(a) || a.length !== 2) throw new SocketError('EINVAL', syscall, who, 'address must be [host, port]');
  const [host, port] = a;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SocketError('EINVAL', syscall, who, `port ${port} is not 0..65535`);
  let addr: Ipv4Addr;
  if (host === '' || host === '0.0.0.0') addr = ANY;
  else if (host === 'localhost') addr = LOOPBACK_ADDR;
  else if (host === '<broadcast>' || host === '255.255.255.255') addr = BROADCAST;
  else {
    try {
      addr = parseIpv4(host);
    } catch {
      throw new SocketError('EINVAL', syscall, who, `"${host}" is not an IPv4 address (names are not resolved)`);
    }
  }
  return { addr, port };
}

export function sockAddr(addr: Ipv4Addr, port: number): SockAddr {
  return [formatIpv4(addr), port];
}
