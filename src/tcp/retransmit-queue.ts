/**
 * The retransmission queue: one record per segment we sent that is not yet cumulatively
 * acknowledged (Linux's rtx queue, gVisor's writeList), with what RACK-TLP (RFC 8985)
 * needs of each: its sequence range, when it was last (re)transmitted, and whether it
 * was SACKed (RFC 2018), judged lost, or retransmitted. The bytes themselves stay in the
 * send buffer; a record is a few numbers in typed arrays, so sending and acknowledging
 * allocate nothing. Records are contiguous and in sequence order; a SACK block or a
 * retransmission whose edge falls inside a record splits it (Linux fragments skbs alike).
 *
 * Sequence numbers are compared relative to the first record, so wrap never matters.
 */
import { seqDiff, seqGt } from './seq.js';

/** The peer holds the segment (RFC 2018). */
export const SACKED = 1;
/** Judged lost (by RACK or duplicate ACKs) and not retransmitted since. */
export const LOST = 2;
/** Retransmitted at least once. */
export const RETRANS = 4;
/** The segment carries our FIN (its last sequence number). */
export const FIN_SEG = 8;

/** What a cumulative ACK or a SACK block reports as delivered, record by record. */
export interface DeliverySink {
  delivered(xmitTs: number, endSeq: number, retransmitted: boolean, now: number): void;
}

const INITIAL_RECORDS = 16;
// A queue starts with no room (shared empty arrays: nothing allocated per connection
// until it sends); its first records come in one buffer (see ensureRoom).
const NO_U32 = new Uint32Array(0);
const NO_F64 = new Float64Array(0);
const NO_U8 = new Uint8Array(0);

export class RetransmitQueue {
  private st = NO_U32;
  private en = NO_U32;
  private ts = NO_F64;
  private fl = NO_U8;
  private head = 0;
  private tail = 0;
  /** Bytes (sequence numbers) in SACKed records, and how many records those are. */
  sackedBytes = 0;
  sackedSegs = 0;
  /** Bytes judged lost and not yet sent again: no longer in the network (RFC 6675 "pipe"). */
  lostBytes = 0;

  get count(): number {
    return this.tail - this.head;
  }

  start(i: number): number {
    return this.st[this.head + i]!;
  }

  end(i: number): number {
    return this.en[this.head + i]!;
  }

  xmitTs(i: number): number {
    return this.ts[this.head + i]!;
  }

  flags(i: number): number {
    return this.fl[this.head + i]!;
  }

  /** Sequence space in the network by RFC 6675's reckoning: sent, not SACKed, not lost-and-waiting. */
  pipe(flight: number): number {
    return Math.max(0, flight - this.sackedBytes - this.lostBytes);
  }

  /** Forgets every record (the connection closed). */
  clear(): void {
    this.head = this.tail = 0;
    this.sackedBytes = this.sackedSegs = this.lostBytes = 0;
  }

  /**
   * Sequence numbers [seq, end) went out at `now`. New data (at or past the last record's
   * end) appends a record; anything below it is a retransmission of the records it covers.
   */
  onSend(seq: number, end: number, fin: boolean, now: number): void {
    const n = this.count;
    const lastEnd = n > 0 ? this.en[this.tail - 1]! : seq;
    if (n > 0 && seqDiff(seq, lastEnd) < 0) {
      const i0 = this.split(seq);
      const stop = seqGt(end, lastEnd) ? lastEnd : end;
      const i1 = this.split(stop);
      for (let i = i0; i < i1; i++) {
        const k = this.head + i;
        this.account(k, -1);
        this.fl[k] = (this.fl[k]! | RETRANS) & ~LOST;
        this.ts[k] = now;
        this.account(k, 1);
      }
      if (!seqGt(end, lastEnd)) return;
      seq = lastEnd;
    }
    if (seqDiff(end, seq) <= 0) return;
    this.ensureRoom();
    const k = this.tail++;
    this.st[k] = seq;
    this.en[k] = end;
    this.ts[k] = now;
    this.fl[k] = fin ? FIN_SEG : 0;
  }

