/**
 * Checking the addresses a stack is given as text (openTun, createStack and the CLI share
 * it): clear errors for bad values.
 */
import { Ipv6Addr, formatIpv6, isLinkLocal6, isMulticast6, isUnspecified6, ipv6Equal, parseCidr6, samePrefix6, tryParseIpv6 } from './ip/ipv6-address.js';

export interface Addressing6 {
  addr: Ipv6Addr;
  prefixLen: number;
  gateway: Ipv6Addr | undefined;
}

/**
 * Parses `addr6` ('fd00:7::2/64'; the prefix defaults to /64) and `gateway6` (default:
 * the prefix's ::1, or ::2 when the stack is ::1).
 */
export function addressing6(addr6: string, gateway6?: string, addrName = 'addr6', gatewayName = 'gateway6'): Addressing6 {
  if (typeof addr6 !== 'string') throw new TypeError(`${addrName} must be a string like 'fd00:7::2/64', not ${String(addr6)}`);
  let parsed: { addr: Ipv6Addr; prefixLen: number };
  try {
    parsed = parseCidr6(addr6.includes('/') ? addr6 : `${addr6}/64`);
  } catch (e) {
    throw new TypeError(`${addrName} "${addr6}" is not an IPv6 address with a prefix, like fd00:7::2/64 (${(e as Error).message})`);
  }
  const { addr, prefixLen } = parsed;
  if (isMulticast6(addr) || isUnspecified6(addr) || (addr.w0 | addr.w1 | addr.w2) === 0) {
    throw new TypeError(`${addrName} "${addr6}" is not a unicast address a host can have`);
  }
  if (isLinkLocal6(addr)) throw new TypeError(`${addrName} "${addr6}" is link-local: on TAP the stack makes its own fe80:: address; give a global or unique-local one (fd00::/8)`);
  if (prefixLen < 1 || prefixLen > 127) throw new TypeError(`${addrName} "${addr6}": the prefix length must be 1..127`);
  let gateway: Ipv6Addr | undefined;
  if (gateway6 !== undefined) {
    const g = tryParseIpv6(gateway6);
    if (g === null) throw new TypeError(`${gatewayName} "${gateway6}" is not an IPv6 address`);
    gateway = g;
  } else {
    // The prefix's first host address (::1), or ::2 when that is the stack.
    const b = prefixBase(addr, prefixLen);
    const one = new Ipv6Addr(b.w0, b.w1, b.w2, (b.w3 + 1) >>> 0);
    gateway = ipv6Equal(one, addr) ? new Ipv6Addr(b.w0, b.w1, b.w2, (b.w3 + 2) >>> 0) : one;
  }
  if (!isLinkLocal6(gateway) && (!samePrefix6(gateway, addr, prefixLen) || ipv6Equal(gateway, addr))) {
    throw new TypeError(`${gatewayName} ${formatIpv6(gateway)} must be another address on ${formatIpv6(addr)}/${prefixLen}`);
  }
  return { addr, prefixLen, gateway };
}

function prefixBase(a: Ipv6Addr, prefixLen: number): { w0: number; w1: number; w2: number; w3: number } {
  const ws = [a.w0, a.w1, a.w2, a.w3].map((w, i) => {
    const bits = Math.min(32, Math.max(0, prefixLen - 32 * i));
    const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return (w & mask) >>> 0;
  });
  return { w0: ws[0]!, w1: ws[1]!, w2: ws[2]!, w3: ws[3]! };
}
