/**
 * Loss recovery as one explicit state (the names are Linux's and gVisor's):
 *
 *   open           nothing amiss: ACKs advance, cwnd grows (congestion/*.ts sizes it)
 *   disorder       duplicate ACKs or SACKed data, no loss declared yet
 *   fast-recovery  a loss found by DupThresh duplicate ACKs (RFC 5681 §3.2) or by RACK
 *                  (RFC 8985), repaired until SND.UNA reaches `recover` (RFC 6582 §3.2)
 *   rto-recovery   the retransmission timer fired with SACK on: everything not SACKed is
 *                  lost and is resent as the window allows until `recover` (RFC 8985 §6.3)
 *
 * One strategy per kind of connection does what differs: reno-recovery.ts (no SACK:
 * RFC 6582 NewReno with RFC 3042 limited transmit) and sack-recovery.ts (RFC 6675's pipe
 * with RACK-TLP deciding what is lost). This file holds what they share: the state, the
 * duplicate-ACK count, the retransmission timeout (RFC 6298 §5) and its backoff.
 */
import { logger } from '../core/log.js';
import type { TcpConnection } from './connection.js';
import { DUP_THRESH } from './rack.js';
import { RenoRecovery } from './reno-recovery.js';
import { SackRecovery } from './sack-recovery.js';
import type { Segment } from './segment.js';
import { seqDiff, seqGe, seqGt, seqLe } from './seq.js';
import { FIN } from './tcp-packet.js';
import { Timer } from './timers.js';

const log = logger('tcp');

export type LossState = 'open' | 'disorder' | 'fast-recovery' | 'rto-recovery';

/** What differs between loss recovery with SACK and without. */
export interface RecoveryStrategy {
  readonly kind: 'reno' | 'sack';
  /** An acceptable ACK arrives (before SND.UNA moves): the scoreboard learns what it delivers. */
  onAckScoreboard(s: Segment, advances: boolean, now: number): void;
  /** After the ACK step: loss detection and the tail loss probe. */
  afterAck(ack: number, advances: boolean, now: number): void;
  /** May the DupThresh-th duplicate ACK `s` start fast recovery? */
  dupAckStarts(s: Segment): boolean;
  /** Fast recovery begins (ssthresh is set): cwnd for the recovery, and the first retransmission. */
  enter(now: number): void;
  /** A partial ACK during fast recovery: `dataAcked` new bytes, SND.UNA below `recover`. */
  partialAck(dataAcked: number, now: number): void;
  /** A further duplicate ACK during fast recovery. */
  dupAckInRecovery(): void;
  /** Bytes the sender may send beyond cwnd now (RFC 3042 limited transmit). */
  extraWindow(): number;
  /** The retransmission timer fired (past the backoff): true if the strategy resent what it must. */
  onTimeout(now: number): boolean;
  /** Before new data goes out: what was judged lost goes first. */
  beforeSend(now: number): void;
  /** After new data went out or new data was acknowledged: schedule a tail loss probe if one applies. */
  armTlp(now: number): void;
  /** The tail loss probe timer fired. */
  onTlpTimer(now: number): void;
  /** RACK's reordering timer fired. */
  onRackTimer(now: number): void;
  /** Is anything SACKed (the connection is in disorder)? */
  sacked(): boolean;
  /** `bytes` of data went out during fast recovery. */
  sent(bytes: number): void;
}

export class LossRecovery {
  state: LossState = 'open';
  /** SND.MAX when the episode began: it ends when SND.UNA reaches it (RFC 6582 §3.2 step 2). */
  recover = 0;
  /** Duplicate ACKs in a row (RFC 5681 §2). */
  dupAcks = 0;
  /** Retransmission timeouts in a row without progress (RFC 9293 §3.8.3's R2 counts them). */
  retries = 0;
  /** When the data the first of them resent was sent (for TCP_USER_TIMEOUT, RFC 5482: how long data stays unacknowledged). */
  private retriesSince = 0;
  /** Reno until the SYNs show SACK is on (one strategy for the connection's life). */
  strategy: RecoveryStrategy;

  constructor(private readonly c: TcpConnection) {
    this.strategy = new RenoRecovery(c);
  }

