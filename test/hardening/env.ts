/**
 * The hardening tests' world: two simulated hosts on one wire and one manual clock.
 * Host b is the stack under attack: it runs TCP echo and UDP echo on port 7 (the socket
 * facade's own services). Host a is the clean peer: it holds an established TCP
 * connection to b's echo (`cli`) and a UDP socket, and checks after every attack that b
 * still serves (`assertServing`). Hostile packets are put straight on b's end of the wire
 * (`inject`), as if a third party (or a spoofer) had sent them.
 *
 * Packet builders here write every header field by hand and compute checksums with the
 * naive reference of test/helpers, so that a lie in any field (lengths, offsets,
 * checksums) can be told exactly, independently of the src emitters.
 */
import { expect } from 'vitest';
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../../src/ip/address.js';
import type { Medium } from '../../src/link/link-device.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { tcpEcho } from '../../src/services/tcp-services.js';
import { udpEcho } from '../../src/services/udp-services.js';
import { SimNetwork, type SimHost } from '../../src/sim/sim-network.js';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM } from '../../src/socket/constants.js';
import type { DgramSocket } from '../../src/socket/dgram-socket.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { naiveChecksum, toHex } from '../helpers/packets.js';

export const A_ADDR: Ipv4Addr = parseIpv4('10.7.0.1');
export const B_ADDR: Ipv4Addr = parseIpv4('10.7.0.2');
/** An address on the subnet that no host uses (a spoofer's favourite). */
export const STRANGER: Ipv4Addr = parseIpv4('10.7.0.77');
export const SUBNET_BROADCAST: Ipv4Addr = parseIpv4('10.7.0.255');
export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x01]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x02]);
export const MAC_OTHER = new Uint8Array([0x02, 0, 0, 0, 0, 0x99]);
export const ECHO_PORT = 7;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

// ------------------------------------------------------------------ byte helpers

export function u16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}

export function u32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

export function r16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function r32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

// ------------------------------------------------------------------ packet builders

export interface IpOpts {
  src?: Ipv4Addr;
  dst?: Ipv4Addr;
  protocol: number;
  ttl?: number;
  ident?: number;
  dontFrag?: boolean;
  moreFrags?: boolean;
  /** In bytes (a multiple of 8; the field keeps offset/8). */
  fragOffset?: number;
  /** Options bytes (padded with zeros, i.e. EOL, to a multiple of 4). */
  options?: Uint8Array;
  /** Lies, written after everything else: version nibble, IHL nibble, Total Length. */
  version?: number;
  ihl?: number;
  totalLen?: number;
  /** 'good' (default), 'bad' (a valid checksum with one bit flipped) or a raw value. */
  checksum?: 'good' | 'bad' | number;
}

/** One IPv4 datagram (or fragment) with every header field under the caller's control. */
export function ipPacket(o: IpOpts, payload: Uint8Array): Uint8Array {
  const optLen = o.options ? (o.options.length + 3) & ~3 : 0;
  const hl = 20 + optLen;
  const b = new Uint8Array(hl + payload.length);
  b[0] = ((o.version ?? 4) << 4) | ((o.ihl ?? hl / 4) & 15);
  b[1] = 0;
  u16(b, 2, o.totalLen ?? hl + payload.length);
  u16(b, 4, o.ident ?? 0x1234);
  u16(b, 6, (o.dontFrag ? 0x4000 : 0) | (o.moreFrags ? 0x2000 : 0) | (((o.fragOffset ?? 0) >>> 3) & 0x1fff));
  b[8] = o.ttl ?? 64;
  b[9] = o.protocol;
  u32(b, 12, o.src ?? A_ADDR);
  u32(b, 16, o.dst ?? B_ADDR);
  if (o.options) b.set(o.options, 20);
  b.set(payload, hl);
  // The checksum covers the header as IHL says, when that much is there.
  const covered = Math.min(((b[0]! & 15) * 4) || 20, b.length);
  const good = naiveChecksum(b, 0, covered);
  const c = o.checksum ?? 'good';
  u16(b, 10, c === 'good' ? good : c === 'bad' ? good ^ 0x0100 : c);
  return b;
}

