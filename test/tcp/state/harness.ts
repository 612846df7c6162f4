/**
 * State-machine test harness in smoltcp's style (STYLE.md §6 item 2).
 *
 * A whole Stack sits on one end of a MemoryLink (TUN-like: frames are bare IPv4). The
 * test plays the remote host 10.7.0.1:REMOTE_PORT, talking to our 10.7.0.2:LOCAL_PORT:
 *
 *   send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 40 })   inject one segment
 *   recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'hi' }])  exactly what we sent
 *   recvNothing(h, { time: 39 })                                   nothing at all
 *
 * Sequence numbers are written relative to the two ISSs: `L(n)` is our ISS + n and `R(n)`
 * the remote's ISS + n. Both ISSs sit just below 2^32 (ours is forced with
 * `tcp.issOverride`), so every test crosses the wrap and a comparison done with `<`
 * fails at once. Segments print as one line (`SA seq=L+0 ack=R+1 win=8192 <mss 1460,wscale 0>`)
 * and are compared as lines, so a failing test shows a readable diff.
 *
 * Fixtures build on each other: socketListen() -> socketSynReceived() -> socketEstablished()
 * -> socketFinWait1() -> ..., each at time 0 unless it says otherwise. Time is the manual
 * clock `h.now`; nothing here waits in real time.
 */
import { expect } from 'vitest';
import { SeededRand } from '../../../src/core/rand.js';
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../../../src/ip/address.js';
import { IPV4_HEADER_LEN, IP_PROTO_TCP, Ipv4Packet, writeIpv4Header } from '../../../src/ip/ipv4-packet.js';
import { MemoryLink } from '../../../src/link/memory-link.js';
import { Stack } from '../../../src/stack.js';
import type { TcpConfig } from '../../../src/tcp/config.js';
import type { TcpConnection } from '../../../src/tcp/connection.js';
import type { TcpListener } from '../../../src/tcp/listener.js';
import { ACK, FIN, PSH, RST, SYN, TcpPacket, URG, emitTcp, parseTcp, type TcpRepr } from '../../../src/tcp/tcp-packet.js';

// ------------------------------------------------------------------ constants

export const LOCAL_ADDR: Ipv4Addr = parseIpv4('10.7.0.2');
export const REMOTE_ADDR: Ipv4Addr = parseIpv4('10.7.0.1');
export const LOCAL_PORT = 80;
export const REMOTE_PORT = 49500;
/** Our ISS (forced through `tcp.issOverride`): 256 below 2^32. */
export const LOCAL_ISS = 0xffffff00;
/** The remote's ISS: 16 below 2^32, so 16 bytes of data already wrap. */
export const REMOTE_ISS = 0xfffffff0;
/** Our receive buffer: 8 KiB, so we offer window scale 0 and an unscaled window of 8192. */
export const RCV_BUF = 8192;
/** The window we advertise while nothing sits unread in the receive buffer. */
export const LOCAL_WIN = RCV_BUF;
/** The MSS we advertise on a 1500-byte MTU (1500 - 20 - 20). */
export const LOCAL_MSS = 1460;
/** The window field the remote sends unless a test says otherwise. */
export const REMOTE_WIN = 65535;
/** The RTO after the fixture's handshake: one RTT sample of 0 ms, so SRTT = RTTVAR = 0 and
 * the RTO is the variance term's floor (MIN_RTO_MS = 200, Linux's TCP_RTO_MIN). */
export const RTO_AFTER_HANDSHAKE = 200;
/** RFC 6298 (2.1): the RTO before any RTT sample. */
export const INITIAL_RTO = 1000;

/**
 * The payload of a full-sized segment for a send MSS of `mss`: the MSS less the 12 bytes
 * of timestamps every segment carries when they are on (RFC 7323 §3.2; the defaults mode).
 */
export function dataMss(mss = LOCAL_MSS): number {
  return withDefaults() ? mss - 12 : mss;
}

/** What a line of ours prints after the header with the defaults on: ` <TS>` (see defaultOpts), else nothing. */
export function tsText(): string {
  return withDefaults() ? ' <TS>' : '';
}