  /** The SYNs have shown whether SACK is on (handshake.ts): the strategy for the connection's life. */
  useSack(sack: boolean): void {
    if (sack && this.strategy.kind !== 'sack') this.strategy = new SackRecovery(this.c);
  }

  /** Fast recovery or RTO recovery: a loss episode is under way. */
  recovering(): boolean {
    return this.state === 'fast-recovery' || this.state === 'rto-recovery';
  }

  /** The peer acknowledged something new (or our SYN): the timeout count starts over. */
  progress(): void {
    this.retries = 0;
  }

  // ------------------------------------------------------------------ ACKs

  onAckScoreboard(s: Segment, advances: boolean, now: number): void {
    this.strategy.onAckScoreboard(s, advances, now);
  }

  /** An ACK of new data (SND.UNA already moved to `ack`): recovery ends or continues, or cwnd grows. */
  onNewAck(ack: number, dataAcked: number, cwndLimited: boolean, now: number): void {
    const c = this.c;
    this.retries = 0;
    if (this.state === 'fast-recovery') {
      if (seqGe(ack, this.recover)) {
        c.cc.onRecoveryEnd(c.snd.inFlight());
        this.state = 'open';
        c.rack.onRecoveryEnd();
      } else {
        this.strategy.partialAck(dataAcked, now);
      }
    } else if (cwndLimited && !c.ecn.reducing()) {
      // (after a timeout too: slow start from the loss window; not while an ECN reduction is in force, RFC 3168 §6.1.2)
      c.cc.onAck(dataAcked, now, c.snd.ackSample);
    }
    if (this.state === 'rto-recovery' && seqGe(ack, this.recover)) {
      this.state = 'open';
      c.rack.onRecoveryEnd();
    }
    this.dupAcks = 0;
  }

  /**
   * RFC 5681 §2: a duplicate ACK. DupThresh of them start recovery (with SACK, RACK
   * decides; the count still serves a peer that negotiated SACK but sends no blocks).
   * Not while going back after a timeout: SND.NXT < SND.MAX then, and the go-back resend
   * is under way.
   */
  onDupAck(s: Segment, now: number): void {
    const c = this.c;
    this.dupAcks++;
    if (this.dupAcks === DUP_THRESH && !this.recovering() && c.snd.nxt === c.snd.max && this.strategy.dupAckStarts(s)) {
      this.enterRecovery(now);
      if (log.enabled) log(`${c.describe()} fast retransmit at ${c.snd.una}`);
    } else if (this.state === 'fast-recovery' && this.dupAcks > DUP_THRESH) {
      this.strategy.dupAckInRecovery();
    }
  }

  /** After the ACK step: loss detection, the probe, and open versus disorder. */
  afterAck(ack: number, advances: boolean, now: number): void {
    this.strategy.afterAck(ack, advances, now);
    if (!this.recovering()) this.state = this.dupAcks > 0 || this.strategy.sacked() ? 'disorder' : 'open';
  }

  /** The sender sent `bytes` (PRR counts what goes out during fast recovery). */
  sent(bytes: number): void {
    if (this.state === 'fast-recovery') this.strategy.sent(bytes);
  }

  /** Bytes the sender may send beyond cwnd now (limited transmit). */
  extraWindow(): number {
    return this.strategy.extraWindow();
  }

  // ------------------------------------------------------------------ fast recovery

  /** Enters fast recovery (RFC 5681 §3.2, RFC 6675 §5 with SACK, RFC 6582 without). */
  enterRecovery(now: number): void {
    const c = this.c;
    c.stats.fastRetransmits++;
    c.rack.resetTlp(); // RFC 8985 §7.1: recovery ends a probe episode
    c.cc.onCongestionEvent(c.snd.inFlight(), now);
    this.state = 'fast-recovery';
    this.recover = c.snd.max;
    this.strategy.enter(now);
    c.traceCwnd();
  }

  /** Retransmits one segment from SND.UNA (fast retransmit and partial ACKs without SACK). */
  retransmitFirst(now: number, why: 'fast' | 'partial-ack' = 'fast'): void {
    const c = this.c;
    const snd = c.snd;
    if (c.out.tracer) c.trace({ ev: 'retransmit', why, rseq: seqDiff(snd.una, snd.iss) });
    const dataInFlight = Math.min(snd.inFlight(), snd.buf.length);
    if (dataInFlight > 0) {
      snd.sendSegment(snd.una, Math.min(dataInFlight, snd.dataMss()), 0, now);
    } else if (snd.finSeq !== -1 && snd.una === snd.finSeq) {
      snd.sendSegment(snd.finSeq, 0, FIN, now);
    }
  }

