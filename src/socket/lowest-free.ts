/**
 * Descriptor numbers as POSIX hands them out to socket() and accept(): always the lowest
 * free one, in O(log n) rather than a scan of the table (which made accepting the
 * 100,000th connection cost 100,000 lookups): numbers never used come from a counter,
 * released ones from a min-heap.
 */
export class LowestFree {
  private next: number;
  private readonly heap: number[] = [];

  constructor(first: number) {
    this.next = first;
  }

  /** The lowest free number, now taken. */
  take(): number {
    const h = this.heap;
    if (h.length === 0) return this.next++;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      // Sift `last` down from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1]! < h[l]! ? l + 1 : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** `n` (taken earlier, and not given back since) is free again. */
  give(n: number): void {
    const h = this.heap;
    let i = h.length;
    h.push(n);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= n) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = n;
  }
}
