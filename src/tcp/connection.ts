/**
 * One TCP connection: the Transmission Control Block (RFC 9293 §3.3.1) as the pieces
 * that own its state, the user calls (§3.10.1-3.10.6), and output() and onTimers(), which
 * run those pieces. Who writes what:
 *
 *   snd     send.ts           SND.*, the send buffer and MSS, segmentation, the ACK step, persist
 *   rcv     receive.ts        RCV.*, the receive buffer, acceptability, text, SACK blocks, ACK timing
 *   ts      timestamps.ts     TSval, TS.Recent, PAWS (RFC 7323)
 *   loss    recovery.ts       the recovery state, duplicate ACKs, the RTO; with reno-recovery.ts
 *                             or sack-recovery.ts (RACK-TLP) as its strategy
 *   timers  timers.ts         every deadline, one named slot each
 *   cc      congestion/*.ts   the congestion window (loss recovery writes it while it runs)
 *   opts    socket-options.ts setsockopt values, shared with the socket
 *
 * This file writes the state (through setState, which checks RFC 9293's table), the
 * connection's life (orphan, error, keepalive) and the options negotiated in the SYNs
 * (handshake.ts sets those). Segment arrival is input.ts.
 */
import { logger } from '../core/log.js';
import { formatEndpoint, type IpAddr } from '../ip/ip-address.js';
import type { TcpConfig } from './config.js';
import type { CongestionControl } from './congestion/congestion-control.js';
import { NewReno } from './congestion/new-reno.js';
import { Cubic } from './congestion/cubic.js';
import type { TcpOptions } from './options.js';
import { Receiver } from './receive.js';
import { LossRecovery } from './recovery.js';
import { RttEstimator } from './rtt.js';
import { DEFAULT_PEER_MSS, Sender } from './send.js';
import { seqAdd, seqGt } from './seq.js';
import { Rack } from './rack.js';
import { RetransmitQueue } from './retransmit-queue.js';
import { SocketOptions } from './socket-options.js';
import { assertTransition, isSynchronizedData, type TcpState } from './state.js';
import { ACK, RST, SYN } from './tcp-packet.js';
import { TcpTimers, Timer } from './timers.js';
import { Timestamps } from './timestamps.js';
import { Ecn } from './ecn.js';
import type { TraceEvent, Tracer } from './trace.js';

export { DEFAULT_PEER_MSS, PMTU_EXPIRES_MS, PMTU_LOWER_INTERVAL_MS, PMTU_MIN, TCP_MIN_MSS, peerSendMss } from './send.js';
export { wscaleFor } from './receive.js';

const log = logger('tcp');

export type TcpErrno = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EPIPE' | 'ENOTCONN' | 'ECONNABORTED';

/** What a connection needs from the TCP layer: a way to put a segment on the wire. */
export interface SegmentWriter {
  /**
   * Sends a segment from `c`: `dataLen` bytes of the send buffer starting `dataOff` bytes
   * past SND.UNA, with the given flags; the ACK number, the window and the options
   * (SYN options, timestamps, SACK blocks) come from `c`.
   */
  writeSegment(c: TcpConnection, seq: number, flags: number, dataOff: number, dataLen: number, now: number): void;
  /** The connection changed state (the layer keeps its tables and counters). */
  stateChanged(c: TcpConnection, from: TcpState, to: TcpState): void;
  /** A pure ACK may wait for the end of the current receive batch (true: it will be sent then). */
  deferAck(c: TcpConnection): boolean;
  /**
   * How many data bytes one segment may carry when the link segments for us (TCP
   * segmentation offload), or 0 when every segment must fit the MSS.
   */
  tsoBytes(c: TcpConnection): number;
  /** The connection's timers may have changed: the layer re-reads `timers.next()` before it next sleeps. */
  touch(c: TcpConnection): void;
  /** Where trace events go (null: tracing off). */
  readonly tracer: Tracer | null;
}

/** Counters kept per connection (TCP_INFO-like). */
export interface ConnStats {
  segsIn: number;
  segsOut: number;
  bytesIn: number;
  bytesOut: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  dupAcksIn: number;
  oooSegments: number;
  oooDropped: number;
  challengeAcks: number;
  pawsDropped: number;
  zeroWindowProbes: number;
  keepaliveProbes: number;
  /** Segments RACK judged lost (RFC 8985), and tail loss probes sent. */
  rackLost: number;
  tlpProbes: number;
  /** ECN (RFC 3168): CE marks received, and window reductions for the peer's ECE. */
  ecnCeReceived: number;
  ecnReductions: number;
}

