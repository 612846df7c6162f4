/**
 * The interface every congestion controller implements (one controller per file).
 * Byte-counted, as RFC 5681 describes it.
 */
export interface CongestionControl {
  readonly name: string;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh: number;
  /** New data acknowledged (not during fast recovery). */
  onAck(ackedBytes: number, now: number): void;
  /** Three duplicate ACKs: entering fast recovery; `flight` is bytes in flight. */
  onFastRetransmit(flight: number, now: number): void;
  /** Each further duplicate ACK during fast recovery (RFC 6582 §3.2 step 3). */
  onDupAckInRecovery(): void;
  /** A partial ACK during recovery: `acked` bytes newly covered (RFC 6582 §3.2 step 4). */
  onPartialAck(ackedBytes: number): void;
  /** Recovery ends (full ACK). */
  onRecoveryEnd(flight: number): void;
  /** The retransmission timer expired. */
  onRto(flight: number, now: number): void;
  /** Restart after idle (RFC 5681 §4.1). */
  onIdleRestart(now: number): void;
}