  /** SND.UNA moved to `ack`: records below it are delivered (reported to `sink`) and dropped. */
  ackTo(ack: number, sink: DeliverySink | null, now: number): void {
    while (this.head < this.tail) {
      const k = this.head;
      const s = this.st[k]!;
      const e = this.en[k]!;
      if (seqDiff(ack, s) <= 0) break;
      if (seqDiff(ack, e) < 0) {
        // Part of this record is acknowledged (the peer trimmed, or we resegmented).
        this.account(k, -1);
        this.st[k] = ack;
        this.account(k, 1);
        break;
      }
      const f = this.fl[k]!;
      if (sink && (f & SACKED) === 0) sink.delivered(this.ts[k]!, e, (f & RETRANS) !== 0, now);
      this.account(k, -1);
      this.head++;
    }
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  /**
   * One SACK block [left, right): the records inside it are marked SACKed and the newly
   * SACKed ones reported to `sink`. Returns the number of newly SACKed bytes. Blocks
   * outside what is outstanding (D-SACK, RFC 2883, or bogus) change nothing.
   */
  sack(left: number, right: number, sink: DeliverySink | null, now: number): number {
    const n = this.count;
    if (n === 0) return 0;
    const base = this.st[this.head]!;
    const top = seqDiff(this.en[this.tail - 1]!, base);
    let l = seqDiff(left, base);
    const r = seqDiff(right, base);
    if (r <= 0 || r <= l || r > top) return 0;
    if (l < 0) l = 0;
    const i0 = this.split((base + l) >>> 0);
    const i1 = this.split(right);
    let bytes = 0;
    for (let i = i0; i < i1; i++) {
      const k = this.head + i;
      const f = this.fl[k]!;
      if (f & SACKED) continue;
      this.account(k, -1);
      this.fl[k] = (f | SACKED) & ~LOST;
      this.account(k, 1);
      bytes += seqDiff(this.en[k]!, this.st[k]!);
      if (sink) sink.delivered(this.ts[k]!, this.en[k]!, (f & RETRANS) !== 0, now);
    }
    return bytes;
  }

  /** Marks record i lost (it will be retransmitted when the window allows; RETRANS stays: it was sent again before). */
  markLost(i: number): void {
    const k = this.head + i;
    const f = this.fl[k]!;
    if (f & (SACKED | LOST)) return;
    this.account(k, -1);
    this.fl[k] = f | LOST;
    this.account(k, 1);
  }

  /**
   * After a retransmission timeout: lost marks go (we go back to SND.UNA). SACK marks
   * stay, unless the first record is SACKed: the peer then acknowledged less than it
   * SACKed, which means it reneged (RFC 2018 §8), and all SACK marks are dropped (Linux
   * tcp_timeout_mark_lost does the same).
   */
  onTimeout(): void {
    const reneged = this.count > 0 && (this.fl[this.head]! & SACKED) !== 0;
    for (let k = this.head; k < this.tail; k++) {
      this.fl[k] = reneged ? this.fl[k]! & ~(SACKED | LOST) : this.fl[k]! & ~LOST;
    }
    this.lostBytes = 0;
    if (reneged) this.sackedBytes = this.sackedSegs = 0;
  }

  /**
   * After a retransmission timeout (RFC 8985 §6.3): every record not SACKed is lost. If
   * the first record is SACKed the peer reneged (RFC 2018 §8): SACK marks go and all is lost.
   */
  markAllLost(): void {
    const reneged = this.count > 0 && (this.fl[this.head]! & SACKED) !== 0;
    for (let k = this.head; k < this.tail; k++) {
      this.account(k, -1);
      if (reneged) this.fl[k] = this.fl[k]! & ~SACKED;
      if ((this.fl[k]! & SACKED) === 0) this.fl[k] = this.fl[k]! | LOST;
      this.account(k, 1);
    }
  }

  /** The first record at or after index `from` that is lost and waiting, or -1. */
  nextLost(from: number): number {
    for (let k = this.head + from; k < this.tail; k++) if ((this.fl[k]! & (LOST | SACKED)) === LOST) return k - this.head;
    return -1;
  }

  /** Where sending from `seq` should resume past SACKed records: `seq`, or the end of the SACKed run holding it. */
  skipSacked(seq: number): number {
    let i = this.indexOf(seq);
    if (i < 0) return seq;
    while (i < this.count && this.fl[this.head + i]! & SACKED) seq = this.en[this.head + i++]!;
    return seq;
  }

  /** Sequence numbers from `seq` up to the next SACKed record (or Infinity). */
  roomBeforeSacked(seq: number): number {
    const i = this.indexOf(seq);
    if (i < 0) return Infinity;
    for (let k = this.head + i; k < this.tail; k++) if (this.fl[k]! & SACKED) return seqDiff(this.st[k]!, seq);
    return Infinity;
  }

  /** The SACKed ranges, merged, as [start, end) sequence numbers (for traces and tests). */
  sackedRanges(): [number, number][] {
    const out: [number, number][] = [];
    for (let k = this.head; k < this.tail; k++) {
      if ((this.fl[k]! & SACKED) === 0) continue;
      const last = out[out.length - 1];
      if (last && last[1] === this.st[k]) last[1] = this.en[k]!;
      else out.push([this.st[k]!, this.en[k]!]);
    }
    return out;
  }

  /** Index of the record holding `seq`, or -1. */
  private indexOf(seq: number): number {
    const n = this.count;
    if (n === 0) return -1;
    const base = this.st[this.head]!;
    const d = seqDiff(seq, base);
    if (d < 0 || d >= seqDiff(this.en[this.tail - 1]!, base)) return -1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (seqDiff(this.st[this.head + mid]!, base) <= d) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Makes `seq` a record boundary (splitting the record holding it); returns the index of the record starting there (count if at the end). */
  private split(seq: number): number {
    const i = this.indexOf(seq);
    if (i < 0) return seqDiff(seq, this.st[this.head]!) < 0 ? 0 : this.count;
    const k = this.head + i;
    if (this.st[k] === seq) return i;
    this.ensureRoom();
    const k2 = this.head + i; // ensureRoom may have moved the records
    this.account(k2, -1);
    this.st.copyWithin(k2 + 1, k2, this.tail);
    this.en.copyWithin(k2 + 1, k2, this.tail);
    this.ts.copyWithin(k2 + 1, k2, this.tail);
    this.fl.copyWithin(k2 + 1, k2, this.tail);
    this.tail++;
    this.en[k2] = seq;
    this.st[k2 + 1] = seq;
    this.fl[k2 + 1] = this.fl[k2]!;
    this.fl[k2] = this.fl[k2]! & ~FIN_SEG; // the FIN is the last sequence number
    this.account(k2, 1);
    this.account(k2 + 1, 1);
    return i + 1;
  }

  /** Adds or removes record k's bytes from the totals. */
  private account(k: number, sign: 1 | -1): void {
    const f = this.fl[k]!;
    const len = seqDiff(this.en[k]!, this.st[k]!);
    if (f & SACKED) {
      this.sackedBytes += sign * len;
      this.sackedSegs += sign;
    } else if (f & LOST) {
      this.lostBytes += sign * len;
    }
  }

  /** Room for one more record at the tail: compact to the front, or grow. */
  private ensureRoom(): void {
    if (this.tail < this.st.length) return;
    const n = this.count;
    if (this.head > 0 && n < this.st.length / 2) {
      this.st.copyWithin(0, this.head, this.tail);
      this.en.copyWithin(0, this.head, this.tail);
      this.ts.copyWithin(0, this.head, this.tail);
      this.fl.copyWithin(0, this.head, this.tail);
    } else {
      // The four arrays share one buffer: one allocation where a short connection (its
      // SYN and FIN) made eight, and four more views to copy through.
      const cap = Math.max(INITIAL_RECORDS, this.st.length * 2);
      const buf = new ArrayBuffer(cap * 17);
      const ts = new Float64Array(buf, 0, cap);
      const st = new Uint32Array(buf, cap * 8, cap);
      const en = new Uint32Array(buf, cap * 12, cap);
      const fl = new Uint8Array(buf, cap * 16, cap);
      for (let k = this.head, j = 0; k < this.tail; k++, j++) {
        st[j] = this.st[k]!;
        en[j] = this.en[k]!;
        ts[j] = this.ts[k]!;
        fl[j] = this.fl[k]!;
      }
      this.st = st;
      this.en = en;
      this.ts = ts;
      this.fl = fl;
    }
    this.head = 0;
    this.tail = n;
  }
}
