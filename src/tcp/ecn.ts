/**
 * Explicit Congestion Notification for one connection (RFC 3168 §6.1): negotiated in the
 * SYNs, ECT(0) on new data, a CE mark echoed with ECE on every ACK until the sender's CWR,
 * and the sender's reaction to ECE: a congestion window reduction once per window of data,
 * with no retransmission, announced by CWR on the next new data segment.
 *
 *   SYN      ECE CWR     "I can do ECN"               (we send it only with ecn: 'on')
 *   SYN-ACK  ECE         "so can I"                   (we answer a peer's offer unless 'off')
 *   IP       ECT(0)      on our new data segments (not retransmissions, probes, SYNs, pure ACKs)
 *   ACK      ECE         from the receiver of a CE mark, until...
 *   data     CWR         ...the sender says it reduced its window
 *
 * The modes follow Linux's net.ipv4.tcp_ecn: 'off' (0), 'on' (1: ask and accept), and
 * 'accept' (2, Linux's default: accept when asked, do not ask).
 */
import type { TcpConnection } from './connection.js';
import type { Segment } from './segment.js';
import { seqGe } from './seq.js';
import { ACK, CWR, ECE, SYN } from './tcp-packet.js';

/** The IP ECN field (RFC 3168 §5): not ECN-capable, ECT(1), ECT(0), Congestion Experienced. */
export const NOT_ECT = 0;
export const ECT1 = 1;
export const ECT0 = 2;
export const CE = 3;

export type EcnMode = 'off' | 'accept' | 'on';

export class Ecn {
  /** Both SYNs agreed: this connection uses ECN. */
  ok = false;
  /** We asked in our SYN (active open with 'on'). */
  private offered = false;
  /** The receiver's side: a CE mark arrived; ECE goes on every ACK until a CWR (§6.1.3). */
  private echo = false;
  /** The sender's side: reduced for an ECE; CWR goes on the next new data (§6.1.2). */
  private cwrPending = false;
  /** No second reduction until SND.UNA passes this (once per window of data), and whether one is in force. */
  private reduceUntil = 0;
  private reduced = false;

  constructor(
    private readonly c: TcpConnection,
    private readonly mode: EcnMode,
  ) {}

  /** The ECN flags of our SYN (active open) or SYN-ACK (answering a peer's offer). */
  synFlags(synAck: boolean): number {
    if (synAck) return this.ok ? ECE : 0;
    this.offered = this.mode === 'on';
    return this.offered ? ECE | CWR : 0;
  }

  /** The peer's SYN (passive open): ECE and CWR together offer ECN (RFC 3168 §6.1.1). */
  peerSyn(s: Segment): void {
    this.ok = this.mode !== 'off' && s.has(ECE) && s.has(CWR);
  }

  /** The peer's SYN-ACK (active open): ECE without CWR accepts our offer. */
  peerSynAck(s: Segment): void {
    this.ok = this.offered && s.has(ECE) && !s.has(CWR);
  }

  /** An acceptable segment arrived with the IP ECN field `ecn`. */
  arrived(s: Segment, ecn: number): void {
    if (!this.ok) return;
    // §6.1.3: CWR ends the echo; a CE mark (also on the very segment with CWR) starts it.
    if (s.has(CWR)) this.echo = false;
    if (ecn === CE) {
      this.echo = true;
      this.c.stats.ecnCeReceived++;
    }
  }

  /** ECE for an outgoing segment with ACK (not a SYN): while a CE mark waits for the sender's CWR. */
  ackFlags(flags: number): number {
    return this.echo && flags & ACK && !(flags & SYN) ? ECE : 0;
  }

  /**
   * The sender's side of an ACK (§6.1.2): ECE asks for a window reduction, at most once per
   * window of data, and not during a loss recovery (which has reduced already). The
   * window shrinks as for a loss (the controller's ssthresh) but nothing is resent.
   */
  onAck(s: Segment, now: number): void {
    const c = this.c;
    if (!this.ok) return;
    if (this.reduced && seqGe(c.snd.una, this.reduceUntil)) this.reduced = false;
    if (!s.has(ECE) || s.has(SYN) || this.reduced || c.loss.recovering()) return;
    c.cc.onCongestionEvent(Math.max(c.snd.inFlight(), c.cc.cwnd), now);
    c.cc.cwnd = Math.max(c.cc.ssthresh, c.snd.dataMss());
    c.stats.ecnReductions++;
    this.reduced = true;
    this.reduceUntil = c.snd.max;
    this.cwrPending = true;
    c.traceCwnd();
  }

  /** A reduction for ECE is in force (until SND.UNA passes what was in flight then): cwnd does not grow meanwhile. */
  reducing(): boolean {
    if (this.reduced && seqGe(this.c.snd.una, this.reduceUntil)) this.reduced = false;
    return this.reduced;
  }

  /**
   * The ECN of a segment of ours about to go: ECT(0) in the IP header for new data
   * (§6.1.5: never for retransmissions; §6.1.6: never for window probes, SYNs or pure
   * ACKs), and CWR on the first new data after a reduction. Returns the IP ECN field; the
   * CWR flag is `cwrFlag()`'s, asked right after.
   */
  ipField(newData: boolean, len: number): number {
    if (!this.ok || !newData || len === 0) return NOT_ECT;
    return ECT0;
  }

  /** CWR for the new data segment `ipField` just marked ECT(0), once after each reduction. */
  cwrFlag(ipField: number): number {
    if (ipField !== ECT0 || !this.cwrPending) return 0;
    this.cwrPending = false;
    return CWR;
  }
}
