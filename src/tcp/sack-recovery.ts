/**
 * Loss recovery with SACK (RFC 2018): the retransmission queue is the scoreboard, RACK
 * (RFC 8985 §6) decides from delivery times what is lost, RFC 6675's pipe (bytes in the
 * network: in flight less SACKed less lost) is what cwnd limits, Proportional Rate
 * Reduction (RFC 9937, which obsoletes RFC 6937) spreads the window's reduction over the
 * recovery's ACKs, and a tail loss probe (RFC 8985 §7) draws an ACK when the last
 * segments of a flight are lost.
 */
import type { TcpConnection } from './connection.js';
import type { RecoveryStrategy } from './recovery.js';
import { FIN_SEG } from './retransmit-queue.js';
import type { Segment } from './segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import { FIN, PSH } from './tcp-packet.js';
import { Timer } from './timers.js';

export class SackRecovery implements RecoveryStrategy {
  readonly kind = 'sack';
  /** What the ACK being processed did: bytes it newly SACKed, and whether it carried a D-SACK (RFC 2883). */
  private newlySacked = 0;
  private dsack = false;
  /** The ACK's DeliveredData (RFC 9937 §2): SND.UNA's advance plus the change in SACKed bytes. */
  private delivered = 0;
  private sackedBefore = 0;
  private unaBefore = 0;
  /** Segments RACK marked lost on this ACK (an ACK that marks none is "safe", RFC 9937 §6). */
  private lostNow = 0;
  // --- PRR (RFC 9937 §6): bytes delivered and sent since recovery began, and the flight then.
  private prrDelivered = 0;
  private prrOut = 0;
  private recoverFS = 0;

  constructor(private readonly c: TcpConnection) {}

  onAckScoreboard(s: Segment, advances: boolean, now: number): void {
    const c = this.c;
    const o = s.opts;
    const a = s.ack;
    // RFC 2883: a first SACK block starting below the ACK, or inside the second, reports a
    // duplicate (Linux tcp_check_dsack tests the start, as here).
    this.dsack = o.sackCount > 0 && (seqLt(o.sack[0]!, a) || (o.sackCount > 1 && seqGe(o.sack[0]!, o.sack[2]!) && seqLe(o.sack[1]!, o.sack[3]!)));
    this.newlySacked = 0;
    this.lostNow = 0;
    this.sackedBefore = c.rtx.sackedBytes;
    this.unaBefore = c.snd.una;
    if (!seqLe(a, c.snd.max)) return;
    // RACK (RFC 8985 §6.2 steps 1-3): every segment this ACK delivers, cumulatively or by
    // SACK (RFC 2018 §5), updates the RACK state.
    c.rack.beginAck(c.ts.echoMs(s));
    if (advances) c.rtx.ackTo(a, c.rack, now);
    // Lowest block first (as Linux sorts them): RFC 2018 puts the newest block first, and
    // taking a lower block after a higher one would look like reordering to RACK.
    let done = 0;
    for (let n = 0; n < o.sackCount; n++) {
      let k = -1;
      for (let j = 0; j < o.sackCount; j++) {
        if (done & (1 << j)) continue;
        if (k < 0 || seqLt(o.sack[2 * j]!, o.sack[2 * k]!)) k = j;
      }
      done |= 1 << k;
      this.newlySacked += c.rtx.sack(o.sack[2 * k]!, o.sack[2 * k + 1]!, c.rack, now);
    }
    if (this.dsack) c.rack.onDsack(advances ? a : c.snd.una, c.snd.nxt);
  }

  afterAck(a: number, advances: boolean, now: number): void {
    const c = this.c;
    const snd = c.snd;
    if (!seqLe(a, snd.max)) return;
    this.delivered = Math.max(0, seqDiff(snd.una, this.unaBefore) + c.rtx.sackedBytes - this.sackedBefore);
    // RFC 8985 §6.2 step 5 and §7.4: what is lost now, and what a tail loss probe showed.
    if (advances || this.newlySacked > 0) this.rackDetect(now);
    if (c.loss.state === 'fast-recovery') this.prrAck(advances);
    this.tlpProcessAck(a, advances, this.dsack, this.newlySacked > 0, now);
    if (advances && seqGt(snd.max, snd.una)) this.armTlp(now);
    else if (!seqGt(snd.max, snd.una)) c.timers.stop(Timer.Tlp);
  }

