/**
 * NewReno (RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery),
 * with the initial window of RFC 6928 (10 segments).
 */
import type { CongestionControl } from './congestion-control.js';

export const INITIAL_WINDOW_SEGMENTS = 10; // RFC 6928

export class NewReno implements CongestionControl {
  readonly name = 'newreno';
  cwnd: number;
  ssthresh = Number.MAX_SAFE_INTEGER;
  private partialBytes = 0;

  constructor(private readonly mss: number) {
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
  }

  onAck(acked: number): void {
    if (this.cwnd < this.ssthresh) {
      // RFC 5681 §3.1 slow start (appropriate byte counting, L = 1 SMSS per ACK... we use acked, capped at 2 SMSS, RFC 3465).
      this.cwnd += Math.min(acked, 2 * this.mss);
    } else {
      // RFC 5681 §3.1 (3.3): about one SMSS per RTT, by counting bytes acked.
      this.partialBytes += acked;
      if (this.partialBytes >= this.cwnd) {
        this.partialBytes -= this.cwnd;
        this.cwnd += this.mss;
      }
    }
  }

  onFastRetransmit(flight: number): void {
    // RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS); RFC 6582 step 2: cwnd = ssthresh + 3*SMSS.
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.ssthresh + 3 * this.mss;
  }

  onDupAckInRecovery(): void {
    this.cwnd += this.mss;
  }

  onPartialAck(acked: number): void {
    // RFC 6582 step 4: deflate by the amount acked, add back one SMSS.
    this.cwnd = Math.max(this.mss, this.cwnd - acked + this.mss);
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
