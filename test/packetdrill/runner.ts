/**
 * Runs a packetdrill-style script (see script.ts) against one Stack on a MemoryLink, on a
 * manual clock. The script plays the remote host 192.0.2.1 and the application; the stack
 * is 192.168.0.1. Between lines the clock moves to the line's time, firing every timer
 * due on the way (at its own time), and anything the stack sends is queued with the time
 * it was sent: a `>` line takes the first queued segment and compares it; any other line
 * fails if a segment is still queued (packetdrill's "unexpected outbound packet").
 *
 * Payload bytes are checked too: write() sends a known pattern, and every data byte the
 * stack puts on the wire must be the pattern byte for its place in the stream; `<` data
 * carries another pattern that read() checks. (One connection per script for these.)
 *
 * No real time passes: `await settle()` only lets promise continuations run.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { constants as osConstants } from 'node:os';
import { SeededRand } from '../../src/core/rand.js';
import { parseIpv4 } from '../../src/ip/address.js';
import { formatIp, ipEqual, type IpAddr } from '../../src/ip/ip-address.js';
import { parseIpv6 } from '../../src/ip/ipv6-address.js';
import { IPV6_HEADER_LEN, Ipv6Packet, writeIpv6Header } from '../../src/ip/ipv6-packet.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../../src/ip/checksum.js';
import { IPV4_HEADER_LEN, IP_PROTO_TCP, Ipv4Packet, writeIpv4Header } from '../../src/ip/ipv4-packet.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import {
  AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_TCP, IP_TOS, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_ERROR, SO_KEEPALIVE, SO_LINGER,
  SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_NODELAY, TCP_USER_TIMEOUT,
} from '../../src/socket/constants.js';
import { SocketError } from '../../src/socket/errors.js';
import { makeHost } from '../../src/socket/host.js';
import { SocketApi } from '../../src/socket/socket-api.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';
import { Stack } from '../../src/stack.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { ACK, FIN, RST, SYN, TcpPacket, parseTcp } from '../../src/tcp/tcp-packet.js';
import { ECN_MARKS, FLAG_BITS, parseScript, type IpVersion, type CallSpec, type Line, type OptSpec, type Script, type SegSpec } from './script.js';
import { shellCommand, type ShellOutcome } from './sysctl.js';
import { runAsserts } from './tcp-info.js';

export const LOCAL_ADDR = parseIpv4('192.168.0.1');
export const GATEWAY = parseIpv4('192.168.0.2');
export const REMOTE_ADDR = parseIpv4('192.0.2.1');
/** packetdrill's IPv6 addresses (config.c): a unique-local /48 here, the documentation prefix there. */
export const LOCAL_ADDR6 = parseIpv6('fd3d:fa7b:d17d::1');
export const GATEWAY6 = parseIpv6('fd3d:fa7b:d17d:8888::1');
export const REMOTE_ADDR6 = parseIpv6('2001:db8::1');
/** The port bind() binds, and the port connect() connects to (packetdrill's 8080). */
export const SERVER_PORT = 8080;
/** The remote's port when it connects to us. */
export const REMOTE_CLIENT_PORT = 40000;
/** Our ISS unless a script says `// @iss`. */
export const DEFAULT_ISS = 0x12345678;

const EPS_MS = 1e-6;

/** The pattern write() sends: byte k of our stream. */
export function outByte(k: number): number {
  return k % 251;
}

/** The pattern `<` segments carry: byte k of the remote's stream. */
export function inByte(k: number): number {
  return (k * 7 + 3) % 256;
}

interface Outbound {
  at: number;
  bytes: Uint8Array;
}

interface Pending {
  line: Line;
  endMs: number;
  settled: boolean;
  settledAt: number;
  result: string;
  /** Extra check on the result, run once settled (payload checks of read()). */
  after?: (value: unknown) => string | null;
  value?: unknown;
}

/** The outcome of a socket call, as the script writes it: "0", "-1 ECONNRESET", "TIME-WAIT". */
type CallOutcome = { value: unknown; text: string };

const LEVELS: Record<string, number> = { SOL_SOCKET, IPPROTO_TCP, SOL_TCP: IPPROTO_TCP, IPPROTO_IP, SOL_IP: IPPROTO_IP };
const OPTIONS: Record<string, number> = {
  SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER, SO_SNDBUF, SO_RCVBUF, SO_ERROR,
  TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_MAXSEG, TCP_USER_TIMEOUT, IP_TOS,
};
const SHUT: Record<string, number> = { SHUT_RD, SHUT_WR, SHUT_RDWR };

function flagText(f: number): string {
  let s = '';
  for (const ch of ['S', 'F', 'R', 'P', 'U', 'E', 'W']) if (f & FLAG_BITS[ch]!) s += ch;
  if (f & ACK) s += '.';
  return s === '' ? '-' : s;
}

function optText(o: OptSpec): string {
  switch (o.kind) {
    case 'mss': return `mss ${o.value}`;
    case 'wscale': return `wscale ${o.value}`;
    case 'TS': return `TS val ${o.val} ecr ${o.ecr}`;
    case 'sack': return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
    default: return o.kind;
  }
}

/** Inbound options; SACK blocks are written relative to our ISS (`sackBase`), as packetdrill does. */
function encodeOptions(opts: OptSpec[], sackBase: number, tsEcr: (ecr: number) => number): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number): number[] => [(v >>> 8) & 255, v & 255];
  const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  for (const o of opts) {
    switch (o.kind) {
      case 'nop': out.push(1); break;
      case 'eol': out.push(0); break;
      case 'mss': out.push(2, 4, ...u16(o.value)); break;
      case 'wscale': out.push(3, 3, o.value); break;
      case 'sackOK': out.push(4, 2); break;
      case 'TS': out.push(8, 10, ...u32(o.val), ...u32(tsEcr(o.ecr))); break;
      case 'sack': out.push(5, 2 + 8 * o.blocks.length, ...o.blocks.flatMap(([l, r]) => [...u32((l + sackBase) >>> 0), ...u32((r + sackBase) >>> 0)])); break;
    }
  }
  while (out.length % 4 !== 0) out.push(0); // padded with EOL
  return Uint8Array.from(out);
}

