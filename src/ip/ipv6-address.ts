/**
 * IPv6 addresses (RFC 4291) inside the stack: an immutable `Ipv6Addr` of four unsigned
 * 32-bit words, most significant first. IPv4 addresses stay plain numbers (address.ts);
 * `IpAddr` (ip-address.ts) is either.
 *
 * Reading an address out of a packet allocates nothing in the steady state: `readIpv6`
 * looks the 16 bytes up in a small direct-mapped cache of recent addresses and returns the
 * object found there. Two reads of one address may still give two objects (after an
 * eviction), so addresses are compared with `ipv6Equal`, never `===`.
 */

/** An IPv6 address: four unsigned 32-bit words, most significant first (immutable). */
export class Ipv6Addr {
  constructor(
    /** Bits 0-31 (the first two groups of the text form). */
    readonly w0: number,
    /** Bits 32-63. */
    readonly w1: number,
    /** Bits 64-95. */
    readonly w2: number,
    /** Bits 96-127. */
    readonly w3: number,
  ) {}

  /** RFC 5952's text form (`fd00:7::2`). */
  toString(): string {
    return formatIpv6(this);
  }
}

export const UNSPECIFIED6 = new Ipv6Addr(0, 0, 0, 0);
export const LOOPBACK6 = new Ipv6Addr(0, 0, 0, 1);
/** ff02::1, all nodes on the link (RFC 4291 §2.7.1). */
export const ALL_NODES = new Ipv6Addr(0xff020000, 0, 0, 1);
/** ff02::2, all routers on the link. */
export const ALL_ROUTERS = new Ipv6Addr(0xff020000, 0, 0, 2);

export function ipv6Equal(a: Ipv6Addr, b: Ipv6Addr): boolean {
  return a === b || (a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3);
}

