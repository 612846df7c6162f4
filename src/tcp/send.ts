/**
 * The sending half of a connection (RFC 9293 §3.3.1 send sequence variables): the send
 * buffer, SND.UNA/NXT/MAX and the send window, segmentation (Nagle, sender SWS
 * avoidance, TSO), the FIN after the data, the ACK step of segment arrival (what is newly
 * acknowledged, RTT samples, the window update), the persist timer, and the path MTU.
 * Only this class writes SND.* and the send MSS; loss recovery (recovery.ts) is asked
 * what may be resent and how much the congestion window allows.
 *
 *              1         2          3          4
 *         ----------|----------|----------|----------
 *                SND.UNA    SND.NXT    SND.UNA
 *                                     +SND.WND
 *   1 - old sequence numbers that have been acknowledged
 *   2 - sequence numbers of unacknowledged data
 *   3 - sequence numbers allowed for new data transmission
 *   4 - future sequence numbers that are not yet allowed
 */
import type { TcpConnection } from './connection.js';
import { RingBuffer } from './ring-buffer.js';
import type { Segment } from './segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import { ACK, FIN, PSH, SYN } from './tcp-packet.js';
import { MAX_RTO_MS } from './rtt.js';
import { Timer } from './timers.js';
import { TS_OPTION_LEN } from './timestamps.js';
import type { AckSample } from './congestion/slow-start.js';

/** The MSS we assume of a peer that sends no MSS option (RFC 9293 §3.7.1). */
export const DEFAULT_PEER_MSS = 536;
/**
 * The smallest send MSS we use, whatever the peer or ICMP says (Linux TCP_MIN_MSS: the
 * minimum IPv4 MTU of 68 can carry no less than this once headers are counted generously),
 * so that nobody can make us send tiny segments.
 */
export const TCP_MIN_MSS = 88;
/** The smallest path MTU ICMP may set (Linux ip_rt_min_pmtu, 512 + 20 + 20): MSS 512. */
export const PMTU_MIN = 552;
/** A lowered path MTU is forgotten after this (RFC 1191 §6.3; Linux ip_rt_mtu_expires). */
export const PMTU_EXPIRES_MS = 10 * 60 * 1000;
/** ICMP may lower a connection's MSS at most once per this (each decrease resends the flight). */
export const PMTU_LOWER_INTERVAL_MS = 1000;

/**
 * The send MSS a peer's SYN asks for: its MSS option, or 536 when it has none or says 0
 * (Linux ignores an MSS option of 0, so RFC 9293 §3.7.1's default applies), never below
 * TCP_MIN_MSS and never above what our own MTU carries.
 */
export function peerSendMss(optionMss: number, mtuMss: number): number {
  const asked = optionMss > 0 ? optionMss : DEFAULT_PEER_MSS;
  return Math.max(TCP_MIN_MSS, Math.min(asked, mtuMss));
}

export class Sender {
  /** ISS, SND.UNA, SND.NXT. */
  iss = 0;
  una = 0;
  nxt = 0;
  /** The highest sequence number sent (SND.NXT is pulled back by a retransmission timeout). */
  max = 0;
  /** SND.WND (scaled to bytes), SND.WL1, SND.WL2, and the largest window the peer has offered. */
  wnd = 0;
  wl1 = 0;
  wl2 = 0;
  maxWnd = 0;
  /** RFC 7323: the shift applied to the peer's window field. */
  wscale = 0;
  /** Send MSS (the peer's, bounded by our MTU), and what the peer's SYN allowed (ICMP may lower `mss` below it for a while). */
  mss = DEFAULT_PEER_MSS;
  peerMss = DEFAULT_PEER_MSS;
  /** When a path MTU lowered by ICMP is forgotten (-1: not lowered), and when ICMP last lowered it. */
  private pmtuExpiresAt = -1;
  private pmtuLoweredAt = -Infinity;
  buf: RingBuffer;
  /** The user will send no more (shutdown SHUT_WR or close): FIN after the data. */
  finQueued = false;
  /** Sequence number our FIN occupies once sent, else -1. */
  finSeq = -1;
  /** Karn: the segment being timed by our own clock (its end sequence, -1: none), and when it went. */
  private rttSeq = -1;
  private rttStart = 0;
  /** When we last sent a segment with data or SYN/FIN (RFC 5681 §4.1's idle test). */
  lastSendAt = 0;
  /**
   * The most sequence space in flight during the current window, and where that window
   * ends (RFC 7661's pipeACK over one RTT; Linux's max_packets_out and cwnd_usage_seq):
   * the ACKs of a window that was half used or more may grow cwnd, even as the flight
   * drains towards its end.
   */
  private flightMax = 0;
  private flightMaxUntil = 0;
  /** The ACK being processed, for slow start's HyStart++ (reused). */
  readonly ackSample: AckSample = { una: 0, sndNxt: 0, rttMs: -1 };
  /** Zero-window probes sent without an answer, and the persist backoff exponent (kept across answered probes). */
  persistProbes = 0;
  private persistBackoff = 0;
  /** When the first unanswered probe went (for TCP_USER_TIMEOUT). */
  private persistSince = 0;

