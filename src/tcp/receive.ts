/**
 * The receiving half of a connection (RFC 9293 §3.3.1 receive sequence variables): the
 * receive window and what we advertise of it, segment acceptability and trimming, data
 * into the receive buffer in or out of order, the peer's FIN, SACK blocks for what we
 * hold out of order (RFC 2018), and when to acknowledge (RFC 1122 §4.2.3.2, RFC 5681
 * §4.2). Only this class writes RCV.* and the ACK-generation state.
 *
 *                1          2          3
 *            ----------|----------|----------
 *                   RCV.NXT    RCV.NXT
 *                             +RCV.WND
 *   1 - old sequence numbers that have been acknowledged
 *   2 - sequence numbers allowed for new reception
 *   3 - future sequence numbers that are not yet allowed
 */
import { Assembler } from './assembler.js';
import type { TcpConnection } from './connection.js';
import { MAX_WSCALE } from './options.js';
import { RingBuffer } from './ring-buffer.js';
import type { Segment } from './segment.js';
import { seqAdd, seqDiff, seqInRange, seqLt } from './seq.js';
import { Timer } from './timers.js';
import { TS_OPTION_LEN } from './timestamps.js';
import { FIN, SYN } from './tcp-packet.js';

/** The largest unscaled window field (RFC 9293 §3.1: 16 bits). */
const MAX_WINDOW_FIELD = 65535;

export class Receiver {
  /** IRS, RCV.NXT. */
  irs = 0;
  nxt = 0;
  /** The right edge of the window we last advertised (never moved left: RFC 9293 §3.8.6.2.2). */
  advEdge = 0;
  /** RFC 7323: the shift we apply to our window field. */
  wscale: number;
  /** The MSS we advertise (the route's MTU less 40). */
  mss: number;
  /** The window our SYN advertised (unscaled), for the right edge once RCV.NXT is known. */
  synWindow = 0;
  buf: RingBuffer;
  readonly ooo: Assembler;
  /** The sequence number of the latest out-of-order segment (its SACK block goes first). */
  lastOooSeq = 0;
  /** The peer's FIN arrived ahead of a gap: its sequence number, else -1. */
  finSeq = -1;
  /** The peer's FIN has been received (EOF after the buffered data). */
  finReceived = false;
  /** The user shut down reading (SHUT_RD): arriving data is acknowledged and discarded. */
  rdShut = false;

  // --- ACK generation
  /** An ACK must go out now (piggybacked on data if there is any). */
  ackNow = false;
  /** ...and may not wait for the end of the batch (a duplicate ACK for out-of-order data). */
  ackImmediate = false;
  /** Full-sized segments received since our last ACK (RFC 1122 §4.2.3.2: ACK every second). */
  unackedSegs = 0;
  /**
   * Quick ACKs (Linux's quickack mode; config quickAck): when data starts to flow, at the
   * connection's start and again after the receiver sat idle longer than an RTO, the next
   * in-order segments are each ACKed at once rather than every second one or after the
   * delay. The sender is then in slow start, and each ACK grows its window (RFC 5681
   * §3.1), so it reaches its rate a delayed ACK (up to 40 ms) sooner, and a short
   * transfer's last odd segment is not held back. How many: half the window in
   * segments, 2 to 16, as Linux.
   */
  private quick = 0;
  /** The application answers promptly what it receives (request/response): ACKs ride on its replies, so no quick ACKs (Linux's pingpong mode). */
  private interactive = false;
  /** When in-order data last arrived, -1 before any. */
  private lastDataAt = -1;

  constructor(
    private readonly c: TcpConnection,
    bufSize: number,
    maxOooRanges: number,
    mtuMss: number,
  ) {
    this.buf = new RingBuffer(bufSize);
    this.ooo = new Assembler(maxOooRanges);
    this.mss = mtuMss;
    this.wscale = wscaleFor(bufSize);
  }

  /** The peer's SYN: IRS, and RCV.NXT just past it; a window our SYN advertised is anchored there. */
  init(irs: number): void {
    this.irs = irs;
    this.nxt = seqAdd(irs, 1);
    this.advEdge = seqAdd(this.nxt, this.synWindow);
  }

  /** A SYN cookie's ACK: our SYN-ACK advertised min(65535, buffer) unscaled, as sendCookie wrote it. */
  initFromCookie(irs: number): void {
    this.synWindow = Math.min(MAX_WINDOW_FIELD, this.buf.capacity);
    this.init(irs);
  }

  /** The route is known before our SYN: the MSS it carries. */
  useMss(mss: number): void {
    this.mss = mss;
  }

  /** Window scaling is off for this connection (the peer did not offer it, RFC 7323 §2.2). */
  noScaling(): void {
    this.wscale = 0;
  }

  /** SO_RCVBUF before the connection carries data. */
  resize(size: number, handshakeDone: boolean): void {
    if (this.buf.length !== 0 || !this.ooo.isEmpty()) return;
    this.buf = new RingBuffer(size);
    if (!handshakeDone) this.wscale = wscaleFor(size);
  }