/** The pseudo-header sum's bytes (RFC 768 / RFC 9293 §3.1) in front of `segment`, for the reference checksum. */
export function transportChecksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, segment: Uint8Array, length = segment.length): number {
  const ph = new Uint8Array(12);
  u32(ph, 0, src);
  u32(ph, 4, dst);
  ph[9] = protocol;
  u16(ph, 10, length);
  return naiveChecksum(concat(ph, segment.subarray(0, length)));
}

export interface TcpOpts {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  urgent?: number;
  /** Raw option bytes (padded with zeros to a multiple of 4 unless `dataOffset` lies). */
  options?: Uint8Array;
  /** A lie in the Data Offset field (in 32-bit words). */
  dataOffset?: number;
  payload?: Uint8Array;
  src?: Ipv4Addr;
  dst?: Ipv4Addr;
  checksum?: 'good' | 'bad' | number;
}

/** A TCP segment (no IP header), checksummed over the pseudo-header of src > dst. */
export function tcpSegment(o: TcpOpts): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const optLen = (opt.length + 3) & ~3;
  const hl = 20 + optLen;
  const payload = o.payload ?? new Uint8Array(0);
  const b = new Uint8Array(hl + payload.length);
  u16(b, 0, o.sport);
  u16(b, 2, o.dport);
  u32(b, 4, o.seq >>> 0);
  u32(b, 8, (o.ack ?? 0) >>> 0);
  b[12] = ((o.dataOffset ?? hl / 4) & 15) << 4;
  b[13] = o.flags & 0xff;
  u16(b, 14, o.win ?? 65535);
  u16(b, 18, o.urgent ?? 0);
  b.set(opt, 20);
  b.set(payload, hl);
  const good = transportChecksum(o.src ?? A_ADDR, o.dst ?? B_ADDR, PROTO_TCP, b);
  const c = o.checksum ?? 'good';
  u16(b, 16, c === 'good' ? good : c === 'bad' ? good ^ 0x0001 : c);
  return b;
}

/** A whole IPv4 datagram carrying a TCP segment. */
export function tcpPacket(o: TcpOpts, ip: Partial<IpOpts> = {}): Uint8Array {
  const src = o.src ?? ip.src ?? A_ADDR;
  const dst = o.dst ?? ip.dst ?? B_ADDR;
  return ipPacket({ ...ip, protocol: PROTO_TCP, src, dst }, tcpSegment({ ...o, src, dst }));
}

export interface UdpOpts {
  sport: number;
  dport: number;
  /** A lie in the Length field. */
  length?: number;
  /** 'good' (over Length bytes, as RFC 768 says), 'bad', 'none' (zero) or a raw value. */
  checksum?: 'good' | 'bad' | 'none' | number;
  src?: Ipv4Addr;
  dst?: Ipv4Addr;
}

export function udpDatagram(o: UdpOpts, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  u16(b, 0, o.sport);
  u16(b, 2, o.dport);
  const len = o.length ?? b.length;
  u16(b, 4, len);
  b.set(payload, 8);
  const covered = Math.min(len, b.length);
  let good = transportChecksum(o.src ?? A_ADDR, o.dst ?? B_ADDR, PROTO_UDP, b, covered);
  // The pseudo-header says `len`, even when fewer bytes are there.
  if (covered !== len) {
    const ph = new Uint8Array(12);
    u32(ph, 0, o.src ?? A_ADDR);
    u32(ph, 4, o.dst ?? B_ADDR);
    ph[9] = PROTO_UDP;
    u16(ph, 10, len);
    good = naiveChecksum(concat(ph, b.subarray(0, covered)));
  }
  if (good === 0) good = 0xffff;
  const c = o.checksum ?? 'good';
  u16(b, 6, c === 'good' ? good : c === 'bad' ? good ^ 0x0001 : c === 'none' ? 0 : c);
  return b;
}