  constructor(
    private readonly c: TcpConnection,
    bufSize: number,
  ) {
    this.buf = new RingBuffer(bufSize);
  }

  /** The one place ISS and the send sequence variables start (active open, SYN, SYN cookie). */
  init(iss: number): void {
    this.iss = iss;
    this.synWasAcked = false;
    this.una = iss;
    this.nxt = iss;
    this.max = iss;
  }

  /** A SYN cookie's ACK: our SYN-ACK (ISS) was sent and is acknowledged by the segment in hand. */
  initFromCookie(iss: number): void {
    this.init(iss);
    this.nxt = this.max = seqAdd(iss, 1);
  }

  /** RFC 9293: "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK" when the handshake completes (`wnd` in bytes). */
  initWindow(wnd: number, seq: number, ack: number): void {
    this.wnd = wnd;
    this.maxWnd = wnd;
    this.wl1 = seq;
    this.wl2 = ack;
  }

  /** The peer's SYN: its MSS option and window scale (RFC 9293 §3.7.1, RFC 7323 §2.2; -1 if absent). */
  negotiate(optionMss: number, wscale: number, mtuMss: number): void {
    this.mss = this.peerMss = peerSendMss(optionMss, mtuMss);
    this.wscale = wscale >= 0 ? wscale : 0;
  }

  /** A peer's SYN before the handshake: its window, unscaled (RFC 7323 §2.2). */
  synWindow(wnd: number): void {
    this.wnd = wnd;
  }

  /** SO_SNDBUF before the connection carries data. */
  resize(size: number): void {
    if (this.buf.length === 0) this.buf = new RingBuffer(size);
  }

  /** Bytes sent and not yet acknowledged (SYN and FIN included). */
  inFlight(): number {
    return seqDiff(this.nxt, this.una);
  }

  /** Unsent data bytes queued behind SND.NXT. */
  unsent(): number {
    const sentData = Math.min(this.inFlight(), this.buf.length);
    return this.buf.length - sentData;
  }

  /** Payload bytes per segment: the MSS less the options every segment carries. */
  dataMss(): number {
    return this.c.ts.ok ? this.mss - TS_OPTION_LEN : this.mss;
  }

  /**
   * Has our SYN been acknowledged? A flag, not `SND.UNA > ISS`: sequence comparisons are
   * modulo 2^32 (RFC 9293 §3.4), so after 2 GiB that comparison turns false again and the
   * next ACK would be taken for the SYN's (a byte of the send buffer left unconsumed for
   * every ACK: the stream corrupted).
   */
  synAcked(): boolean {
    return this.synWasAcked;
  }

  /** Set by the first ACK that covers our SYN. */
  private synWasAcked = false;

  /** Has our FIN been acknowledged? */
  finAcked(): boolean {
    return this.finSeq !== -1 && seqGt(this.una, this.finSeq);
  }

  // ------------------------------------------------------------------ output

