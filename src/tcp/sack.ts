/**
 * The sender's SACK scoreboard (RFC 2018, RFC 6675): which bytes above SND.UNA the peer
 * has reported holding, which holes count as lost, and how much is still in the network
 * ("pipe"). Ranges are kept as offsets from SND.UNA, sorted and disjoint, so sequence
 * wrap never enters the comparisons. Blocks at or below SND.UNA (D-SACK, RFC 2883) or
 * beyond SND.MAX are ignored.
 */
import { seqDiff } from './seq.js';

/** RFC 6675 §2: DupThresh. */
export const DUP_THRESH = 3;
const MAX_RANGES = 64;

export class SackScoreboard {
  /** [start0, end0, start1, end1, ...] offsets from SND.UNA. */
  private r: number[] = [];
  /** During recovery: offsets below this have been retransmitted (RFC 6675 HighRxt). */
  highRxt = 0;

  get sackedBytes(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]!;
    return n;
  }

  isEmpty(): boolean {
    return this.r.length === 0;
  }

  /** End of the highest SACKed byte (an offset), or 0. */
  highestSacked(): number {
    return this.r.length ? this.r[this.r.length - 1]! : 0;
  }

  clear(): void {
    this.r = [];
    this.highRxt = 0;
  }

  /** SND.UNA moved forward by `n` bytes. */
  advance(n: number): void {
    if (n <= 0) return;
    const out: number[] = [];
    for (let i = 0; i < this.r.length; i += 2) {
      const a = Math.max(0, this.r[i]! - n);
      const b = this.r[i + 1]! - n;
      if (b > a) out.push(a, b);
    }
    this.r = out;
    this.highRxt = Math.max(0, this.highRxt - n);
  }

  /** Adds one SACK block [left, right) (sequence numbers); returns true if it was usable. */
  add(left: number, right: number, sndUna: number, sndMax: number): boolean {
    const s = seqDiff(left, sndUna);
    const e = seqDiff(right, sndUna);
    const max = seqDiff(sndMax, sndUna);
    if (e <= 0 || e <= s || e > max) return false; // D-SACK, reversed, or beyond what we sent
    const start = Math.max(0, s);
    const next: number[] = [];
    let a = start;
    let b = e;
    let placed = false;
    for (let i = 0; i < this.r.length; i += 2) {
      const x = this.r[i]!;
      const y = this.r[i + 1]!;
      if (y < a) next.push(x, y);
      else if (x > b) {
        if (!placed) {
          next.push(a, b);
          placed = true;
        }
        next.push(x, y);
      } else {
        a = Math.min(a, x);
        b = Math.max(b, y);
      }
    }
    if (!placed) next.push(a, b);
    if (next.length / 2 > MAX_RANGES) return false;
    this.r = next;
    return true;
  }

  /** Bytes SACKed above offset `off`, and the number of discontiguous ranges there. */
  private above(off: number): { bytes: number; ranges: number } {
    let bytes = 0;
    let ranges = 0;
    for (let i = 0; i < this.r.length; i += 2) {
      if (this.r[i + 1]! <= off) continue;
      bytes += this.r[i + 1]! - Math.max(off, this.r[i]!);
      ranges++;
    }
    return { bytes, ranges };
  }

  /** RFC 6675 IsLost(): DupThresh ranges, or more than (DupThresh - 1) * SMSS bytes, SACKed above. */
  isLost(off: number, mss: number): boolean {
    const a = this.above(off);
    return a.ranges >= DUP_THRESH || a.bytes > (DUP_THRESH - 1) * mss;
  }

  /** The first hole at or above `from` that lies below the highest SACKed byte: [start, end), or null. */
  nextHole(from: number): [number, number] | null {
    let at = from;
    for (let i = 0; i < this.r.length; i += 2) {
      const x = this.r[i]!;
      const y = this.r[i + 1]!;
      if (at < x) return [at, x];
      if (at < y) at = y;
    }
    return null;
  }

  /**
   * RFC 6675 SetPipe(): bytes in flight that are neither SACKed nor counted lost, plus
   * what has been retransmitted. `flight` is SND.MAX - SND.UNA.
   */
  pipe(flight: number, mss: number): number {
    let pipe = 0;
    let at = 0;
    const holeBytes = (a: number, b: number): void => {
      // A hole's bytes below HighRxt were retransmitted (in the network again); above it
      // they are in the network unless judged lost.
      for (let x = a; x < b; ) {
        const end = Math.min(b, x + mss);
        if (x < this.highRxt || !this.isLost(x, mss)) pipe += end - x;
        x = end;
      }
    };
    for (let i = 0; i < this.r.length; i += 2) {
      holeBytes(at, this.r[i]!);
      at = this.r[i + 1]!;
    }
    if (at < flight) pipe += flight - at; // above the highest SACK: not lost by these rules
    return pipe;
  }

  /** The ranges, for tests and traces. */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.r.length; i += 2) out.push([this.r[i]!, this.r[i + 1]!]);
    return out;
  }
}