export class TcpConnection {
  /**
   * The layer's links (it alone writes them): this connection's entry time in the
   * layer's timer heap (-1: none), and whether it is on the layer's list of connections
   * whose timers changed, and on its list of ACKs deferred to the batch's end.
   */
  heapAt = -1;
  touchPending = false;
  ackPending = false;
  // --- identity (set once by the layer, when the connection is registered)
  localAddr: IpAddr = 0;
  localPort = 0;
  remoteAddr: IpAddr = 0;
  remotePort = 0;

  /** RFC 9293's state; only setState() writes it. */
  state: TcpState = 'CLOSED';

  // --- the pieces (see the table above)
  readonly snd: Sender;
  readonly rcv: Receiver;
  readonly ts = new Timestamps();
  readonly timers = new TcpTimers();
  readonly loss: LossRecovery;
  readonly rtt = new RttEstimator();
  /** Built once; handshake.ts sizes it for the peer's MSS when the SYNs are known. */
  readonly cc: CongestionControl;
  /** Our segments not yet acknowledged, with what the peer SACKed of them (kept when SACK is on; the SACK scoreboard). */
  readonly rtx = new RetransmitQueue();
  /** RACK-TLP loss detection state (RFC 8985). */
  readonly rack = new Rack();
  readonly opts: SocketOptions;
  /** ECN (RFC 3168): negotiated in the SYNs, CE echoed, ECE answered (ecn.ts). */
  readonly ecn: Ecn;

  // --- options negotiated in the SYNs (written in handshake.ts)
  /** Offer window scaling in our SYN (always on active open; on passive open only if the peer did, RFC 7323 §2.2). */
  offerWscale = true;
  /** Offer SACK-permitted in our SYN, and whether both SYNs carried it (RFC 2018 §2). */
  offerSack = false;
  sackOk = false;

  // --- the connection's life
  /** The application no longer holds this connection (closed; finishing on its own). */
  orphan = false;
  /** Keepalive probes sent without an answer. */
  keepaliveSent = 0;
  lastRecvAt = 0;
  /** When we last sent a challenge ACK (RFC 5961 §7; -1: never). */
  private lastChallengeAckAt = -1;
  /** The error the application will be told (ECONNRESET, ETIMEDOUT, ECONNREFUSED). */
  error: TcpErrno | null = null;
  /** The listener an embryonic passive connection belongs to. */
  listener: { onEmbryoDone(c: TcpConnection, established: boolean): void } | null = null;
  /** Called on anything the application may wait for: data, EOF, space, state, error. */
  onEvent: () => void = () => {};
  readonly stats: ConnStats = {
    segsIn: 0, segsOut: 0, bytesIn: 0, bytesOut: 0, retransmits: 0, fastRetransmits: 0, timeouts: 0,
    dupAcksIn: 0, oooSegments: 0, oooDropped: 0, challengeAcks: 0, pawsDropped: 0, zeroWindowProbes: 0, keepaliveProbes: 0, rackLost: 0, tlpProbes: 0,
    ecnCeReceived: 0, ecnReductions: 0,
  };
  readonly createdAt: number;

  constructor(
    readonly out: SegmentWriter,
    readonly config: TcpConfig,
    /** Largest segment the route carries: MTU - 40 (see useRoute). */
    public mtuMss: number,
    now: number,
    opts: SocketOptions = new SocketOptions(config),
    /** A number for traces and `tcpip stat`. */
    readonly id = 0,
    /** The random offset of our TSval clock (RFC 7323 §5.4). */
    tsOffset = 0,
  ) {
    this.opts = opts;
    this.mtuMss = opts.maxSeg > 0 ? Math.min(mtuMss, opts.maxSeg) : mtuMss;
    mtuMss = this.mtuMss;
    this.ts.offer = config.timestamps;
    this.ts.offset = tsOffset;
    this.offerSack = config.sack;
    this.snd = new Sender(this, opts.sndBuf);
    this.rcv = new Receiver(this, opts.rcvBuf, config.maxOooRanges, mtuMss);
    this.loss = new LossRecovery(this);
    this.ecn = new Ecn(this, config.ecn);
    this.cc = config.congestionControl === 'newreno' ? new NewReno(DEFAULT_PEER_MSS, config.hystart) : new Cubic(DEFAULT_PEER_MSS, () => this.rtt.srtt, config.hystart);
    this.createdAt = now;
    this.lastRecvAt = now;
  }

