/**
 * One TCP connection: the Transmission Control Block (RFC 9293 §3.3.1, with its field
 * names), the user calls (§3.10.1-3.10.6), the send path and the timers. Segment
 * arrival lives in input.ts, one handler per state.
 */
import { logger } from '../core/log.js';
import { formatIpv4, type Ipv4Addr } from '../ip/address.js';
import { Assembler } from './assembler.js';
import type { TcpConfig } from './config.js';
import type { CongestionControl } from './congestion/congestion-control.js';
import { NewReno } from './congestion/new-reno.js';
import { Cubic } from './congestion/cubic.js';
import { MAX_WSCALE, type OptionsToSend } from './options.js';
import { RingBuffer } from './ring-buffer.js';
import { RttEstimator } from './rtt.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import { Rack } from './rack.js';
import { FIN_SEG, RetransmitQueue } from './retransmit-queue.js';
import { assertTransition, type TcpState } from './state.js';
import { ACK, FIN, PSH, RST, SYN } from './tcp-packet.js';
import type { TraceEvent, Tracer } from './trace.js';

const log = logger('tcp');

export type TcpErrno = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EPIPE' | 'ENOTCONN' | 'ECONNABORTED';

/** What a connection needs from the TCP layer: a way to put a segment on the wire. */
export interface SegmentWriter {
  /**
   * Sends a segment from `c`: `dataLen` bytes of c.sndBuf starting `dataOff` bytes past
   * SND.UNA, with the given flags and options; ACK number and window come from `c`.
   */
  writeSegment(c: TcpConnection, seq: number, flags: number, dataOff: number, dataLen: number, opts: OptionsToSend | null, now: number): void;
  /** The connection changed state (the layer keeps its tables and counters). */
  stateChanged(c: TcpConnection, from: TcpState, to: TcpState): void;
  /** A pure ACK may wait for the end of the current receive batch (true: it will be sent then). */
  deferAck(c: TcpConnection): boolean;
  /**
   * How many data bytes one segment may carry when the link segments for us (TCP
   * segmentation offload), or 0 when every segment must fit the MSS.
   */
  tsoBytes(c: TcpConnection): number;
  /** The connection's timers may have changed: the layer re-reads `nextTimer()` before it next sleeps. */
  touch(c: TcpConnection): void;
  /** Where trace events go (null: tracing off), and the time of the event being handled. */
  readonly tracer: Tracer | null;
  readonly lastNow: number;
}

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
}

export class TcpConnection {
  /** A number for traces and `tcpip stat` (set by the layer). */
  id = 0;
  /** The time of this connection's entry in the layer's timer heap (-1: none). */
  heapAt = -1;
  /** On the layer's lists of connections whose timers changed, and with an ACK deferred to the batch's end. */
  touchPending = false;
  ackPending = false;
  // --- identity
  localAddr: Ipv4Addr = 0;
  localPort = 0;
  remoteAddr: Ipv4Addr = 0;
  remotePort = 0;

  // --- RFC 9293 TCB
  state: TcpState = 'CLOSED';
  iss = 0;
  irs = 0;
  sndUna = 0;
  sndNxt = 0;
  /** The highest sequence number sent (SND.NXT can be pulled back by a retransmission timeout). */
  sndMax = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  rcvNxt = 0;
  /** The right edge of the window we last advertised (never moved left: RFC 9293 §3.8.6.2.2). */
  rcvAdvEdge = 0;
  /** RFC 7323: shift applied to the peer's window field, and to ours. */
  sndWscale = 0;
  rcvWscale = 0;
  /** Send MSS (the peer's, bounded by our MTU) and the MSS we advertised. */
  sndMss = DEFAULT_PEER_MSS;
  /** The send MSS the peer's SYN allowed; a path MTU from ICMP may lower sndMss below it for a while. */
  peerMss = DEFAULT_PEER_MSS;
  /** When a path MTU lowered by ICMP is forgotten (-1: not lowered), and when ICMP last lowered it. */
  pmtuExpiresAt = -1;
  pmtuLoweredAt = -Infinity;
  rcvMss = DEFAULT_PEER_MSS;
  /** Offer window scaling in our SYN (always on active open; on passive open only if the peer did, RFC 7323 §2.2). */
  offerWscale = true;
  /** The window our SYN advertised (unscaled), for the right edge once RCV.NXT is known. */
  synWindow = 0;
  // --- RFC 7323 timestamps
  /** Offer timestamps in our SYN (on passive open only if the peer did). */
  offerTs = false;
  /** Both sides sent timestamps in their SYNs: every segment carries them. */
  tsOk = false;
  /** A per-connection random offset for our TSval clock (RFC 7323 §5.4). */
  tsOffset = 0;
  /** TS.Recent and when it was set; Last.ACK.sent (RFC 7323 §4.3). */
  tsRecent = 0;
  tsRecentAt = 0;
  lastAckSent = 0;
  /** TSval of our latest retransmission (-1: none): older echoes do not time anything. */
  retransmitTs = -1;
  /**
   * TSval of the oldest segment still in flight, as far as we know: when the flight began
   * (the first segment sent with nothing unacknowledged), or with SACK the retransmission
   * queue's head as of the last ACK. No legitimate echo is older (RFC 7323 §4.1).
   */
  flightStartTs = 0;
  // --- RFC 2018 selective acknowledgments
  offerSack = false;
  sackOk = false;
  /** Our segments not yet acknowledged, with what the peer SACKed of them (kept when SACK is on). */
  readonly rtx = new RetransmitQueue();
  /** RACK-TLP loss detection state (RFC 8985). */
  readonly rack = new Rack();
  /** The sequence number of the latest out-of-order segment we received (its block goes first). */
  lastOooSeq = 0;

  // --- buffers
  sndBuf: RingBuffer;
  rcvBuf: RingBuffer;
  readonly ooo: Assembler;

  // --- closing
  /** The user will send no more (shutdown SHUT_WR or close): FIN after the data. */
  finQueued = false;
  /** Sequence number our FIN occupies once sent, else -1. */
  finSeq = -1;
  /** The peer's FIN arrived ahead of a gap: its sequence number, else -1. */
  rcvFinSeq = -1;
  /** The peer's FIN has been received (EOF after the buffered data). */
  finReceived = false;
  /** The application no longer holds this connection (closed; finishing on its own). */
  orphan = false;
  /** The user shut down reading (SHUT_RD): arriving data is discarded. */
  rdShut = false;