/** Reads the raw option bytes as packetdrill prints them (with every nop). */
function decodeOptions(b: Uint8Array, off: number, len: number, sackBase: number): string[] {
  const out: string[] = [];
  let i = off;
  const end = off + len;
  const u16 = (o: number): number => (b[o]! << 8) | b[o + 1]!;
  const u32 = (o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  while (i < end) {
    const kind = b[i]!;
    if (kind === 0) { out.push('eol'); i++; continue; }
    if (kind === 1) { out.push('nop'); i++; continue; }
    const olen = i + 1 < end ? b[i + 1]! : 0;
    if (olen < 2 || i + olen > end) { out.push(`bad option ${kind}`); break; }
    if (kind === 2 && olen === 4) out.push(`mss ${u16(i + 2)}`);
    else if (kind === 3 && olen === 3) out.push(`wscale ${b[i + 2]}`);
    else if (kind === 4 && olen === 2) out.push('sackOK');
    else if (kind === 8 && olen === 10) out.push(`TS val ${u32(i + 2)} ecr ${u32(i + 6)}`);
    else if (kind === 5) {
      const blocks: string[] = [];
      for (let k = i + 2; k + 8 <= i + olen; k += 8) blocks.push(`${(u32(k) - sackBase) | 0}:${(u32(k + 4) - sackBase) | 0}`);
      out.push(`sack ${blocks.join(' ')}`);
    } else out.push(`opt ${kind} len ${olen}`);
    i += olen;
  }
  while (out.length > 0 && out[out.length - 1] === 'eol') out.pop();
  return out;
}

/** A segment the stack sent, read back (checksums verified by the src parsers). */
interface SentSeg {
  /** The IP ECN field, and the whole TOS byte. */
  ecn: number;
  tos: number;
  src: IpAddr;
  dst: IpAddr;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  payload: Uint8Array;
  options: string[];
  raw: string;
}

/** How a Runner sets up the stack and judges the script (beyond what the script says). */
export interface RunnerSetup {
  /** Stack settings before the script's shell commands and `// @tcp` header. */
  tcp: Partial<TcpConfig>;
  /** Timing slack when the script names none. */
  toleranceMs: number;
  /**
   * false: a packet no `>` line expects fails the next line (and the script's end).
   * true: packetdrill's rule: packets wait in a queue and only a `>` line reads (and
   * compares) the oldest; those no `>` line reaches are not checked.
   */
  lenientOutbound: boolean;
  /** Run over this IP version whatever the script says (packetdrill's run_all.py runs each script in all three). */
  ipVersion?: IpVersion;
}

/** Our scripts: no timestamps, SACK or quick ACKs unless the header turns them on (each segment reads as the RFC draws it), exact timing, no unexpected packet. */
export const OUR_SCRIPTS: RunnerSetup = { tcp: { timestamps: false, sack: false, quickAck: false }, toleranceMs: 0, lenientOutbound: false };

/** Linux's packetdrill scripts: the stack's defaults (Linux's), packetdrill's 4 ms default slack and its rule for unexpected packets. */
export const LINUX_SCRIPTS: RunnerSetup = { tcp: {}, toleranceMs: 4, lenientOutbound: true };

export class ScriptFailure extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'ScriptFailure';
  }
}

export class Runner {
  now = 0;
  readonly link: MemoryLink;
  readonly stack: Stack;
  readonly api: SocketApi;
  private readonly outq: Outbound[] = [];
  private readonly pending: Pending[] = [];
  private readonly internalErrors: unknown[] = [];
  private readonly conns = new Map<number, TcpConnection>();
  private readonly iss: number;
  private readonly remoteIsn: number;
  private readonly tolMs: number;
  /** Our ISN once learnt from our first SYN; until then our numbers are absolute. */
  private localIsn: number | null = null;
  private localPort = SERVER_PORT;
  private localPortKnown = false;
  private remotePort = REMOTE_CLIENT_PORT;
  private ident = 1;
  /** Bytes handed to write() (stream offsets of our pattern) and read back by read(). */
  private writeOffset = 0;
  private readOffset = 0;
  private lastStartUs = 0;
  private line: Line | null = null;
  /** The connection `%{ }%` assertions read: the one accepted or connected last. */
  private lastConn: TcpConnection | null = null;
  /** Names `%{ }%` blocks assigned (`TCP_INFINITE_SSTHRESH = 0x7fffffff`), kept for later blocks as packetdrill's Python does. */
  private readonly vars = new Map<string, number>();
  /** Our TSval minus the script's, learnt from the first `>` line with a TS option (maps inbound TSecr onto our clock). */
  private tsOffset: number | null = null;
  /** Shell lines before the first event, applied when the stack was built. */
  private readonly prelude = new Set<Line>();
  /** Settings the script's shell commands asked for that have no equivalent here (sysctl.ts). */
  readonly reports: string[];
  /** packetdrill's rule for packets no line expects: only a `>` line notices them (see RunnerSetup). */
  private readonly lenient: boolean;
  private readonly trace: string[] = [];
  readonly debug = process.env.PKTDEBUG === '1';
  /** The IP version the script runs over (packetdrill's --ip_version). */
  readonly ipVersion: IpVersion;
  private readonly local: IpAddr;
  private readonly remote: IpAddr;