  // ------------------------------------------------------------------ windows

  /** The window we may advertise now, before scaling: the free receive buffer. */
  private rawWindow(): number {
    return this.rdShut ? this.buf.capacity : this.buf.capacity - this.buf.length;
  }

  /** What the peer may send beyond RCV.NXT per our last advertisement. */
  advertisedWindow(): number {
    return Math.max(0, seqDiff(this.advEdge, this.nxt));
  }

  /** RFC 1122 §4.2.3.3 (receiver SWS avoidance): move the edge only by min(RCV.BUFF/2, MSS) or more. */
  canOpenWindow(): boolean {
    const edge = seqAdd(this.nxt, this.rawWindow());
    return seqDiff(edge, this.advEdge) >= Math.min(this.buf.capacity / 2, this.mss);
  }

  /** Is the advertised window so small that reading should announce the space it frees? */
  windowIsSmall(): boolean {
    return this.advertisedWindow() < Math.min(this.buf.capacity / 2, 2 * this.mss);
  }

  /** The 16-bit window field for an outgoing segment; moves the advertised edge. */
  windowField(syn: boolean): number {
    if (syn) {
      // RFC 7323 §2.2: the window in a SYN is never scaled.
      const w = Math.min(this.rawWindow(), MAX_WINDOW_FIELD);
      this.synWindow = w;
      this.advEdge = seqAdd(this.nxt, w);
      return w;
    }
    if (this.canOpenWindow() || seqLt(this.advEdge, this.nxt)) {
      const w = Math.min(this.rawWindow(), MAX_WINDOW_FIELD << this.wscale);
      const field = w >>> this.wscale;
      this.advEdge = seqAdd(this.nxt, field << this.wscale);
      return field;
    }
    return this.advertisedWindow() >>> this.wscale;
  }

  // ------------------------------------------------------------------ arrival

  /** RFC 9293 §3.10.7.4: the acceptability test for a segment's sequence space. */
  acceptable(s: Segment): boolean {
    const wnd = this.advertisedWindow();
    const len = s.segLen();
    // RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, or the segment's last byte in that range.
    const end = seqAdd(this.nxt, wnd);
    if (len === 0) return wnd === 0 ? s.seq === this.nxt : seqInRange(s.seq, this.nxt, end);
    if (wnd === 0) return false;
    return seqInRange(s.seq, this.nxt, end) || seqInRange(seqAdd(s.seq, len - 1), this.nxt, end);
  }

  /** Trims the segment to the receive window: old bytes off the front, excess off the back. */
  trimToWindow(s: Segment): void {
    let front = seqDiff(this.nxt, s.seq);
    if (front > 0) {
      if (s.has(SYN)) {
        s.flags &= ~SYN;
        s.seq = seqAdd(s.seq, 1);
        front--;
      }
      const cut = Math.min(front, s.len);
      s.off += cut;
      s.len -= cut;
      s.seq = seqAdd(s.seq, cut);
    }
    const room = this.advertisedWindow() - Math.max(0, seqDiff(s.seq, this.nxt));
    if (s.len > room) {
      s.len = Math.max(0, room);
      s.flags &= ~FIN; // the FIN lies beyond the window
    }
  }

  /**
   * The seventh step: in-window data into the receive buffer, in order or not. Returns
   * true when the data closed the gap before a FIN that had arrived early (the FIN is
   * then in order, for the caller's eighth step).
   */
  text(s: Segment, now: number): boolean {
    const c = this.c;
    const off = seqDiff(s.seq, this.nxt);
    const len = Math.min(s.len, this.buf.free - off);
    if (off < 0 || len <= 0) return false;
    this.buf.writeAt(this.buf.length + off, s.b, s.off, len);
    let n: number;
    if (off === 0 && this.ooo.isEmpty()) {
      n = len; // in order with nothing waiting: no ranges to keep (the common case)
    } else {
      if (!this.ooo.add(off, off + len)) {
        c.stats.oooDropped++;
        this.ackNow = true;
        return false;
      }
      if (off > 0) {
        c.stats.oooSegments++;
        this.lastOooSeq = s.seq;
      }
      n = this.ooo.takeFront();
    }
    let finDue = false;
    if (n > 0) {
      this.buf.commit(n);
      this.nxt = seqAdd(this.nxt, n);
      c.stats.bytesIn += n;
      if (this.rdShut) this.buf.consume(n); // SHUT_RD: acknowledged and thrown away
      finDue = this.finSeq !== -1 && this.nxt === this.finSeq;
    }
    if (off > 0 || !this.ooo.isEmpty() || n > len) {
      // RFC 5681 §4.2: ACK at once for out-of-order data and for data that fills a hole;
      // each out-of-order segment gets its own duplicate ACK (fast retransmit counts them).
      this.ackNow = true;
      if (off > 0) this.ackImmediate = true;
    } else {
      // RFC 1122 §4.2.3.2: delay the ACK, but ACK at least every second full-sized segment.
      // "Full-sized" is the smaller of our MSS and the peer's (a peer with a small MSS
      // sends small full segments), less the options every segment carries. A segment
      // larger than that (the kernel's TCP segmentation offload hands us up to 64 KiB at
      // once, as GRO does inside Linux) counts as the full segments it holds.
      const full = Math.min(this.mss, c.snd.mss) - (c.ts.ok ? TS_OPTION_LEN : 0);
      if (c.config.quickAck && (this.lastDataAt < 0 || now - this.lastDataAt > c.rtt.rto)) {
        this.quick = Math.min(16, Math.max(2, Math.floor(this.advertisedWindow() / (2 * full))));
      }
      this.lastDataAt = now;
      if (len >= full) this.unackedSegs += Math.floor(len / full);
      if (this.quick > 0 && !this.interactive) {
        this.quick--;
        this.ackNow = true;
      } else if (this.unackedSegs >= 2) this.ackNow = true;
      else c.timers.armIfIdle(Timer.Delack, now + c.config.delayedAckMs);
    }
    return finDue;
  }