  /** The DupThresh-th duplicate ACK starts recovery only from a peer that SACKs nothing (else RACK decides). */
  dupAckStarts(s: Segment): boolean {
    return this.c.rtx.sackedSegs === 0 && s.opts.sackCount === 0;
  }

  enter(now: number): void {
    const c = this.c;
    const cc = c.cc;
    if (c.rtx.count > 0) {
      // RFC 9937 §6, on entering recovery: ssthresh is set (the controller did), nothing
      // delivered or sent yet, RecoverFS the flight. Only the first retransmission goes now
      // (RFC 6675 §5 step 4.3); then each ACK lets PRR send in proportion to what it
      // delivered, instead of RFC 6675's cwnd = ssthresh allowance all at once.
      this.prrDelivered = 0;
      this.prrOut = 0;
      this.recoverFS = Math.max(1, c.snd.inFlight());
      if (c.rtx.lostBytes === 0) c.rtx.markLost(0); // entered on duplicate ACKs alone
      cc.cwnd = c.rtx.pipe(c.snd.inFlight());
      this.retransmitLost(now, true);
    } else {
      cc.cwnd = cc.ssthresh + 3 * cc.mss;
      c.loss.retransmitFirst(now);
    }
  }

  partialAck(): void {
    // output() retransmits whatever RACK has judged lost.
  }

  dupAckInRecovery(): void {}

  extraWindow(): number {
    return 0; // RACK and the pipe do limited transmit's job
  }

  /** Data went out during fast recovery (PRR's prr_out). */
  sent(bytes: number): void {
    this.prrOut += bytes;
  }

  /**
   * RFC 9937 §6, on every ACK during recovery: while pipe is above ssthresh, send in
   * proportion to what was delivered (sndcnt = ceil(prr_delivered * ssthresh / RecoverFS) -
   * prr_out); at or below it, catch up toward ssthresh by what was delivered and not yet
   * matched by sending, at least this ACK's DeliveredData (the conservative reduction bound),
   * plus one MSS when the ACK is safe (it advanced SND.UNA and showed no new loss: the slow
   * start reduction bound). cwnd is then pipe + sndcnt; one segment may go if nothing has
   * yet (the fast retransmit). Linux's tcp_cwnd_reduction does the same.
   */
  private prrAck(advanced: boolean): void {
    const c = this.c;
    const cc = c.cc;
    if (this.delivered <= 0 && this.prrOut > 0) return; // nothing delivered: nothing changes
    const mss = c.snd.dataMss();
    this.prrDelivered += this.delivered;
    const pipe = c.rtx.pipe(c.snd.inFlight());
    let sndcnt: number;
    if (pipe > cc.ssthresh) {
      sndcnt = Math.ceil((this.prrDelivered * cc.ssthresh) / this.recoverFS) - this.prrOut;
    } else {
      sndcnt = Math.max(this.prrDelivered - this.prrOut, this.delivered);
      if (advanced && this.lostNow === 0) sndcnt += mss;
      sndcnt = Math.min(cc.ssthresh - pipe, sndcnt);
    }
    sndcnt = Math.max(sndcnt, this.prrOut > 0 ? 0 : mss);
    cc.cwnd = pipe + sndcnt;
  }

  onTimeout(now: number): boolean {
    const c = this.c;
    if (c.snd.wnd <= 0 || c.rtx.count === 0) return false;
    // RFC 8985 §6.3: every segment not SACKed is now lost (SACK marks go too if the
    // peer reneged, RFC 2018 §8), and they are resent lowest first as the window
    // allows; RACK keeps watching them, so a lost resend is repaired without another
    // timeout. One loss episode until SND.MAX is acknowledged (RFC 6582 §3.2).
    c.rtx.markAllLost();
    c.loss.enterRtoRecovery();
    this.retransmitLost(now, true);
    c.output(now);
    c.timers.armIfIdle(Timer.Rto, now + c.rtt.rto);
    return true;
  }