  constructor(
    private readonly script: Script,
    private readonly scriptDir: string | null = null,
    /**
     * How the runner sets up the stack before the script's own settings. Our scripts (the
     * default): no timestamps, SACK or quick ACKs unless the header turns them on, so each
     * segment reads as the RFC draws it, exact timing, and no unexpected packets. Linux's
     * (linux.suite.ts): packetdrill's own rules, see LINUX_SCRIPTS.
     */
    setup: RunnerSetup = OUR_SCRIPTS,
  ) {
    this.lenient = setup.lenientOutbound;
    // Shell commands before the first event (sysctl, defaults.sh) configure the stack.
    const shell: ShellOutcome = { tcp: {}, reports: [] };
    for (const line of script.lines) {
      if (line.action.kind !== 'shell') break;
      shellCommand(line.action.command, scriptDir, shell);
      this.prelude.add(line);
    }
    this.reports = shell.reports;
    const tcp = { ...setup.tcp, ...shell.tcp, ...(script.header.tcp as Partial<TcpConfig>) };
    this.ipVersion = setup.ipVersion ?? script.header.ipVersion ?? 'ipv4';
    const six = this.ipVersion === 'ipv6';
    this.local = six ? LOCAL_ADDR6 : LOCAL_ADDR;
    this.remote = six ? REMOTE_ADDR6 : REMOTE_ADDR;
    // As packetdrill's gtests: IPv6 runs on a 1520-byte MTU, so that the MSS is 1460 as over IPv4.
    const [a] = MemoryLink.pair('ip', script.header.mtu ?? (six ? 1520 : 1500));
    a.peer = null; // nothing listens at the far end: the runner reads `sent`
    this.link = a;
    this.stack = new Stack(a, {
      addr: LOCAL_ADDR, prefixLen: 24, gateway: GATEWAY,
      ...(this.ipVersion !== 'ipv4' ? { addr6: LOCAL_ADDR6, prefixLen6: 48, gateway6: GATEWAY6 } : {}),
      tcp,
    }, new SeededRand(1));
    this.stack.onInternalError = (e) => this.internalErrors.push(e);
    this.iss = script.header.iss ?? DEFAULT_ISS;
    this.remoteIsn = script.header.remoteIsn ?? 0;
    this.tolMs = script.header.toleranceMs ?? setup.toleranceMs;
    this.stack.tcp.issOverride = () => this.iss;
    a.setReceiver(this.stack.receiverFor(() => this.now, () => this.stack.poll(this.now)));
    this.api = new SocketApi(makeHost(this.stack, () => this.now, () => {}));
  }

  // ------------------------------------------------------------------ failures

  private fail(msg: string, line: Line | null = this.line): never {
    const where = line ? `${this.script.name}:${line.lineNo}` : this.script.name;
    const ctx = line ? `\n  line:     ${line.text}` : '';
    const tail = this.trace.length > 0 ? `\n  trace (last ${Math.min(12, this.trace.length)} events):\n    ${this.trace.slice(-12).join('\n    ')}` : '';
    throw new ScriptFailure(`${where}: ${msg}${ctx}${tail}`);
  }

  private note(s: string): void {
    const t = `${(this.now / 1000).toFixed(6)} ${s}`;
    this.trace.push(t);
    if (this.debug) console.log(`[${this.script.name}] ${t}`);
  }