  /** Our SYN (or SYN-ACK), from ISS. */
  sendSyn(flags: number, now: number): void {
    const c = this.c;
    if (this.max === this.iss) c.ts.flightStarts(now);
    c.out.writeSegment(c, this.iss, flags, 0, 0, now);
    this.nxt = seqAdd(this.iss, 1);
    if (seqGt(this.nxt, this.max)) this.max = this.nxt;
    c.rcv.ackSent();
    if (this.rttSeq === -1 && c.loss.retries === 0) {
      this.rttSeq = this.nxt;
      this.rttStart = now;
    }
    c.timers.armIfIdle(Timer.Rto, now + c.rtt.rto);
  }

  /** Our SYN timed out: it goes again now, and RFC 6298 (5.7) applies once established. */
  resendSyn(now: number): void {
    this.nxt = this.iss;
    this.synRetransmitted = true;
    this.sendSyn(this.c.state === 'SYN-SENT' ? SYN : SYN | ACK, now);
    this.c.stats.retransmits++;
  }

  /** Our SYN-ACK must go again (simultaneous open, or the peer's SYN came again): output() sends it. */
  rewindToIss(): void {
    this.nxt = this.iss;
  }

  /** A SYN (or SYN-ACK) of ours timed out: RFC 6298 (5.7) then asks for a 3 s RTO for data. */
  synRetransmitted = false;

  /** Sends what the windows, Nagle and SWS avoidance allow, then the FIN once every byte before it has gone. */
  sendData(now: number): void {
    const c = this.c;
    const loss = c.loss;
    // RFC 5681 §4.1: after an idle period longer than RTO, restart from the initial window.
    if (this.inFlight() === 0 && this.lastSendAt > 0 && now - this.lastSendAt > c.rtt.rto) c.cc.onIdleRestart(now);
    for (;;) {
      let room = Infinity;
      if (seqLt(this.nxt, this.max)) {
        // Going back after a timeout: what the peer SACKed need not go again (the
        // scoreboard is empty without SACK).
        this.nxt = c.rtx.skipSacked(this.nxt);
        room = c.rtx.roomBeforeSacked(this.nxt);
      }
      const available = this.unsent();
      if (available === 0) break;
      const window = Math.min(this.wnd, c.cc.cwnd + loss.extraWindow());
      // The congestion window limits what is in the network (RFC 6675 pipe): SACKed bytes
      // and those judged lost have left it (without SACK, pipe is what is in flight).
      const inNet = this.nxt === this.max ? c.rtx.pipe(this.inFlight()) : this.inFlight();
      const usable = Math.floor(Math.min(window - inNet, this.wnd - this.inFlight()));
      if (usable <= 0) break;
      const mss = this.dataMss();
      // With segmentation offload, one write carries many segments (whole MSSes).
      const tso = c.out.tsoBytes(c);
      const most = tso > mss ? tso - (tso % mss) : mss;
      let len = Math.min(available, most, usable, room);
      // A multi-segment write ends on an MSS boundary when a window cuts it short, or when
      // Nagle would hold its tail: else the device puts a runt on the wire in mid-stream
      // (Linux tcp_mss_split_point). The tail then waits, as it would without offload.
      if (len > mss && len < room && (len < available || !c.opts.nodelay)) len -= len % mss;
      if (len < mss && len < room) {
        const inFlight = this.inFlight() > 0;
        if (len < available) {
          // Window-limited: RFC 1122 §4.2.3.4 sender SWS avoidance: a small piece only
          // when it is at least half the largest window the peer has offered, or nothing
          // is in flight (so the connection cannot stall).
          if (inFlight && len < this.maxWnd / 2) break;
        } else if (inFlight && !c.opts.nodelay) {
          // Nagle (RFC 9293 §3.7.4, RFC 1122 §4.2.3.4): hold a small tail while data is unacknowledged.
          break;
        }
      }
      this.sendSegment(this.nxt, len, len === available ? PSH : 0, now);
    }
    // FIN once every byte before it is sent (RFC 9293 §3.10.4).
    if (this.finQueued && this.unsent() === 0 && (this.finSeq === -1 || this.nxt === this.finSeq) && c.isSynchronizedData()) {
      this.finSeq = this.nxt;
      this.sendSegment(this.finSeq, 0, FIN, now);
    }
  }

