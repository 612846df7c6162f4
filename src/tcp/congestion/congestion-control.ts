import type { AckSample } from './slow-start.js';

/**
 * The interface every congestion controller implements (one controller per file).
 * Byte-counted, as RFC 5681 describes it. A controller only sizes the window: slow
 * start and congestion avoidance, the reduction at a congestion event, the window after
 * recovery and after a timeout. What happens to cwnd *during* loss recovery (RFC 6582's
 * inflation, RFC 6675's pipe) belongs to the recovery strategy (reno-recovery.ts,
 * sack-recovery.ts), which writes `cwnd` while it runs.
 */
export interface CongestionControl {
  readonly name: string;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh: number;
  /** New data acknowledged (not during fast recovery): `sample` has SND.UNA/NXT and the ACK's RTT, for HyStart++. */
  onAck(ackedBytes: number, now: number, sample?: AckSample): void;
  /** The sender's MSS the controller counts in (set by init when the handshake ends). */
  readonly mss: number;
  /** The handshake is over: start afresh for a send MSS of `mss` (initial window RFC 6928). */
  init(mss: number): void;
  /** A loss found by fast retransmit, RACK or a tail loss probe: set ssthresh (cwnd is the recovery's); `flight` is bytes in flight. */
  onCongestionEvent(flight: number, now: number): void;
  /** Recovery ends (full ACK): the window to continue with. */
  onRecoveryEnd(flight: number): void;
  /** The retransmission timer expired. */
  onRto(flight: number, now: number): void;
  /** Restart after idle (RFC 5681 §4.1). */
  onIdleRestart(now: number): void;
}

/** The initial window in segments (RFC 6928). */
export const INITIAL_WINDOW_SEGMENTS = 10;