  beforeSend(now: number): void {
    if (this.c.rtx.lostBytes > 0 && this.c.snd.nxt === this.c.snd.max) this.retransmitLost(now, false);
  }

  sacked(): boolean {
    return this.c.rtx.sackedBytes > 0;
  }

  /**
   * Retransmits the segments judged lost, lowest first (RFC 6675 §5 NextSeg rule 1, with
   * RACK deciding what is lost), while the congestion window leaves room above what is
   * in the network. `first`: the retransmission that starts recovery goes regardless
   * (RFC 6675 §5 step 4.3).
   */
  private retransmitLost(now: number, first: boolean): void {
    const c = this.c;
    const snd = c.snd;
    const rtx = c.rtx;
    const mss = snd.dataMss();
    for (let i = rtx.nextLost(0); i >= 0; i = rtx.nextLost(i + 1)) {
      const force = first;
      first = false;
      if (!force && c.cc.cwnd - rtx.pipe(snd.inFlight()) < mss) return;
      const seq = rtx.start(i);
      const fin = (rtx.flags(i) & FIN_SEG) !== 0;
      const seqLen = seqDiff(rtx.end(i), seq);
      const dataLen = fin ? seqLen - 1 : seqLen;
      const len = Math.min(dataLen, mss, snd.buf.length - seqDiff(seq, snd.una));
      if (len < 0) return;
      // Not beyond the peer's window (it would drop the bytes), except the one that must go.
      if (!force && seqDiff(seq, snd.una) + len > snd.wnd) return;
      if (c.out.tracer) c.trace({ ev: 'retransmit', why: 'fast', rseq: seqDiff(seq, snd.iss) });
      snd.sendSegment(seq, len, (fin && len === dataLen ? FIN : 0) | snd.pushFor(seq, len), now);
      // The head resent: it gets a whole RTO from now (Linux tcp_xmit_retransmit_queue).
      if (seq === snd.una) c.timers.arm(Timer.Rto, now + c.rtt.rto);
    }
  }

  // ------------------------------------------------------------------ RACK (RFC 8985 §6)

  /**
   * RACK (RFC 8985 §6.2 step 5): marks what is lost, arms the reordering timer for what
   * may yet be, and starts recovery when something was lost.
   */
  private rackDetect(now: number): void {
    const c = this.c;
    const rtx = c.rtx;
    // Segments SACKed: records, or MSSes for records of many (segmentation offload).
    const segs = Math.max(rtx.sackedSegs, Math.floor(rtx.sackedBytes / c.snd.dataMss()));
    const reo = c.rack.reoWnd(c.loss.recovering(), segs, c.rtt.srtt);
    const lost = c.rack.detectLoss(rtx, reo, now);
    this.lostNow += lost;
    if (c.rack.timeout > 0) c.timers.arm(Timer.Rack, now + c.rack.timeout);
    else c.timers.stop(Timer.Rack);
    if (lost === 0) return;
    c.stats.rackLost += lost;
    // A loss found while recovering from a timeout belongs to that episode: resent, no new reduction.
    if (!c.loss.recovering() && c.snd.nxt === c.snd.max && c.isSynchronizedData()) c.loss.enterRecovery(now);
  }

  onRackTimer(now: number): void {
    this.c.timers.stop(Timer.Rack);
    this.rackDetect(now);
    this.c.output(now);
  }

  // ------------------------------------------------------------------ TLP (RFC 8985 §7)