/** Our sequence number ISS + n. */
export function L(n: number): number {
  return (LOCAL_ISS + n) >>> 0;
}

/** The remote's sequence number ISS + n. */
export function R(n: number): number {
  return (REMOTE_ISS + n) >>> 0;
}

// ------------------------------------------------------------------ segments

/** A segment as a test writes it. `flags` is letters from "SFRPA" ('.' alone = bare ACK). */
export interface Seg {
  flags: string;
  seq: number;
  /** Required when the flags include A. */
  ack?: number;
  /** The raw 16-bit window field. Default: REMOTE_WIN for segments we inject; for segments we
   * expect, LOCAL_WIN (0 for a RST). */
  win?: number;
  mss?: number;
  wscale?: number;
  payload?: string | Uint8Array;
  /**
   * The options other than MSS and window scale, as a line prints them (`sackOK,TS`,
   * `TS,sack`). Default: none, or with the defaults on (see `withDefaults`) `sackOK,TS` on
   * a SYN and `TS` on every other segment of a connection that negotiated timestamps.
   */
  opts?: string;
  /** Segments we inject: SACK-permitted (in a SYN), and SACK blocks (RFC 2018). */
  sackPermitted?: boolean;
  sack?: [number, number][];
  /** Defaults: the remote's port for the remote end, LOCAL_PORT for ours. */
  remotePort?: number;
  localPort?: number;
}

export function flagBits(s: string): number {
  let f = 0;
  for (const ch of s) {
    switch (ch) {
      case 'S': f |= SYN; break;
      case 'F': f |= FIN; break;
      case 'R': f |= RST; break;
      case 'P': f |= PSH; break;
      case 'U': f |= URG; break;
      case 'A': case '.': f |= ACK; break;
      default: throw new Error(`unknown flag ${JSON.stringify(ch)} in ${JSON.stringify(s)}`);
    }
  }
  return f;
}

/** Canonical flag text: S F R P U A in that order, "none" for none. */
export function flagText(f: number): string {
  let s = '';
  if (f & SYN) s += 'S';
  if (f & FIN) s += 'F';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & URG) s += 'U';
  if (f & ACK) s += 'A';
  if (f & ~(SYN | FIN | RST | PSH | URG | ACK)) s += `+0x${(f & 0xc0).toString(16)}`;
  return s || 'none';
}

export function bytes(p: string | Uint8Array | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  return typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

/** n bytes of a recognizable pattern (mod 251). */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}

export function text(b: Uint8Array | null): string {
  return b === null ? '<null>' : new TextDecoder().decode(b);
}