export function udpPacket(o: UdpOpts, payload: Uint8Array, ip: Partial<IpOpts> = {}): Uint8Array {
  const src = o.src ?? ip.src ?? A_ADDR;
  const dst = o.dst ?? ip.dst ?? B_ADDR;
  return ipPacket({ ...ip, protocol: PROTO_UDP, src, dst }, udpDatagram({ ...o, src, dst }, payload));
}

/** An ICMP message: type, code, the 4 "rest of header" bytes, data; checksum good unless told. */
export function icmpMessage(type: number, code: number, rest: number, data: Uint8Array, checksum: 'good' | 'bad' = 'good'): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b[0] = type;
  b[1] = code;
  u32(b, 4, rest);
  b.set(data, 8);
  const good = naiveChecksum(b);
  u16(b, 2, checksum === 'good' ? good : good ^ 0x0001);
  return b;
}

export function icmpPacket(type: number, code: number, rest: number, data: Uint8Array, ip: Partial<IpOpts> = {}, checksum: 'good' | 'bad' = 'good'): Uint8Array {
  return ipPacket({ ...ip, protocol: PROTO_ICMP }, icmpMessage(type, code, rest, data, checksum));
}

/** An Ethernet II frame around `payload`. */
export function ethFrame(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(14 + payload.length);
  b.set(dst.subarray(0, 6), 0);
  b.set(src.subarray(0, 6), 6);
  u16(b, 12, etherType);
  b.set(payload, 14);
  return b;
}

// ------------------------------------------------------------------ the simulated world

export interface Env {
  medium: Medium;
  net: SimNetwork;
  a: SimHost;
  b: SimHost;
  /** a's socket, connected to b's TCP echo. */
  cli: StreamSocket;
  /** a's UDP socket, for b's UDP echo. */
  udp: DgramSocket;
  /** Internal errors (bugs) either stack reported, with their stacks. */
  errors: string[];
  /** For unique payloads in the serving checks. */
  round: number;
}

function recordErrors(h: SimHost, errors: string[]): void {
  h.stack.onInternalError = (e) => errors.push(`${h.name}: ${e instanceof Error ? e.stack : String(e)}`);
}

/**
 * Hosts a (10.7.0.1) and b (10.7.0.2) on one wire of the given medium; b serves TCP and
 * UDP echo on port 7; a holds an established connection to b's echo.
 */
export async function makeEnv(medium: Medium = 'ip', opts: { tcp?: Partial<TcpConfig> } = {}): Promise<Env> {
  let net: SimNetwork, a: SimHost, b: SimHost;
  if (medium === 'ip') {
    ({ net, a, b } = SimNetwork.pair({ tcp: opts.tcp }));
  } else {
    net = new SimNetwork();
    const [la, lb] = MemoryLink.pair('ethernet', 1500, [MAC_A, MAC_B]);
    la.recordSent = false;
    a = net.add('a', la, '10.7.0.1/24', 1, la, undefined, opts.tcp ?? {});
    b = net.add('b', lb, '10.7.0.2/24', 2, lb, undefined, opts.tcp ?? {});
  }
  const errors: string[] = [];
  recordErrors(a, errors);
  recordErrors(b, errors);
  tcpEcho(b.api, ECHO_PORT);
  udpEcho(b.api, ECHO_PORT);
  const cli = a.api.socket(AF_INET, SOCK_STREAM);
  await net.until(cli.connect([formatIpv4(B_ADDR), ECHO_PORT]));
  const udp = a.api.socket(AF_INET, SOCK_DGRAM);
  udp.bind(['', 0]);
  const env: Env = { medium, net, a, b, cli, udp, errors, round: 0 };
  // One round trip on each service first: ARP is resolved both ways, the echo server has
  // accepted the connection, and every counter after this is the attack's doing.
  await assertServing(env);
  b.link.recordSent = true;
  b.link.takeSent();
  return env;
}

