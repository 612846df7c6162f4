/**
 * The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement
 * sum of the data taken as big-endian 16-bit words.
 *
 * The sum is kept in a plain JavaScript number and folded once at the end: a double
 * holds integers exactly up to 2^53, so 2^53 / 0xffff words (far more than any packet)
 * can be added without folding carries on every step. Four words per iteration halve
 * the loop overhead (measured in scripts/bench-checksum.ts).
 */
import type { Ipv4Addr } from './address.js';

/** Adds `len` bytes of `b` starting at `off` to the running (unfolded) sum `acc`. */
export function sumBytes(b: Uint8Array, off: number, len: number, acc = 0): number {
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

/** Folds a running sum to 16 bits and complements it: the value to put in a header. */
export function finishChecksum(acc: number): number {
  let s = acc;
  // Fold the high bits down; at most a few rounds for any realistic sum.
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The checksum of a byte range (0 means the range, including its checksum field, verifies). */
export function checksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return finishChecksum(sumBytes(b, off, len, acc));
}

/**
 * The running sum of the IPv4 pseudo-header that UDP and TCP checksums cover
 * (RFC 768, RFC 9293 §3.1): source, destination, zero+protocol, transport length.
 */
export function pseudoHeaderSum(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