  // --- timers: absolute times in ms, -1 when not armed (STYLE.md: timers are data)
  rtoAt = -1;
  persistAt = -1;
  delackAt = -1;
  keepaliveAt = -1;
  timeWaitAt = -1;
  finWait2At = -1;
  /** RACK's reordering timer (RFC 8985 §6.2 step 5) and the tail loss probe timer (§7.2). */
  rackAt = -1;
  tlpAt = -1;
  retries = 0;
  /** A SYN (or SYN-ACK) of ours timed out: RFC 6298 (5.7) then asks for a 3 s RTO for data. */
  synRetransmitted = false;
  persistProbes = 0;
  /** Exponent of the persist timer's backoff: kept across answered probes, reset when the window opens. */
  persistBackoff = 0;
  keepaliveSent = 0;

  // --- RTT and congestion
  readonly rtt = new RttEstimator();
  /** Karn: the segment being timed (its end sequence), or -1. */
  rttSeq = -1;
  rttStart = 0;
  cc: CongestionControl;
  dupAcks = 0;
  inRecovery = false;
  /** Recovering from a retransmission timeout (RFC 8985 §6.3) until SND.UNA reaches `recover`. */
  rtoRecovery = false;
  recover = 0;
  lastSendAt = 0;
  lastRecvAt = 0;

  // --- ACK generation
  /** An ACK must go out now (piggybacked on data if there is any). */
  ackNow = false;
  /** ...and may not wait for the end of the batch (a duplicate ACK for out-of-order data). */
  ackImmediate = false;
  /** Full-sized segments received since our last ACK (RFC 1122 §4.2.3.2: ACK every second). */
  unackedSegs = 0;

  // --- options (setsockopt)
  nodelay = false;
  keepalive = false;
  keepIdleMs: number;
  keepIntvlMs: number;
  keepCnt: number;

  /** When we last sent a challenge ACK (RFC 5961 §7; -1: never). */
  lastChallengeAckAt = -1;

  /** The error the application will be told (ECONNRESET, ETIMEDOUT, ECONNREFUSED). */
  error: TcpErrno | null = null;
  /** The listener an embryonic passive connection belongs to. */
  listener: { onEmbryoDone(c: TcpConnection, established: boolean): void } | null = null;
  /** Called on anything the application may wait for: data, EOF, space, state, error. */
  onEvent: () => void = () => {};
  readonly stats: ConnStats = {
    segsIn: 0, segsOut: 0, bytesIn: 0, bytesOut: 0, retransmits: 0, fastRetransmits: 0, timeouts: 0,
    dupAcksIn: 0, oooSegments: 0, oooDropped: 0, challengeAcks: 0, pawsDropped: 0, zeroWindowProbes: 0, keepaliveProbes: 0, rackLost: 0, tlpProbes: 0,
  };
  readonly createdAt: number;

  constructor(
    readonly out: SegmentWriter,
    readonly config: TcpConfig,
    /** Largest segment the route carries: MTU - 40. */
    readonly mtuMss: number,
    now: number,
    sndBuf = config.sndBuf,
    rcvBuf = config.rcvBuf,
  ) {
    this.sndBuf = new RingBuffer(sndBuf);
    this.rcvBuf = new RingBuffer(rcvBuf);
    this.ooo = new Assembler(config.maxOooRanges);
    this.rcvMss = mtuMss;
    this.cc = this.newCongestionControl(DEFAULT_PEER_MSS);
    this.keepIdleMs = config.keepIdleMs;
    this.keepIntvlMs = config.keepIntvlMs;
    this.keepCnt = config.keepCnt;
    this.createdAt = now;
    this.lastRecvAt = now;
    this.rcvWscale = wscaleFor(rcvBuf);
  }

  describe(): string {
    return `${formatIpv4(this.localAddr)}:${this.localPort} > ${formatIpv4(this.remoteAddr)}:${this.remotePort}`;
  }

  /** Hands an event to the tracer, if there is one (callers test `out.tracer` first). */
  trace(ev: TraceEvent): void {
    const t = this.out.tracer;
    if (t) t({ t: this.out.lastNow, c: this.id, ...ev } as never);
  }

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

  /** A congestion controller for this connection (CUBIC by default, as on Linux). */
  newCongestionControl(mss: number): CongestionControl {
    return this.config.congestionControl === 'newreno' ? new NewReno(mss) : new Cubic(mss, () => this.rtt.srtt);
  }

  /** Resizes a buffer before the connection carries data (SO_SNDBUF / SO_RCVBUF). */
  resizeBuffers(snd: number | null, rcv: number | null): void {
    if (snd !== null && this.sndBuf.length === 0) this.sndBuf = new RingBuffer(snd);
    if (rcv !== null && this.rcvBuf.length === 0 && this.ooo.isEmpty()) {
      this.rcvBuf = new RingBuffer(rcv);
      if (this.state === 'CLOSED' || this.state === 'LISTEN') this.rcvWscale = wscaleFor(rcv);
    }
  }

  // ------------------------------------------------------------------ user calls

  /** Active OPEN (RFC 9293 §3.10.1): send SYN, enter SYN-SENT. */
  open(iss: number, now: number): void {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.setState('SYN-SENT', 'active open');
    this.output(now);
  }

  /** Bytes the application may still queue. */
  sendSpace(): number {
    return this.sndBuf.free;
  }

  /** SEND (§3.10.2): queues what fits; returns the number of bytes queued. */
  send(data: Uint8Array, now: number): number {
    const n = this.sndBuf.push(data, 0, data.length);
    if (n > 0) this.output(now);
    return n;
  }

  /** Bytes ready to read. */
  readable(): number {
    return this.rcvBuf.length;
  }