/** Puts IP datagrams on b's wire (in an Ethernet frame to b's MAC on a TAP medium) and lets the world run 1 ms. */
export async function inject(env: Env, ...packets: Uint8Array[]): Promise<void> {
  for (const p of packets) env.b.link.inject(env.medium === 'ethernet' ? ethFrame(MAC_B, MAC_A, 0x0800, p) : p);
  await env.net.runFor(1);
}

/** Puts raw frames (no wrapping) on b's wire and lets the world run 1 ms. */
export async function injectFrames(env: Env, ...frames: Uint8Array[]): Promise<void> {
  for (const f of frames) env.b.link.inject(f);
  await env.net.runFor(1);
}

/** a's local port of the established connection. */
export function cliPort(env: Env): number {
  return env.cli.getsockname()[1];
}

/** b's end of the established connection (the TCB a spoofer aims at). */
export function victim(env: Env): TcpConnection {
  const port = cliPort(env);
  const c = [...env.b.stack.tcp.connections].find((x) => x.remoteAddr === A_ADDR && x.remotePort === port && x.localPort === ECHO_PORT);
  if (!c) throw new Error(`b has no connection from 10.7.0.1:${port} (connections: ${[...env.b.stack.tcp.connections].map((x) => `${x.describe()} ${x.state}`).join(', ')})`);
  return c;
}

/** A segment spoofed from a's end of the established connection into b's. */
export function spoofed(env: Env, o: Omit<TcpOpts, 'sport' | 'dport'> & { sport?: number; dport?: number }): Uint8Array {
  return tcpPacket({ sport: cliPort(env), dport: ECHO_PORT, ...o });
}

// ------------------------------------------------------------------ counters

/** Every counter of a host's stack as "layer.name" -> value. */
export function counters(h: SimHost): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [layer, set] of Object.entries(h.stack.snapshot())) for (const [k, v] of Object.entries(set)) out[`${layer}.${k}`] = v;
  return out;
}

/** The counters that changed between two readings, with their deltas. */
export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(after)) {
    const d = after[k]! - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/**
 * Runs `attack` against b and returns what changed in b's counters. Throws nothing
 * itself: the caller asserts on the delta.
 */
export async function measure(env: Env, attack: () => Promise<void>): Promise<Record<string, number>> {
  env.b.link.takeSent();
  const before = counters(env.b);
  await attack();
  return delta(before, counters(env.b));
}

/** Counters that only say "a packet passed by", never why one was dropped. */
export const TRAFFIC = new Set([
  'link.framesIn', 'link.framesOut', 'ip.received', 'ip.delivered', 'ip.sent', 'ip.fragmentsReceived', 'ip.fragmentsSent',
  'icmp.received', 'udp.received', 'tcp.segsIn', 'tcp.segsOut', 'udp.sent', 'udp.delivered', 'ip.loopback',
]);

/** The counters in a delta that explain something (not mere traffic). */
export function explaining(d: Record<string, number>): string[] {
  return Object.keys(d).filter((k) => !TRAFFIC.has(k));
}

// ------------------------------------------------------------------ what b sent

export interface SentSegment {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  /** TCP fields, when protocol is 6. */
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  payloadLen: number;
  /** The transport payload (TCP or UDP), a copy. */
  payload: Uint8Array;
  /** ICMP type/code, when protocol is 1. */
  icmpType: number;
  icmpCode: number;
  line: string;
}

/** The IP datagrams b put on the wire since the last call (ARP frames are skipped). */
export function sentByB(env: Env): SentSegment[] {
  const out: SentSegment[] = [];
  for (const f of env.b.link.takeSent()) {
    let ip = f;
    if (env.medium === 'ethernet') {
      if (r16(f, 12) !== 0x0800) continue;
      ip = f.subarray(14);
    }
    const hl = (ip[0]! & 15) * 4;
    const protocol = ip[9]!;
    const src = r32(ip, 12);
    const dst = r32(ip, 16);
    const t = ip.subarray(hl, r16(ip, 2));
    const s: SentSegment = {
      src, dst, protocol, sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, payloadLen: 0, payload: new Uint8Array(0), icmpType: -1, icmpCode: -1, line: '',
    };
    if (protocol === PROTO_TCP) {
      s.sport = r16(t, 0);
      s.dport = r16(t, 2);
      s.seq = r32(t, 4);
      s.ack = r32(t, 8);
      s.flags = t[13]!;
      s.payloadLen = t.length - (t[12]! >> 4) * 4;
      s.payload = t.slice((t[12]! >> 4) * 4);
    } else if (protocol === PROTO_ICMP) {
      s.icmpType = t[0]!;
      s.icmpCode = t[1]!;
    } else if (protocol === PROTO_UDP) {
      s.sport = r16(t, 0);
      s.dport = r16(t, 2);
      s.payloadLen = t.length - 8;
      s.payload = t.slice(8);
    }
    s.line = `${formatIpv4(src)} > ${formatIpv4(dst)} proto=${protocol}` + (protocol === PROTO_TCP ? ` ${s.sport}>${s.dport} flags=0x${s.flags.toString(16)} seq=${s.seq} ack=${s.ack} len=${s.payloadLen}` : protocol === PROTO_ICMP ? ` icmp ${s.icmpType}/${s.icmpCode}` : '');
    out.push(s);
  }
  return out;
}

// ------------------------------------------------------------------ still serving?

export function assertNoInternalErrors(env: Env): void {
  expect(env.errors, 'internal errors (bugs caught by Stack.receiveFrame/poll)').toEqual([]);
  expect(env.b.stack.counters.internalErrors).toBe(0);
  expect(env.a.stack.counters.internalErrors).toBe(0);
}

async function readExactly(env: Env, s: StreamSocket, n: number): Promise<string> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const d = await env.net.until(s.recv(n - got), 10_000);
    if (d.length === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    parts.push(d);
    got += d.length;
  }
  return Buffer.concat(parts).toString('latin1');
}