  /**
   * The eighth step's bookkeeping: a FIN at `finAt`. Returns true when it is in order
   * (then the caller takes it, see `takeFin`); a FIN after a gap is remembered.
   */
  fin(finAt: number): boolean {
    if (finAt === this.nxt) return true;
    if (seqLt(this.nxt, finAt)) {
      this.finSeq = finAt; // after a gap: taken when the gap fills
      this.ackNow = true; // RFC 5681 §4.2: an out-of-order segment gets an immediate duplicate ACK
    }
    return false;
  }

  /** The peer's FIN, in order: RCV.NXT moves past it. False if it was taken already. */
  takeFin(): boolean {
    if (this.finReceived) return false;
    this.finReceived = true;
    this.finSeq = -1;
    this.nxt = seqAdd(this.nxt, 1);
    this.ackNow = true;
    return true;
  }

  /** Zero-window text is dropped, and acknowledged so that the peer's probe is answered (RFC 1122 §4.2.2.17). */
  answerProbe(): void {
    this.ackNow = true;
  }

  // ------------------------------------------------------------------ the application

  /** RECEIVE (§3.10.3): up to `max` bytes, or null when none are buffered. */
  read(max: number): Uint8Array | null {
    if (this.buf.length === 0) return null;
    return this.buf.read(max);
  }

  /** An ACK is wanted: now, or (timer) when the delayed ACK is due. */
  requestAck(): void {
    this.ackNow = true;
  }

  /** We sent data: sent soon after data arrived, it is a reply, and the connection is interactive. */
  dataSent(now: number): void {
    if (this.lastDataAt >= 0 && now - this.lastDataAt < this.c.config.delayedAckMs) this.interactive = true;
  }

  /** The delayed-ACK timer fired: no reply carried the ACK, so the connection is not interactive (any more). */
  delayedAckFired(): void {
    this.interactive = false;
    this.ackNow = true;
  }

  /** An ACK went out (on its own or on data): nothing is owed any more. */
  ackSent(): void {
    this.ackNow = false;
    this.ackImmediate = false;
    this.unackedSegs = 0;
    this.c.timers.stop(Timer.Delack);
  }

  // ------------------------------------------------------------------ SACK (RFC 2018 §4)

  /**
   * SACK blocks describing our out-of-order data into `out`'s first tuples (at most
   * `max`, and 3 beside timestamps): the block with the most recently received segment
   * first. Returns how many.
   */
  fillSackBlocks(out: [number, number][], max: number): number {
    const o = this.ooo;
    const limit = Math.min(max, this.c.ts.ok ? 3 : 4, out.length);
    const recent = seqDiff(this.lastOooSeq, this.nxt);
    let first = -1;
    for (let i = 0; i < o.count; i++) if (recent >= o.start(i) && recent < o.end(i)) first = i;
    let k = 0;
    if (first >= 0 && k < limit) this.setBlock(out[k++]!, first);
    for (let i = o.count - 1; i >= 0 && k < limit; i--) if (i !== first) this.setBlock(out[k++]!, i);
    return k;
  }

  /** As fillSackBlocks, into a fresh array (traces and tests). */
  sackBlocks(): [number, number][] {
    const out: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
    return out.slice(0, this.fillSackBlocks(out, 4));
  }

  private setBlock(t: [number, number], i: number): void {
    t[0] = seqAdd(this.nxt, this.ooo.start(i));
    t[1] = seqAdd(this.nxt, this.ooo.end(i));
  }
}

/** The smallest window scale that lets `buf` bytes be advertised (RFC 7323 §2.3), at most 14. */
export function wscaleFor(buf: number): number {
  let s = 0;
  while (s < MAX_WSCALE && MAX_WINDOW_FIELD << s < buf) s++;
  return s;
}