  private checkInternal(): void {
    if (this.internalErrors.length > 0) {
      const e = this.internalErrors[0];
      this.fail(`the stack threw while handling a packet or timer: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  // ------------------------------------------------------------------ clock

  private async settle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }

  /** Moves what the stack sent into the queue, stamped with the current time. */
  private collect(): void {
    for (const b of this.link.takeSent()) {
      this.outq.push({ at: this.now, bytes: b });
      const s = this.readSent(b);
      // Our ISN is learnt from our first SYN (packetdrill numbers it 0).
      if (this.localIsn === null && s.flags & SYN) this.localIsn = s.seq;
      this.note(`sent ${this.oneLine(s)}`);
    }
  }

  /** After anything happened: let promises run, collect output, check blocked calls. */
  private async afterStep(): Promise<void> {
    await this.settle();
    this.collect();
    this.checkInternal();
    this.checkPending();
  }

  private nextWake(): number | undefined {
    let t = this.stack.pollAt();
    // A blocked call's return time is a point to stop at (to check it), once it is ahead.
    for (const p of this.pending) {
      const end = p.endMs + this.tolMs;
      if (!p.settled && end > this.now + EPS_MS && (t === undefined || end < t)) t = end;
    }
    return t;
  }

  /** Runs every timer due up to `t`, each at its own time. */
  private async advanceTo(t: number): Promise<void> {
    let stuck = 0;
    for (;;) {
      const next = this.nextWake();
      if (next === undefined || next > t + EPS_MS) break;
      if (next <= this.now + EPS_MS) {
        if (++stuck > 1000) this.fail(`stack.pollAt() keeps returning ${next} ms, at or before now (${this.now} ms), and poll() does not clear it`);
      } else {
        stuck = 0;
        this.checkBlockedBefore(next);
        this.now = next;
      }
      this.stack.poll(this.now);
      await this.afterStep();
    }
    if (t > this.now) {
      this.checkBlockedBefore(t);
      this.now = t;
      this.stack.poll(this.now);
      await this.afterStep();
    }
  }

  /** Time is about to move to `t`: a call that should have returned before then fails now. */
  private checkBlockedBefore(t: number): void {
    for (const p of this.pending) {
      if (!p.settled && p.endMs + this.tolMs + EPS_MS < t) {
        this.fail(`call still blocked at ${fmtS(p.endMs + this.tolMs)}; expected it to return at ${fmtS(p.endMs)}`, p.line);
      }
    }
  }

  private checkPending(): void {
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (p.settled) {
        if (Math.abs(p.settledAt - p.endMs) > this.tolMs + EPS_MS) {
          this.fail(`${p.line.action.kind === 'call' ? p.line.action.call.name : ''}() returned ${p.result} at ${fmtS(p.settledAt)}, expected to return at ${fmtS(p.endMs)}`, p.line);
        }
        this.checkResult(p.line, p.result, p.after?.(p.value) ?? null);
        this.pending.splice(i--, 1);
      } else if (this.now > p.endMs + this.tolMs + EPS_MS) {
        this.fail(`call still blocked at ${fmtS(this.now)}; expected it to return at ${fmtS(p.endMs)}`, p.line);
      }
    }
  }

  // ------------------------------------------------------------------ packets

  private readSent(b: Uint8Array): SentSeg {
    if (b.length > 0 && b[0]! >> 4 === 6) return this.readSent6(b);
    const ip = new Ipv4Packet().reset(b, 0, b.length);
    const bad = ip.checkLen();
    if (bad !== null) this.fail(`the stack sent a malformed IPv4 packet (${bad})`);
    if (!ip.verifyChecksum()) this.fail('the stack sent an IPv4 packet with a bad header checksum');
    if (ip.protocol() !== IP_PROTO_TCP) this.fail(`the stack sent a non-TCP packet: ${ip.toString()}`);
    const p = new TcpPacket().reset(b, ip.payloadOffset(), ip.payloadLen());
    const r = parseTcp(p, ip.src(), ip.dst());
    if (typeof r === 'string') this.fail(`the stack sent a bad TCP segment (${r}): ${ip.toString()}`);
    return {
      src: ip.src(), dst: ip.dst(), sport: r.srcPort, dport: r.dstPort, seq: r.seq, ack: r.ack, flags: r.flags, win: r.window,
      payload: r.payload.slice(), options: decodeOptions(p.b, p.o + 20, p.headerLen() - 20, this.remoteIsn), raw: p.toString(ip.src(), ip.dst()),
      ecn: ip.tos() & 3,
      tos: ip.tos(),
    };
  }

  private readSent6(b: Uint8Array): SentSeg {
    const ip = new Ipv6Packet().reset(b, 0, b.length);
    const bad = ip.checkLen();
    if (bad !== null) this.fail(`the stack sent a malformed IPv6 packet (${bad})`);
    if (ip.nextHeader() !== IP_PROTO_TCP) this.fail(`the stack sent a non-TCP packet: ${ip.toString()}`);
    const p = new TcpPacket().reset(b, ip.payloadOffset(), ip.payloadLen());
    const r = parseTcp(p, ip.src(), ip.dst());
    if (typeof r === 'string') this.fail(`the stack sent a bad TCP segment (${r}): ${ip.toString()}`);
    return {
      src: ip.src(), dst: ip.dst(), sport: r.srcPort, dport: r.dstPort, seq: r.seq, ack: r.ack, flags: r.flags, win: r.window,
      payload: r.payload.slice(), options: decodeOptions(p.b, p.o + 20, p.headerLen() - 20, this.remoteIsn), raw: p.toString(ip.src(), ip.dst()),
      ecn: ip.trafficClass() & 3,
      tos: ip.trafficClass(),
    };
  }

  /**
   * A RST for no connection answering a segment without ACK is <SEQ=0><ACK=...><CTL=RST,ACK>
   * (RFC 9293 §3.10.7.1): its sequence number 0 is absolute, and is written as 0.
   */
  private isAbsoluteZeroRst(s: SentSeg, seg?: SegSpec): boolean {
    return (s.flags & RST) !== 0 && s.seq === 0 && (seg === undefined || seg.seq === 0);
  }

  private localRel(seq: number): number {
    return (seq - (this.localIsn ?? 0)) | 0;
  }

  private remoteRel(seq: number): number {
    return (seq - this.remoteIsn) | 0;
  }

  /** `> S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3>` with relative numbers. */
  private oneLine(s: SentSeg): string {
    const rel = this.isAbsoluteZeroRst(s) ? 0 : this.localRel(s.seq);
    const len = s.payload.length;
    const ack = s.flags & ACK ? ` ack ${this.remoteRel(s.ack)}` : '';
    const opts = s.options.length > 0 ? ` <${s.options.join(',')}>` : '';
    const ip = s.tos & ~3 ? `[tos 0x${s.tos.toString(16)}] ` : s.ecn !== 0 ? `${ecnMark(s.ecn)} ` : '';
    return `> ${ip}${flagText(s.flags)} ${rel}:${rel + len}(${len})${ack} win ${s.win}${opts}   [${s.raw}]`;
  }

  private buildInbound(seg: SegSpec): Uint8Array {
    const opts = seg.options === undefined || seg.options === 'any' ? new Uint8Array(0) : encodeOptions(seg.options, this.iss, (ecr) => (ecr !== 0 && this.tsOffset !== null ? (ecr + this.tsOffset) >>> 0 : ecr));
    const hl = 20 + opts.length;
    const tcpLen = hl + seg.len;
    const six = typeof this.remote !== 'number';
    const o = six ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
    const b = new Uint8Array(o + tcpLen);
    const seq = (this.remoteIsn + seg.seq) >>> 0;
    const ack = seg.ack === undefined ? 0 : ((this.localIsn ?? 0) + seg.ack) >>> 0;
    const w16 = (at: number, v: number): void => {
      b[at] = (v >>> 8) & 255;
      b[at + 1] = v & 255;
    };
    const w32 = (at: number, v: number): void => {
      w16(at, v >>> 16);
      w16(at + 2, v & 0xffff);
    };
    w16(o, this.remotePort);
    w16(o + 2, this.localPort);
    w32(o + 4, seq);
    w32(o + 8, ack);
    b[o + 12] = (hl / 4) << 4;
    b[o + 13] = seg.flags;
    w16(o + 14, seg.win ?? 65535);
    b.set(opts, o + 20);
    // Data: the remote's stream pattern, placed by sequence number (the SYN takes one).
    const dataRel = seg.seq + (seg.flags & SYN ? 1 : 0);
    for (let i = 0; i < seg.len; i++) b[o + hl + i] = inByte(dataRel - 1 + i);
    w16(o + 16, finishChecksum(sumBytes(b, o, tcpLen, pseudoHeaderSum(this.remote, this.local, IP_PROTO_TCP, tcpLen))));
    if (typeof this.remote === 'number') writeIpv4Header(b, 0, this.remote, this.local as number, IP_PROTO_TCP, 64, seg.tos ?? seg.ecn ?? 0, this.ident++ & 0xffff, true, false, 0, tcpLen);
    else writeIpv6Header(b, 0, this.remote, this.local as typeof this.remote, IP_PROTO_TCP, 64, seg.tos ?? seg.ecn ?? 0, 0, tcpLen);
    // The src parser must read what we built as we meant it.
    const check = parseTcp(new TcpPacket().reset(b, o, tcpLen), this.remote, this.local);
    if (typeof check === 'string') this.fail(`runner bug: built an unparsable segment (${check})`);
    return b;
  }

  private compare(seg: SegSpec, s: SentSeg): string | null {
    const diffs: string[] = [];
    if (!ipEqual(s.src, this.local) || !ipEqual(s.dst, this.remote)) diffs.push(`addresses ${formatIp(s.src)} > ${formatIp(s.dst)}`);
    if (!this.localPortKnown) {
      this.localPort = s.sport;
      this.localPortKnown = true;
    }
    if (s.sport !== this.localPort || s.dport !== this.remotePort) diffs.push(`ports ${s.sport} > ${s.dport}, expected ${this.localPort} > ${this.remotePort}`);
    if (s.flags !== seg.flags) diffs.push(`flags ${flagText(s.flags)}, expected ${flagText(seg.flags)}`);
    if (this.localRel(s.seq) !== (seg.seq | 0) && !this.isAbsoluteZeroRst(s, seg)) diffs.push(`seq ${this.localRel(s.seq)}, expected ${seg.seq}`);
    if (s.payload.length !== seg.len) diffs.push(`length ${s.payload.length}, expected ${seg.len}`);
    if (seg.ack !== undefined && s.flags & ACK && this.remoteRel(s.ack) !== (seg.ack | 0)) diffs.push(`ack ${this.remoteRel(s.ack)}, expected ${seg.ack}`);
    if (seg.win !== undefined && s.win !== seg.win) diffs.push(`win ${s.win}, expected ${seg.win}`);
    if (seg.ecn !== undefined && s.ecn !== seg.ecn) diffs.push(`ECN field ${ecnMark(s.ecn)}, expected ${ecnMark(seg.ecn)}`);
    if (seg.ectAny && s.ecn !== 1 && s.ecn !== 2) diffs.push(`ECN field ${ecnMark(s.ecn)}, expected [ect01]`);
    if (seg.tos !== undefined && s.tos !== seg.tos) diffs.push(`tos 0x${s.tos.toString(16)}, expected 0x${seg.tos.toString(16)}`);
    if (Array.isArray(seg.options)) {
      const want = seg.options.map(optText);
      if (this.script.header.strict) {
        // Byte for byte: the same options in the same order with the same padding.
        if (want.join(',') !== s.options.join(',')) diffs.push(`options <${s.options.join(',')}>, expected <${want.join(',')}>`);
      } else {
        const d = this.compareOptionValues(seg.options, s.options);
        if (d) diffs.push(d);
      }
    }
    if (diffs.length === 0 && s.payload.length > 0 && this.localIsn !== null) {
      const start = this.localRel(s.seq) + (s.flags & SYN ? 1 : 0) - 1;
      if (start < 0 || start + s.payload.length > this.writeOffset) {
        diffs.push(`payload bytes ${start}..${start + s.payload.length} of our stream, but only ${this.writeOffset} were written`);
      } else {
        for (let i = 0; i < s.payload.length; i++) {
          if (s.payload[i] !== outByte(start + i)) {
            diffs.push(`payload byte ${i} (stream offset ${start + i}) is ${s.payload[i]}, written as ${outByte(start + i)}`);
            break;
          }
        }
      }
    }
    return diffs.length > 0 ? diffs.join('; ') : null;
  }

  /**
   * Options by value (packetdrill without --strict_segments): the same set of options with
   * the same values, whatever the order and padding. Our TSval is not compared unless the
   * script gives its clock (--tcp_ts_tick_usecs); the first TSval seen fixes the offset
   * between the script's clock and ours.
   */
  private compareOptionValues(want: OptSpec[], got: string[]): string | null {
    const ts = want.find((o): o is Extract<OptSpec, { kind: 'TS' }> => o.kind === 'TS');
    const gotTs = got.find((o) => o.startsWith('TS '));
    if (ts && gotTs) {
      const val = Number(/TS val (\d+)/.exec(gotTs)![1]);
      if (this.tsOffset === null) this.tsOffset = (val - ts.val) | 0;
    }
    const tick = this.script.header.tsTickUs;
    const norm = (o: string): string => {
      const m = /^TS val (\d+) ecr (\d+)$/.exec(o);
      if (!m) return o;
      const val = tick !== undefined ? String((Number(m[1]) - (this.tsOffset ?? 0)) >>> 0) : '*';
      return `TS val ${val} ecr ${m[2]}`;
    };
    const drop = (o: string): boolean => o === 'nop' || o === 'eol';
    const a = want.map(optText).filter((o) => !drop(o));
    const b = got.filter((o) => !drop(o)).map(norm).sort();
    // The script's TS val is its own clock: compared only when the script gives its tick.
    const a2 = (tick !== undefined ? a : a.map((o) => o.replace(/^TS val \d+/, 'TS val *'))).sort();
    if (a2.join(',') === b.join(',')) return null;
    return `options <${got.join(',')}>, expected <${want.map(optText).join(',')}> (compared by value)`;
  }

  /**
   * packetdrill's TSO/GSO aggregation: segments sent at one instant, contiguous, with the
   * same ACK, may match one `>` line covering them all (unless --strict_segments).
   */
  private aggregate(first: Outbound, s: SentSeg, want: number): SentSeg {
    if (this.script.header.strict || s.payload.length >= want || s.payload.length === 0 || s.flags & (SYN | RST)) return s;
    const parts = [s.payload];
    let total = s.payload.length;
    let flags = s.flags;
    let n = 1;
    while (total < want && this.outq.length > 0 && this.outq[0]!.at === first.at && !(flags & FIN)) {
      const next = this.readSent(this.outq[0]!.bytes);
      if (next.seq !== ((s.seq + total) >>> 0) || next.ack !== s.ack || next.flags & (SYN | RST) || next.payload.length === 0) break;
      this.outq.shift();
      parts.push(next.payload);
      total += next.payload.length;
      flags |= next.flags;
      n++;
    }
    if (n === 1) return s;
    const payload = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      payload.set(p, off);
      off += p.length;
    }
    return { ...s, flags, payload, raw: `${n} segments sent together; the first: ${s.raw}` };
  }

  private async expectOutbound(line: Line, seg: SegSpec, t: number, until: number): Promise<void> {
    if (this.outq.length === 0 && until + this.tolMs > this.now) await this.advanceTo(until + this.tolMs);
    if (this.outq.length === 0) {
      // Look further ahead, only to say when (if ever) it went out.
      const horizon = this.now + 600_000;
      while (this.outq.length === 0) {
        const next = this.stack.pollAt();
        if (next === undefined || next > horizon) break;
        this.now = Math.max(this.now, next);
        this.stack.poll(this.now);
        await this.settle();
        this.collect();
      }
      const late = this.outq[0];
      this.fail(
        `expected outbound packet at ${until > t ? `${fmtS(t)}~${fmtS(until)}` : fmtS(t)}, none sent${late ? `; the next one went out at ${fmtS(late.at)}` : ''}` +
          `\n  expected: > ${line.text.replace(/^\S+\s+>\s*/, '')}` +
          (late ? `\n  actual:   ${this.oneLine(this.readSent(late.bytes))}` : ''),
      );
    }
    const out = this.outq.shift()!;
    const s = this.aggregate(out, this.readSent(out.bytes), seg.len);
    const diff = this.compare(seg, s);
    const early = out.at < t - this.tolMs - EPS_MS;
    const late = out.at > until + this.tolMs + EPS_MS;
    const timing = early || late ? `sent at ${fmtS(out.at)}, expected at ${until > t ? `${fmtS(t)}~${fmtS(until)}` : fmtS(t)}` : null;
    if (diff || timing) {
      this.fail(
        `outbound packet does not match: ${[timing, diff].filter(Boolean).join('; ')}` +
          `\n  expected: > ${line.text.replace(/^\S+\s+>\s*/, '')}` +
          `\n  actual:   ${this.oneLine(s)}`,
      );
    }
    this.note(`matched line ${line.lineNo}`);
  }

  private assertNoOutbound(line: Line): void {
    const out = this.outq[0];
    if (out) {
      this.fail(
        `unexpected outbound packet (sent at ${fmtS(out.at)}, before this line)` +
          `\n  actual:   ${this.oneLine(this.readSent(out.bytes))}`,
        line,
      );
    }
  }

  // ------------------------------------------------------------------ socket calls

  private sock(fd: number): StreamSocket {
    return this.api.get(fd) as StreamSocket;
  }

  private fdArg(call: CallSpec, i = 0): number {
    const v = Number(call.args[i]);
    if (!Number.isInteger(v)) this.fail(`argument ${i + 1} of ${call.name}() must be a descriptor`);
    return v;
  }

  private numArg(call: CallSpec, i: number): number {
    const raw = call.args[i];
    const v = Number(raw);
    if (raw === undefined || !Number.isFinite(v)) this.fail(`argument ${i + 1} of ${call.name}() must be a number`);
    return v;
  }

  private sockoptValue(call: CallSpec): number | { onoff: boolean; linger: number } {
    const raw = (call.args[3] ?? '').trim();
    const arr = /^\[(.*)\]$/.exec(raw);
    if (arr) return Number(arr[1]);
    const obj = /^\{(.*)\}$/.exec(raw);
    if (obj) {
      const f: Record<string, number> = {};
      for (const kv of obj[1]!.split(',')) {
        const [k, v] = kv.split('=').map((x) => x.trim());
        f[k!.replace(/^l_/, '')] = Number(v);
      }
      return { onoff: (f.onoff ?? 0) !== 0, linger: f.linger ?? 0 };
    }
    return this.fail(`cannot read option value "${raw}"`);
  }

  private level(call: CallSpec): [number, number] {
    const level = LEVELS[call.args[1] ?? ''];
    const opt = OPTIONS[call.args[2] ?? ''];
    if (level === undefined || opt === undefined) this.fail(`unknown option ${call.args[1]}/${call.args[2]}`);
    return [level!, opt!];
  }

  /** Starts a call; returns its outcome as a promise (blocking calls resolve later). */
  private startCall(call: CallSpec): { promise: Promise<unknown>; after?: (v: unknown) => string | null } {
    const n = call.name;
    const wrap = <T>(f: () => T | Promise<T>): Promise<unknown> => {
      try {
        return Promise.resolve(f());
      } catch (e) {
        return Promise.reject(e);
      }
    };
    switch (n) {
      case 'socket': {
        const type = call.args[1] ?? '';
        if (!type.includes('SOCK_STREAM')) this.fail('only SOCK_STREAM sockets are supported');
        return {
          promise: wrap(() => {
            // packetdrill in an IPv6 mode makes the script's AF_INET sockets AF_INET6.
            const s = this.api.socket(this.ipVersion === 'ipv4' ? AF_INET : AF_INET6, SOCK_STREAM);
            if (type.includes('SOCK_NONBLOCK')) s.setblocking(false);
            return s.fd;
          }),
        };
      }
      case 'fcntl': {
        const fd = this.fdArg(call);
        if (call.args[1] === 'F_GETFL') {
          // O_RDWR, with O_NONBLOCK (Linux's 04000) when the socket does not block.
          return { promise: wrap(() => 2 | (this.sock(fd).getblocking() ? 0 : 0o4000)) };
        }
        if (call.args[1] !== 'F_SETFL') this.fail('only fcntl(fd, F_GETFL) and fcntl(fd, F_SETFL, flags) are supported');
        return { promise: wrap(() => (this.sock(fd).setblocking(!(call.args[2] ?? '').includes('O_NONBLOCK')), 0)) };
      }
      case 'setsockopt': {
        const fd = this.fdArg(call);
        const [level, opt] = this.level(call);
        const v = this.sockoptValue(call);
        return { promise: wrap(() => (this.sock(fd).setsockopt(level, opt, v), 0)) };
      }
      case 'getsockopt': {
        const fd = this.fdArg(call);
        const [level, opt] = this.level(call);
        const raw = /^\[(.*)\]$/.exec((call.args[3] ?? '').trim())?.[1]?.trim() ?? '';
        const want = /^E[A-Z]+$/.test(raw) ? (osConstants.errno as Record<string, number>)[raw] ?? NaN : Number(raw);
        return {
          promise: wrap(() => {
            const got = this.sock(fd).getsockopt(level, opt);
            if (typeof got !== 'number' || got !== want) {
              this.fail(`getsockopt(${call.args.slice(0, 3).join(', ')}) gave ${JSON.stringify(got)}, expected ${raw} (${want})`);
            }
            return 0;
          }),
        };
      }
      case 'bind': {
        const fd = this.fdArg(call);
        return {
          promise: wrap(() => {
            this.sock(fd).bind(['', SERVER_PORT]);
            this.localPort = SERVER_PORT;
            this.localPortKnown = true;
            return 0;
          }),
        };
      }
      case 'listen': {
        const fd = this.fdArg(call);
        const backlog = this.numArg(call, 1);
        return { promise: wrap(() => (this.sock(fd).listen(backlog), 0)) };
      }
      case 'accept': {
        const fd = this.fdArg(call);
        return {
          promise: wrap(async () => {
            const [s] = await this.sock(fd).accept();
            if (s.conn) {
              this.conns.set(s.fd, s.conn);
              this.lastConn = s.conn;
            }
            return s.fd;
          }),
        };
      }
      case 'connect': {
        const fd = this.fdArg(call);
        this.remotePort = SERVER_PORT;
        return {
          promise: wrap(() => {
            const s = this.sock(fd);
            const host = this.ipVersion === 'ipv4-mapped-ipv6' ? `::ffff:${formatIp(REMOTE_ADDR)}` : formatIp(this.remote);
            const p = s.connect([host, SERVER_PORT]);
            if (s.conn) {
              this.conns.set(fd, s.conn);
              this.lastConn = s.conn;
            }
            return p.then(() => 0);
          }),
        };
      }
      case 'write':
      case 'send':
      case 'sendto': {
        const fd = this.fdArg(call);
        const len = this.numArg(call, 2);
        const start = this.writeOffset;
        const data = new Uint8Array(len);
        for (let i = 0; i < len; i++) data[i] = outByte(start + i);
        return {
          promise: wrap(async () => {
            const s = this.sock(fd);
            if (!s.getblocking()) {
              // Non-blocking: what fits is queued (maybe less), else EAGAIN.
              const sent = await s.send(data);
              this.writeOffset = start + sent;
              return sent;
            }
            // A blocking write() returns once everything is queued (POSIX), so it is
            // sendall(); the bytes are known in advance, so they count as written now.
            this.writeOffset = start + len;
            await s.sendall(data);
            return len;
          }),
        };
      }
      case 'ioctl': {
        // ioctl(fd, SIOCINQ, [N]) / SIOCOUTQ: bytes not yet read / not yet acknowledged.
        const fd = this.fdArg(call);
        const what = call.args[1];
        const want = Number(/^\[(.*)\]$/.exec((call.args[2] ?? '').trim())?.[1]);
        if (what !== 'SIOCINQ' && what !== 'FIONREAD' && what !== 'SIOCOUTQ' && what !== 'TIOCOUTQ') this.fail(`unsupported ioctl ${what}`);
        return {
          promise: wrap(() => {
            const c = this.conns.get(fd) ?? this.sock(fd).conn;
            if (!c) this.fail(`fd ${fd} has no connection`);
            const got = what === 'SIOCOUTQ' || what === 'TIOCOUTQ' ? c!.snd.buf.length : c!.readable();
            if (got !== want) this.fail(`ioctl(${fd}, ${what}) gave ${got}, expected ${want}`);
            return 0;
          }),
        };
      }
      case 'read':
      case 'recv':
      case 'recvfrom': {
        const fd = this.fdArg(call);
        const len = this.numArg(call, 2);
        return {
          promise: wrap(() => this.sock(fd).recv(len)),
          after: (v) => {
            if (!(v instanceof Uint8Array)) return null;
            const start = this.readOffset;
            this.readOffset += v.length;
            for (let i = 0; i < v.length; i++) {
              if (v[i] !== inByte(start + i)) return `read() byte ${i} (stream offset ${start + i}) is ${v[i]}, the peer sent ${inByte(start + i)}`;
            }
            return null;
          },
        };
      }
      case 'shutdown': {
        const fd = this.fdArg(call);
        const how = SHUT[call.args[1] ?? ''];
        if (how === undefined) this.fail(`unknown shutdown mode ${call.args[1]}`);
        return { promise: wrap(() => (this.sock(fd).shutdown(how!), 0)) };
      }
      case 'close': {
        const fd = this.fdArg(call);
        return {
          promise: wrap(() => {
            const s = this.sock(fd);
            if (s.conn) this.conns.set(fd, s.conn);
            s.close();
            return 0;
          }),
        };
      }
      case 'tcp_state': {
        const fd = this.fdArg(call);
        return {
          promise: wrap(() => {
            const c = this.conns.get(fd) ?? this.sock(fd).conn;
            if (!c) {
              if (this.sock(fd).listener) return 'LISTEN';
              this.fail(`fd ${fd} has no connection`);
            }
            return c!.state;
          }),
        };
      }
      default:
        return this.fail(`unsupported call ${n}()`);
    }
  }

  /** Turns a settled value or error into the script's notation. */
  private outcome(value: unknown, error: unknown): CallOutcome {
    if (error !== undefined) {
      if (error instanceof SocketError) return { value: undefined, text: `-1 ${error.code}` };
      if (error instanceof ScriptFailure) throw error;
      this.fail(`the call threw something that is not a SocketError: ${error instanceof Error ? error.stack : String(error)}`);
    }
    if (value instanceof Uint8Array) return { value, text: String(value.length) };
    return { value, text: String(value) };
  }

  private checkResult(line: Line, got: string, extra: string | null): void {
    const call = (line.action as { call: CallSpec }).call;
    const want = call.ret.errno ? `${call.ret.value} ${call.ret.errno}` : call.ret.value;
    // Numbers compare by value (packetdrill writes flags in hex: "= 0x802").
    const same = got === want || (!call.ret.errno && /^(0x[0-9a-f]+|-?\d+)$/i.test(call.ret.value) && Number(call.ret.value) === Number(got));
    if (!same) this.fail(`${call.name}() returned ${got}, expected ${want}`, line);
    if (extra) this.fail(extra, line);
  }

  private async runCall(line: Line, call: CallSpec, endMs: number | null): Promise<void> {
    const { promise, after } = this.startCall(call);
    const p: Pending = { line, endMs: endMs ?? this.now, settled: false, settledAt: -1, result: '', after };
    let failure: unknown = null;
    promise.then(
      (v) => {
        const o = this.outcome(v, undefined);
        Object.assign(p, { settled: true, settledAt: this.now, result: o.text, value: o.value });
      },
      (e) => {
        try {
          const o = this.outcome(undefined, e);
          Object.assign(p, { settled: true, settledAt: this.now, result: o.text });
        } catch (f) {
          failure = f;
          Object.assign(p, { settled: true, settledAt: this.now, result: 'an exception' });
        }
      },
    );
    this.note(`call ${call.name}(${call.args.join(', ')})`);
    // The runtime polls the stack after a socket call (host.wake()); so do we.
    await this.settle();
    if (failure) throw failure;
    this.stack.poll(this.now);
    if (endMs === null) {
      await this.settle();
      if (failure) throw failure;
      if (!p.settled) this.fail(`${call.name}() blocked; write a blocking call as START...END`);
      this.checkResult(line, p.result, p.after?.(p.value) ?? null);
      await this.afterStep();
    } else {
      this.pending.push(p);
      await this.afterStep();
    }
    if (failure) throw failure;
  }

  // ------------------------------------------------------------------ the script

  private timeOf(t: { rel: boolean; us: number }, baseUs: number): number {
    return t.rel ? baseUs + t.us : t.us;
  }

  async run(): Promise<void> {
    for (const line of this.script.lines) {
      this.line = line;
      if (this.prelude.has(line)) continue;
      // Relative times count from the previous line (packetdrill: from when it happened).
      const baseUs = this.lastStartUs;
      const startUs = this.timeOf(line.start, baseUs);
      const t = startUs / 1000;
      if (t + EPS_MS < this.now) this.fail(`time goes backwards (${fmtS(t)} after ${fmtS(this.now)})`);
      this.lastStartUs = startUs;
      await this.advanceTo(t);
      const a = line.action;
      if (a.kind === 'outbound') {
        // `A~B`: any time from A to B; B is relative like A, from the same point.
        const until = line.until ? this.timeOf({ rel: line.until.rel || line.start.rel, us: line.until.us }, line.start.rel ? baseUs : startUs) / 1000 : t;
        await this.expectOutbound(line, a.seg, t, until);
        continue;
      }
      if (!this.lenient) this.assertNoOutbound(line);
      switch (a.kind) {
        case 'inbound': {
          const b = this.buildInbound(a.seg);
          this.note(`inject line ${line.lineNo}: ${line.text}`);
          this.link.inject(b);
          this.link.deliver();
          await this.afterStep();
          break;
        }
        case 'shell': {
          // As a sysctl on Linux: the stack's settings change for what reads them from now on.
          const out: ShellOutcome = { tcp: {}, reports: [] };
          shellCommand(a.command, this.scriptDir, out);
          Object.assign(this.stack.tcp.config, out.tcp);
          this.reports.push(...out.reports);
          this.note(`shell: ${a.command}`);
          break;
        }
        case 'asserts': {
          const c = this.lastConn;
          if (!c) this.fail('%{ }% needs a connection: accept() or connect() one first');
          let failed: string | null;
          try {
            failed = runAsserts(a.code, c!, this.vars);
          } catch (e) {
            return this.fail((e as Error).message);
          }
          if (failed) this.fail(failed);
          this.note(`asserts of line ${line.lineNo} hold`);
          break;
        }
        case 'call': {
          // END of `START...END`: relative ENDs count from the same point as a relative START
          // (packetdrill's "+.1...0.2": starts 0.1 s after the previous line, returns 0.2 s after it).
          const endMs = line.end ? this.timeOf({ rel: line.end.rel || line.start.rel, us: line.end.us }, line.start.rel ? baseUs : startUs) / 1000 : null;
          await this.runCall(line, a.call, endMs);
          break;
        }
      }
    }
    this.line = null;
    // Blocked calls must still return when the script said.
    for (const p of [...this.pending]) await this.advanceTo(p.endMs + this.tolMs);
    await this.afterStep();
    for (const p of this.pending) this.fail(`call still blocked at the end of the script; expected it to return at ${fmtS(p.endMs)}`, p.line);
    const out = this.outq[0];
    if (out && !this.lenient) this.fail(`unexpected outbound packet at the end of the script (sent at ${fmtS(out.at)})\n  actual:   ${this.oneLine(this.readSent(out.bytes))}`);
  }
}

function fmtS(ms: number): string {
  return `${+(ms / 1000).toFixed(6)} s`;
}

/** Parses and runs a script; throws ScriptFailure / ScriptError on the first mismatch. */
export async function runScriptText(name: string, text: string): Promise<void> {
  await new Runner(parseScript(name, text)).run();
}

/** Parses and runs one .pkt file. */
export async function runScriptFile(path: string, ipVersion?: IpVersion): Promise<Runner> {
  const r = new Runner(parseScript(basename(path), readFileSync(path, 'utf8')), dirname(path), ipVersion ? { ...OUR_SCRIPTS, ipVersion } : OUR_SCRIPTS);
  await r.run();
  return r;
}

/** `[ce]` and the like for an IP ECN field. */
function ecnMark(v: number): string {
  return `[${Object.keys(ECN_MARKS).find((k) => ECN_MARKS[k] === v) ?? v}]`;
}
