/**
 * The TCP layer: parses segments, finds their connection, TIME-WAIT record or listener
 * (listener.ts runs the listen path), answers segments for no connection with RST (RFC
 * 9293 §3.10.7.1), writes every outgoing segment, keeps the connections' timers in one
 * heap, coalesces ACKs within a device batch, and hands ICMP errors to the connection
 * concerned.
 *
 * Demultiplexing is by (local port, remote port) into a short list checked for the
 * addresses: one Map read, no allocation per segment.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import { pickEphemeralPort } from '../core/ports.js';
import type { Rand } from '../core/rand.js';
import { TokenBucket } from '../core/token-bucket.js';
import { TimerHeap } from '../core/timer-heap.js';
import { readU32 } from '../core/bytes.js';
import { formatEndpoint, isAnyAddr, ipEqual, type IpAddr } from '../ip/ip-address.js';
import { IPV4_HEADER_LEN, IP_PROTO_TCP } from '../ip/ipv4-packet.js';
import { ICMP_DEST_UNREACHABLE, UNREACH_FRAG_NEEDED, UNREACH_PORT, UNREACH_PROTOCOL } from '../ip/icmp-packet.js';
import { TX_PAYLOAD_OFFSET, type IcmpErrorReport, type SendOptions, type TransportHandler } from '../ip/ipv4-layer.js';
import type { IpLayer } from '../ip/ip-layer.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from './config.js';
import { demuxKey, findEndpoint } from './demux.js';
import { TimeWaitRecord, TimeWaitTable, timeWaitInput, type TimeWaitEnv } from './time-wait.js';
import { TcpConnection, type SegmentWriter } from './connection.js';
import { activeOpen } from './handshake.js';
import { segmentArrives, type InputDrop, type InputEnv } from './input.js';
import { IsnGenerator } from './isn.js';
import { SynCookies } from './syn-cookies.js';
import { TcpListener, type ListenEnv } from './listener.js';
import { Segment } from './segment.js';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.js';
import { SocketOptions } from './socket-options.js';
import type { TcpState } from './state.js';
import { ACK, FIN, RST, SYN, TCP_HEADER_LEN, TcpPacket, flagString } from './tcp-packet.js';
import { Timer } from './timers.js';
import type { Tracer } from './trace.js';

const log = logger('tcp');
/** One challenge ACK per connection per this many ms (Linux net.ipv4.tcp_invalid_ratelimit). */
export const CHALLENGE_ACK_INTERVAL_MS = 500;
const TIME_WAIT_SEND_OPTS = { dontFrag: true };
/** Listeners that take only IPv6 are keyed apart from those that take IPv4 (see listen). */
const V6_ONLY_KEY = 0x10000;

function listenerKey(addr: IpAddr, port: number, v6only: boolean): number {
  if (typeof addr === 'number') return port;
  return v6only || !isAnyAddr(addr) ? port + V6_ONLY_KEY : port;
}

/** The most data one offloaded segment carries: an IPv4 datagram's 64 KiB less the largest headers. */
const MAX_TSO_BYTES = 65535 - IPV4_HEADER_LEN - 60;

const KEYS = [
  'segsIn', 'segsOut', 'activeOpens', 'passiveOpens', 'attemptFails', 'estabResets', 'currEstab',
  'resetsSent', 'resetsRateLimited', 'challengeAcks', 'challengeAcksRateLimited', 'listenDrops', 'timeWaitReused',
  'truncated', 'badDataOffset', 'badChecksum', 'badOptions', 'noConnection', 'icmpErrors',
  'syncookiesSent', 'syncookiesRecv', 'syncookiesFailed', 'syncookiesRateLimited', 'outErrors', 'pmtuUpdates', 'pmtuRateLimited', 'timeWaitFinAcked',
  // TIME-WAIT records held now (a gauge, as currEstab), and connections closed at once because the table was full
  'currTimeWait', 'timeWaitOverflow',
  // connections reset because handling them hit a bug (each also counted as stack.internalErrors)
  'internalResets',
  // drops by reason (segments that reached a connection or listener and were not used)
  'notUnicast', 'listenRstIgnored', 'listenNoSyn', 'listenSynFin', 'dropOutOfWindow', 'dropNoAck', 'dropPaws', 'dropRstNotExact',
  'dropSynInWindow', 'dropAckUnacceptable', 'dropSynSent',
] as const;
export type TcpCounter = (typeof KEYS)[number];