  /** RECEIVE (§3.10.3): up to `max` bytes, or null when none are buffered. */
  read(max: number, now: number): Uint8Array | null {
    if (this.rcvBuf.length === 0) return null;
    const wasSmall = this.advertisedWindow() < Math.min(this.rcvBuf.capacity / 2, 2 * this.rcvMss);
    const data = this.rcvBuf.read(max);
    // RFC 1122 §4.2.3.3: tell the peer when the window has opened by a useful amount.
    if (wasSmall && this.canOpenWindow() && this.isSynchronizedData()) {
      this.ackNow = true;
      this.output(now);
    }
    return data;
  }

  /** EOF: the peer's FIN arrived and every byte before it has been read. */
  atEof(): boolean {
    return this.finReceived && this.rcvBuf.length === 0;
  }

  /** CLOSE for the sending direction (§3.10.4) / shutdown(SHUT_WR). */
  shutdownSend(now: number): void {
    if (this.finQueued) return;
    switch (this.state) {
      case 'SYN-SENT':
      case 'LISTEN':
      case 'CLOSED':
        this.finQueued = true;
        this.closeNow('close before the connection was established');
        return;
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.finQueued = true;
        this.setState('FIN-WAIT-1', 'close');
        break;
      case 'CLOSE-WAIT':
        this.finQueued = true;
        this.setState('LAST-ACK', 'close');
        break;
      default:
        return; // already closing
    }
    this.output(now);
  }

  /**
   * The application closed its socket gracefully: the connection finishes on its own
   * (FIN after the data), and an orphan left in FIN-WAIT-2 is dropped after a while
   * (Linux tcp_fin_timeout).
   */
  closeOrphan(now: number): void {
    this.orphan = true;
    this.shutdownSend(now);
    if (this.state === 'FIN-WAIT-2' && this.finWait2At < 0) this.finWait2At = now + this.config.finWait2TimeoutMs;
    this.out.touch(this);
  }

  /** ABORT (§3.10.5): RST to the peer if it knows of us, then CLOSED (telling the application `error`, if given). */
  abort(now: number, why = 'abort', error: TcpErrno | null = null): void {
    if (this.isClosed()) return;
    if (this.state !== 'LISTEN' && this.state !== 'SYN-SENT' && this.state !== 'TIME-WAIT') {
      this.out.writeSegment(this, this.sndMax, RST | ACK, 0, 0, null, now);
    }
    this.closeNow(why, error);
  }

  /** Enters CLOSED, clears every timer and frees the buffers' contents. */
  closeNow(why: string, error: TcpErrno | null = null): void {
    if (error && !this.error) this.error = error;
    this.rtoAt = this.persistAt = this.delackAt = this.keepaliveAt = this.timeWaitAt = this.finWait2At = this.rackAt = this.tlpAt = -1;
    if (this.state !== 'CLOSED') this.setState('CLOSED', why);
    this.ooo.clear();
    this.rtx.clear();
    this.sndBuf.consume(this.sndBuf.length);
    if (this.listener) {
      const l = this.listener;
      this.listener = null;
      l.onEmbryoDone(this, false);
    }
    this.out.touch(this); // its timers are gone: the layer's heap must forget them too
    this.onEvent();
  }

  // ------------------------------------------------------------------ windows

  /** The window we may advertise now, before scaling: the free receive buffer. */
  private rawWindow(): number {
    return this.rdShut ? this.rcvBuf.capacity : this.rcvBuf.capacity - this.rcvBuf.length;
  }

  /** What the peer may send beyond RCV.NXT per our last advertisement. */
  advertisedWindow(): number {
    return Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
  }

  /** RFC 1122 §4.2.3.3 (receiver SWS avoidance): move the edge only by min(RCV.BUFF/2, MSS) or more. */
  private canOpenWindow(): boolean {
    const edge = seqAdd(this.rcvNxt, this.rawWindow());
    return seqDiff(edge, this.rcvAdvEdge) >= Math.min(this.rcvBuf.capacity / 2, this.rcvMss);
  }

  /** The 16-bit window field for an outgoing segment; updates the advertised edge. */
  windowField(syn: boolean): number {
    if (syn) {
      // RFC 7323 §2.2: the window in a SYN is never scaled.
      const w = Math.min(this.rawWindow(), 65535);
      this.synWindow = w;
      this.rcvAdvEdge = seqAdd(this.rcvNxt, w);
      return w;
    }
    if (this.canOpenWindow() || seqLt(this.rcvAdvEdge, this.rcvNxt)) {
      const w = Math.min(this.rawWindow(), 65535 << this.rcvWscale);
      const field = w >>> this.rcvWscale;
      this.rcvAdvEdge = seqAdd(this.rcvNxt, field << this.rcvWscale);
      return field;
    }
    return this.advertisedWindow() >>> this.rcvWscale;
  }

  isClosed(): boolean {
    return this.state === 'CLOSED';
  }

  isSynchronizedData(): boolean {
    const s = this.state;
    return s === 'ESTABLISHED' || s === 'FIN-WAIT-1' || s === 'FIN-WAIT-2' || s === 'CLOSE-WAIT' || s === 'CLOSING' || s === 'LAST-ACK';
  }

  /** Bytes sent and not yet acknowledged (SYN and FIN included). */
  inFlight(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  // ------------------------------------------------------------------ output

  private synOptions(): OptionsToSend {
    const o: OptionsToSend = this.offerWscale ? { mss: this.rcvMss, wscale: this.rcvWscale } : { mss: this.rcvMss };
    if (this.offerSack) o.sackPermitted = true;
    if (this.offerTs) o.timestamps = { tsVal: 0, tsEcr: 0 }; // filled in by the layer
    return o;
  }

  /**
   * SACK blocks describing our out-of-order data (RFC 2018 §4): the block with the most
   * recently received segment first; 3 fit beside timestamps, 4 without.
   */
  sackBlocks(): [number, number][] {
    const out: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
    return out.slice(0, this.fillSackBlocks(out, 4));
  }

  /** As sackBlocks(), into `out`'s first tuples (at most `max`, and 3 beside timestamps); returns how many. */
  fillSackBlocks(out: [number, number][], max: number): number {
    const o = this.ooo;
    const limit = Math.min(max, this.tsOk ? 3 : 4, out.length);
    const recent = seqDiff(this.lastOooSeq, this.rcvNxt);
    let first = -1;
    for (let i = 0; i < o.count; i++) if (recent >= o.start(i) && recent < o.end(i)) first = i;
    let k = 0;
    if (first >= 0 && k < limit) this.setBlock(out[k++]!, first);
    for (let i = o.count - 1; i >= 0 && k < limit; i--) if (i !== first) this.setBlock(out[k++]!, i);
    return k;
  }

  private setBlock(t: [number, number], i: number): void {
    t[0] = seqAdd(this.rcvNxt, this.ooo.start(i));
    t[1] = seqAdd(this.rcvNxt, this.ooo.end(i));
  }

  /** Our TSval clock: milliseconds plus a random offset (RFC 7323 §5.4: 1 ms to 1 s per tick). */
  tsVal(now: number): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }

  /**
   * May an ACK's echoed timestamp time our segments (RFC 7323 §4.1, RFC 6298 §3)? Only
   * if it names a time when something still unacknowledged was in flight: not older than
   * the oldest segment in flight (a stale or forged echo, 30 minutes old, would make a
   * 30-minute sample and pin the RTO at its 120 s maximum), not older than our latest
   * retransmission (a receiver answers an old duplicate with an old TS.Recent, §4.3), and
   * not from the future. Otherwise the ACK is timed by our own send times (Karn), as
   * Linux prefers them too.
   */
  tsEchoTimes(tsEcr: number, now: number): boolean {
    if (tsEcr === 0) return false;
    if (this.retransmitTs !== -1 && seqLt(tsEcr, this.retransmitTs)) return false;
    return seqGe(tsEcr, this.flightStartTs) && seqLe(tsEcr, this.tsVal(now));
  }

  /**
   * RFC 1191 §6: ICMP says the path carries datagrams of at most `pmtu` bytes. The MSS
   * drops to fit, floored at PMTU_MIN's (a forged MTU of 68 cannot make us send 28-byte
   * segments), at most once per PMTU_LOWER_INTERVAL_MS, and only until PMTU_EXPIRES_MS
   * have passed. Returns what it did; a decrease resends from SND.UNA at once without
   * counting it as congestion (Linux tcp_simple_retransmit).
   */
  lowerPathMtu(pmtu: number, headerLen: number, now: number): 'lowered' | 'unchanged' | 'rateLimited' {
    const mss = Math.max(PMTU_MIN, pmtu) - headerLen;
    if (mss >= this.sndMss) return 'unchanged';
    if (now - this.pmtuLoweredAt < PMTU_LOWER_INTERVAL_MS) return 'rateLimited';
    this.pmtuLoweredAt = now;
    this.pmtuExpiresAt = now + PMTU_EXPIRES_MS;
    this.sndMss = mss;
    this.sndNxt = this.sndUna;
    if (this.finSeq !== -1 && !seqLt(this.finSeq, this.sndUna)) this.finSeq = -1;
    this.output(now);
    return 'lowered';
  }

  /** After an ACK: with SACK the queue's head tells when the oldest segment in flight went. */
  ackedUpTo(): void {
    if (this.sackOk && this.rtx.count > 0) this.raiseEchoFloor(this.tsVal(this.rtx.xmitTs(0)));
  }

  /** Nothing sent before TSval `ts` is in flight any more. */
  raiseEchoFloor(ts: number): void {
    if (seqGt(ts, this.flightStartTs)) this.flightStartTs = ts;
  }

  /** Payload bytes per segment: the MSS less the options every segment carries. */
  dataMss(): number {
    return this.tsOk ? this.sndMss - 12 : this.sndMss;
  }

  /** Sends whatever the state, the windows, Nagle and pending ACKs allow. */
  output(now: number): void {
    this.out.touch(this);
    if (this.pmtuExpiresAt >= 0 && now >= this.pmtuExpiresAt) {
      // RFC 1191 §6.3: try the larger MSS again; a narrower path will say so again.
      this.pmtuExpiresAt = -1;
      this.sndMss = this.peerMss;
    }
    switch (this.state) {
      case 'CLOSED':
      case 'LISTEN':
      case 'TIME-WAIT':
        if (this.ackNow && this.state === 'TIME-WAIT') this.sendAck(now);
        return;
      case 'SYN-SENT':
        if (this.sndNxt === this.iss) this.sendSyn(SYN, now);
        return;
      case 'SYN-RECEIVED':
        if (this.sndNxt === this.iss) this.sendSyn(SYN | ACK, now);
        else if (this.ackNow) this.sendAck(now);
        if (!this.finQueued) return;
        break;
      default:
        break;
    }
    if (this.sackOk && this.rtx.lostBytes > 0 && this.sndNxt === this.sndMax) this.retransmitLost(now, false);
    if (this.state !== 'SYN-RECEIVED') this.sendData(now);
    if (this.ackNow && (this.ackImmediate || !this.out.deferAck(this))) this.sendAck(now);
    this.armPersist(now);
    // RFC 6298 (5.1): while anything is outstanding, the retransmission timer runs.
    if (this.rtoAt < 0 && seqGt(this.sndMax, this.sndUna) && this.persistAt < 0 && this.isSynchronizedData()) this.rtoAt = now + this.rtt.rto;
  }

  private sendSyn(flags: number, now: number): void {
    if (this.sndMax === this.iss) this.flightStartTs = this.tsVal(now);
    this.out.writeSegment(this, this.iss, flags, 0, 0, this.synOptions(), now);
    this.sndNxt = seqAdd(this.iss, 1);
    if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
    this.ackNow = false;
    if (this.rttSeq === -1 && this.retries === 0) {
      this.rttSeq = this.sndNxt;
      this.rttStart = now;
    }
    if (this.rtoAt < 0) this.rtoAt = now + this.rtt.rto;
  }

  /**
   * RFC 3042 / RFC 5681 §3.2 step 1, Limited Transmit: on the first and second duplicate
   * ACK, one new segment each may go beyond cwnd (FlightSize <= cwnd + 2*SMSS), so that
   * a small window still produces the third duplicate ACK instead of waiting for the RTO.
   * With SACK, RACK and the RFC 6675 pipe do this job.
   */
  private limitedTransmit(): number {
    return !this.sackOk && !this.inRecovery && !this.rtoRecovery && this.dupAcks > 0 && this.dupAcks < 3 ? this.dupAcks * this.dataMss() : 0;
  }

