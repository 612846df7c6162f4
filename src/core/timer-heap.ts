/**
 * A binary min-heap of (time, item) entries for timers, used lazily: an item records the
 * time of its one live entry (`heapAt`); entries with another time are dead and skipped
 * when they reach the top. Rescheduling is a push, never a search, so 10,000 connections
 * with timers cost O(log n) per change instead of a scan per event-loop turn.
 */
export interface HeapItem {
  /** The time of this item's live entry in the heap, or -1 when it has none. */
  heapAt: number;
}

export class TimerHeap<T extends HeapItem> {
  private at: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.at.length;
  }

  /** Schedules `item` at `t` (or unschedules it with t < 0); the old entry goes dead. */
  schedule(item: T, t: number): void {
    if (t === item.heapAt) return;
    item.heapAt = t;
    if (t < 0) return;
    this.at.push(t);
    this.items.push(item);
    this.up(this.at.length - 1);
  }

  /** The earliest live entry's time, dropping dead entries on the way; undefined if none. */
  peek(): number | undefined {
    while (this.at.length > 0) {
      if (this.items[0]!.heapAt === this.at[0]) return this.at[0];
      this.pop();
    }
    return undefined;
  }

  /** Removes and returns the earliest live item if it is due at `now`. */
  popDue(now: number): T | undefined {
    const t = this.peek();
    if (t === undefined || t > now) return undefined;
    const item = this.items[0]!;
    this.pop();
    item.heapAt = -1;
    return item;
  }

  /** Rebuilds the heap from live entries when dead ones pile up. */
  compact(): void {
    const at: number[] = [];
    const items: T[] = [];
    for (let i = 0; i < this.at.length; i++) {
      if (this.items[i]!.heapAt === this.at[i]) {
        at.push(this.at[i]!);
        items.push(this.items[i]!);
      }
    }
    this.at = [];
    this.items = [];
    for (let i = 0; i < at.length; i++) {
      this.at.push(at[i]!);
      this.items.push(items[i]!);
      this.up(this.at.length - 1);
    }
  }

  private pop(): void {
    const last = this.at.length - 1;
    this.swap(0, last);
    this.at.pop();
    this.items.pop();
    if (this.at.length > 0) this.down(0);
  }

  private swap(i: number, j: number): void {
    const a = this.at[i]!;
    this.at[i] = this.at[j]!;
    this.at[j] = a;
    const b = this.items[i]!;
    this.items[i] = this.items[j]!;
    this.items[j] = b;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p]! <= this.at[i]!) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.at[l]! < this.at[m]!) m = l;
      if (r < n && this.at[r]! < this.at[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
