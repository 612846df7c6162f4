/**
 * RACK-TLP loss detection (RFC 8985), on the records of the retransmission queue.
 *
 * RACK: a segment is lost when a segment sent after it has been delivered (ACKed or
 * SACKed) and more than RTT + reo_wnd has passed since it was sent. Time, not a count of
 * duplicate ACKs, decides, so a lost retransmission, a short flight, or a reordering
 * link are handled alike. reo_wnd is zero until reordering is seen (then a quarter of
 * the minimum RTT, widened on D-SACKs), and a timer fires when a segment's deadline lies
 * in the future.
 *
 * TLP: when the last segments of a flight are lost, no ACK comes to drive RACK; a probe
 * (new data, or the last segment again) sent after about two RTTs draws one, so the
 * loss is repaired by fast recovery instead of a retransmission timeout.
 *
 * Pure state and arithmetic; the connection does the sending.
 */
import { LOST, RETRANS, SACKED, type DeliverySink, type RetransmitQueue } from './retransmit-queue.js';
import { seqGe, seqGt, seqLt } from './seq.js';

/** RFC 8985 §6.2 (and RFC 6675 DupThresh): this many SACKed segments with no reordering seen means loss at once. */
export const DUP_THRESH = 3;
/** RFC 8985 §7.2: worst-case delayed-ACK time added to a one-segment flight's probe timeout (Linux TCP_RTO_MIN). */
export const WC_DEL_ACK_MS = 200;
/** The shortest probe timeout: ours is a ms clock; Linux floors at 2 jiffies, we at 10 ms for the real timer's sake. */
export const MIN_PTO_MS = 10;
/** RFC 8985 §6.2 step 4: a widened reordering window lasts 16 loss recoveries. */
const REO_WND_PERSIST = 16;

/** RACK_sent_after (RFC 8985 §6.2): by transmit time, ties broken by sequence. */
function sentAfter(t1: number, seq1: number, t2: number, seq2: number): boolean {
  return t1 > t2 || (t1 === t2 && seqGt(seq1, seq2));
}

export class Rack implements DeliverySink {
  /** The most recently sent segment among those delivered: its transmit time (-1: none yet), end, and RTT. */
  xmitTs = -1;
  endSeq = 0;
  rtt = 0;
  /** Was that segment a retransmission? */
  private rackRetrans = false;
  /** The highest end sequence delivered (RACK.fack) and whether one has been. */
  private fack = 0;
  private fackSet = false;
  /** Delivery out of sequence order has been seen on this connection. */
  reorderingSeen = false;
  /** The least RTT measured (RACK.min_RTT); Infinity until a sample. */
  minRtt = Infinity;
  reoWndMult = 1;
  private reoWndPersist = 0;
  private dsackRound = -1;
  private dsackRoundSet = false;
  /** The echo of the ACK being processed, in our clock (ms), or -1 (RFC 8985 §6.2 step 2 uses TSecr). */
  private echoMs = -1;

  // --- TLP (RFC 8985 §7)
  /** A probe is outstanding: SND.NXT when it was sent, and whether it was a retransmission. */
  tlpActive = false;
  tlpEndSeq = 0;
  tlpIsRetrans = false;

  /** A probe went out (RFC 8985 §7.3): the episode lasts until an ACK at or past `endSeq` says what it found. */
  probeSent(endSeq: number, retransmission: boolean): void {
    this.tlpActive = true;
    this.tlpEndSeq = endSeq;
    this.tlpIsRetrans = retransmission;
  }

  /** Per ACK, before its records are delivered: the timestamp echo (ms on our clock) or -1. */
  beginAck(echoMs: number): void {
    this.echoMs = echoMs;
  }