  /** Unsent data bytes queued behind SND.NXT. */
  private unsent(): number {
    const sentData = Math.min(this.inFlight(), this.sndBuf.length);
    return this.sndBuf.length - sentData;
  }

  private sendData(now: number): void {
    // RFC 5681 §4.1: after an idle period longer than RTO, restart from the initial window.
    if (this.inFlight() === 0 && this.lastSendAt > 0 && now - this.lastSendAt > this.rtt.rto) this.cc.onIdleRestart(now);
    for (;;) {
      let room = Infinity;
      if (this.sackOk && seqLt(this.sndNxt, this.sndMax)) {
        // Going back after a timeout: what the peer SACKed need not go again.
        this.sndNxt = this.rtx.skipSacked(this.sndNxt);
        room = this.rtx.roomBeforeSacked(this.sndNxt);
      }
      const available = this.unsent();
      if (available === 0) break;
      const window = Math.min(this.sndWnd, this.cc.cwnd + this.limitedTransmit());
      // With SACK the congestion window limits what is in the network (RFC 6675 pipe):
      // SACKed bytes and those judged lost have left it.
      const inNet = this.sackOk && this.sndNxt === this.sndMax ? this.rtx.pipe(this.inFlight()) : this.inFlight();
      const usable = Math.floor(Math.min(window - inNet, this.sndWnd - this.inFlight()));
      if (usable <= 0) break;
      const mss = this.dataMss();
      // With segmentation offload, one write carries many segments (whole MSSes).
      const tso = this.out.tsoBytes(this);
      const most = tso > mss ? tso - (tso % mss) : mss;
      let len = Math.min(available, most, usable, room);
      // A multi-segment write ends on an MSS boundary when a window cuts it short, or when
      // Nagle would hold its tail: else the device puts a runt on the wire in mid-stream
      // (Linux tcp_mss_split_point). The tail then waits, as it would without offload.
      if (len > mss && len < room && (len < available || !this.nodelay)) len -= len % mss;
      if (len < mss && len < room) {
        const inFlight = this.inFlight() > 0;
        if (len < available) {
          // Window-limited: RFC 1122 §4.2.3.4 sender SWS avoidance: a small piece only
          // when it is at least half the largest window the peer has offered, or nothing
          // is in flight (so the connection cannot stall).
          if (inFlight && len < this.maxSndWnd / 2) break;
        } else if (inFlight && !this.nodelay) {
          // Nagle (RFC 9293 §3.7.4, RFC 1122 §4.2.3.4): hold a small tail while data is unacknowledged.
          break;
        }
      }
      const seq = this.sndNxt;
      this.sendSegment(seq, len, len === available ? PSH : 0, now);
    }
    // FIN once every byte before it is sent (RFC 9293 §3.10.4).
    if (this.finQueued && this.unsent() === 0 && (this.finSeq === -1 || this.sndNxt === this.finSeq) && this.isSynchronizedData()) {
      this.finSeq = this.sndNxt;
      this.sendSegment(this.finSeq, 0, FIN, now);
    }
  }

  /**
   * Sends `len` data bytes at `seq` (from the send buffer), with FIN if `extra` has it,
   * and does the bookkeeping: SND.NXT/SND.MAX, RTT timing, the retransmission queue.
   */
  private sendSegment(seq: number, len: number, extra: number, now: number): void {
    this.out.writeSegment(this, seq, ACK | extra, seqDiff(seq, this.sndUna), len, null, now);
    this.stats.bytesOut += len;
    const fin = (extra & FIN) !== 0;
    const segLen = fin ? len + 1 : len;
    if (this.sackOk) this.rtx.onSend(seq, seqAdd(seq, segLen), fin, now);
    this.afterSend(seq, segLen, now);
  }

  /** Bookkeeping after a segment of `len` sequence numbers at `seq` went out. */
  private afterSend(seq: number, len: number, now: number): void {
    const end = seqAdd(seq, len);
    if (seqGt(end, this.sndNxt)) this.sndNxt = end;
    let newData = false;
    if (seqGt(end, this.sndMax)) {
      if (this.sndMax === this.sndUna) this.flightStartTs = this.tsVal(now); // a new flight
      // New data: time it if nothing is being timed (Karn: never time a retransmission).
      if (this.rttSeq === -1 && seq === this.sndMax) {
        this.rttSeq = end;
        this.rttStart = now;
      }
      this.sndMax = end;
      newData = true;
    } else {
      this.stats.retransmits++;
      if (this.tsOk) this.retransmitTs = this.tsVal(now);
    }
    this.ackNow = false;
    this.ackImmediate = false;
    this.unackedSegs = 0;
    this.delackAt = -1;
    this.lastSendAt = now;
    if (this.rtoAt < 0) this.rtoAt = now + this.rtt.rto;
    this.persistAt = -1;
    if (newData) this.armTlp(now);
  }

  sendAck(now: number): void {
    // A bare ACK carries SND.MAX, not SND.NXT: after a timeout pulls SND.NXT back, an old
    // sequence number would make the peer find the ACK unacceptable and ignore it (4.4BSD
    // tcp_output does the same). Without this, two sides retransmitting at once can
    // deadlock, each dropping the other's acknowledgments.
    this.out.writeSegment(this, this.sndMax, ACK, 0, 0, null, now);
    this.ackNow = false;
    this.ackImmediate = false;
    this.unackedSegs = 0;
    this.delackAt = -1;
  }

  /** A challenge ACK (RFC 5961 §3-5), rate limited by the layer. */
  challengeAck(now: number): void {
    this.stats.challengeAcks++;
    this.sendAck(now);
  }