  /**
   * Sends `len` data bytes at `seq` (from the send buffer), with FIN if `extra` has it,
   * and does the bookkeeping: SND.NXT/SND.MAX, RTT timing, the retransmission queue.
   */
  sendSegment(seq: number, len: number, extra: number, now: number): void {
    const c = this.c;
    c.out.writeSegment(c, seq, ACK | extra, seqDiff(seq, this.una), len, now);
    c.stats.bytesOut += len;
    c.loss.sent(len);
    if (len > 0) c.rcv.dataSent(now);
    const fin = (extra & FIN) !== 0;
    const segLen = fin ? len + 1 : len;
    if (c.sackOk) c.rtx.onSend(seq, seqAdd(seq, segLen), fin, now);
    this.afterSend(seq, segLen, now);
  }

  /** Bookkeeping after a segment of `len` sequence numbers at `seq` went out. */
  private afterSend(seq: number, len: number, now: number): void {
    const c = this.c;
    const end = seqAdd(seq, len);
    if (seqGt(end, this.nxt)) this.nxt = end;
    let newData = false;
    if (seqGt(end, this.max)) {
      if (this.max === this.una) c.ts.flightStarts(now); // a new flight
      // New data: time it if nothing is being timed (Karn: never time a retransmission).
      if (this.rttSeq === -1 && seq === this.max) {
        this.rttSeq = end;
        this.rttStart = now;
      }
      this.max = end;
      newData = true;
    } else {
      c.stats.retransmits++;
      c.ts.retransmitted(now);
    }
    const flight = seqDiff(this.max, this.una);
    if (!seqLt(this.una, this.flightMaxUntil) || flight > this.flightMax) {
      this.flightMax = flight;
      this.flightMaxUntil = this.nxt;
    }
    c.rcv.ackSent();
    this.lastSendAt = now;
    // RFC 6298 (5.1): the retransmission timer runs while anything is outstanding (and
    // arming it ends the persist timer: data is in flight now).
    c.timers.armIfIdle(Timer.Rto, now + c.rtt.rto);
    c.timers.stop(Timer.Persist);
    if (newData) c.loss.armTlp(now);
  }

  /**
   * A bare ACK. It carries SND.MAX, not SND.NXT: after a timeout pulls SND.NXT back, an
   * old sequence number would make the peer find the ACK unacceptable and ignore it
   * (4.4BSD tcp_output does the same). Without this, two sides retransmitting at once can
   * deadlock, each dropping the other's acknowledgments.
   */
  sendAck(now: number): void {
    const c = this.c;
    c.out.writeSegment(c, this.max, ACK, 0, 0, now);
    c.rcv.ackSent();
  }

  /** PSH for a segment that ends at the end of the queued data, as when it was first sent. */
  pushFor(seq: number, len: number): number {
    return len > 0 && seqDiff(seq, this.una) + len === this.buf.length ? PSH : 0;
  }

  /** The user will send no more: a FIN follows the queued data. */
  queueFin(): void {
    this.finQueued = true;
  }

  /**
   * Sends again from SND.UNA (after a timeout without SACK, or a smaller path MTU): SND.NXT
   * goes back, and an unacknowledged FIN goes again after the data before it.
   */
  goBack(): void {
    this.nxt = this.una;
    if (this.finSeq !== -1 && !seqLt(this.finSeq, this.una)) this.finSeq = -1;
  }

  /** Karn's rule: a timeout means the segment being timed tells us nothing. */
  forgetRttSample(): void {
    this.rttSeq = -1;
  }

  // ------------------------------------------------------------------ persist (RFC 9293 §3.8.6.1)

  /** Persist timer: data waits, the peer's window is closed, nothing in flight. */
  armPersist(now: number): void {
    const c = this.c;
    if (c.isSynchronizedData() && this.unsent() > 0 && this.inFlight() === 0 && this.wnd === 0) {
      c.timers.armIfIdle(Timer.Persist, now + c.rtt.rto);
    } else {
      c.timers.stop(Timer.Persist);
      this.persistProbes = 0;
      this.persistBackoff = 0;
    }
  }