  /** RFC 8985 §6.2 steps 1-3: a segment was delivered (DeliverySink). */
  delivered(xmitTs: number, endSeq: number, retransmitted: boolean, now: number): void {
    // Step 3 (for every delivered segment): delivered below the highest delivered
    // sequence, never retransmitted: the path reordered it.
    if (this.fackSet && seqGt(this.fack, endSeq)) {
      if (!retransmitted) this.reorderingSeen = true;
    } else {
      this.fack = endSeq;
      this.fackSet = true;
    }
    const rtt = now - xmitTs;
    // Step 2: an ACK of a retransmitted segment may be for the original; skip it when the
    // echo predates the retransmission or the RTT is implausibly short.
    // (The echo is 32 bits of our ms clock: compared as sequence numbers, it survives wrap.)
    if (retransmitted && ((this.echoMs >= 0 && seqLt(this.echoMs, Math.floor(xmitTs) >>> 0)) || rtt < this.minRtt)) return;
    if (this.xmitTs < 0 || sentAfter(xmitTs, endSeq, this.xmitTs, this.endSeq)) {
      // RACK.rtt is that of the RACK segment itself (Linux tcp_rack_advance), not of
      // whichever delivered segment happened to be processed last.
      this.rtt = rtt;
      this.xmitTs = xmitTs;
      this.endSeq = endSeq;
      this.rackRetrans = retransmitted;
    }
  }

  /** An RTT sample from the estimator (RACK.min_RTT; kept for the connection's life, a simplification of a windowed minimum). */
  rttSample(ms: number): void {
    if (ms < this.minRtt) this.minRtt = ms;
  }

  /** RFC 8985 §6.2 step 4 (D-SACK part): widen the reordering window once per round trip with D-SACKs. */
  onDsack(sndUna: number, sndNxt: number): void {
    if (this.dsackRoundSet && seqGe(sndUna, this.dsackRound)) this.dsackRoundSet = false;
    if (this.dsackRoundSet) return;
    this.dsackRound = sndNxt;
    this.dsackRoundSet = true;
    this.reoWndMult++;
    this.reoWndPersist = REO_WND_PERSIST;
  }

  /** Loss recovery ended: a widened window decays after 16 recoveries. */
  onRecoveryEnd(): void {
    if (this.reoWndPersist > 0 && --this.reoWndPersist === 0) this.reoWndMult = 1;
  }

  /** RFC 8985 §6.2 step 4: RACK.reo_wnd. */
  reoWnd(inRecovery: boolean, sackedSegs: number, srtt: number): number {
    if (!this.reorderingSeen && (inRecovery || sackedSegs >= DUP_THRESH)) return 0;
    const min = this.minRtt === Infinity ? srtt : this.minRtt;
    return Math.min((this.reoWndMult * min) / 4, srtt);
  }

  /**
   * RFC 8985 §6.2 step 5 (RACK_detect_loss): marks lost every segment sent before the
   * RACK segment whose deadline has passed. Returns how many were marked, and sets
   * `timeout` to the time until the next deadline (0: none).
   */
  detectLoss(q: RetransmitQueue, reoWnd: number, now: number): number {
    this.timeout = 0;
    if (this.xmitTs < 0) return 0;
    let marked = 0;
    const n = q.count;
    for (let i = 0; i < n; i++) {
      const f = q.flags(i);
      if (f & (SACKED | LOST)) continue; // delivered, or lost and waiting to be sent again
      const ts = q.xmitTs(i);
      const end = q.end(i);
      if (!sentAfter(this.xmitTs, this.endSeq, ts, end)) {
        // Records are sent in sequence order, retransmissions aside: past the RACK
        // segment, an original transmission was sent after it, unless it was itself a
        // retransmission (then originals above it may be older and must be checked).
        if (!this.rackRetrans && (f & RETRANS) === 0 && seqGe(q.start(i), this.endSeq)) break;
        continue;
      }
      const remaining = ts + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        q.markLost(i);
        marked++;
      } else if (remaining > this.timeout) {
        this.timeout = remaining;
      }
    }
    return marked;
  }

  /** Set by detectLoss: ms until the last pending deadline passes (RFC 8985 §6.2: the timer covers them all), 0 if none. */
  timeout = 0;

  /**
   * RFC 8985 §7.2: the probe timeout, floored at MIN_PTO_MS, and never later than the
   * retransmission timeout would fire (the probe then goes instead of it).
   */
  pto(srtt: number, hasSrtt: boolean, flightSegs: number, rtoLeft: number): number {
    let pto = 1000;
    if (hasSrtt) {
      pto = 2 * srtt;
      if (flightSegs <= 1) pto += WC_DEL_ACK_MS;
    }
    return Math.min(Math.max(MIN_PTO_MS, pto), rtoLeft);
  }

  /** The probe episode is over (an RTO, fast recovery, or the ACK that answered it). */
  resetTlp(): void {
    this.tlpActive = false;
  }
}