  /**
   * Retransmits the segments judged lost, lowest first (RFC 6675 §5 NextSeg rule 1, with
   * RACK deciding what is lost), while the congestion window leaves room above what is
   * in the network. `first`: the retransmission that starts recovery goes regardless
   * (RFC 6675 §5 step 4.3).
   */
  retransmitLost(now: number, first: boolean): void {
    const mss = this.dataMss();
    for (let i = this.rtx.nextLost(0); i >= 0; i = this.rtx.nextLost(i + 1)) {
      const force = first;
      first = false;
      if (!force && this.cc.cwnd - this.rtx.pipe(this.inFlight()) < mss) return;
      const seq = this.rtx.start(i);
      const fin = (this.rtx.flags(i) & FIN_SEG) !== 0;
      const seqLen = seqDiff(this.rtx.end(i), seq);
      const dataLen = fin ? seqLen - 1 : seqLen;
      const len = Math.min(dataLen, mss, this.sndBuf.length - seqDiff(seq, this.sndUna));
      if (len < 0) return;
      // Not beyond the peer's window (it would drop the bytes), except the one that must go.
      if (!force && seqDiff(seq, this.sndUna) + len > this.sndWnd) return;
      if (this.out.tracer) this.trace({ ev: 'retransmit', why: 'fast', rseq: seqDiff(seq, this.iss) });
      this.sendSegment(seq, len, (fin && len === dataLen ? FIN : 0) | this.pushFor(seq, len), now);
      // The head resent: it gets a whole RTO from now (Linux tcp_xmit_retransmit_queue).
      if (seq === this.sndUna) this.rtoAt = now + this.rtt.rto;
    }
  }

  /** PSH for a segment that ends at the end of the queued data, as when it was first sent. */
  private pushFor(seq: number, len: number): number {
    return len > 0 && seqDiff(seq, this.sndUna) + len === this.sndBuf.length ? PSH : 0;
  }

  /** Enters fast recovery (RFC 5681 §3.2, RFC 6675 §5 with SACK, RFC 6582 without). */
  enterRecovery(now: number): void {
    this.stats.fastRetransmits++;
    this.rack.tlpActive = false; // RFC 8985 §7.1: recovery ends a probe episode
    this.cc.onFastRetransmit(this.inFlight(), now);
    this.inRecovery = true;
    this.recover = this.sndMax;
    if (this.sackOk && this.rtx.count > 0) {
      // RFC 6675 §5 step (4.2): cwnd = ssthresh; sending is then governed by pipe.
      this.cc.cwnd = this.cc.ssthresh;
      if (this.rtx.lostBytes === 0) this.rtx.markLost(0); // entered on duplicate ACKs alone
      this.retransmitLost(now, true);
    } else {
      this.retransmitFirst(now);
    }
    this.traceCwnd();
  }

  /** Retransmits one segment from SND.UNA (fast retransmit and partial ACKs). */
  retransmitFirst(now: number, why: 'fast' | 'partial-ack' = 'fast'): void {
    if (this.out.tracer) this.trace({ ev: 'retransmit', why, rseq: seqDiff(this.sndUna, this.iss) });
    const dataInFlight = Math.min(this.inFlight(), this.sndBuf.length);
    if (dataInFlight > 0) {
      this.sendSegment(this.sndUna, Math.min(dataInFlight, this.dataMss()), 0, now);
    } else if (this.finSeq !== -1 && this.sndUna === this.finSeq) {
      this.sendSegment(this.finSeq, 0, FIN, now);
    }
  }

  /**
   * RACK (RFC 8985 §6.2 step 5): marks what is lost, arms the reordering timer for what
   * may yet be, and starts recovery when something was lost.
   */
  rackDetect(now: number): void {
    // Segments SACKed: records, or MSSes for records of many (segmentation offload).
    const segs = Math.max(this.rtx.sackedSegs, Math.floor(this.rtx.sackedBytes / this.dataMss()));
    const reo = this.rack.reoWnd(this.inRecovery || this.rtoRecovery, segs, this.rtt.srtt);
    const lost = this.rack.detectLoss(this.rtx, reo, now);
    this.rackAt = this.rack.timeout > 0 ? now + this.rack.timeout : -1;
    if (lost === 0) return;
    this.stats.rackLost += lost;
    // A loss found while recovering from a timeout belongs to that episode: resent, no new reduction.
    if (!this.inRecovery && !this.rtoRecovery && this.sndNxt === this.sndMax && this.isSynchronizedData()) this.enterRecovery(now);
  }

  /**
   * RFC 8985 §7.2: after new data goes out or new data is acknowledged, schedule a tail
   * loss probe, unless recovery is under way or a probe is already outstanding.
   */
  armTlp(now: number): void {
    // Only in the "open" state (Linux TCP_CA_Open): no recovery, nothing SACKed.
    if (!this.sackOk || this.inRecovery || this.rtoRecovery || this.rack.tlpActive || this.rtx.sackedBytes > 0 || this.sndNxt !== this.sndMax || this.rtoAt < 0 || !this.isSynchronizedData()) {
      this.tlpAt = -1;
      return;
    }
    const flightSegs = Math.ceil(this.inFlight() / this.dataMss());
    this.tlpAt = now + this.rack.pto(this.rtt.srtt, this.rtt.samples > 0, flightSegs, this.rtoAt - now);
  }

  /** RFC 8985 §7.3: the probe timer fired: send new data if the window allows, else the last segment again. */
  private onTlp(now: number): void {
    this.tlpAt = -1;
    if (!this.sackOk || this.inRecovery || this.rtoRecovery || this.rack.tlpActive || this.inFlight() === 0 || this.sndNxt !== this.sndMax || !this.isSynchronizedData()) return;
    const mss = this.dataMss();
    const unsent = this.unsent();
    const room = this.sndWnd - this.inFlight();
    let retrans = false;
    if (unsent > 0 && room > 0 && (this.finSeq === -1 || seqLt(this.sndNxt, this.finSeq))) {
      const len = Math.min(unsent, mss, room);
      this.sendSegment(this.sndNxt, len, len === unsent ? PSH : 0, now);
    } else {
      const last = this.rtx.count - 1;
      if (last < 0) return;
      const end = this.rtx.end(last);
      const fin = (this.rtx.flags(last) & FIN_SEG) !== 0;
      const dataEnd = fin ? seqAdd(end, -1) : end;
      const len = Math.max(0, Math.min(mss, seqDiff(dataEnd, this.rtx.start(last))));
      const seq = seqAdd(dataEnd, -len);
      if (this.out.tracer) this.trace({ ev: 'retransmit', why: 'tlp', rseq: seqDiff(seq, this.iss) });
      this.sendSegment(seq, len, (fin ? FIN : 0) | this.pushFor(seq, len), now);
      retrans = true;
    }
    this.stats.tlpProbes++;
    this.rack.tlpActive = true;
    this.rack.tlpEndSeq = this.sndNxt;
    this.rack.tlpIsRetrans = retrans;
    // The retransmission timer restarts after the probe (RFC 8985 §7.3).
    this.rtoAt = now + this.rtt.rto;
    this.tlpAt = -1;
  }

