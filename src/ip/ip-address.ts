/**
 * An address of either family, as the transports, sockets and traces see it: an IPv4
 * address is a number (address.ts), an IPv6 address an `Ipv6Addr` (ipv6-address.ts).
 * `typeof a === 'number'` tells the family; no string is built on the hot path.
 */
import { formatIpv4, parseIpv4, type Ipv4Addr } from './address.js';
import { formatIpv6, ipv6Equal, ipv6Hash, isUnspecified6, tryParseIpv6, type Ipv6Addr } from './ipv6-address.js';

/** An address of either family: an IPv4 address as an unsigned 32-bit number, or an `Ipv6Addr`. */
export type IpAddr = Ipv4Addr | Ipv6Addr;
export type IpFamily = 4 | 6;

export function isIpv6(a: IpAddr): a is Ipv6Addr {
  return typeof a !== 'number';
}

export function familyOf(a: IpAddr): IpFamily {
  return typeof a === 'number' ? 4 : 6;
}

/** Equality by value (IPv6 addresses are objects: never compare them with `===`). */
export function ipEqual(a: IpAddr, b: IpAddr): boolean {
  if (typeof a === 'number') return a === b;
  return typeof b !== 'number' && ipv6Equal(a, b);
}

/** 0.0.0.0 or ::, the wildcard of its family. */
export function isAnyAddr(a: IpAddr): boolean {
  return typeof a === 'number' ? a === 0 : isUnspecified6(a);
}

/** A small integer summarising the address (hash keys). */
export function ipHash(a: IpAddr): number {
  return typeof a === 'number' ? a & 0x3fffffff : ipv6Hash(a);
}

/** RFC 5952 for IPv6, dotted decimal for IPv4. */
export function formatIp(a: IpAddr): string {
  return typeof a === 'number' ? formatIpv4(a) : formatIpv6(a);
}

/** `10.7.0.1:5000` or `[fd00:7::1]:5000` (RFC 5952 §6). */
export function formatEndpoint(a: IpAddr, port: number): string {
  return typeof a === 'number' ? `${formatIpv4(a)}:${port}` : `[${formatIpv6(a)}]:${port}`;
}

/** Either family's text form, or null. */
export function tryParseIp(s: string): IpAddr | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    try {
      return parseIpv4(s);
    } catch {
      return null;
    }
  }
  return s.includes(':') ? tryParseIpv6(s) : null;
}

/** Either family's text form; throws TypeError for anything else. */
export function parseIp(s: string): IpAddr {
  const a = tryParseIp(s);
  if (a === null) throw new TypeError(`not an IP address: ${JSON.stringify(s)}`);
  return a;
}