async function tcpRoundTrip(env: Env, s: StreamSocket, msg: string): Promise<void> {
  await env.net.until(s.sendall(msg), 10_000);
  expect(await readExactly(env, s, msg.length), 'TCP echo').toBe(msg);
}

async function udpRoundTrip(env: Env, data: Uint8Array): Promise<void> {
  await env.net.until(env.udp.sendto(data, [formatIpv4(B_ADDR), ECHO_PORT]), 10_000);
  // Replies to spoofed datagrams may be waiting in a's queue: skip those.
  for (let i = 0; i < 64; i++) {
    const [d, from] = await env.net.until(env.udp.recvfrom(65535), 10_000);
    if (from[0] === formatIpv4(B_ADDR) && from[1] === ECHO_PORT && Buffer.compare(Buffer.from(d), Buffer.from(data)) === 0) return;
  }
  throw new Error('UDP echo: no matching reply among 64 datagrams');
}

/**
 * b still serves: no internal error on either stack; the established connection carries
 * data both ways (unless `established: false`); a new connection can be made and echoes;
 * UDP echo answers, small and fragmented (4000 bytes, so reassembly still works).
 */
export async function assertServing(env: Env, opts: { established?: boolean } = {}): Promise<void> {
  assertNoInternalErrors(env);
  const r = env.round++;
  if (opts.established ?? true) {
    expect(victim(env).state, 'the established connection').toBe('ESTABLISHED');
    await tcpRoundTrip(env, env.cli, `established round ${r}`);
  }
  const s = env.a.api.socket(AF_INET, SOCK_STREAM);
  await env.net.until(s.connect([formatIpv4(B_ADDR), ECHO_PORT]), 10_000);
  await tcpRoundTrip(env, s, `new connection round ${r}`);
  s.close();
  await udpRoundTrip(env, bytes(`udp round ${r}`));
  const big = new Uint8Array(4000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + r) & 255;
  await udpRoundTrip(env, big);
  assertNoInternalErrors(env);
}

export function hex(b: Uint8Array): string {
  return toHex(b);
}