  /**
   * RFC 8985 §7.4: an ACK during a probe episode. If the probe retransmitted a segment and
   * the ACK covers more than it, with no D-SACK saying the original arrived too, the
   * probe repaired a loss: the congestion window is reduced as for a fast recovery.
   */
  tlpProcessAck(ack: number, advanced: boolean, dsack: boolean, sacked: boolean, now: number): void {
    const r = this.rack;
    if (!r.tlpActive || seqLt(ack, r.tlpEndSeq)) return;
    if (!r.tlpIsRetrans || dsack) {
      r.tlpActive = false;
    } else if (seqGt(ack, r.tlpEndSeq)) {
      r.tlpActive = false;
      // From the window before the loss (SND.UNA has moved already; Linux's ssthresh hooks use cwnd).
      this.cc.onFastRetransmit(Math.max(this.inFlight(), this.cc.cwnd), now);
      this.cc.cwnd = this.cc.ssthresh;
      this.traceCwnd();
    } else if (!advanced && !sacked) {
      r.tlpActive = false; // a duplicate ACK at the probe's end, no SACK: nothing to learn
    }
  }

  /** Persist timer (RFC 9293 §3.8.6.1): data waits, the peer's window is closed, nothing in flight. */
  private armPersist(now: number): void {
    if (this.isSynchronizedData() && this.unsent() > 0 && this.inFlight() === 0 && this.sndWnd === 0) {
      if (this.persistAt < 0) this.persistAt = now + this.rtt.rto;
    } else {
      this.persistAt = -1;
      this.persistProbes = 0;
      this.persistBackoff = 0;
    }
  }

  // ------------------------------------------------------------------ timers

  /** The earliest armed timer, or -1. */
  nextTimer(): number {
    let t = earlier(this.rtoAt, this.persistAt);
    t = earlier(t, this.delackAt);
    t = earlier(t, this.keepaliveAt);
    t = earlier(t, this.timeWaitAt);
    t = earlier(t, this.finWait2At);
    t = earlier(t, this.rackAt);
    return earlier(t, this.tlpAt);
  }

