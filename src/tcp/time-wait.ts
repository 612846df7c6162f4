/**
 * TIME-WAIT as a small record (Linux's inet_timewait_sock, gVisor's TIME-WAIT handling):
 * once a connection has entered TIME-WAIT and its last ACK is out, the layer forgets the
 * whole connection (buffers, retransmission queue, congestion state, socket) and keeps
 * only what RFC 9293 §3.10.7.4 needs to answer the 4-tuple for 2*MSL: the addresses,
 * SND.NXT and RCV.NXT, the window we advertised, the timestamp state for PAWS (RFC 7323),
 * when the last unprompted ACK went (RFC 5961 §7) and the deadline: about 730 bytes of
 * heap each, table included, measured in the demo (`npm run load -- --churn`), instead
 * of 10-20 KiB; `maxTimeWait` caps how many there are (Linux tcp_max_tw_buckets).
 */
import type { IpAddr } from '../ip/ip-address.js';
import type { TcpConnection } from './connection.js';
import { FIN, RST, SYN, ACK } from './tcp-packet.js';
import type { Segment } from './segment.js';
import { PAWS_IDLE_MS } from './timestamps.js';
import { demuxKey, findEndpoint } from './demux.js';
import { seqAdd, seqGe, seqInRange, seqLe, seqLt } from './seq.js';


export class TimeWaitRecord {
  readonly localAddr: IpAddr;
  readonly localPort: number;
  readonly remoteAddr: IpAddr;
  readonly remotePort: number;
  /** SND.NXT (after our FIN) and RCV.NXT (after theirs). */
  readonly sndNxt: number;
  readonly rcvNxt: number;
  /** The window we last advertised: bytes (for acceptability) and the header field. */
  readonly rcvWnd: number;
  readonly wndField: number;
  readonly tsOk: boolean;
  readonly tsOffset: number;
  tsRecent: number;
  tsRecentAt: number;
  lastAckAt: number;
  expiresAt: number;
  /** Its slot in the table's deadline queue (-1: none), cleared when it leaves early. */
  qIndex = -1;
  /** The trace's connection id, and the ISNs its trace numbers from. */
  readonly id: number;
  readonly iss: number;
  readonly irs: number;
  /**
   * The connection, weakly: whoever still holds it (an application's socket) sees it
   * CLOSED at the end, and nobody's holding it keeps its memory alive.
   */
  private readonly ref: WeakRef<TcpConnection>;

  constructor(c: TcpConnection, expiresAt: number) {
    this.localAddr = c.localAddr;
    this.localPort = c.localPort;
    this.remoteAddr = c.remoteAddr;
    this.remotePort = c.remotePort;
    this.sndNxt = c.snd.nxt;
    this.rcvNxt = c.rcv.nxt;
    this.rcvWnd = c.rcv.advertisedWindow();
    this.wndField = c.rcv.windowField(false);
    this.tsOk = c.ts.ok;
    this.tsOffset = c.ts.offset;
    this.tsRecent = c.ts.recent;
    this.tsRecentAt = c.ts.recentAt;
    this.lastAckAt = c.lastChallengeAck();
    this.expiresAt = expiresAt;
    this.id = c.id;
    this.iss = c.snd.iss;
    this.irs = c.rcv.irs;
    this.ref = new WeakRef(c);
  }

  /** The connection, if something still holds it. */
  conn(): TcpConnection | undefined {
    return this.ref.deref();
  }
}

/** What the record's input needs from the layer. */
export interface TimeWaitEnv {
  drop(reason: 'dropOutOfWindow' | 'dropPaws' | 'dropRstNotExact' | 'dropSynInWindow' | 'dropNoAck' | 'timeWaitFinAcked'): void;
  /** An ACK for the record: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. `limited`: an unprompted one (RFC 5961 §7). */
  sendAck(tw: TimeWaitRecord, now: number, limited: boolean): void;
  /** The peer's FIN came again: 2*MSL starts over. */
  restart(tw: TimeWaitRecord, now: number): void;
}

/**
 * A segment for a connection in TIME-WAIT (RFC 9293 §3.10.7.4, RFC 7323 §5.3, RFC 5961,
 * RFC 1337), as the full state machine would answer it.
 */