export class TcpLayer implements TransportHandler, SegmentWriter, InputEnv {
  readonly counters: CounterSet<TcpCounter> = counters(KEYS);
  readonly config: TcpConfig;
  private readonly byPorts = new Map<number, TcpConnection[]>();
  readonly connections = new Set<TcpConnection>();
  /** Connections in TIME-WAIT, kept as small records (src/tcp/time-wait.ts). */
  readonly timeWait = new TimeWaitTable();
  private readonly listeners = new Map<number, TcpListener>();
  private readonly isn: IsnGenerator;
  private readonly cookies: SynCookies;
  /** What listener.ts's listen path uses of the layer. */
  private readonly listenEnv: ListenEnv;
  private readonly pkt = new TcpPacket();
  /** The arriving segment's header (reused), and the departing one's (reused). */
  private readonly seg = new Segment();
  private readonly outSeg = new Segment();
  // A limit on RSTs to closed ports. Challenge ACKs are limited per connection instead
  // (allowChallengeAck).
  readonly resetLimit = new TokenBucket(1000, 200);
  // SYN cookies have a budget of their own, far larger: under a SYN flood every
  // legitimate client's SYN needs one (a SYN-ACK per SYN reflects nothing larger than it
  // came; Linux does not limit them at all), and sharing the RST budget made clients
  // wait a second for a resent SYN.
  readonly cookieLimit = new TokenBucket(20_000, 2_000);
  /** Trace events of every connection go here (null: tracing off; see trace.ts). */
  tracer: Tracer | null = null;
  /** The time of the event being handled (for the layer's own trace records: TIME-WAIT records). */
  private lastNow = 0;

  /** The time of the latest event the layer handled (reports show timers relative to it). */
  get lastEventAt(): number {
    return this.lastNow;
  }
  private nextConnId = 1;
  /** Set by a test harness: overrides ISS choice (e.g. near 2^32 to catch wrap-around bugs). */
  issOverride: ((now: number) => number) | null = null;

  constructor(
    readonly ip: IpLayer,
    private readonly rand: Rand,
    config: Partial<TcpConfig> = {},
  ) {
    this.config = { ...DEFAULT_TCP_CONFIG, ...config };
    this.isn = new IsnGenerator(rand);
    this.cookies = new SynCookies(rand);
    this.listenEnv = this.makeListenEnv();
    ip.register(IP_PROTO_TCP, this);
  }

  /** The largest segment payload our device's MTU carries. */
  get mtuMss(): number {
    return this.ip.linkMtu(4) - IPV4_HEADER_LEN - TCP_HEADER_LEN;
  }

  /** The largest segment payload the route to `dst` carries (the loopback interface's for our own addresses). */
  mtuMssTo(dst: IpAddr): number {
    // RFC 9293 §3.7.1 / RFC 8200 §8.3: the MTU less the IP header (20 or 40) and TCP's 20.
    return this.ip.mtuTo(dst, this.lastNow) - this.ip.headerLen(dst) - TCP_HEADER_LEN;
  }

  private find(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number): TcpConnection | undefined {
    return findEndpoint(this.byPorts, localAddr, localPort, remoteAddr, remotePort);
  }

  private register(c: TcpConnection): void {
    const k = demuxKey(c.localPort, c.remotePort);
    let list = this.byPorts.get(k);
    if (!list) this.byPorts.set(k, (list = []));
    list.push(c);
    this.connections.add(c);
  }

  private unregister(c: TcpConnection): void {
    const k = demuxKey(c.localPort, c.remotePort);
    const list = this.byPorts.get(k);
    if (list) {
      const i = list.indexOf(c);
      if (i >= 0) {
        // Moved down in place: splice would allocate the array of what it removes.
        for (let j = i; j < list.length - 1; j++) list[j] = list[j + 1]!;
        list.length--;
      }
      if (list.length === 0) this.byPorts.delete(k);
    }
    this.connections.delete(c);
  }

  private iss(c: TcpConnection, now: number): number {
    return this.issOverride ? this.issOverride(now) >>> 0 : this.isn.isn(c.localAddr, c.localPort, c.remoteAddr, c.remotePort, now);
  }

  // ------------------------------------------------------------ user-side operations

  /** A new connection with these socket options (a socket's own object: it is not copied). */
  newConnection(now: number, opts: SocketOptions = new SocketOptions(this.config), mtuMss = this.mtuMss): TcpConnection {
    return new TcpConnection(this, this.config, mtuMss, now, opts, this.nextConnId++, this.rand.u32());
  }

  private traceOpen(c: TcpConnection, active: boolean, now: number): void {
    if (this.tracer) {
      c.trace({ ev: 'open', local: formatEndpoint(c.localAddr, c.localPort), remote: formatEndpoint(c.remoteAddr, c.remotePort), iss: c.snd.iss, active }, now);
    }
  }

  // ------------------------------------------------------------ timers

  /** Connections whose timers may have changed since the heap last heard of them. */
  // (An array and a flag per connection, not a Set: clearing a long-lived Set allocates.)
  private readonly touched: TcpConnection[] = [];
  private readonly timers = new TimerHeap<TcpConnection>();

  touch(c: TcpConnection): void {
    if (c.touchPending) return;
    c.touchPending = true;
    this.touched.push(c);
  }