  onTimers(now: number): void {
    const tr = this.out.tracer !== null;
    if (this.timeWaitAt >= 0 && now >= this.timeWaitAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'time-wait' });
      this.closeNow('TIME-WAIT expired (2*MSL)');
      return;
    }
    if (this.finWait2At >= 0 && now >= this.finWait2At) {
      if (tr) this.trace({ ev: 'timer', kind: 'fin-wait-2' });
      // Linux resets the connection here (tcp_keepalive_timer: tcp_send_active_reset), so
      // a peer that is still there, half-open, learns that we are gone.
      this.abort(now, 'orphaned FIN-WAIT-2 timed out');
      return;
    }
    // A tail loss probe due with the RTO goes instead of it (RFC 8985 §7.2; the probe re-arms the RTO).
    if (this.tlpAt >= 0 && now >= this.tlpAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'tlp' });
      this.onTlp(now);
    }
    if (this.rtoAt >= 0 && now >= this.rtoAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'rto' });
      this.onRetransmitTimeout(now);
    }
    if (this.isClosed()) return;
    if (this.rackAt >= 0 && now >= this.rackAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'rack' });
      this.rackAt = -1;
      this.rackDetect(now);
      this.output(now);
    }
    if (this.isClosed()) return;
    if (this.persistAt >= 0 && now >= this.persistAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'persist' });
      this.onPersist(now);
    }
    if (this.isClosed()) return;
    if (this.delackAt >= 0 && now >= this.delackAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'delack' });
      this.delackAt = -1;
      this.ackNow = true;
      this.output(now);
    }
    if (this.keepaliveAt >= 0 && now >= this.keepaliveAt) {
      if (tr) this.trace({ ev: 'timer', kind: 'keepalive' });
      this.onKeepalive(now);
    }
  }

  /** Traces the congestion state (after a change). */
  traceCwnd(): void {
    if (this.out.tracer) this.trace({ ev: 'cwnd', cwnd: this.cc.cwnd, ssthresh: Math.min(this.cc.ssthresh, 0x7fffffff), inflight: this.inFlight() });
  }

  /** An RTT sample (RFC 6298), traced; `perRtt` as RttEstimator.sample takes it. */
  rttSample(ms: number, perRtt = 1): void {
    this.rtt.sample(ms, perRtt);
    this.rack.rttSample(ms);
    if (this.out.tracer) this.trace({ ev: 'rtt', sample: ms, srtt: this.rtt.srtt, rttvar: this.rtt.rttvar, rto: this.rtt.rto });
  }

  /** RFC 6298 (5.4-5.7) and RFC 9293 §3.8.3: retransmit, back off, or give up. */
  private onRetransmitTimeout(now: number): void {
    this.rtoAt = -1;
    if (!seqGt(this.sndMax, this.sndUna)) return;
    // Our SYN is not yet acknowledged (SYN-SENT, SYN-RECEIVED, or a close in SYN-RECEIVED
    // that moved to FIN-WAIT-1): the SYN is what must go again.
    const synUnacked = seqLe(this.sndUna, this.iss);
    const limit = this.state === 'SYN-SENT' ? this.config.synRetries : synUnacked ? this.config.synAckRetries : this.config.maxRetries;
    if (this.retries >= limit) {
      this.stats.timeouts++;
      if (synUnacked && this.listener) {
        this.closeNow('SYN-ACK not acknowledged');
      } else {
        this.closeNow(`no acknowledgment after ${this.retries} retransmissions`, 'ETIMEDOUT');
      }
      return;
    }
    this.retries++;
    this.stats.timeouts++;
    this.rtt.backoff();
    this.rttSeq = -1; // Karn's rule
    this.cc.onRto(this.inFlight(), now);
    this.inRecovery = false;
    this.dupAcks = 0;
    this.rack.resetTlp();
    this.rackAt = this.tlpAt = -1;
    if (this.out.tracer) {
      this.trace({ ev: 'retransmit', why: 'rto', rseq: seqDiff(this.sndUna, this.iss) });
      this.traceCwnd();
    }
    if (this.sackOk && !synUnacked && this.sndWnd > 0 && this.rtx.count > 0) {
      // RFC 8985 §6.3: every segment not SACKed is now lost (SACK marks go too if the
      // peer reneged, RFC 2018 §8), and they are resent lowest first as the window
      // allows; RACK keeps watching them, so a lost resend is repaired without another
      // timeout. One loss episode until SND.MAX is acknowledged (RFC 6582 §3.2).
      this.rtx.markAllLost();
      this.rtoRecovery = true;
      this.recover = this.sndMax;
      this.retransmitLost(now, true);
      this.output(now);
      if (this.rtoAt < 0) this.rtoAt = now + this.rtt.rto;
      return;
    }
    // Without SACK (or with a closed window, which the persist timer will probe): go back
    // to SND.UNA and send again from there (SYN, data and FIN alike); what the peer SACKed
    // is skipped unless it reneged (RFC 2018 §8).
    this.rtx.onTimeout();
    this.sndNxt = this.sndUna;
    // An unacknowledged FIN is sent again after the data before it.
    if (this.finSeq !== -1 && !seqLt(this.finSeq, this.sndUna)) this.finSeq = -1;
    if (synUnacked) {
      this.sndNxt = this.iss;
      this.synRetransmitted = true;
      this.sendSyn(this.state === 'SYN-SENT' ? SYN : SYN | ACK, now);
      this.stats.retransmits++;
      if (this.state !== 'SYN-SENT' && this.state !== 'SYN-RECEIVED') this.output(now); // and the FIN after it
      return;
    }
    this.output(now);
    if (this.rtoAt < 0 && this.inFlight() > 0) this.rtoAt = now + this.rtt.rto;
  }

  /** A zero-window probe: a segment below the window, which the peer must ACK (Linux's tcp_xmit_probe_skb). */
  private onPersist(now: number): void {
    this.persistAt = -1;
    if (this.persistProbes >= this.config.maxRetries) {
      this.closeNow('zero-window probes unanswered', 'ETIMEDOUT');
      return;
    }
    this.persistProbes++;
    this.persistBackoff++;
    this.stats.zeroWindowProbes++;
    this.out.writeSegment(this, seqAdd(this.sndUna, -1), ACK, 0, 0, null, now);
    // RFC 9293 §3.8.6.1: probe intervals SHOULD increase exponentially (capped as the RTO is).
    this.persistAt = now + Math.min(this.rtt.rto * 2 ** this.persistBackoff, 120_000);
  }

  /** RFC 1122 §4.2.3.6: after idle time, probe with SEG.SEQ = SND.NXT-1 and no data. */
  private onKeepalive(now: number): void {
    this.keepaliveAt = -1;
    if (!this.keepalive || !this.isSynchronizedData()) return;
    if (this.inFlight() > 0) {
      // The retransmission timer watches the peer while data is outstanding; look again
      // one idle period later (Linux re-arms tcp_keepalive_timer the same way).
      this.keepaliveAt = now + this.keepIdleMs;
      return;
    }
    if (this.keepaliveSent >= this.keepCnt) {
      // A RST as Linux sends (tcp_keepalive_timer): if the peer lives but cannot answer,
      // it still learns the connection is gone.
      this.abort(now, `no answer to ${this.keepaliveSent} keepalive probes`, 'ETIMEDOUT');
      return;
    }
    this.keepaliveSent++;
    this.stats.keepaliveProbes++;
    this.out.writeSegment(this, seqAdd(this.sndNxt, -1), ACK, 0, 0, null, now);
    this.keepaliveAt = now + this.keepIntvlMs;
  }

  armKeepalive(now: number): void {
    this.out.touch(this);
    if (!this.keepalive || !this.isSynchronizedData()) {
      this.keepaliveAt = -1;
      return;
    }
    this.keepaliveAt = this.keepaliveSent > 0 ? now + this.keepIntvlMs : Math.max(now, this.lastRecvAt + this.keepIdleMs);
  }

  /** Handshake complete: RFC 6298 (5.7), a 3 s RTO if our SYN timed out and no RTT was measured. */
  onEstablished(): void {
    if (this.synRetransmitted && this.rtt.samples === 0) this.rtt.reinitialize(3000);
  }

  /**
   * The layer keeps this connection's TIME-WAIT as a small record from now on: its
   * timers are off, and an orphan's storage goes (an application's socket keeps its
   * unread data).
   */
  leaveToRecord(): void {
    this.rtoAt = this.persistAt = this.delackAt = this.keepaliveAt = this.timeWaitAt = this.finWait2At = this.rackAt = this.tlpAt = -1;
    this.rtx.clear();
    this.ooo.clear();
    if (this.orphan) {
      this.sndBuf.consume(this.sndBuf.length);
      this.sndBuf.release();
      this.rcvBuf.release();
    }
  }

  enterTimeWait(now: number, why: string): void {
    this.setState('TIME-WAIT', why);
    this.rtoAt = this.persistAt = this.delackAt = this.keepaliveAt = this.finWait2At = this.rackAt = this.tlpAt = -1;
    this.timeWaitAt = now + 2 * this.config.mslMs;
    this.rtx.clear();
  }
}

/** The earlier of two timer times (-1: not armed). */
function earlier(a: number, b: number): number {
  return a < 0 ? b : b < 0 || a < b ? a : b;
}

/** The smallest window scale that lets `buf` bytes be advertised (RFC 7323 §2.3), at most 14. */
export function wscaleFor(buf: number): number {
  let s = 0;
  while (s < MAX_WSCALE && 65535 << s < buf) s++;
  return s;
}