  // ------------------------------------------------------------------ the retransmission timeout

  /** RFC 6298 (5.4-5.7) and RFC 9293 §3.8.3: retransmit, back off, or give up. */
  onRetransmitTimeout(now: number): void {
    const c = this.c;
    const snd = c.snd;
    c.timers.stop(Timer.Rto);
    if (!seqGt(snd.max, snd.una)) return;
    // Our SYN is not yet acknowledged (SYN-SENT, SYN-RECEIVED, or a close in SYN-RECEIVED
    // that moved to FIN-WAIT-1): the SYN is what must go again.
    const synUnacked = !snd.synAcked();
    const cfg = c.config;
    const limit = c.state === 'SYN-SENT' ? cfg.synRetries : synUnacked ? cfg.synAckRetries : cfg.maxRetries;
    // The oldest unacknowledged data went about one RTO ago (the timer runs from its send).
    if (this.retries === 0) this.retriesSince = now - c.rtt.rto;
    // RFC 5482 / RFC 9293 MUST-21 R2: with TCP_USER_TIMEOUT, the time since the first
    // timeout decides instead of the retry count (as Linux's tcp_write_timeout).
    const userTimeout = c.opts.userTimeoutMs;
    const giveUp = userTimeout > 0 ? this.retries > 0 && now - this.retriesSince >= userTimeout : this.retries >= limit;
    if (giveUp) {
      c.stats.timeouts++;
      if (synUnacked && c.listener) {
        c.closeNow('SYN-ACK not acknowledged');
      } else {
        c.closeNow(`no acknowledgment after ${this.retries} retransmissions`, 'ETIMEDOUT');
      }
      return;
    }
    this.retries++;
    c.stats.timeouts++;
    c.rtt.backoff();
    snd.forgetRttSample(); // Karn's rule
    c.cc.onRto(snd.inFlight(), now);
    if (this.state === 'fast-recovery') this.state = 'open';
    this.dupAcks = 0;
    c.rack.resetTlp();
    c.timers.stop(Timer.Rack);
    c.timers.stop(Timer.Tlp);
    if (c.out.tracer) {
      c.trace({ ev: 'retransmit', why: 'rto', rseq: seqDiff(snd.una, snd.iss) });
      c.traceCwnd();
    }
    this.resend(now, synUnacked);
    // With TCP_USER_TIMEOUT the next timeout fires at the user timeout, not after it (Linux tcp_clamp_rto_to_user_timeout).
    if (userTimeout > 0 && c.timers.armed(Timer.Rto)) c.timers.arm(Timer.Rto, Math.min(c.timers.deadline(Timer.Rto), this.retriesSince + userTimeout));
  }

  /** What a retransmission timeout resends: the strategy's choice, or everything from SND.UNA (the SYN if unacknowledged). */
  private resend(now: number, synUnacked: boolean): void {
    const c = this.c;
    const snd = c.snd;
    if (!synUnacked && this.strategy.onTimeout(now)) return;
    // Without SACK (or with a closed window, which the persist timer will probe): go back
    // to SND.UNA and send again from there (SYN, data and FIN alike); what the peer SACKed
    // is skipped unless it reneged (RFC 2018 §8).
    c.rtx.onTimeout();
    snd.goBack();
    if (synUnacked) {
      snd.resendSyn(now);
      if (c.state !== 'SYN-SENT' && c.state !== 'SYN-RECEIVED') c.output(now); // and the FIN after it
      return;
    }
    c.output(now);
    if (snd.inFlight() > 0) c.timers.armIfIdle(Timer.Rto, now + c.rtt.rto);
  }

  /** RTO recovery with SACK (RFC 8985 §6.3): everything not SACKed is lost, one episode until SND.MAX is acknowledged. */
  enterRtoRecovery(): void {
    this.state = 'rto-recovery';
    this.recover = this.c.snd.max;
  }

  // ------------------------------------------------------------------ RACK-TLP (with SACK)

  armTlp(now: number): void {
    this.strategy.armTlp(now);
  }
}