  /**
   * May a probe be scheduled or sent: the "open" state (Linux TCP_CA_Open), no probe out,
   * no go-back under way, and our SYN acknowledged (after a simultaneous open and a close,
   * a FIN may be in flight before it: the SYN-ACK's retransmission must come first, RFC
   * 9293 §3.10.4, and a probe of the FIN cannot stand in for it).
   */
  private probeAllowed(): boolean {
    const c = this.c;
    return !c.loss.recovering() && !c.rack.tlpActive && c.snd.nxt === c.snd.max && c.isSynchronizedData() && c.snd.synAcked();
  }

  /**
   * RFC 8985 §7.2: after new data goes out or new data is acknowledged, schedule a tail
   * loss probe, unless recovery is under way, something is SACKed, or a probe is out.
   */
  armTlp(now: number): void {
    const c = this.c;
    const rtoAt = c.timers.deadline(Timer.Rto);
    if (!this.probeAllowed() || c.rtx.sackedBytes > 0 || rtoAt < 0) {
      c.timers.stop(Timer.Tlp);
      return;
    }
    const flightSegs = Math.ceil(c.snd.inFlight() / c.snd.dataMss());
    c.timers.arm(Timer.Tlp, now + c.rack.pto(c.rtt.srtt, c.rtt.samples > 0, flightSegs, rtoAt - now));
  }

  /** RFC 8985 §7.3: the probe timer fired: send new data if the window allows, else the last segment again. */
  onTlpTimer(now: number): void {
    const c = this.c;
    const snd = c.snd;
    c.timers.stop(Timer.Tlp);
    if (!this.probeAllowed() || snd.inFlight() === 0) return;
    const mss = snd.dataMss();
    const unsent = snd.unsent();
    const room = snd.wnd - snd.inFlight();
    let retrans = false;
    if (unsent > 0 && room > 0 && (snd.finSeq === -1 || seqLt(snd.nxt, snd.finSeq))) {
      const len = Math.min(unsent, mss, room);
      snd.sendSegment(snd.nxt, len, len === unsent ? PSH : 0, now);
    } else {
      const last = c.rtx.count - 1;
      if (last < 0) return;
      const end = c.rtx.end(last);
      const fin = (c.rtx.flags(last) & FIN_SEG) !== 0;
      const dataEnd = fin ? seqAdd(end, -1) : end;
      const len = Math.max(0, Math.min(mss, seqDiff(dataEnd, c.rtx.start(last))));
      const seq = seqAdd(dataEnd, -len);
      if (c.out.tracer) c.trace({ ev: 'retransmit', why: 'tlp', rseq: seqDiff(seq, snd.iss) });
      snd.sendSegment(seq, len, (fin ? FIN : 0) | snd.pushFor(seq, len), now);
      retrans = true;
    }
    c.stats.tlpProbes++;
    c.rack.probeSent(snd.nxt, retrans);
    // The retransmission timer restarts after the probe (RFC 8985 §7.3).
    c.timers.arm(Timer.Rto, now + c.rtt.rto);
    c.timers.stop(Timer.Tlp);
  }

  /**
   * RFC 8985 §7.4: an ACK during a probe episode. If the probe retransmitted a segment and
   * the ACK covers more than it, with no D-SACK saying the original arrived too, the
   * probe repaired a loss: the congestion window is reduced as for a fast recovery.
   */
  private tlpProcessAck(ack: number, advanced: boolean, dsack: boolean, sacked: boolean, now: number): void {
    const c = this.c;
    const r = c.rack;
    if (!r.tlpActive || seqLt(ack, r.tlpEndSeq)) return;
    if (!r.tlpIsRetrans || dsack) {
      r.resetTlp();
    } else if (seqGt(ack, r.tlpEndSeq)) {
      r.resetTlp();
      // From the window before the loss (SND.UNA has moved already; Linux's ssthresh hooks use cwnd).
      c.cc.onCongestionEvent(Math.max(c.snd.inFlight(), c.cc.cwnd), now);
      c.cc.cwnd = c.cc.ssthresh;
      c.traceCwnd();
    } else if (!advanced && !sacked) {
      r.resetTlp(); // a duplicate ACK at the probe's end, no SACK: nothing to learn
    }
  }
}