  private settleTimers(): void {
    const t = this.touched;
    if (t.length === 0) return;
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      c.touchPending = false;
      this.timers.schedule(c, c.isClosed() ? -1 : c.timers.next());
    }
    t.length = 0;
    // Dead entries keep their connections alive: compact once they outnumber the live ones.
    if (this.timers.size > 2 * this.connections.size + 64) this.timers.compact();
  }

  // ------------------------------------------------------------ ACK coalescing

  private inBatch = false;
  private readonly pendingAcks: TcpConnection[] = [];

  /** Frames of one device batch are about to arrive. */
  beginBatch(): void {
    this.inBatch = true;
  }

  /** Data bytes one offloaded segment may carry to `c`'s peer (0: no segmentation offload). */
  tsoBytes(c: TcpConnection): number {
    return this.ip.tcpOffloadTo(c.remoteAddr) ? MAX_TSO_BYTES : 0;
  }

  /**
   * Inside a batch, a pure ACK waits for the batch's end, so that a burst of segments is
   * acknowledged once (the receive-side half of GRO). Returns true if it was deferred.
   */
  deferAck(c: TcpConnection): boolean {
    if (!this.inBatch) return false;
    if (!c.ackPending) {
      c.ackPending = true;
      this.pendingAcks.push(c);
    }
    return true;
  }

  /** The batch is over: send the ACKs it deferred. */
  endBatch(now: number): void {
    this.inBatch = false;
    const p = this.pendingAcks;
    if (p.length === 0) return;
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      c.ackPending = false;
      try {
        if (c.rcv.ackNow && !c.isClosed()) c.output(now);
      } catch (err) {
        p.length = 0;
        this.failed(c, err, now);
      }
      if (c.state === 'TIME-WAIT') this.toTimeWaitRecord(c, now);
    }
    p.length = 0;
  }

  /**
   * A bug while handling one connection (a broken invariant such as an edge outside the
   * RFC 9293 state table): that connection is reset (a RST, ECONNABORTED to its socket)
   * rather than left half-updated, and the error goes on to the stack, which counts it
   * (stack.internalErrors) and reports it; every other connection carries on.
   */
  private failed(c: TcpConnection, err: unknown, now: number): never {
    this.counters.internalResets++;
    try {
      c.abort(now, `internal error: ${err instanceof Error ? err.message : String(err)}`, 'ECONNABORTED');
    } catch {
      this.unregister(c); // the reset itself failed: at least forget the connection
    }
    throw err;
  }

  // ------------------------------------------------------------ TIME-WAIT records

  /**
   * A plain SYN above RCV.NXT to a listening port may end TIME-WAIT early (RFC 9293
   * §3.10.7.4, RFC 6191; Linux does). Not a SYN+FIN: the listener drops those, so a blind
   * one with a random sequence number would end TIME-WAIT and open nothing.
   */
  private reopensTimeWait(s: Segment, rcvNxt: number, dport: number): boolean {
    return s.has(SYN) && !s.has(ACK) && !s.has(RST) && !s.has(FIN) && seqGt(s.seq, rcvNxt) && this.hasListener(dport);
  }

  /**
   * The connection is in TIME-WAIT and its last ACK is out: from now on a small record
   * answers its 4-tuple, and the connection itself is forgotten (an orphan's memory goes
   * with it). Beyond maxTimeWait it closes at once instead, as Linux does past
   * tcp_max_tw_buckets.
   */
  private toTimeWaitRecord(c: TcpConnection, now: number): void {
    if (this.find(c.localAddr, c.localPort, c.remoteAddr, c.remotePort) !== c) return;
    if (this.timeWait.size >= this.config.maxTimeWait) {
      this.counters.timeWaitOverflow++;
      c.closeNow('TIME-WAIT skipped: maxTimeWait records are held');
      return;
    }
    const at = c.timers.deadline(Timer.TimeWait);
    const tw = new TimeWaitRecord(c, at >= 0 ? at : now + 2 * this.config.mslMs);
    this.unregister(c);
    c.leaveToRecord();
    this.touch(c); // its timers are off: the heap must forget it
    this.timeWait.add(tw);
    this.counters.currTimeWait++;
  }

  /** A new SYN ends the record before its time: the 4-tuple is free. */
  private dropTimeWaitRecord(tw: TimeWaitRecord, why: string): void {
    if (this.timeWait.remove(tw)) this.timeWaitEnded(tw, why);
  }

  /** A record is out of the table: an application still holding the connection sees CLOSED. */
  private timeWaitEnded(tw: TimeWaitRecord, why: string): void {
    this.counters.currTimeWait--;
    const c = tw.conn();
    if (c && c.state === 'TIME-WAIT') {
      c.at(this.lastNow); // traced when it happens, not at the connection's last event
      c.closeNow(why);
    }
    else if (this.tracer) this.tracer({ t: this.lastNow, c: tw.id, ev: 'state', from: 'TIME-WAIT', to: 'CLOSED', why });
  }

  private readonly twEnv: TimeWaitEnv = {
    drop: (reason) => void this.counters[reason]++,
    restart: (tw, now) => {
      // Queued again only when the deadline moves by 100 ms or more, so that a flood of
      // exact FINs cannot grow the queue by an entry each.
      const at = now + 2 * this.config.mslMs;
      if (at - tw.expiresAt < 100) return;
      tw.expiresAt = at;
      this.timeWait.enqueue(tw);
    },
    sendAck: (tw, now, limited) => {
      if (limited) {
        if (tw.lastAckAt >= 0 && now - tw.lastAckAt < CHALLENGE_ACK_INTERVAL_MS) {
          this.counters.challengeAcksRateLimited++;
          return;
        }
        tw.lastAckAt = now;
      }
      const o = this.outSeg.set(tw.localPort, tw.remotePort, tw.sndNxt, tw.rcvNxt, ACK, tw.wndField);
      if (tw.tsOk) {
        o.opts.hasTimestamps = true;
        o.opts.tsVal = (Math.floor(now) + tw.tsOffset) >>> 0;
        o.opts.tsEcr = tw.tsRecent;
      }
      const len = o.emit(this.ip.tx, TX_PAYLOAD_OFFSET, tw.localAddr, tw.remoteAddr, 0);
      this.counters.segsOut++;
      if (this.tracer) {
        const line = this.pkt.reset(this.ip.tx, TX_PAYLOAD_OFFSET, len).toString(tw.localAddr, tw.remoteAddr);
        this.tracer({ t: now, c: tw.id, ev: 'out', flags: flagString(ACK), seq: tw.sndNxt, ack: tw.rcvNxt, len: 0, wnd: tw.rcvWnd, line, rseq: (tw.sndNxt - tw.iss) | 0, rack: (tw.rcvNxt - tw.irs) | 0 });
      }
      if (this.ip.send(IP_PROTO_TCP, tw.localAddr, tw.remoteAddr, len, now, TIME_WAIT_SEND_OPTS) !== null) this.counters.outErrors++;
    },
  };

  /** Every listener (for `tcpip stat`). */
  listenerList(): TcpListener[] {
    return [...this.listeners.values()];
  }

  /** Would a listener on (addr, port) with `v6only` collide with one there now (see listen)? */
  hasListenerFor(addr: IpAddr, port: number, v6only: boolean): boolean {
    return this.listeners.has(listenerKey(addr, port, v6only));
  }

  hasListener(port: number): boolean {
    return this.listeners.has(port) || this.listeners.has(port + V6_ONLY_KEY);
  }

  /** Is a local port taken (by a listener unless `listenersToo` is false, a connection, or one in TIME-WAIT)? */
  portInUse(port: number, listenersToo = true): boolean {
    if (listenersToo && this.hasListener(port)) return true;
    for (const c of this.connections) if (c.localPort === port) return true;
    return this.timeWait.portInUse(port);
  }

  /** Connections in TIME-WAIT now. */
  get timeWaitCount(): number {
    return this.timeWait.size;
  }

  /** Is this 4-tuple taken by a connection or a TIME-WAIT record? */
  private taken(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number): boolean {
    return this.find(localAddr, localPort, remoteAddr, remotePort) !== undefined || this.timeWait.find(localAddr, localPort, remoteAddr, remotePort) !== undefined;
  }

  /** Active open from (localAddr, localPort or ephemeral) to (remote). */
  connect(c: TcpConnection, localPort: number, remoteAddr: IpAddr, remotePort: number, now: number): 'EADDRINUSE' | 'EADDRNOTAVAIL' | null {
    const local = this.ip.sourceFor(remoteAddr);
    if (local === null) return 'EADDRNOTAVAIL';
    c.localAddr = local;
    c.useRoute(this.mtuMssTo(remoteAddr));
    c.remoteAddr = remoteAddr;
    c.remotePort = remotePort;
    if (localPort === 0) {
      localPort = pickEphemeralPort(this.rand, (p) => this.hasListener(p) || this.taken(c.localAddr, p, remoteAddr, remotePort));
      if (localPort === -1) return 'EADDRNOTAVAIL';
    } else if (this.taken(c.localAddr, localPort, remoteAddr, remotePort)) {
      return 'EADDRINUSE';
    }
    c.localPort = localPort;
    this.register(c);
    this.counters.activeOpens++;
    this.lastNow = now;
    const iss = this.iss(c, now);
    if (this.tracer) c.trace({ ev: 'open', local: formatEndpoint(c.localAddr, c.localPort), remote: formatEndpoint(c.remoteAddr, c.remotePort), iss, active: true }, now);
    activeOpen(c, iss, now);
    return null;
  }

  /**
   * A listener on (addr, port). An IPv6 listener on `::` also takes IPv4 connections unless
   * `v6only` (IPV6_V6ONLY, RFC 3493 §5.3; off by default as on Linux), which then arrive
   * with IPv4 addresses. One listener per port and family reach: an IPv4 listener and a
   * dual-stack one on the same port conflict, as on Linux.
   */
  listen(port: number, addr: IpAddr, backlog: number, v6only = false): TcpListener | 'EADDRINUSE' {
    const key = listenerKey(addr, port, v6only);
    if (this.listeners.has(key)) return 'EADDRINUSE';
    const l = new TcpListener(addr, port, backlog, this.config);
    l.v6only = v6only;
    this.listeners.set(key, l);
    return l;
  }

  unlisten(l: TcpListener, now: number): void {
    const key = listenerKey(l.localAddr, l.localPort, l.v6only);
    if (this.listeners.get(key) === l) this.listeners.delete(key);
    l.close(now);
  }

  /** The listener for a segment to (dst, dport), if one takes it. */
  private listenerFor(dst: IpAddr, dport: number): TcpListener | undefined {
    if (typeof dst !== 'number') {
      const l6 = this.listeners.get(dport + V6_ONLY_KEY);
      if (l6 !== undefined && !l6.closed && (isAnyAddr(l6.localAddr) || ipEqual(l6.localAddr, dst))) return l6;
    }
    const l = this.listeners.get(dport);
    if (l === undefined || l.closed) return undefined;
    const la = l.localAddr;
    if (typeof la === 'number') return typeof dst === 'number' && (la === 0 || la === dst) ? l : undefined;
    return l; // `::` without IPV6_V6ONLY: both families
  }

  // ------------------------------------------------------------ input

  drop(reason: InputDrop): void {
    this.counters[reason]++;
  }

  /**
   * A challenge ACK (RFC 5961 §3-5), at most one per connection per
   * CHALLENGE_ACK_INTERVAL_MS (Linux tcp_invalid_ratelimit). The limit is per connection
   * because a shared one is a side channel: an off-path attacker who exhausts it and
   * counts the challenge ACKs he still gets learns whether some other connection just
   * sent one, and from that its port and sequence numbers (CVE-2016-5696).
   */
  challengeAck(c: TcpConnection, now: number): void {
    if (c.challengeAck(now, CHALLENGE_ACK_INTERVAL_MS)) this.counters.challengeAcks++;
    else this.counters.challengeAcksRateLimited++;
  }

  receive(src: IpAddr, dst: IpAddr, b: Uint8Array, off: number, len: number, now: number): void {
    this.counters.segsIn++;
    this.lastNow = now;
    this.receiveSegment(src, dst, b, off, len, now);
  }

  private receiveSegment(src: IpAddr, dst: IpAddr, b: Uint8Array, off: number, len: number, now: number): void {
    const p = this.pkt.reset(b, off, len);
    const bad = p.checkLen();
    if (bad !== null) {
      this.counters[bad]++;
      return;
    }
    if (!this.ip.rxChecksumOk && !p.verifyChecksum(src, dst)) {
      this.counters.badChecksum++;
      return;
    }
    const s = this.seg;
    if (!s.parse(p)) {
      this.counters.badOptions++;
      return;
    }
    const sport = s.srcPort;
    const dport = s.dstPort;
    s.ecn = this.ip.ecnOf(src);
    if (log.enabled) log(`< ${p.toString(src, dst)}`);
    // TCP is unicast: segments to a broadcast or multicast address are discarded without a
    // reply (RFC 1122 §4.2.3.10 for SYNs; no RST may come from such an address either).
    if (!this.ip.isLocal(dst)) {
      this.counters.notUnicast++;
      return;
    }

    let c = this.find(dst, dport, src, sport);
    // A SYN that reopens a 4-tuple in TIME-WAIT: the new ISS must lie beyond the old SND.NXT.
    let issAbove = -1;
    if (c && c.state === 'TIME-WAIT' && this.reopensTimeWait(s, c.rcv.nxt, dport)) {
      // A new incarnation of the connection: RFC 9293 §3.10.7.4 (and RFC 6191) allow a
      // SYN with a higher sequence number to end TIME-WAIT early; Linux does.
      this.counters.timeWaitReused++;
      issAbove = c.snd.nxt;
      c.closeNow('TIME-WAIT ended by a new SYN');
      c = undefined;
    }
    if (c) {
      if (this.tracer) this.traceSegment(c, 'in', s.seq, s.ack, s.flags, s.len, s.wnd << c.snd.wscale, p.toString(src, dst), now);
      try {
        segmentArrives(c, s, now, this);
      } catch (err) {
        this.failed(c, err, now);
      }
      this.touch(c);
      if (c.state === 'TIME-WAIT' && !c.ackPending) this.toTimeWaitRecord(c, now);
      return;
    }
    const tw = this.timeWait.size > 0 ? this.timeWait.find(dst, dport, src, sport) : undefined;
    if (tw) {
      if (this.reopensTimeWait(s, tw.rcvNxt, dport)) {
        // A new incarnation of the connection (RFC 9293 §3.10.7.4, RFC 6191; Linux does).
        this.counters.timeWaitReused++;
        issAbove = tw.sndNxt;
        this.dropTimeWaitRecord(tw, 'TIME-WAIT ended by a new SYN');
      } else {
        if (this.tracer) {
          const rack = s.flags & ACK ? (s.ack - tw.iss) | 0 : 0;
          this.tracer({ t: now, c: tw.id, ev: 'in', flags: flagString(s.flags), seq: s.seq, ack: s.ack, len: s.len, wnd: s.wnd, line: p.toString(src, dst), rseq: (s.seq - tw.irs) | 0, rack });
        }
        timeWaitInput(tw, s, now, this.twEnv);
        return;
      }
    }
    const l = this.listenerFor(dst, dport);
    if (l !== undefined) {
      l.segmentArrives(s, src, dst, now, this.listenEnv, issAbove);
      return;
    }
    this.counters.noConnection++;
    if (this.tracer) this.traceNoConnection('in', s.seq, s.ack, s.flags, s.len, s.wnd, this.pkt.toString(src, dst), now);
    this.resetFor(s, src, dst, now);
  }

  /** A segment that reached no connection, or the RST answering one: traced as connection 0, numbers absolute. */
  private traceNoConnection(dir: 'in' | 'out', seq: number, ack: number, flags: number, len: number, wnd: number, line: string, now: number): void {
    this.tracer!({ t: now, c: 0, ev: dir, flags: flagString(flags), seq, ack, len, wnd, line, rseq: seq, rack: flags & ACK ? ack : 0 });
  }

  /** What listener.ts's listen path uses of the layer. */
  private makeListenEnv(): ListenEnv {
    // (a getter in an object literal has a `this` of its own)
    const layer = this;
    return {
      config: this.config,
      cookies: this.cookies,
      cookieLimit: this.cookieLimit,
      mtuMssTo: (dst) => layer.mtuMssTo(dst),
      count: (what) => void this.counters[what]++,
      newConnection: (local, localPort, remote, remotePort, opts, now) => {
        const c = this.newConnection(now, opts, this.mtuMssTo(remote));
        c.localAddr = local;
        c.localPort = localPort;
        c.remoteAddr = remote;
        c.remotePort = remotePort;
        this.register(c);
        return c;
      },
      chooseIss: (c, now) => this.iss(c, now),
      traceArrival: (c, s, src, dst, now) => {
        if (this.tracer) this.traceSegment(c, 'in', s.seq, s.ack, s.flags, s.len, s.wnd, this.pkt.toString(src, dst), now);
      },
      traceOpen: (c, active, now) => this.traceOpen(c, active, now),
      sendCookieSynAck: (s, src, dst, cookie, wscale, window, now) => {
        const o = this.outSeg.set(s.dstPort, s.srcPort, cookie, seqAdd(s.seq, 1), SYN | ACK, window);
        o.opts.mss = this.mtuMssTo(src);
        if (wscale >= 0) o.opts.wscale = wscale;
        const len = o.emit(this.ip.tx, TX_PAYLOAD_OFFSET, dst, src, 0);
        this.counters.segsOut++;
        this.ip.send(IP_PROTO_TCP, dst, src, len, now, { dontFrag: true });
      },
      reset: (s, src, dst, now) => this.resetFor(s, src, dst, now),
      deliver: (c, s, now) => segmentArrives(c, s, now, this),
    };
  }

  /** RFC 9293 §3.10.7.1: answer a segment that has no connection. */
  private resetFor(s: Segment, src: IpAddr, dst: IpAddr, now: number): void {
    if (s.has(RST)) return;
    if (!this.resetLimit.take(now)) {
      this.counters.resetsRateLimited++;
      return;
    }
    const tx = this.ip.tx;
    const o = TX_PAYLOAD_OFFSET;
    // <SEQ=SEG.ACK><CTL=RST>, or without an ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    const r = s.has(ACK) ? this.outSeg.set(s.dstPort, s.srcPort, s.ack, 0, RST, 0) : this.outSeg.set(s.dstPort, s.srcPort, 0, seqAdd(s.seq, s.segLen()), RST | ACK, 0);
    const len = r.emit(tx, o, dst, src, 0);
    this.counters.resetsSent++;
    this.counters.segsOut++;
    if (log.enabled) log(`> ${this.pkt.reset(tx, o, len).toString(dst, src)}`);
    if (this.tracer) this.traceNoConnection('out', r.seq, r.ack, r.flags, 0, 0, this.pkt.reset(tx, o, len).toString(dst, src), now);
    this.ip.send(IP_PROTO_TCP, dst, src, len, now, { dontFrag: true });
  }

  // ------------------------------------------------------------ output (SegmentWriter)

  /** IP send options for a connection's segments (DF, RFC 1191; the offload's segment size). */
  private readonly segOpts: SendOptions = { dontFrag: true, tso: 0, tos: 0 };
  /** Reused SACK blocks for an outgoing segment (no allocation per segment). */
  private readonly sackTuples: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];

  writeSegment(c: TcpConnection, seq: number, flags: number, dataOff: number, dataLen: number, now: number): void {
    const tx = this.ip.tx;
    const o = TX_PAYLOAD_OFFSET;
    const rst = (flags & RST) !== 0;
    const syn = (flags & SYN) !== 0;
    // The window field first (it may move the advertised edge); a RST advertises none.
    const wnd = rst ? 0 : c.rcv.windowField(syn);
    // ECN (RFC 3168 §6.1): the SYNs' negotiation, ECE while echoing a CE mark, ECT(0) and CWR on new data.
    const ipEcn = rst || syn ? 0 : c.ecn.ipField(seq === c.snd.max, dataLen);
    if (syn) flags |= c.ecn.synFlags((flags & ACK) !== 0);
    else if (!rst) flags |= c.ecn.ackFlags(flags) | c.ecn.cwrFlag(ipEcn);
    const out = this.outSeg.set(c.localPort, c.remotePort, seq, c.rcv.nxt, flags, wnd);
    const opts = out.opts;
    if (syn) {
      c.synOptions(opts);
      // A SYN's TSecr echoes the peer's SYN (zero in ours; RFC 7323 §3.2).
      if (opts.hasTimestamps) {
        opts.tsVal = c.ts.val(now);
        opts.tsEcr = flags & ACK ? c.ts.recent : 0;
      }
    } else if (c.ts.ok) {
      // Every segment once negotiated, a RST too (RFC 7323 §3.2: a RST SHOULD carry TSopt).
      opts.hasTimestamps = true;
      opts.tsVal = c.ts.val(now);
      opts.tsEcr = c.ts.recent;
    }
    if (!syn && flags & ACK && c.sackOk && !c.rcv.ooo.isEmpty()) {
      // Out-of-order data held: tell the peer which (RFC 2018), in whatever option space
      // the segment leaves: options come out of the MSS too (data + options <= SND.MSS,
      // RFC 6691), not only the MTU.
      const room = Math.min(c.mtuMss, c.snd.mss) - opts.length() - dataLen;
      const fit = Math.floor((room - 4) / 8);
      if (fit >= 1) {
        const n = c.rcv.fillSackBlocks(this.sackTuples, fit);
        for (let k = 0; k < n; k++) {
          opts.sack[2 * k] = this.sackTuples[k]![0];
          opts.sack[2 * k + 1] = this.sackTuples[k]![1];
        }
        opts.sackCount = n;
      }
    }
    if (!rst && flags & ACK) c.ts.acked(c.rcv.nxt);
    const hl = out.headerLen();
    if (dataLen > 0) c.snd.buf.peek(dataOff, tx, o + hl, dataLen);
    // Checksum (and segmentation) offload when the link has it: the segment leaves with
    // a partial checksum, cut by the device into pieces of `tso` payload bytes that
    // with this header fit both the MTU and the peer's MSS.
    const offload = this.ip.tcpOffloadTo(c.remoteAddr);
    const len = out.emit(tx, o, c.localAddr, c.remoteAddr, dataLen, offload);
    this.segOpts.tso = offload ? Math.max(8, Math.min(this.ip.mtuTo(c.remoteAddr, now) - this.ip.headerLen(c.remoteAddr), c.snd.mss + TCP_HEADER_LEN) - hl) : 0;
    this.segOpts.tos = c.opts.tos | ipEcn; // IP_TOS (RFC 9293 MUST-48) and the ECN field
    if (this.tracer) {
      this.traceSegment(c, 'out', seq, c.rcv.nxt, flags, dataLen, syn ? wnd : wnd << c.rcv.wscale, this.pkt.reset(tx, o, len).toString(c.localAddr, c.remoteAddr), now);
    }
    this.counters.segsOut++;
    c.stats.segsOut++;
    if (rst) this.counters.resetsSent++;
    if (log.enabled) log(`> ${this.pkt.reset(tx, o, len).toString(c.localAddr, c.remoteAddr)} [${c.state}]`);
    // DF on every segment (RFC 1191): the MSS fits our MTU, and an ICMP "fragmentation
    // needed" from the path lowers it (icmpError below).
    if (this.ip.send(IP_PROTO_TCP, c.localAddr, c.remoteAddr, len, now, this.segOpts) !== null) {
      this.counters.outErrors++; // a segment that could not be sent is a bug or a route gone: counted
    }
  }

  stateChanged(c: TcpConnection, from: TcpState, to: TcpState): void {
    // Counted as Linux's netstat -s does: CurrEstab covers ESTABLISHED and CLOSE-WAIT.
    const wasEst = from === 'ESTABLISHED' || from === 'CLOSE-WAIT';
    const isEst = to === 'ESTABLISHED' || to === 'CLOSE-WAIT';
    if (!wasEst && isEst) this.counters.currEstab++;
    if (wasEst && !isEst) this.counters.currEstab--;
    if (wasEst && to === 'CLOSED' && c.error === 'ECONNRESET') this.counters.estabResets++;
    if ((from === 'SYN-SENT' || from === 'SYN-RECEIVED') && to === 'CLOSED') this.counters.attemptFails++;
    if (to === 'CLOSED') this.unregister(c);
    // (An application that aborts its socket in TIME-WAIT closes the connection object;
    // the record goes on protecting the 4-tuple for its 2*MSL, as Linux's does.)
  }

  private traceSegment(c: TcpConnection, dir: 'in' | 'out', seq: number, ack: number, flags: number, len: number, wnd: number, line: string, now: number): void {
    const mine = dir === 'out';
    const iss = c.snd.iss;
    const irs = c.rcv.irs;
    // SACK blocks describe the other direction's data: relative to the acknowledged side's ISN.
    const base = mine ? irs : iss;
    let sack: [number, number][] | undefined;
    if (dir === 'in' && this.seg.opts.sackCount > 0) {
      sack = [];
      for (let k = 0; k < this.seg.opts.sackCount; k++) sack.push([(this.seg.opts.sack[2 * k]! - base) | 0, (this.seg.opts.sack[2 * k + 1]! - base) | 0]);
    } else if (dir === 'out' && c.sackOk && !c.rcv.ooo.isEmpty() && flags & ACK) {
      sack = c.rcv.sackBlocks().map(([l, r]) => [(l - base) | 0, (r - base) | 0] as [number, number]);
    }
    c.trace({
      ev: dir, flags: flagString(flags), seq, ack, len, wnd, line,
      rseq: !mine && flags & SYN ? 0 : (seq - (mine ? iss : irs)) | 0,
      rack: flags & ACK ? (ack - (mine ? irs : iss)) | 0 : 0,
      ...(sack ? { sack } : {}),
    }, now);
  }

  // ------------------------------------------------------------ ICMP errors

  /** RFC 5927 / RFC 1122 §4.2.3.9: hard errors abort a connection attempt; others are ignored. */
  icmpError(e: IcmpErrorReport, now: number): void {
    if (e.data.length < 8) return;
    const sport = (e.data[0]! << 8) | e.data[1]!;
    const dport = (e.data[2]! << 8) | e.data[3]!;
    const seq = readU32(e.data, 4);
    const c = this.find(e.src, sport, e.dst, dport);
    if (!c) return;
    // RFC 5927 §4.1: the quoted sequence number must be in flight.
    const snd = c.snd;
    if (!(seqLe(snd.una, seq) && seqLt(seq, snd.max === snd.una ? seqAdd(snd.max, 1) : snd.max))) return;
    this.counters.icmpErrors++;
    if (c.state === 'SYN-SENT' && e.type === ICMP_DEST_UNREACHABLE && (e.code === UNREACH_PORT || e.code === UNREACH_PROTOCOL)) {
      c.closeNow('ICMP unreachable in SYN-SENT', 'ECONNREFUSED');
    } else if (e.type === ICMP_DEST_UNREACHABLE && e.code === UNREACH_FRAG_NEEDED) {
      // RFC 1191 §6: the path is narrower than our segments (a router that names no MTU
      // gets RFC 1191's 576-byte minimum).
      // (For IPv6 the report carries a Packet Too Big's MTU, at least 1280: RFC 8201 §4.)
      const r = c.lowerPathMtu(e.nextHopMtu >= 68 ? e.nextHopMtu : 576, this.ip.headerLen(e.dst) + TCP_HEADER_LEN, now);
      if (r === 'lowered') this.counters.pmtuUpdates++;
      else if (r === 'rateLimited') this.counters.pmtuRateLimited++;
    }
  }

  // ------------------------------------------------------------ timers

  poll(now: number): void {
    this.lastNow = now;
    if (this.timeWait.size > 0) this.timeWait.expire(now, this.onTimeWaitExpired);
    this.settleTimers();
    for (let c = this.timers.popDue(now); c !== undefined; c = this.timers.popDue(now)) {
      try {
        const t = c.timers.next();
        if (t >= 0 && t <= now) c.onTimers(now);
      } catch (err) {
        this.failed(c, err, now);
      } finally {
        this.touch(c); // whatever it armed next, even if handling it threw
      }
    }
    this.settleTimers();
  }

  pollAt(): number | undefined {
    this.settleTimers();
    const t = this.timers.peek();
    const w = this.timeWait.size > 0 ? this.timeWait.pollAt() : undefined;
    return w === undefined || (t !== undefined && t < w) ? t : w;
  }

  /** A record's 2*MSL is over (already out of the table). */
  private readonly onTimeWaitExpired = (tw: TimeWaitRecord): void => this.timeWaitEnded(tw, 'TIME-WAIT expired (2*MSL)');
}
