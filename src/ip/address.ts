/**
 * IPv4 addresses are unsigned 32-bit numbers inside the stack (no objects, no strings
 * on the hot path); these helpers convert at the edges.
 */
export type Ipv4Addr = number;

export const ANY: Ipv4Addr = 0;
export const BROADCAST: Ipv4Addr = 0xffffffff;

export function parseIpv4(s: string): Ipv4Addr {
  const parts = s.split('.');
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${JSON.stringify(s)}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new TypeError(`not an IPv4 address: ${JSON.stringify(s)}`);
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

export function formatIpv4(a: Ipv4Addr): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** "10.7.0.2/24" -> { addr, prefixLen } */
export function parseCidr(s: string): { addr: Ipv4Addr; prefixLen: number } {
  const parts = s.split('/');
  if (parts.length > 2) throw new TypeError(`not an IPv4 prefix: ${JSON.stringify(s)}`);
  const [a, p] = parts;
  const prefixLen = p === undefined ? 32 : Number(p);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32 || (p !== undefined && !/^\d+$/.test(p))) {
    throw new TypeError(`not an IPv4 prefix: ${JSON.stringify(s)}`);
  }
  return { addr: parseIpv4(a!), prefixLen };
}

export function netmask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

export function sameSubnet(a: Ipv4Addr, b: Ipv4Addr, prefixLen: number): boolean {
  const m = netmask(prefixLen);
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}

export function isMulticast(a: Ipv4Addr): boolean {
  return a >>> 28 === 0xe;
}

export function isLoopback(a: Ipv4Addr): boolean {
  return a >>> 24 === 127;
}

/**
 * A source address no host may use (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7 "martian"):
 * 0.0.0.0/8 (except as a DHCP client's 0.0.0.0, which we never expect), 127/8,
 * multicast and reserved class E, and the limited broadcast.
 */
export function isMartianSource(a: Ipv4Addr): boolean {
  const top = a >>> 24;
  return top === 0 || top === 127 || top >= 224;
}
