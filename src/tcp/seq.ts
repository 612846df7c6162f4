/**
 * Sequence number arithmetic modulo 2^32 (RFC 9293 §3.4). Sequence numbers are never
 * compared with `<`: the difference is taken as a signed 32-bit number (gVisor's seqnum,
 * Linux's before()/after()), which is right as long as the two are within 2^31.
 */
export type Seq = number;

/** a + n, wrapped to an unsigned 32-bit value. */
export function seqAdd(a: Seq, n: number): Seq {
  return (a + n) >>> 0;
}

/** The signed distance from b to a (a - b). */
export function seqDiff(a: Seq, b: Seq): number {
  return (a - b) | 0;
}

export function seqLt(a: Seq, b: Seq): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: Seq, b: Seq): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: Seq, b: Seq): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: Seq, b: Seq): boolean {
  return ((a - b) | 0) >= 0;
}

export function seqMax(a: Seq, b: Seq): Seq {
  return seqGt(a, b) ? a : b;
}

export function seqMin(a: Seq, b: Seq): Seq {
  return seqLt(a, b) ? a : b;
}

/** lo <= x < hi, modulo 2^32. */
export function seqInRange(x: Seq, lo: Seq, hi: Seq): boolean {
  return seqLe(lo, x) && seqLt(x, hi);
}
