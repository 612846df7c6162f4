/**
 * RFC 7323 timestamps for one connection: our TSval clock, TS.Recent and the PAWS test
 * (§5.3 R1), the TS.Recent update (§4.3 R3), and which echoes may time our segments
 * (§4.1). Only this class writes the timestamp state.
 */
import type { Segment } from './segment.js';
import { seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';

/** Bytes the timestamps option takes in every segment once negotiated (NOP, NOP, kind, length, TSval, TSecr). */
export const TS_OPTION_LEN = 12;
/** RFC 7323 §5.5: TS.Recent older than 24 days no longer protects (the clock may have wrapped). */
export const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

export class Timestamps {
  /** Offer timestamps in our SYN (on passive open only if the peer did). */
  offer = false;
  /** Both SYNs carried timestamps: every segment carries them (RFC 7323 §3.2). */
  ok = false;
  /** A per-connection random offset for our TSval clock (RFC 7323 §5.4). */
  offset = 0;
  /** TS.Recent and when it was set; Last.ACK.sent (RFC 7323 §4.3). */
  recent = 0;
  recentAt = 0;
  lastAckSent = 0;
  /** TSval of our latest retransmission (-1: none): older echoes do not time anything. */
  private retransmitTs = -1;
  /**
   * TSval of the oldest segment still in flight, as far as we know: when the flight began
   * (the first segment sent with nothing unacknowledged), or with SACK the retransmission
   * queue's head as of the last ACK. No legitimate echo is older (RFC 7323 §4.1).
   */
  private flightStartTs = 0;

  /** Our TSval clock: milliseconds plus a random offset (RFC 7323 §5.4: 1 ms to 1 s per tick). */
  val(now: number): number {
    return (Math.floor(now) + this.offset) >>> 0;
  }

  /** The peer's SYN (null: known only from a SYN cookie): timestamps are on if both SYNs carry them (RFC 7323 §3.2), TS.Recent from it. */
  negotiate(s: Segment | null, now: number): void {
    if (s !== null && s.opts.hasTimestamps && this.offer) {
      this.ok = true;
      this.recent = s.opts.tsVal;
      this.recentAt = now;
    } else {
      this.ok = false;
      this.offer = false;
    }
  }

  /**
   * RFC 7323 §5.3 (R1), PAWS: is `s` an old duplicate from an earlier wrap of the sequence
   * space (its timestamp older than TS.Recent, which is not itself too old to trust)?
   */
  pawsRejects(s: Segment, now: number): boolean {
    return this.ok && s.opts.hasTimestamps && seqLt(s.opts.tsVal, this.recent) && now - this.recentAt < PAWS_IDLE_MS;
  }

  /**
   * RFC 7323 §4.3 (R3): remember the newest timestamp of a segment that starts at or
   * before what we last acknowledged. The caller does this only for a segment it has
   * accepted (sequence number, RST, SYN and ACK checked), so one spoofed segment cannot
   * make the next legitimate one fail PAWS (RFC 7323 §5.3, RFC 5961 §5.2). A TS.Recent
   * left for 24 days is no longer valid (§5.5): any TSval replaces it, as Linux's
   * tcp_paws_check allows.
   */
  update(s: Segment, segSeq: number, now: number): void {
    if (this.ok && s.opts.hasTimestamps && seqLe(segSeq, this.lastAckSent) && (seqGe(s.opts.tsVal, this.recent) || now - this.recentAt >= PAWS_IDLE_MS)) {
      this.recent = s.opts.tsVal;
      this.recentAt = now;
    }
  }

  /** An ACK for RCV.NXT went out (Last.ACK.sent). */
  acked(rcvNxt: number): void {
    this.lastAckSent = rcvNxt;
  }

  /**
   * May an ACK's echoed timestamp time our segments (RFC 7323 §4.1, RFC 6298 §3)? Only
   * if it names a time when something still unacknowledged was in flight: not older than
   * the oldest segment in flight (a stale or forged echo, 30 minutes old, would make a
   * 30-minute sample and pin the RTO at its 120 s maximum), not older than our latest
   * retransmission (a receiver answers an old duplicate with an old TS.Recent, §4.3), and
   * not from the future. Otherwise the ACK is timed by our own send times (Karn), as
   * Linux prefers them too.
   */
  echoTimes(tsEcr: number, now: number): boolean {
    if (tsEcr === 0) return false;
    if (this.retransmitTs !== -1 && seqLt(tsEcr, this.retransmitTs)) return false;
    return seqGe(tsEcr, this.flightStartTs) && seqLe(tsEcr, this.val(now));
  }

  /** The RTT an echoed timestamp measures (RFC 7323 §4.1), in ms. */
  rtt(tsEcr: number, now: number): number {
    return Math.max(0, seqDiff(this.val(now), tsEcr));
  }

  /** The echo of the segment being processed in our clock (ms), or -1 (for RACK, RFC 8985 §6.2 step 2). */
  echoMs(s: Segment): number {
    return this.ok && s.opts.hasTimestamps && s.opts.tsEcr !== 0 ? (s.opts.tsEcr - this.offset) >>> 0 : -1;
  }

  /** A new flight begins (something sent with nothing unacknowledged). */
  flightStarts(now: number): void {
    this.flightStartTs = this.val(now);
  }

  /** We sent a retransmission: echoes from before it time nothing. */
  retransmitted(now: number): void {
    if (this.ok) this.retransmitTs = this.val(now);
  }

  /** Nothing sent before time `sentAt` (ms) is in flight any more. */
  raiseEchoFloor(sentAt: number): void {
    const ts = this.val(sentAt);
    if (seqGt(ts, this.flightStartTs)) this.flightStartTs = ts;
  }
}
