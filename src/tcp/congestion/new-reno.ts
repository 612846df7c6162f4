/**
 * NewReno (RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery),
 * with the initial window of RFC 6928 (10 segments).
 */
import { INITIAL_WINDOW_SEGMENTS, type CongestionControl } from './congestion-control.js';
import { NO_SAMPLE, SlowStart, type AckSample } from './slow-start.js';

export class NewReno implements CongestionControl {
  readonly name = 'newreno';
  cwnd: number;
  ssthresh = Number.MAX_SAFE_INTEGER;
  mss: number;
  private partialBytes = 0;

  /** Slow start: byte counting bounded by ssthresh, and HyStart++. */
  private readonly ss: SlowStart;

  constructor(mss: number, hystart = true) {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ss = new SlowStart(hystart);
  }

  init(mss: number): void {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ssthresh = Number.MAX_SAFE_INTEGER;
    this.partialBytes = 0;
    this.ss.reset();
  }

  onAck(acked: number, _now = 0, sample: AckSample = NO_SAMPLE): void {
    if (acked <= 0) return;
    if (this.cwnd < this.ssthresh) {
      // RFC 5681 §3.1 slow start (slow-start.ts); what reaches past ssthresh goes on below.
      acked = this.ss.onAck(this, acked, sample);
      if (acked <= 0) return;
    }
    // RFC 5681 §3.1 (3.3): about one SMSS per RTT, by counting bytes acked.
    this.partialBytes += acked;
    if (this.partialBytes >= this.cwnd) {
      this.partialBytes -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onCongestionEvent(flight: number): void {
    this.ss.reset();
    // RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS).
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
  }

  onRecoveryEnd(flight: number): void {
    // RFC 6582 step 5 (option 1): min(ssthresh, max(FlightSize, SMSS) + SMSS).
    this.cwnd = Math.min(this.ssthresh, Math.max(flight, this.mss) + this.mss);
    this.partialBytes = 0;
  }

  onRto(flight: number): void {
    // RFC 5681 (4) and §3.1: loss window of one segment.
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.mss;
    this.partialBytes = 0;
  }

  onIdleRestart(): void {
    // RFC 5681 §4.1: restart window = min(IW, cwnd).
    this.cwnd = Math.min(this.cwnd, INITIAL_WINDOW_SEGMENTS * this.mss);
  }
}
