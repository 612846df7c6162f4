/**
 * CUBIC (RFC 9438), the default as on Linux: after a loss the window grows along a cubic
 * curve in time, W_cubic(t) = C(t - K)^3 + W_max, concave up to the window where the loss
 * happened and convex beyond it, and never slower than Reno would grow (the
 * "Reno-friendly" region, §4.3). Slow start and fast recovery are as in RFC 5681/6582.
 * Windows are kept in bytes; the curve is computed in segments and seconds as the RFC
 * writes it.
 */
import type { CongestionControl } from './congestion-control.js';
import { INITIAL_WINDOW_SEGMENTS } from './congestion-control.js';
import { NO_SAMPLE, SlowStart, type AckSample } from './slow-start.js';

const C = 0.4; // RFC 9438 §5.1
const BETA = 0.7; // RFC 9438 §4.6
const ALPHA = (3 * (1 - BETA)) / (1 + BETA); // RFC 9438 §4.3

export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  cwnd: number;
  ssthresh = Number.MAX_SAFE_INTEGER;
  mss: number;
  /** Segments: the window at the last congestion event, and the one before it. */
  private wMax = 0;
  private wLastMax = 0;
  private k = 0;
  /** Start of the current congestion-avoidance epoch (ms), or -1. */
  private epochStart = -1;
  /** The Reno-friendly estimate, in segments (RFC 9438 §4.3). */
  private wEst = 0;

  /** Slow start: byte counting bounded by ssthresh, and HyStart++. */
  private readonly ss: SlowStart;

  constructor(
    mss: number,
    /** The smoothed RTT in ms (0 before the first sample). */
    private readonly srtt: () => number = () => 0,
    hystart = true,
  ) {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ss = new SlowStart(hystart);
  }

  init(mss: number): void {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ssthresh = Number.MAX_SAFE_INTEGER;
    this.wMax = this.wLastMax = this.k = this.wEst = 0;
    this.epochStart = -1;
    this.ss.reset();
  }

  onAck(acked: number, now: number, sample: AckSample = NO_SAMPLE): void {
    if (acked <= 0) return;
    if (this.cwnd < this.ssthresh) {
      // Slow start (slow-start.ts); what reaches past ssthresh goes on below.
      acked = this.ss.onAck(this, acked, sample);
      if (acked <= 0) return;
    }
    const mss = this.mss;
    const cwndSeg = this.cwnd / mss;
    if (this.epochStart < 0) {
      // RFC 9438 §4.2: a new epoch starts with the first ACK in congestion avoidance.
      this.epochStart = now;
      if (this.wMax <= cwndSeg) {
        this.k = 0;
        this.wMax = cwndSeg;
      } else {
        this.k = Math.cbrt((this.wMax - cwndSeg) / C);
      }
      this.wEst = cwndSeg;
    }
    const rtt = Math.max(this.srtt(), 1) / 1000;
    const t = (now - this.epochStart) / 1000;
    // The window the curve asks for one RTT from now (§4.4: target).
    let target = C * (t + rtt - this.k) ** 3 + this.wMax;
    target = Math.max(cwndSeg, Math.min(target, 1.5 * cwndSeg));
    // The Reno-friendly estimate grows by ALPHA segments per window of data acked.
    this.wEst += (ALPHA * acked) / this.cwnd;
    if (this.wEst > target) {
      this.cwnd = Math.max(this.cwnd, this.wEst * mss);
    } else {
      // §4.4/§4.5: (target - cwnd) / cwnd segments per ACKed segment.
      this.cwnd += ((target - cwndSeg) / cwndSeg) * acked;
    }
  }

  onCongestionEvent(flight: number): void {
    this.ss.reset();
    const cwndSeg = Math.max(this.cwnd, flight) / this.mss;
    // §4.7 fast convergence: yield some room to new flows when the maximum shrinks.
    if (cwndSeg < this.wLastMax) {
      this.wLastMax = cwndSeg;
      this.wMax = (cwndSeg * (1 + BETA)) / 2;
    } else {
      this.wLastMax = cwndSeg;
      this.wMax = cwndSeg;
    }
    this.ssthresh = Math.max(Math.floor(cwndSeg * BETA * this.mss), 2 * this.mss);
    this.epochStart = -1;
  }

  onRecoveryEnd(): void {
    this.cwnd = this.ssthresh;
  }

  onRto(flight: number): void {
    this.onCongestionEvent(flight);
    this.cwnd = this.mss; // RFC 5681: the loss window
  }

  onIdleRestart(): void {
    this.cwnd = Math.min(this.cwnd, INITIAL_WINDOW_SEGMENTS * this.mss);
    this.epochStart = -1;
  }
}
