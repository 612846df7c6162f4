/**
 * Loss recovery without SACK: RFC 5681 §3.2 fast retransmit with RFC 6582's NewReno
 * fast recovery (the window inflated by each duplicate ACK, deflated by partial ACKs,
 * each of which resends the next hole), and RFC 3042 limited transmit so that a small
 * window still produces the third duplicate ACK. There is no scoreboard: the
 * retransmission queue stays empty, and RACK-TLP needs SACK.
 */
import type { TcpConnection } from './connection.js';
import { DUP_THRESH } from './rack.js';
import type { RecoveryStrategy } from './recovery.js';
import { Timer } from './timers.js';

export class RenoRecovery implements RecoveryStrategy {
  readonly kind = 'reno';

  constructor(private readonly c: TcpConnection) {}

  onAckScoreboard(): void {}

  afterAck(): void {}

  dupAckStarts(): boolean {
    return true;
  }

  enter(now: number): void {
    const cc = this.c.cc;
    // RFC 6582 §3.2 step 2: cwnd = ssthresh + 3*SMSS (the three segments that left the network).
    cc.cwnd = cc.ssthresh + DUP_THRESH * cc.mss;
    this.c.loss.retransmitFirst(now);
  }

  partialAck(dataAcked: number, now: number): void {
    const cc = this.c.cc;
    // RFC 6582 §3.2 step 4: deflate by the amount acked, add back one SMSS, and resend the next hole at once.
    cc.cwnd = Math.max(cc.mss, cc.cwnd - dataAcked + cc.mss);
    this.c.loss.retransmitFirst(now, 'partial-ack');
  }

  dupAckInRecovery(): void {
    // RFC 6582 §3.2 step 3: each further duplicate ACK means a segment left the network.
    this.c.cc.cwnd += this.c.cc.mss;
  }

  /**
   * RFC 3042 / RFC 5681 §3.2 step 1, Limited Transmit: on the first and second duplicate
   * ACK, one new segment each may go beyond cwnd (FlightSize <= cwnd + 2*SMSS), so that
   * a small window still produces the third duplicate ACK instead of waiting for the RTO.
   */
  extraWindow(): number {
    const loss = this.c.loss;
    return !loss.recovering() && loss.dupAcks > 0 && loss.dupAcks < DUP_THRESH ? loss.dupAcks * this.c.snd.dataMss() : 0;
  }

  onTimeout(): boolean {
    return false; // go back to SND.UNA
  }

  beforeSend(): void {}

  armTlp(): void {
    this.c.timers.stop(Timer.Tlp);
  }

  onTlpTimer(): void {
    this.c.timers.stop(Timer.Tlp);
  }

  onRackTimer(): void {
    this.c.timers.stop(Timer.Rack);
  }

  sacked(): boolean {
    return false;
  }

  sent(): void {}
}