  describe(): string {
    return `${formatEndpoint(this.localAddr, this.localPort)} > ${formatEndpoint(this.remoteAddr, this.remotePort)}`;
  }

  /** Hands an event at time `now` to the tracer, if there is one (callers test `out.tracer` first). */
  trace(ev: TraceEvent, now: number = this.traceNow): void {
    const t = this.out.tracer;
    if (t) t({ t: now, c: this.id, ...ev } as never);
  }

  /** The time of the event being handled, for trace records (set by output() and onTimers()). */
  private traceNow = 0;

  /** Every state change passes the RFC 9293 transition table. */
  setState(to: TcpState, why: string): void {
    const from = this.state;
    if (from === to) return;
    assertTransition(from, to, why);
    this.state = to;
    if (log.enabled) log(`${this.describe()} ${from} -> ${to} (${why})`);
    if (this.out.tracer) this.trace({ ev: 'state', from, to, why });
    this.out.stateChanged(this, from, to);
    this.onEvent();
  }

  /** The layer is about to hand this connection an event at `now` (a segment, a timer, a user call). */
  at(now: number): void {
    this.traceNow = now;
  }

  /** The route is known (before the SYN): the largest segment it carries, which our SYN offers as MSS. */
  useRoute(mtuMss: number): void {
    // TCP_MAXSEG caps it (Linux: the MSS advertised and the largest segment sent).
    this.mtuMss = this.opts.maxSeg > 0 ? Math.min(mtuMss, this.opts.maxSeg) : mtuMss;
    this.rcv.useMss(this.mtuMss);
  }

  /** Resizes a buffer before the connection carries data (SO_SNDBUF / SO_RCVBUF). */
  resizeBuffers(snd: number | null, rcv: number | null): void {
    if (snd !== null) this.snd.resize(snd);
    if (rcv !== null) this.rcv.resize(rcv, !(this.state === 'CLOSED' || this.state === 'LISTEN'));
  }

  // ------------------------------------------------------------------ user calls

  /** Bytes the application may still queue. */
  sendSpace(): number {
    return this.snd.buf.free;
  }

  /** SEND (§3.10.2): queues what fits; returns the number of bytes queued. */
  send(data: Uint8Array, now: number): number {
    this.traceNow = now;
    const n = this.snd.buf.push(data, 0, data.length);
    if (n > 0) this.output(now);
    return n;
  }