export function timeWaitInput(tw: TimeWaitRecord, s: Segment, now: number, env: TimeWaitEnv): void {
  const rst = s.has(RST);
  // PAWS (RFC 7323 §5.3 R1): an old duplicate from an earlier incarnation.
  if (tw.tsOk && s.opts.hasTimestamps && !rst && seqLt(s.opts.tsVal, tw.tsRecent) && now - tw.tsRecentAt < PAWS_IDLE_MS) {
    env.drop('dropPaws');
    env.sendAck(tw, now, true);
    return;
  }
  const len = s.segLen();
  const wnd = tw.rcvWnd;
  const ok = len === 0
    ? (wnd === 0 ? s.seq === tw.rcvNxt : seqInRange(s.seq, tw.rcvNxt, seqAdd(tw.rcvNxt, wnd)))
    : wnd > 0 && (seqInRange(s.seq, tw.rcvNxt, seqAdd(tw.rcvNxt, wnd)) || seqInRange(seqAdd(s.seq, len - 1), tw.rcvNxt, seqAdd(tw.rcvNxt, wnd)));
  if (!ok) {
    if (s.has(FIN) && !rst && seqAdd(s.seq, len) === tw.rcvNxt) {
      // The peer resends its FIN (exactly: ending at RCV.NXT): our last ACK was lost.
      // Acknowledge it and restart the 2*MSL timeout (not a drop, and not rate limited).
      // Any other FIN out of the window gets only a rate-limited ACK, so that nobody can
      // keep the record alive or have us answer every packet.
      env.drop('timeWaitFinAcked');
      env.restart(tw, now);
      env.sendAck(tw, now, false);
      return;
    }
    env.drop('dropOutOfWindow');
    if (!rst) env.sendAck(tw, now, true);
    return;
  }
  if (rst) {
    // RFC 5961 §3.2: a near miss gets a challenge ACK; an exact RST is ignored (RFC 1337).
    if (s.seq !== tw.rcvNxt) {
      env.drop('dropRstNotExact');
      env.sendAck(tw, now, true);
    }
    return;
  }
  if (s.has(SYN)) {
    env.drop('dropSynInWindow'); // RFC 5961 §4: a challenge ACK
    env.sendAck(tw, now, true);
    return;
  }
  if (!s.has(ACK)) {
    env.drop('dropNoAck');
    return;
  }
  // RFC 7323 §4.3 (R3): the newest timestamp of an accepted segment not ahead of what we
  // acknowledged (only now: a segment dropped above must not move it).
  if (tw.tsOk && s.opts.hasTimestamps && seqLe(s.seq, tw.rcvNxt) && seqGe(s.opts.tsVal, tw.tsRecent)) {
    tw.tsRecent = s.opts.tsVal;
    tw.tsRecentAt = now;
  }
  // A FIN or text beyond RCV.NXT "should not occur" after the peer's FIN: not the FIN
  // again, so no restart of 2*MSL; a rate-limited ACK says where we are. A bare ACK
  // changes nothing.
  if (s.has(FIN) || s.len > 0) env.sendAck(tw, now, true);
}


/**
 * The records, found by 4-tuple, expiring in order: every deadline is set to now + 2*MSL,
 * so a FIFO of (record, deadline) is sorted; a restarted record is queued again, and a
 * record that leaves early (reused by a new SYN, aborted) clears its slot, so that the
 * queue never keeps a gone record alive.
 */
export class TimeWaitTable {
  private readonly byPorts = new Map<number, TimeWaitRecord[]>();
  /** Records per local port, for bind's "is this port in use?". */
  private readonly perLocalPort = new Map<number, number>();
  private qRec: (TimeWaitRecord | null)[] = [];
  private qAt: number[] = [];
  private qHead = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  find(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number): TimeWaitRecord | undefined {
    return findEndpoint(this.byPorts, localAddr, localPort, remoteAddr, remotePort);
  }

  add(t: TimeWaitRecord): void {
    const k = demuxKey(t.localPort, t.remotePort);
    let list = this.byPorts.get(k);
    if (!list) this.byPorts.set(k, (list = []));
    list.push(t);
    this.count++;
    this.perLocalPort.set(t.localPort, (this.perLocalPort.get(t.localPort) ?? 0) + 1);
    this.enqueue(t);
  }

  /** Forgets `t` (expired, reused by a new SYN, or its connection aborted). */
  remove(t: TimeWaitRecord): boolean {
    const k = demuxKey(t.localPort, t.remotePort);
    const list = this.byPorts.get(k);
    const i = list ? list.indexOf(t) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (list!.length === 0) this.byPorts.delete(k);
    this.count--;
    const n = this.perLocalPort.get(t.localPort)! - 1;
    if (n === 0) this.perLocalPort.delete(t.localPort);
    else this.perLocalPort.set(t.localPort, n);
    this.unqueue(t);
    return true;
  }

  /** `t`'s deadline moved (later): queue it again. */
  enqueue(t: TimeWaitRecord): void {
    this.unqueue(t);
    t.qIndex = this.qRec.length;
    this.qRec.push(t);
    this.qAt.push(t.expiresAt);
  }

  private unqueue(t: TimeWaitRecord): void {
    if (t.qIndex >= 0 && this.qRec[t.qIndex] === t) this.qRec[t.qIndex] = null;
    t.qIndex = -1;
  }

  /** Is a local port used by a connection in TIME-WAIT? */
  portInUse(port: number): boolean {
    return this.perLocalPort.has(port);
  }

  /** Every record (for reports). */
  *records(): IterableIterator<TimeWaitRecord> {
    for (const list of this.byPorts.values()) yield* list;
  }

  pollAt(): number | undefined {
    this.skipStale();
    return this.qHead < this.qRec.length ? this.qAt[this.qHead] : undefined;
  }

  /** Removes and hands over every record whose deadline has come. */
  expire(now: number, onExpired: (t: TimeWaitRecord) => void): void {
    for (;;) {
      this.skipStale();
      if (this.qHead >= this.qRec.length || this.qAt[this.qHead]! > now) break;
      const t = this.qRec[this.qHead]!;
      if (this.remove(t)) onExpired(t);
    }
    if (this.qHead > 1024 && this.qHead * 2 > this.qRec.length) {
      this.qRec = this.qRec.slice(this.qHead);
      this.qAt = this.qAt.slice(this.qHead);
      this.qHead = 0;
      for (let i = 0; i < this.qRec.length; i++) {
        const t = this.qRec[i];
        if (t) t.qIndex = i;
      }
    }
  }

  /** Steps past slots cleared by records that left early or were queued again. */
  private skipStale(): void {
    while (this.qHead < this.qRec.length && this.qRec[this.qHead] === null) this.qHead++;
  }
}
