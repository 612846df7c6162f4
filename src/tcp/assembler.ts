/**
 * Which bytes past the receive buffer's readable end hold out-of-order data: a sorted
 * list of disjoint [start, end) ranges, offsets relative to RCV.NXT. The number of
 * ranges is capped (a peer cannot make us keep unbounded bookkeeping); a segment that
 * would need one more range than the cap is dropped and counted by the caller.
 */
export class Assembler {
  /** [start0, end0, start1, end1, ...] */
  private ranges: number[] = [];

  constructor(readonly maxRanges = 32) {}

  get count(): number {
    return this.ranges.length / 2;
  }

  isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Adds [start, end); false if it would exceed the range cap (nothing changed). */
  add(start: number, end: number): boolean {
    if (end <= start) return true;
    const r = this.ranges;
    const next: number[] = [];
    let s = start;
    let e = end;
    let placed = false;
    for (let i = 0; i < r.length; i += 2) {
      const a = r[i]!;
      const b = r[i + 1]!;
      if (b < s) next.push(a, b);
      else if (a > e) {
        if (!placed) {
          next.push(s, e);
          placed = true;
        }
        next.push(a, b);
      } else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    if (!placed) next.push(s, e);
    if (next.length / 2 > this.maxRanges) return false;
    this.ranges = next;
    return true;
  }

  /** How many bytes from offset 0 are contiguous; removes them and shifts the rest down. */
  takeFront(): number {
    const r = this.ranges;
    if (r.length === 0 || r[0] !== 0) return 0;
    const n = r[1]!;
    r.splice(0, 2);
    for (let i = 0; i < r.length; i++) r[i]! -= n;
    return n;
  }

  /** Shifts everything down by `n` (RCV.NXT advanced by in-order data). */
  shift(n: number): void {
    const r = this.ranges;
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const a = Math.max(0, r[i]! - n);
      const b = r[i + 1]! - n;
      if (b > a) out.push(a, b);
    }
    this.ranges = out;
  }

  clear(): void {
    this.ranges = [];
  }

  /** The ranges, for SACK blocks and tests. */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.ranges.length; i += 2) out.push([this.ranges[i]!, this.ranges[i + 1]!]);
    return out;
  }
}