  /** A zero-window probe: a segment below the window, which the peer must ACK (Linux's tcp_xmit_probe_skb). */
  onPersistTimer(now: number): void {
    const c = this.c;
    c.timers.stop(Timer.Persist);
    if (this.persistProbes === 0) this.persistSince = now;
    const userTimeout = c.opts.userTimeoutMs;
    // TCP_USER_TIMEOUT, when set, bounds the zero window's time instead of the probe count (Linux tcp_probe_timer).
    if (userTimeout > 0 ? this.persistProbes > 0 && now - this.persistSince >= userTimeout : this.persistProbes >= c.config.maxRetries) {
      c.closeNow('zero-window probes unanswered', 'ETIMEDOUT');
      return;
    }
    this.persistProbes++;
    this.persistBackoff++;
    c.stats.zeroWindowProbes++;
    c.out.writeSegment(c, seqAdd(this.una, -1), ACK, 0, 0, now);
    // RFC 9293 §3.8.6.1: probe intervals SHOULD increase exponentially (capped as the RTO is).
    c.timers.arm(Timer.Persist, now + Math.min(c.rtt.rto * 2 ** this.persistBackoff, MAX_RTO_MS));
  }

  // ------------------------------------------------------------------ path MTU (RFC 1191)

  /**
   * RFC 1191 §6: ICMP says the path carries datagrams of at most `pmtu` bytes. The MSS
   * drops to fit, floored at PMTU_MIN's (a forged MTU of 68 cannot make us send 28-byte
   * segments), at most once per PMTU_LOWER_INTERVAL_MS, and only until PMTU_EXPIRES_MS
   * have passed. Returns what it did; a decrease resends from SND.UNA at once without
   * counting it as congestion (Linux tcp_simple_retransmit).
   */
  lowerPathMtu(pmtu: number, headerLen: number, now: number): 'lowered' | 'unchanged' | 'rateLimited' {
    const mss = Math.max(PMTU_MIN, pmtu) - headerLen;
    if (mss >= this.mss) return 'unchanged';
    if (now - this.pmtuLoweredAt < PMTU_LOWER_INTERVAL_MS) return 'rateLimited';
    this.pmtuLoweredAt = now;
    this.pmtuExpiresAt = now + PMTU_EXPIRES_MS;
    this.mss = mss;
    this.goBack();
    this.c.output(now);
    return 'lowered';
  }

  /** RFC 1191 §6.3: once a lowered path MTU expires, try the larger MSS again (a narrower path will say so again). */
  pmtuCheck(now: number): void {
    if (this.pmtuExpiresAt >= 0 && now >= this.pmtuExpiresAt) {
      this.pmtuExpiresAt = -1;
      this.mss = this.peerMss;
    }
  }

  // ------------------------------------------------------------------ the ACK step (RFC 9293 §3.10.7.4, fifth)

  /** A SYN-ACK acknowledged our SYN (SYN-SENT): SND.UNA moves, and the SYN may time the RTT. */
  synAckArrived(s: Segment, now: number): void {
    const c = this.c;
    this.una = s.ack;
    if (seqGt(s.ack, this.iss)) this.synWasAcked = true;
    if (c.ts.ok && c.ts.echoTimes(s.opts.tsEcr, now)) {
      c.rttSample(c.ts.rtt(s.opts.tsEcr, now));
      this.rttSeq = -1;
    } else if (this.rttSeq !== -1 && seqGe(s.ack, this.rttSeq)) {
      c.rttSample(now - this.rttStart);
      this.rttSeq = -1;
    }
    c.loss.progress();
    c.timers.stop(Timer.Rto);
  }

  /** An acceptable ACK in a synchronized state: what it acknowledges, duplicate ACKs, the send window. */
  onAck(s: Segment, now: number): void {
    const c = this.c;
    const cwndBefore = c.cc.cwnd;
    this.ackInner(s, now);
    if (c.cc.cwnd !== cwndBefore) c.traceCwnd();
  }

