/**
 * Which bytes past the receive buffer's readable end hold out-of-order data: a sorted
 * list of disjoint [start, end) ranges, offsets relative to RCV.NXT. The number of
 * ranges is capped (a peer cannot make us keep unbounded bookkeeping); a segment that
 * would need one more range than the cap is dropped and counted by the caller.
 *
 * The ranges live in one Int32Array, made when the first range is added and edited in
 * place from then on: receiving a segment, in order or not, allocates nothing after that
 * (and a connection whose segments all arrive in order never adds a range: receive.ts
 * takes them straight).
 */
const NO_RANGES = new Int32Array(0);

export class Assembler {
  /**
   * [start0, end0, start1, end1, ...]; `n` ranges in use. Empty (shared) until the first
   * out-of-order segment: most connections never see one, and need none of it.
   */
  private r: Int32Array = NO_RANGES;
  private n = 0;

  constructor(readonly maxRanges = 32) {}

  get count(): number {
    return this.n;
  }

  isEmpty(): boolean {
    return this.n === 0;
  }

  /** Adds [start, end); false if it would exceed the range cap (nothing changed). */
  add(start: number, end: number): boolean {
    if (end <= start) return true;
    if (this.r.length === 0) this.r = new Int32Array(2 * this.maxRanges + 2);
    const r = this.r;
    const n = this.n;
    // i: the first range that ends at or after `start` (it may touch or overlap);
    // j: the first range that starts after `end` (untouched). [i, j) merge with the new one.
    let i = 0;
    while (i < n && r[2 * i + 1]! < start) i++;
    let j = i;
    while (j < n && r[2 * j]! <= end) j++;
    const merged = j - i;
    if (merged === 0 && n >= this.maxRanges) return false;
    const s = merged > 0 ? Math.min(start, r[2 * i]!) : start;
    const e = merged > 0 ? Math.max(end, r[2 * (j - 1) + 1]!) : end;
    // One range replaces `merged` ranges: move the tail by (1 - merged) ranges.
    if (merged !== 1) r.copyWithin(2 * (i + 1), 2 * j, 2 * n);
    r[2 * i] = s;
    r[2 * i + 1] = e;
    this.n = n + 1 - merged;
    return true;
  }

  /** How many bytes from offset 0 are contiguous; removes them and shifts the rest down. */
  takeFront(): number {
    const r = this.r;
    if (this.n === 0 || r[0] !== 0) return 0;
    const len = r[1]!;
    r.copyWithin(0, 2, 2 * this.n);
    this.n--;
    for (let i = 0; i < 2 * this.n; i++) r[i]! -= len;
    return len;
  }

  /** Shifts everything down by `k` (RCV.NXT advanced by in-order data). */
  shift(k: number): void {
    const r = this.r;
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      const a = Math.max(0, r[2 * i]! - k);
      const b = r[2 * i + 1]! - k;
      if (b > a) {
        r[2 * w] = a;
        r[2 * w + 1] = b;
        w++;
      }
    }
    this.n = w;
  }

  clear(): void {
    this.n = 0;
  }

  /** Range i (0 <= i < count): its start and end offsets. */
  start(i: number): number {
    return this.r[2 * i]!;
  }

  end(i: number): number {
    return this.r[2 * i + 1]!;
  }

  /** The ranges, for tests and traces. */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.n; i++) out.push([this.r[2 * i]!, this.r[2 * i + 1]!]);
    return out;
  }
}
