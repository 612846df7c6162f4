/**
 * Slow start, shared by the controllers: RFC 5681 §3.1 with appropriate byte counting
 * (RFC 3465) as Linux bounds it, and HyStart++ (RFC 9406) to leave slow start before the
 * loss that would otherwise end it.
 *
 * Byte counting: cwnd grows by what each ACK delivers, so a stretch ACK of ten segments
 * (a receiver's GRO, or ACK thinning) grows it by ten. RFC 3465's limit L = 2 SMSS per ACK
 * is not applied, as Linux does not (tcp_slow_start): the bound is ssthresh, and what an
 * ACK delivers beyond it goes to congestion avoidance.
 *
 * HyStart++ watches the RTT per round (a window of data): once the least RTT of a round
 * has risen by RttThresh over the last round's (a queue is building), slow start becomes
 * Conservative Slow Start (growth divided by CSS_GROWTH_DIVISOR); if the RTT falls back, it
 * was a false alarm and slow start resumes; after CSS_ROUNDS rounds of CSS, ssthresh takes
 * cwnd and congestion avoidance begins. Used only in the initial slow start (ssthresh still
 * unbounded, RFC 9406 §4.4): after a loss, ssthresh already says where the path's limit is.
 */
import { seqGe } from '../seq.js';

/** RFC 9406 §4.3 constants (the RFC's recommended values). */
export const MIN_RTT_THRESH_MS = 4;
export const MAX_RTT_THRESH_MS = 16;
export const MIN_RTT_DIVISOR = 8;
export const N_RTT_SAMPLE = 8;
export const CSS_GROWTH_DIVISOR = 4;
export const CSS_ROUNDS = 5;

/** What slow start needs of each ACK (the sender fills one, reused). */
export interface AckSample {
  /** SND.UNA after the ACK, and SND.NXT (a round ends when SND.UNA passes the SND.NXT it began with). */
  una: number;
  sndNxt: number;
  /** The RTT this ACK measured, ms, or -1. */
  rttMs: number;
}

/** An ACK with nothing measured (callers that have no sample: HyStart++ then sees no RTT). */
export const NO_SAMPLE: Readonly<AckSample> = Object.freeze({ una: 0, sndNxt: 0, rttMs: -1 });

/** The part of a controller slow start writes. */
export interface Window {
  cwnd: number;
  ssthresh: number;
  readonly mss: number;
}

export class SlowStart {
  /** HyStart++'s state: the round's end, the least RTTs of this and the last round, and CSS. */
  private windowEnd = 0;
  private roundStarted = false;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSampleCount = 0;
  /** In Conservative Slow Start: its baseline RTT and the rounds spent in it. */
  inCss = false;
  private cssBaselineMinRtt = Infinity;
  private cssRounds = 0;
  /** Times HyStart++ ended slow start (for tests and tcpInfo). */
  exits = 0;

  constructor(private readonly hystart: boolean) {}

  /** A new connection or a congestion event: HyStart++ starts over. */
  reset(): void {
    this.roundStarted = false;
    this.lastRoundMinRtt = this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
    this.inCss = false;
    this.cssBaselineMinRtt = Infinity;
    this.cssRounds = 0;
  }

  /**
   * Grows `w.cwnd` for `acked` bytes delivered by an ACK in slow start; returns what is
   * left over for congestion avoidance (0 while slow start goes on).
   */
  onAck(w: Window, acked: number, s: AckSample): number {
    if (this.hystart && w.ssthresh === Number.MAX_SAFE_INTEGER) {
      this.hystartAck(s);
      if (this.inCss && this.cssRounds >= CSS_ROUNDS) {
        // RFC 9406 §4.3: CSS is over; congestion avoidance from here.
        w.ssthresh = w.cwnd;
        this.exits++;
        this.inCss = false;
        return acked;
      }
    }
    const grow = Math.min(this.inCss ? acked / CSS_GROWTH_DIVISOR : acked, Math.max(0, w.ssthresh - w.cwnd));
    w.cwnd += grow;
    return w.cwnd >= w.ssthresh ? Math.max(0, acked - grow) : 0;
  }

  /** RFC 9406 §4.3: rounds, RTT samples, and the moves between slow start and CSS. */
  private hystartAck(s: AckSample): void {
    if (!this.roundStarted || seqGe(s.una, this.windowEnd)) {
      if (this.roundStarted && this.inCss) this.cssRounds++;
      // A new round: it ends when this much is acknowledged.
      this.roundStarted = true;
      this.windowEnd = s.sndNxt;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSampleCount = 0;
    }
    if (s.rttMs < 0) return;
    this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, s.rttMs);
    this.rttSampleCount++;
    if (this.rttSampleCount < N_RTT_SAMPLE || this.currentRoundMinRtt === Infinity || this.lastRoundMinRtt === Infinity) return;
    if (!this.inCss) {
      const thresh = Math.max(MIN_RTT_THRESH_MS, Math.min(this.lastRoundMinRtt / MIN_RTT_DIVISOR, MAX_RTT_THRESH_MS));
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
        this.inCss = true;
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.cssRounds = 0;
      }
    } else if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      // The RTT rise was spurious: back to slow start (RFC 9406 §4.3).
      this.inCss = false;
      this.cssBaselineMinRtt = Infinity;
    }
  }
}