  private ackInner(s: Segment, now: number): void {
    const c = this.c;
    const loss = c.loss;
    const a = s.ack;
    const advances = seqGt(a, this.una);
    // ECE first: the reduction starts from the window before this ACK (Linux enters CWR before it would grow cwnd).
    c.ecn.onAck(s, now);
    loss.onAckScoreboard(s, advances, now);
    const wnd = s.wnd << this.wscale;
    let spaceFreed = false;
    if (advances) {
      // Was the window in use? (RFC 7661 §4.3 / Linux tcp_is_cwnd_limited: a window that the
      // application or the peer kept half empty or more must not keep growing: Linux grows
      // in slow start while cwnd < 2 * the most in flight in the window.)
      const cwndLimited = 2 * Math.max(this.flightMax, seqDiff(this.max, this.una)) > c.cc.cwnd;
      let acked = seqDiff(a, this.una);
      if (!this.synWasAcked) {
        acked--; // the SYN's sequence number carries no data
        this.synWasAcked = true;
      }
      const dataAcked = Math.min(Math.max(0, acked), this.buf.length);
      this.buf.consume(dataAcked);
      this.una = a;
      if (seqLt(this.nxt, this.una)) this.nxt = this.una;
      this.ackSample.rttMs = -1;
      this.ackTimes(s, now);
      this.ackSample.una = this.una;
      this.ackSample.sndNxt = this.nxt;
      loss.onNewAck(a, dataAcked, cwndLimited, now);
      // RFC 6298 (5.2, 5.3): stop the timer when all is acknowledged, else restart it.
      if (seqGt(this.max, this.una)) c.timers.arm(Timer.Rto, now + c.rtt.rto);
      else c.timers.stop(Timer.Rto);
      spaceFreed = dataAcked > 0;
    } else if (a === this.una && s.len === 0 && !s.has(FIN) && wnd === this.wnd && this.inFlight() > 0) {
      // RFC 5681 §2: a duplicate ACK.
      c.stats.dupAcksIn++;
      loss.onDupAck(s, now);
    }
    loss.afterAck(a, advances, now);
    this.updateWindow(s, wnd);
    // Any ACK from a live peer resets the zero-window probe count (Linux icsk_probes_out).
    this.persistProbes = 0;
    // Only now, with SND.WND updated from this same segment, may a writer fill the space.
    if (spaceFreed) c.onEvent();
  }

  /**
   * The RTT an ACK of new data measures. The segment timed by our own clock (Karn) is
   * acknowledged: it measures if the echo cannot, and it moves the floor for echoes up to
   * when it was sent (nothing sent before it is still in flight), so that in a transfer
   * whose flight never drains an old echo is still refused.
   */
  private ackTimes(s: Segment, now: number): void {
    const c = this.c;
    const timedAcked = this.rttSeq !== -1 && seqGe(s.ack, this.rttSeq);
    if (c.ts.ok && s.opts.hasTimestamps && c.ts.echoTimes(s.opts.tsEcr, now)) {
      // RFC 7323 §4.1: every ACK of new data measures the RTT, retransmissions included
      // (the echo says which transmission it answers, so Karn's rule is not needed);
      // Appendix G: weighted by the samples a window yields (one per two segments).
      this.ackSample.rttMs = c.ts.rtt(s.opts.tsEcr, now);
      c.rttSample(this.ackSample.rttMs, this.inFlight() / (2 * this.mss));
    } else if (timedAcked) {
      this.ackSample.rttMs = now - this.rttStart;
      c.rttSample(this.ackSample.rttMs);
    }
    if (timedAcked) {
      this.rttSeq = -1;
      if (c.ts.ok) c.ts.raiseEchoFloor(this.rttStart);
    }
    // With SACK the queue's head tells when the oldest segment in flight went.
    if (c.sackOk && c.rtx.count > 0) c.ts.raiseEchoFloor(c.rtx.xmitTs(0));
  }

  /** RFC 9293 §3.10.7.4: update the send window from the newest segment only. */
  private updateWindow(s: Segment, wnd: number): void {
    const a = s.ack;
    if (seqLe(this.una, a) && (seqLt(this.wl1, s.seq) || (this.wl1 === s.seq && seqLe(this.wl2, a)))) {
      const opened = wnd > this.wnd;
      this.wnd = wnd;
      this.wl1 = s.seq;
      this.wl2 = a;
      if (wnd > this.maxWnd) this.maxWnd = wnd;
      if (opened) {
        this.persistProbes = 0;
        this.c.timers.stop(Timer.Persist);
      }
    }
  }
}