function fnv1a(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function payloadText(b: Uint8Array): string {
  if (b.length === 0) return '';
  const printable = b.length <= 32 && b.every((x) => x >= 0x20 && x < 0x7f);
  if (printable) return ` len=${b.length} ${JSON.stringify(new TextDecoder().decode(b))}`;
  const head = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join('');
  return ` len=${b.length} ${head}..#${fnv1a(b)}`;
}

/** The parsed segment both sides of a comparison are reduced to. */
interface Line {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
  win: number;
  mss: number | undefined;
  wscale: number | undefined;
  other: string;
  payload: Uint8Array;
  /** Our TSval, when the segment carries timestamps. */
  tsVal?: number;
}

function rel(x: number, base: number, name: string, relative: boolean): string {
  if (!relative) return String(x >>> 0);
  const d = (x - base) | 0;
  if (Math.abs(d) > 0x1000000) return String(x >>> 0);
  return d >= 0 ? `${name}+${d}` : `${name}${d}`;
}

/**
 * One line per segment. Segments from us print seq relative to L and ack relative to R
 * (the reverse for the remote's); the ends are printed only when they are not the default
 * pair of addresses and ports.
 */
function formatLine(l: Line, fromUs: boolean, relative: boolean): string {
  const [sBase, sName, aBase, aName] = fromUs ? [LOCAL_ISS, 'L', REMOTE_ISS, 'R'] : [REMOTE_ISS, 'R', LOCAL_ISS, 'L'];
  const defaults = fromUs
    ? l.src === LOCAL_ADDR && l.dst === REMOTE_ADDR && l.srcPort === LOCAL_PORT && l.dstPort === REMOTE_PORT
    : l.src === REMOTE_ADDR && l.dst === LOCAL_ADDR && l.srcPort === REMOTE_PORT && l.dstPort === LOCAL_PORT;
  const ends = defaults ? '' : `[${formatIpv4(l.src)}:${l.srcPort} > ${formatIpv4(l.dst)}:${l.dstPort}] `;
  const ack = l.flags & ACK ? ` ack=${rel(l.ack, aBase, aName, relative)}` : '';
  const opts: string[] = [];
  if (l.mss !== undefined) opts.push(`mss ${l.mss}`);
  if (l.wscale !== undefined) opts.push(`wscale ${l.wscale}`);
  if (l.other) opts.push(l.other);
  const optText = opts.length ? ` <${opts.join(',')}>` : '';
  return `${ends}${flagText(l.flags)} seq=${rel(l.seq, sBase, sName, relative)}${ack} win=${l.win}${payloadText(l.payload)}${optText}`;
}

/** Reads one frame the stack sent; a frame that is not a valid IPv4/TCP packet reads as a line saying why. */
function parseFrame(frame: Uint8Array): Line | string {
  const ip = new Ipv4Packet().reset(frame, 0, frame.length);
  const bad = ip.checkLen();
  if (bad !== null) return `not IPv4 (${bad})`;
  if (!ip.verifyChecksum()) return `IPv4 header checksum bad: ${ip.toString()}`;
  if (ip.protocol() !== IP_PROTO_TCP) return `not TCP: ${ip.toString()}`;
  if (ip.isFragment()) return `fragmented: ${ip.toString()}`;
  const p = new TcpPacket().reset(frame, ip.payloadOffset(), ip.payloadLen());
  const r = parseTcp(p, ip.src(), ip.dst());
  if (typeof r === 'string') return `TCP ${r}: ${ip.toString()}`;
  const other: string[] = [];
  if (r.options.sackPermitted) other.push('sackOK');
  if (r.options.timestamps) other.push('TS');
  if (r.options.sack) other.push('sack');
  if (r.urgent) other.push(`urg ${r.urgent}`);
  return {
    src: ip.src(), dst: ip.dst(), srcPort: r.srcPort, dstPort: r.dstPort, flags: r.flags, seq: r.seq, ack: r.ack,
    win: r.window, mss: r.options.mss, wscale: r.options.wscale, other: other.join(','), payload: r.payload.slice(),
    tsVal: r.options.timestamps?.tsVal,
  };
}

function expectedLine(s: Seg, h: TcpHarness): Line {
  const flags = flagBits(s.flags);
  if (flags & ACK && s.ack === undefined) throw new Error(`expected segment ${s.flags} without ack`);
  return {
    src: LOCAL_ADDR, dst: REMOTE_ADDR, srcPort: s.localPort ?? h.localPort, dstPort: s.remotePort ?? h.remotePort,
    flags, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, win: s.win ?? (flags & RST ? 0 : LOCAL_WIN),
    mss: s.mss, wscale: s.wscale, other: s.opts ?? h.defaultOpts(flags, s.localPort ?? h.localPort, s.remotePort ?? h.remotePort), payload: bytes(s.payload),
  };
}

/**
 * Whether the state suites run with the stack's defaults, timestamps and SACK on (RFC 7323,
 * RFC 2018), and the remote offering both as Linux does: set by defaults.test.ts, which runs
 * every suite again that way. The suites are written without options (each segment reads
 * as the RFC draws it); in this mode the harness adds the options on both sides.
 */
export function withDefaults(): boolean {
  return (globalThis as { __tcpStateDefaults?: boolean }).__tcpStateDefaults === true;
}

// ------------------------------------------------------------------ the harness

export interface HarnessOpts {
  tcp?: Partial<TcpConfig>;
  mtu?: number;
}

/** The remote's TSval clock in the defaults mode: its own, far from ours. */
const REMOTE_TS_BASE = 0x7000_0000;

export class TcpHarness {
  now = 0;
  readonly link: MemoryLink;
  readonly peer: MemoryLink;
  readonly stack: Stack;
  /** Print sequence numbers relative to the ISSs (false: absolute numbers). */
  relative = true;
  /** The default remote and local ports of `send` and `recv`. */
  remotePort = REMOTE_PORT;
  localPort = LOCAL_PORT;
  listener: TcpListener | null = null;
  private connection: TcpConnection | null = null;
  /** Errors the stack caught while handling a packet or a timer (a bug: tests fail on them). */
  readonly internalErrors: unknown[] = [];
  /** Timestamps and SACK on both sides (see withDefaults). */
  readonly defaults: boolean;
  /** The latest TSval we sent: the remote echoes it (defaults mode). */
  lastTsVal = 0;

  /**
   * The options other than MSS and window scale that a segment of ours with `flags`
   * between these ports carries by default: none, or with the defaults on, what the
   * connection negotiated (SACK blocks while it holds out-of-order data). A RST from a
   * connection the test has just aborted carries timestamps; a test expecting a RST for
   * no connection says `opts: ''`.
   */
  defaultOpts(flags: number, localPort: number, remotePort: number): string {
    if (!this.defaults) return '';
    const tcp = this.stack.tcp.config;
    if (flags & SYN) return [tcp.sack ? 'sackOK' : '', tcp.timestamps ? 'TS' : ''].filter(Boolean).join(',');
    let conn: TcpConnection | null = null;
    for (const c of this.stack.tcp.connections) if (c.localPort === localPort && c.remotePort === remotePort) conn = c;
    if (!conn) {
      for (const tw of this.stack.tcp.timeWait.records()) if (tw.localPort === localPort && tw.remotePort === remotePort) return tw.tsOk ? 'TS' : '';
      const last = this.connection;
      conn = last && last.localPort === localPort && last.remotePort === remotePort ? last : null;
    }
    if (!conn || !conn.ts.ok) return '';
    return flags & ACK && conn.sackOk && !conn.rcv.ooo.isEmpty() ? 'TS,sack' : 'TS';
  }

  constructor(opts: HarnessOpts = {}) {
    const [a, b] = MemoryLink.pair('ip', opts.mtu ?? 1500);
    this.link = a;
    this.peer = b;
    this.defaults = withDefaults();
    const options = this.defaults ? {} : { timestamps: false, sack: false };
    // The suites draw RFC 1122's delayed ACK from the first segment on; the quick ACKs at
    // the start of data (config quickAck, Linux's quickack mode) have their own tests in
    // quick-ack.test.ts, which turn them on.
    this.stack = new Stack(a, { addr: LOCAL_ADDR, prefixLen: 24, tcp: { rcvBuf: RCV_BUF, quickAck: false, ...options, ...opts.tcp } }, new SeededRand(1));
    this.stack.onInternalError = (err) => this.internalErrors.push(err);
    this.stack.tcp.issOverride = () => LOCAL_ISS;
    a.setReceiver(this.stack.receiverFor(() => this.now, () => this.stack.poll(this.now)));
  }

  /** The connection under test. */
  get conn(): TcpConnection {
    if (this.connection === null) throw new Error('this fixture has no connection');
    return this.connection;
  }

  set conn(c: TcpConnection) {
    this.connection = c;
  }

  /** Fails the test on an error the stack swallowed (e.g. a TransitionError). */
  checkErrors(): void {
    if (this.internalErrors.length > 0) throw this.internalErrors[0];
  }

  /** Moves the clock to `t` (never back) and polls the stack, as the runtime would. */
  advance(t: number): void {
    if (t < this.now) throw new Error(`time goes backwards: ${this.now} -> ${t}`);
    this.now = t;
    this.stack.poll(t);
    this.checkErrors();
  }

  /** When the stack next wants to be polled. */
  pollAt(): number | undefined {
    return this.stack.pollAt();
  }

  /** Everything the stack sent since the last call, one line each. */
  takeLines(): string[] {
    this.peer.inbox.length = 0;
    return this.link.takeSent().map((f) => {
      const l = parseFrame(f);
      if (typeof l === 'string') return l;
      if (l.tsVal !== undefined) this.lastTsVal = l.tsVal;
      return formatLine(l, true, this.relative);
    });
  }
}

export interface At {
  time?: number;
}

/** Injects one segment from the remote at `time` (default: now), then the stack polls. */
export function send(h: TcpHarness, s: Seg, at: At = {}): void {
  if (at.time !== undefined && at.time < h.now) throw new Error(`time goes backwards: ${h.now} -> ${at.time}`);
  if (at.time !== undefined) h.now = at.time;
  const flags = flagBits(s.flags);
  if (flags & ACK && s.ack === undefined) throw new Error(`segment ${s.flags} without ack`);
  const payload = bytes(s.payload);
  const repr: TcpRepr = {
    srcPort: s.remotePort ?? h.remotePort,
    dstPort: s.localPort ?? h.localPort,
    seq: s.seq >>> 0,
    ack: (s.ack ?? 0) >>> 0,
    flags,
    window: s.win ?? REMOTE_WIN,
    options: {
      ...(s.mss !== undefined ? { mss: s.mss } : {}),
      ...(s.wscale !== undefined ? { wscale: s.wscale } : {}),
      // The defaults: the remote offers SACK in its SYN and puts timestamps on every
      // segment, echoing our latest TSval (RFC 7323 §3.2: zero in a SYN).
      ...((h.defaults && flags & SYN) || s.sackPermitted ? { sackPermitted: true } : {}),
      ...(s.sack ? { sack: s.sack } : {}),
      ...(h.defaults ? { timestamps: { tsVal: (REMOTE_TS_BASE + Math.floor(h.now)) >>> 0, tsEcr: flags & ACK ? h.lastTsVal : 0 } } : {}),
    },
    payload,
  };
  const frame = new Uint8Array(IPV4_HEADER_LEN + 60 + payload.length);
  const tcpLen = emitTcp(repr, REMOTE_ADDR, LOCAL_ADDR, frame, IPV4_HEADER_LEN);
  writeIpv4Header(frame, 0, REMOTE_ADDR, LOCAL_ADDR, IP_PROTO_TCP, 64, 0, 0, true, false, 0, tcpLen);
  h.link.inject(frame.subarray(0, IPV4_HEADER_LEN + tcpLen));
  h.link.deliver();
  h.checkErrors();
}

/**
 * Moves the clock to `time` (default: now), polls, and asserts that the stack sent exactly
 * `expected` since the last recv: same flags, sequence and acknowledgment numbers, window,
 * options and payload, from our address and port to the remote's.
 */
export function recv(h: TcpHarness, expected: readonly Seg[], at: At = {}): void {
  if (at.time !== undefined) h.advance(at.time);
  const actual = h.takeLines();
  const want = expected.map((s) => formatLine(expectedLine(s, h), true, h.relative));
  expect(actual, `segments sent by the stack at t=${h.now}`).toEqual(want);
}

/** Moves the clock to `time` (default: now), polls, and asserts that nothing was sent. */
export function recvNothing(h: TcpHarness, at: At = {}): void {
  recv(h, [], at);
}

// ------------------------------------------------------------------ fixtures

/** A stack with no listener and no connection: every port is closed. Absolute numbers print. */
export function socketClosed(opts: HarnessOpts = {}): TcpHarness {
  const h = new TcpHarness(opts);
  h.relative = false;
  return h;
}

/** A listener on LOCAL_PORT (backlog 8). */
export function socketListen(opts: HarnessOpts & { backlog?: number } = {}): TcpHarness {
  const h = new TcpHarness(opts);
  const l = h.stack.tcp.listen(LOCAL_PORT, 0, opts.backlog ?? 8);
  if (typeof l === 'string') throw new Error(`listen: ${l}`);
  h.listener = l;
  return h;
}

/** The remote's SYN of the fixtures: MSS 1460 and window scale 0 (scaling on, shift 0). */
export const REMOTE_SYN: Seg = { flags: 'S', seq: R(0), mss: 1460, wscale: 0 };
/** Our SYN-ACK to it. */
export const LOCAL_SYN_ACK: Seg = { flags: 'SA', seq: L(0), ack: R(1), mss: LOCAL_MSS, wscale: 0 };

/** SYN received by the listener, SYN-ACK sent: the embryonic connection is `h.conn`. */
export function socketSynReceived(opts: HarnessOpts & { backlog?: number } = {}): TcpHarness {
  const h = socketListen(opts);
  send(h, REMOTE_SYN);
  recv(h, [LOCAL_SYN_ACK]);
  const [c] = [...h.listener!.synQueue];
  if (!c) throw new Error('no embryonic connection after the SYN');
  h.conn = c;
  expect(c.state).toBe('SYN-RECEIVED');
  return h;
}

/** Passive open completed and accepted: ESTABLISHED, nothing in flight either way. */
export function socketEstablished(opts: HarnessOpts & { backlog?: number } = {}): TcpHarness {
  const h = socketSynReceived(opts);
  send(h, { flags: 'A', seq: R(1), ack: L(1) });
  recvNothing(h);
  const c = h.listener!.accept();
  expect(c).toBe(h.conn);
  expect(h.conn.state).toBe('ESTABLISHED');
  return h;
}

/** Active open: our SYN sent from LOCAL_PORT to the remote. */
export function socketSynSent(opts: HarnessOpts = {}): TcpHarness {
  const h = new TcpHarness(opts);
  const c = h.stack.tcp.newConnection(h.now);
  const err = h.stack.tcp.connect(c, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, h.now);
  if (err !== null) throw new Error(`connect: ${err}`);
  h.conn = c;
  recv(h, [{ flags: 'S', seq: L(0), mss: LOCAL_MSS, wscale: 0 }]);
  expect(c.state).toBe('SYN-SENT');
  return h;
}

/** ESTABLISHED, then we closed: our FIN (L+1) sent, not yet acknowledged. */
export function socketFinWait1(opts: HarnessOpts = {}): TcpHarness {
  const h = socketEstablished(opts);
  h.conn.shutdownSend(h.now);
  recv(h, [{ flags: 'FA', seq: L(1), ack: R(1) }]);
  expect(h.conn.state).toBe('FIN-WAIT-1');
  return h;
}

/** Our FIN acknowledged; the remote has not closed. */
export function socketFinWait2(opts: HarnessOpts = {}): TcpHarness {
  const h = socketFinWait1(opts);
  send(h, { flags: 'A', seq: R(1), ack: L(2) });
  recvNothing(h);
  expect(h.conn.state).toBe('FIN-WAIT-2');
  return h;
}

/** The remote closed first (its FIN is R+1); we acknowledged it. Once the peer's FIN is in,
 * our window reads LOCAL_WIN - 1: the FIN used a sequence number and the edge stays put. */
export function socketCloseWait(opts: HarnessOpts = {}): TcpHarness {
  const h = socketEstablished(opts);
  send(h, { flags: 'FA', seq: R(1), ack: L(1) });
  recv(h, [{ flags: 'A', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }]);
  expect(h.conn.state).toBe('CLOSE-WAIT');
  return h;
}

/** CLOSE-WAIT, then we closed: our FIN (L+1) sent, not yet acknowledged. */
export function socketLastAck(opts: HarnessOpts = {}): TcpHarness {
  const h = socketCloseWait(opts);
  h.conn.shutdownSend(h.now);
  recv(h, [{ flags: 'FA', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }]);
  expect(h.conn.state).toBe('LAST-ACK');
  return h;
}

/** Simultaneous close: in FIN-WAIT-1 the remote's FIN arrived without acknowledging ours. */
export function socketClosing(opts: HarnessOpts = {}): TcpHarness {
  const h = socketFinWait1(opts);
  send(h, { flags: 'FA', seq: R(1), ack: L(1) });
  recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
  expect(h.conn.state).toBe('CLOSING');
  return h;
}

/** FIN-WAIT-2, then the remote's FIN: TIME-WAIT entered at time 0. */
export function socketTimeWait(opts: HarnessOpts = {}): TcpHarness {
  const h = socketFinWait2(opts);
  send(h, { flags: 'FA', seq: R(1), ack: L(2) });
  recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
  expect(h.conn.state).toBe('TIME-WAIT');
  return h;
}
