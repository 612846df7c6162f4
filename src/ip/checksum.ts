/**
 * The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement
 * sum of the data taken as big-endian 16-bit words.
 *
 * Two facts make it fast in JavaScript:
 *  - The sum is kept in a plain number and folded once at the end: a double holds
 *    integers exactly up to 2^53, so millions of words can be added before folding.
 *  - The ones' complement sum does not depend on byte order (RFC 1071 §2(B)): summing
 *    the data as little-endian 32-bit words and swapping the bytes of the folded result
 *    gives the same checksum, at one load per four bytes. When the range starts on a
 *    4-byte boundary of its ArrayBuffer (the stack keeps its buffers aligned so that it
 *    does), a cached Uint32Array view over the whole buffer does that; otherwise a
 *    byte loop does. `scripts/bench-checksum.mjs` measures both.
 */
import type { IpAddr } from './ip-address.js';
import { ipv6Sum, type Ipv6Addr } from './ipv6-address.js';

/** One 32-bit view per ArrayBuffer, made once (no allocation per packet). */
const views = new WeakMap<ArrayBufferLike, Uint32Array>();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function view32(buf: ArrayBufferLike): Uint32Array {
  let v = views.get(buf);
  if (v === undefined) {
    v = new Uint32Array(buf, 0, buf.byteLength >>> 2);
    views.set(buf, v);
  }
  return v;
}

/** Folds to 16 bits (ones' complement addition of the carries). */
function fold(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The byte-at-a-time sum, for ranges that do not start on a 4-byte boundary. */
export function sumBytesSlow(b: Uint8Array, off: number, len: number, acc = 0): number {
  let i = off;
  const end = off + len;
  const end8 = end - 7;
  let s = acc;
  while (i < end8) {
    s += ((b[i]! << 8) | b[i + 1]!) + ((b[i + 2]! << 8) | b[i + 3]!) + ((b[i + 4]! << 8) | b[i + 5]!) + ((b[i + 6]! << 8) | b[i + 7]!);
    i += 8;
  }
  while (i + 1 < end) {
    s += (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  if (i < end) s += b[i]! << 8; // odd trailing byte is padded with zero (RFC 1071)
  return s;
}

/** Adds `len` bytes of `b` starting at `off` to the running (unfolded, big-endian) sum `acc`. */
export function sumBytes(b: Uint8Array, off: number, len: number, acc = 0): number {
  const start = b.byteOffset + off;
  if (!LITTLE_ENDIAN || (start & 3) !== 0 || len < 64) return sumBytesSlow(b, off, len, acc);
  const w = view32(b.buffer);
  let i = start >>> 2;
  const words = len >>> 2;
  const end = i + words;
  const end4 = end - 3;
  let s = 0;
  while (i < end4) {
    s += w[i]! + w[i + 1]! + w[i + 2]! + w[i + 3]!;
    i += 4;
  }
  while (i < end) s += w[i++]!;
  // The sum of little-endian words, folded, is the big-endian sum with its bytes swapped.
  // (Folded inline: passing the large double `s` to a call would box it.)
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  const le = s;
  const be = ((le & 0xff) << 8) | (le >>> 8);
  const rest = len & 3;
  return rest === 0 ? acc + be : sumBytesSlow(b, off + len - rest, rest, acc + be);
}

/** Folds a running sum to 16 bits and complements it: the value to put in a header. */
export function finishChecksum(acc: number): number {
  return ~fold(acc) & 0xffff;
}

/** The checksum of a byte range (0 means the range, including its checksum field, verifies). */
export function checksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return finishChecksum(sumBytes(b, off, len, acc));
}

/**
 * The running sum of the pseudo-header that UDP and TCP checksums cover. IPv4 (RFC 768,
 * RFC 9293 §3.1): source, destination, zero+protocol, transport length; IPv6 (RFC 8200
 * §8.1): the 128-bit addresses, a 32-bit length, three zero bytes and the next header.
 */
export function pseudoHeaderSum(src: IpAddr, dst: IpAddr, protocol: number, length: number): number {
  if (typeof src === 'number' && typeof dst === 'number') return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
  return pseudoHeaderSum6(src as Ipv6Addr, dst as Ipv6Addr, protocol, length);
}

/** The IPv6 pseudo-header's running sum (RFC 8200 §8.1). */
export function pseudoHeaderSum6(src: Ipv6Addr, dst: Ipv6Addr, nextHeader: number, length: number): number {
  return ipv6Sum(src) + ipv6Sum(dst) + (length >>> 16) + (length & 0xffff) + nextHeader;
}