/** A small integer summarising the address (for hash keys). */
export function ipv6Hash(a: Ipv6Addr): number {
  let h = Math.imul(a.w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ a.w1 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ a.w2 ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ a.w3 ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

export function isUnspecified6(a: Ipv6Addr): boolean {
  return (a.w0 | a.w1 | a.w2 | a.w3) === 0;
}

export function isLoopback6(a: Ipv6Addr): boolean {
  return a.w0 === 0 && a.w1 === 0 && a.w2 === 0 && a.w3 === 1;
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticast6(a: Ipv6Addr): boolean {
  return a.w0 >>> 24 === 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal6(a: Ipv6Addr): boolean {
  return a.w0 >>> 22 === 0x3fa;
}

/** Multicast with link-local scope or narrower (ff01::/16, ff02::/16). */
export function isLinkScopeMulticast(a: Ipv6Addr): boolean {
  return a.w0 >>> 24 === 0xff && (a.w0 >>> 16 & 0xf) <= 2;
}

/** ::ffff:0:0/96, an IPv4 address seen through an IPv6 socket (RFC 4291 §2.5.5.2). */
export function isV4Mapped(a: Ipv6Addr): boolean {
  return a.w0 === 0 && a.w1 === 0 && a.w2 === 0xffff;
}

export function v4Mapped(v4: number): Ipv6Addr {
  return new Ipv6Addr(0, 0, 0xffff, v4 >>> 0);
}

/** The solicited-node multicast address of `a`: ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
export function solicitedNode(a: Ipv6Addr): Ipv6Addr {
  return new Ipv6Addr(0xff020000, 0, 1, (0xff000000 | (a.w3 & 0xffffff)) >>> 0);
}

/** Do `a` and `b` share their first `prefixLen` bits? (On the send path: no allocation.) */
export function samePrefix6(a: Ipv6Addr, b: Ipv6Addr, prefixLen: number): boolean {
  return wordMatch(a.w0, b.w0, prefixLen) && wordMatch(a.w1, b.w1, prefixLen - 32) &&
    wordMatch(a.w2, b.w2, prefixLen - 64) && wordMatch(a.w3, b.w3, prefixLen - 96);
}

/** Do two words agree in their first `bits` bits (all 32 when more, none when 0 or less)? */
function wordMatch(x: number, y: number, bits: number): boolean {
  if (bits <= 0) return true;
  if (bits >= 32) return x === y;
  return (((x ^ y) >>> (32 - bits)) & ((1 << bits) - 1)) === 0;
}

/** The link-local address with the modified EUI-64 interface identifier of `mac` (RFC 4291 App. A, RFC 4862 §5.3). */
export function linkLocalFromMac(mac: Uint8Array): Ipv6Addr {
  const w2 = (((mac[0]! ^ 0x02) << 24) | (mac[1]! << 16) | (mac[2]! << 8) | 0xff) >>> 0;
  const w3 = ((0xfe << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
  return new Ipv6Addr(0xfe800000, 0, w2, w3);
}

function word(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

const CACHE_SIZE = 256;
const cache: (Ipv6Addr | undefined)[] = new Array(CACHE_SIZE);

/** The address at `b[o, o+16)`, from the cache of recent addresses when it is there (no allocation). */
export function readIpv6(b: Uint8Array, o: number): Ipv6Addr {
  const w0 = word(b, o);
  const w1 = word(b, o + 4);
  const w2 = word(b, o + 8);
  const w3 = word(b, o + 12);
  // Every word counts (peers that differ only in the subnet ID must not share a slot).
  const x = w0 ^ w1 ^ w2 ^ w3;
  const slot = (x ^ (x >>> 8) ^ (x >>> 16) ^ (x >>> 24)) & (CACHE_SIZE - 1);
  const c = cache[slot];
  if (c !== undefined && c.w0 === w0 && c.w1 === w1 && c.w2 === w2 && c.w3 === w3) return c;
  const a = new Ipv6Addr(w0, w1, w2, w3);
  cache[slot] = a;
  return a;
}

/** Do the 16 bytes at `b[o]` hold `a`? */
export function ipv6At(b: Uint8Array, o: number, a: Ipv6Addr): boolean {
  return word(b, o) === a.w0 && word(b, o + 4) === a.w1 && word(b, o + 8) === a.w2 && word(b, o + 12) === a.w3;
}

export function writeIpv6(b: Uint8Array, o: number, a: Ipv6Addr): void {
  writeWord(b, o, a.w0);
  writeWord(b, o + 4, a.w1);
  writeWord(b, o + 8, a.w2);
  writeWord(b, o + 12, a.w3);
}

function writeWord(b: Uint8Array, o: number, w: number): void {
  b[o] = w >>> 24;
  b[o + 1] = (w >>> 16) & 255;
  b[o + 2] = (w >>> 8) & 255;
  b[o + 3] = w & 255;
}

/** The ones' complement sum of the address's eight 16-bit words (for pseudo-headers). */
export function ipv6Sum(a: Ipv6Addr): number {
  return (a.w0 >>> 16) + (a.w0 & 0xffff) + (a.w1 >>> 16) + (a.w1 & 0xffff) +
    (a.w2 >>> 16) + (a.w2 & 0xffff) + (a.w3 >>> 16) + (a.w3 & 0xffff);
}

function groups(a: Ipv6Addr): number[] {
  return [a.w0 >>> 16, a.w0 & 0xffff, a.w1 >>> 16, a.w1 & 0xffff, a.w2 >>> 16, a.w2 & 0xffff, a.w3 >>> 16, a.w3 & 0xffff];
}

/**
 * The text form of RFC 5952 §4: lower-case hex without leading zeros, the longest run of
 * two or more zero groups (the first of equal runs) as `::`, and IPv4-mapped addresses
 * with their IPv4 part dotted (§5).
 */
export function formatIpv6(a: Ipv6Addr): string {
  if (isV4Mapped(a)) return `::ffff:${a.w3 >>> 24}.${(a.w3 >>> 16) & 255}.${(a.w3 >>> 8) & 255}.${a.w3 & 255}`;
  const g = groups(a);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (x: number): string => x.toString(16);
  if (bestAt < 0) return g.map(hex).join(':');
  return `${g.slice(0, bestAt).map(hex).join(':')}::${g.slice(bestAt + bestLen).map(hex).join(':')}`;
}

/** Parses the RFC 4291 §2.2 text forms (with `::` and a trailing dotted IPv4 part). Throws TypeError. */
export function parseIpv6(s: string): Ipv6Addr {
  const a = tryParseIpv6(s);
  if (a === null) throw new TypeError(`not an IPv6 address: ${JSON.stringify(s)}`);
  return a;
}

export function tryParseIpv6(s: string): Ipv6Addr | null {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) return null;
  let text = s;
  const tail: number[] = [];
  const dot = text.lastIndexOf('.');
  if (dot >= 0) {
    // A trailing dotted-quad IPv4 part fills the last two groups.
    const colon = text.lastIndexOf(':');
    if (colon < 0 || colon > dot) return null;
    const parts = text.slice(colon + 1).split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
    const n = parts.map(Number);
    tail.push((n[0]! << 8) | n[1]!, (n[2]! << 8) | n[3]!);
    text = text.slice(0, colon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
    if (text === '') return null;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const p of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  if (head === null) return null;
  let g: number[];
  if (halves.length === 2) {
    const rest = parse(halves[1]!);
    if (rest === null) return null;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return null;
    g = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    g = [...head, ...tail];
    if (g.length !== 8) return null;
  }
  return new Ipv6Addr(
    ((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0,
    ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0,
  );
}

/** "fd00:7::2/64" -> { addr, prefixLen } */
export function parseCidr6(s: string): { addr: Ipv6Addr; prefixLen: number } {
  const parts = s.split('/');
  if (parts.length > 2) throw new TypeError(`not an IPv6 prefix: ${JSON.stringify(s)}`);
  const [a, p] = parts;
  const prefixLen = p === undefined ? 128 : Number(p);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 128 || (p !== undefined && !/^\d+$/.test(p))) {
    throw new TypeError(`not an IPv6 prefix: ${JSON.stringify(s)}`);
  }
  return { addr: parseIpv6(a!), prefixLen };
}