  /**
   * SEND of several buffers as one write (writev): each is queued in order while it fits,
   * then the connection sends once, so that pieces written together (an HTTP response's
   * headers and body) leave in one segment. Returns the bytes queued.
   */
  sendv(list: readonly Uint8Array[], now: number): number {
    this.traceNow = now;
    const buf = this.snd.buf;
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      const n = buf.push(d, 0, d.length);
      total += n;
      if (n < d.length) break;
    }
    if (total > 0) this.output(now);
    return total;
  }

  /** Bytes ready to read. */
  readable(): number {
    return this.rcv.buf.length;
  }

  /** RECEIVE (§3.10.3): up to `max` bytes, or null when none are buffered. */
  read(max: number, now: number): Uint8Array | null {
    const rcv = this.rcv;
    if (rcv.buf.length === 0) return null;
    const wasSmall = rcv.windowIsSmall();
    const data = rcv.read(max);
    this.readDone(wasSmall, now);
    return data;
  }

  /** RECEIVE into `dst[off, off+max)` (no allocation); returns the bytes copied (0: none buffered). */
  readInto(dst: Uint8Array, off: number, max: number, now: number): number {
    const rcv = this.rcv;
    const n = Math.min(max, rcv.buf.length);
    if (n <= 0) return 0;
    const wasSmall = rcv.windowIsSmall();
    rcv.buf.peek(0, dst, off, n);
    rcv.buf.consume(n);
    this.readDone(wasSmall, now);
    return n;
  }

  /** RFC 1122 §4.2.3.3: after a read, tell the peer when the window has opened by a useful amount. */
  private readDone(wasSmall: boolean, now: number): void {
    if (wasSmall && this.rcv.canOpenWindow() && this.isSynchronizedData()) {
      this.rcv.requestAck();
      this.output(now);
    }
  }

  /** EOF: the peer's FIN arrived and every byte before it has been read. */
  atEof(): boolean {
    return this.rcv.finReceived && this.rcv.buf.length === 0;
  }

  /** CLOSE for the sending direction (§3.10.4) / shutdown(SHUT_WR). */
  shutdownSend(now: number): void {
    this.traceNow = now;
    if (this.snd.finQueued) return;
    switch (this.state) {
      case 'SYN-SENT':
      case 'LISTEN':
      case 'CLOSED':
        this.snd.queueFin();
        this.closeNow('close before the connection was established');
        return;
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.snd.queueFin();
        this.setState('FIN-WAIT-1', 'close');
        break;
      case 'CLOSE-WAIT':
        this.snd.queueFin();
        this.setState('LAST-ACK', 'close');
        break;
      default:
        return; // already closing
    }
    this.output(now);
  }

  /** shutdown(SHUT_RD): arriving data is acknowledged and discarded from now on. */
  shutdownReceive(): void {
    this.rcv.rdShut = true;
    this.rcv.buf.consume(this.rcv.buf.length);
  }

  /**
   * The application closed its socket gracefully: the connection finishes on its own
   * (FIN after the data), and an orphan left in FIN-WAIT-2 is dropped after a while
   * (Linux tcp_fin_timeout).
   */
  closeOrphan(now: number): void {
    this.orphan = true;
    this.shutdownSend(now);
    if (this.state === 'FIN-WAIT-2') this.timers.armIfIdle(Timer.FinWait2, now + this.config.finWait2TimeoutMs);
    this.out.touch(this);
  }

  /** ABORT (§3.10.5): RST to the peer if it knows of us, then CLOSED (telling the application `error`, if given). */
  abort(now: number, why = 'abort', error: TcpErrno | null = null): void {
    this.traceNow = now;
    if (this.isClosed()) return;
    if (this.state !== 'LISTEN' && this.state !== 'SYN-SENT' && this.state !== 'TIME-WAIT') {
      this.out.writeSegment(this, this.snd.max, RST | ACK, 0, 0, now);
    }
    this.closeNow(why, error);
  }

  /** Enters CLOSED, clears every timer and frees the buffers' contents. */
  closeNow(why: string, error: TcpErrno | null = null): void {
    if (error && !this.error) this.error = error;
    this.timers.clearAll();
    if (this.state !== 'CLOSED') this.setState('CLOSED', why);
    this.rcv.ooo.clear();
    this.rtx.clear();
    this.snd.buf.consume(this.snd.buf.length);
    this.leaveListener()?.onEmbryoDone(this, false);
    this.out.touch(this); // its timers are gone: the layer's heap must forget them too
    this.onEvent();
  }

  isClosed(): boolean {
    return this.state === 'CLOSED';
  }

  /** A synchronized state that carries data or its acknowledgments (after the handshake, before TIME-WAIT). */
  isSynchronizedData(): boolean {
    return isSynchronizedData(this.state);
  }

  /** What the peer may send beyond RCV.NXT per our last advertisement. */
  advertisedWindow(): number {
    return this.rcv.advertisedWindow();
  }

  /** Bytes sent and not yet acknowledged (SYN and FIN included). */
  inFlight(): number {
    return this.snd.inFlight();
  }

  // ------------------------------------------------------------------ output

  /** The options of our SYN or SYN-ACK into `o` (the layer fills in the timestamps' values). */
  synOptions(o: TcpOptions): void {
    o.mss = this.rcv.mss;
    if (this.offerWscale) o.wscale = this.rcv.wscale;
    if (this.offerSack) o.sackPermitted = true;
    if (this.ts.offer) o.hasTimestamps = true;
  }

  /** RFC 1191 §6: ICMP says the path is narrower (see Sender.lowerPathMtu). */
  lowerPathMtu(pmtu: number, headerLen: number, now: number): 'lowered' | 'unchanged' | 'rateLimited' {
    return this.snd.lowerPathMtu(pmtu, headerLen, now);
  }

  /** Sends whatever the state, the windows, Nagle and pending ACKs allow. */
  output(now: number): void {
    this.traceNow = now;
    this.out.touch(this);
    const snd = this.snd;
    const rcv = this.rcv;
    snd.pmtuCheck(now);
    switch (this.state) {
      case 'CLOSED':
      case 'LISTEN':
      case 'TIME-WAIT':
        if (rcv.ackNow && this.state === 'TIME-WAIT') snd.sendAck(now);
        return;
      case 'SYN-SENT':
        if (snd.nxt === snd.iss) snd.sendSyn(SYN, now);
        return;
      case 'SYN-RECEIVED':
        if (snd.nxt === snd.iss) snd.sendSyn(SYN | ACK, now);
        else if (rcv.ackNow) snd.sendAck(now);
        if (!snd.finQueued) return;
        break;
      default:
        break;
    }
    this.loss.strategy.beforeSend(now);
    if (this.state !== 'SYN-RECEIVED') snd.sendData(now);
    if (rcv.ackNow && (rcv.ackImmediate || !this.out.deferAck(this))) snd.sendAck(now);
    snd.armPersist(now);
    // RFC 6298 (5.1): while anything is outstanding, the retransmission timer runs
    // (unless the persist timer is probing a closed window).
    if (seqGt(snd.max, snd.una) && !this.timers.armed(Timer.Persist) && this.isSynchronizedData()) this.timers.armIfIdle(Timer.Rto, now + this.rtt.rto);
  }

  /**
   * A challenge ACK (RFC 5961 §3-5) unless one went less than `interval` ms ago; returns
   * whether it was sent. RFC 5961 §7 asks for a limit; a limit shared by all connections
   * is a side channel (CVE-2016-5696), so, as Linux does now, it is per connection.
   */
  challengeAck(now: number, interval: number): boolean {
    if (this.lastChallengeAckAt >= 0 && now - this.lastChallengeAckAt < interval) return false;
    this.lastChallengeAckAt = now;
    this.stats.challengeAcks++;
    this.snd.sendAck(now);
    return true;
  }

  /** When the last challenge ACK went (-1: never), for the TIME-WAIT record that takes over. */
  lastChallengeAck(): number {
    return this.lastChallengeAckAt;
  }

  /** A passive connection, born in LISTEN of listener `l` (RFC 9293: the TCB leaves LISTEN for SYN-RECEIVED). */
  bornOf(l: NonNullable<TcpConnection['listener']>): void {
    this.state = 'LISTEN';
    this.listener = l;
  }

  /** The handshake is over, or the listener closed: the connection no longer belongs to it. */
  leaveListener(): NonNullable<TcpConnection['listener']> | null {
    const l = this.listener;
    this.listener = null;
    return l;
  }

  // ------------------------------------------------------------------ timers

  /** Runs every timer due at `now`, each at most once, in the order of timers.ts's Timer. */
  onTimers(now: number): void {
    this.traceNow = now;
    const t = this.timers;
    const tr = this.out.tracer !== null;
    if (t.isDue(Timer.TimeWait, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'time-wait' });
      this.closeNow('TIME-WAIT expired (2*MSL)');
      return;
    }
    if (t.isDue(Timer.FinWait2, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'fin-wait-2' });
      // Linux resets the connection here (tcp_keepalive_timer: tcp_send_active_reset), so
      // a peer that is still there, half-open, learns that we are gone.
      this.abort(now, 'orphaned FIN-WAIT-2 timed out');
      return;
    }
    // A tail loss probe due with the RTO goes instead of it (RFC 8985 §7.2; the probe re-arms the RTO).
    if (t.isDue(Timer.Tlp, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'tlp' });
      this.loss.strategy.onTlpTimer(now);
    }
    if (t.isDue(Timer.Rto, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'rto' });
      this.loss.onRetransmitTimeout(now);
    }
    if (this.isClosed()) return;
    if (t.isDue(Timer.Rack, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'rack' });
      this.loss.strategy.onRackTimer(now);
    }
    if (this.isClosed()) return;
    if (t.isDue(Timer.Persist, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'persist' });
      this.snd.onPersistTimer(now);
    }
    if (this.isClosed()) return;
    if (t.isDue(Timer.Delack, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'delack' });
      t.stop(Timer.Delack);
      this.rcv.delayedAckFired();
      this.output(now);
    }
    if (t.isDue(Timer.Keepalive, now)) {
      if (tr) this.trace({ ev: 'timer', kind: 'keepalive' });
      this.onKeepalive(now);
    }
  }

  /** Traces the congestion state (after a change). */
  traceCwnd(): void {
    if (this.out.tracer) this.trace({ ev: 'cwnd', cwnd: this.cc.cwnd, ssthresh: Math.min(this.cc.ssthresh, 0x7fffffff), inflight: this.snd.inFlight() });
  }

  /** An RTT sample (RFC 6298), traced; `perRtt` as RttEstimator.sample takes it. */
  rttSample(ms: number, perRtt = 1): void {
    this.rtt.sample(ms, perRtt);
    this.rack.rttSample(ms);
    if (this.out.tracer) this.trace({ ev: 'rtt', sample: ms, srtt: this.rtt.srtt, rttvar: this.rtt.rttvar, rto: this.rtt.rto });
  }

  // ------------------------------------------------------------------ keepalive (RFC 1122 §4.2.3.6)

  /** A segment arrived from the peer: it is alive. */
  heardFromPeer(now: number): void {
    this.lastRecvAt = now;
    this.keepaliveSent = 0;
  }

  /** After idle time, probe with SEG.SEQ = SND.NXT-1 and no data. */
  private onKeepalive(now: number): void {
    this.timers.stop(Timer.Keepalive);
    const o = this.opts;
    if (!o.keepalive || !this.isSynchronizedData()) return;
    if (this.snd.inFlight() > 0) {
      // The retransmission timer watches the peer while data is outstanding; look again
      // one idle period later (Linux re-arms tcp_keepalive_timer the same way).
      this.timers.arm(Timer.Keepalive, now + o.keepIdleMs);
      return;
    }
    // TCP_USER_TIMEOUT, when set, decides instead of the probe count (as Linux's tcp_keepalive_timer).
    if (o.userTimeoutMs > 0 ? this.keepaliveSent > 0 && now - this.lastRecvAt >= o.userTimeoutMs : this.keepaliveSent >= o.keepCnt) {
      // A RST as Linux sends (tcp_keepalive_timer): if the peer lives but cannot answer,
      // it still learns the connection is gone.
      this.abort(now, `no answer to ${this.keepaliveSent} keepalive probes`, 'ETIMEDOUT');
      return;
    }
    this.keepaliveSent++;
    this.stats.keepaliveProbes++;
    this.out.writeSegment(this, seqAdd(this.snd.nxt, -1), ACK, 0, 0, now);
    this.timers.arm(Timer.Keepalive, now + o.keepIntvlMs);
  }

  /** (Re)arms the keepalive timer from the options and the last time the peer was heard. */
  armKeepalive(now: number): void {
    this.out.touch(this);
    const o = this.opts;
    if (!o.keepalive || !this.isSynchronizedData()) {
      this.timers.stop(Timer.Keepalive);
      return;
    }
    this.timers.arm(Timer.Keepalive, this.keepaliveSent > 0 ? now + o.keepIntvlMs : Math.max(now, this.lastRecvAt + o.keepIdleMs));
  }

  // ------------------------------------------------------------------ closing

  /** Handshake complete: RFC 6298 (5.7), a 3 s RTO if our SYN timed out and no RTT was measured. */
  onEstablished(): void {
    if (this.snd.synRetransmitted && this.rtt.samples === 0) this.rtt.reinitialize(3000);
  }

  /** Our FIN is acknowledged in FIN-WAIT-1: an orphan waits in FIN-WAIT-2 only so long. */
  enterFinWait2(now: number): void {
    this.setState('FIN-WAIT-2', 'our FIN acknowledged');
    if (this.orphan) this.timers.arm(Timer.FinWait2, now + this.config.finWait2TimeoutMs);
  }

  enterTimeWait(now: number, why: string): void {
    this.setState('TIME-WAIT', why);
    this.timers.clearAll();
    this.restartTimeWait(now);
    this.rtx.clear();
  }

  /** 2*MSL from now (RFC 9293 §3.10.7.4: a FIN again restarts it). */
  restartTimeWait(now: number): void {
    this.timers.arm(Timer.TimeWait, now + 2 * this.config.mslMs);
  }

  /**
   * The layer keeps this connection's TIME-WAIT as a small record from now on: its
   * timers are off, and an orphan's storage goes (an application's socket keeps its
   * unread data).
   */
  leaveToRecord(): void {
    this.timers.clearAll();
    this.rtx.clear();
    this.rcv.ooo.clear();
    if (this.orphan) {
      this.snd.buf.consume(this.snd.buf.length);
      this.snd.buf.release();
      this.rcv.buf.release();
    }
  }
}
