/**
 * Building and reading IPv6 packets in tests, independently of the stack's own writers
 * (byte by byte, checksums by the naive RFC 1071 sum), so that a test compares the stack
 * against a second implementation.
 */
import { parseIpv6, writeIpv6, type Ipv6Addr } from '../../src/ip/ipv6-address.js';
import { naiveChecksum } from './packets.js';

export const A6 = parseIpv6('fd00:7::1'); // the peer (kernel side)
export const B6 = parseIpv6('fd00:7::2'); // the stack

export interface Ip6Opts {
  src?: Ipv6Addr;
  dst?: Ipv6Addr;
  nh: number;
  hop?: number;
  tc?: number;
  flow?: number;
  /** Override the payload length field. */
  payloadLen?: number;
}

export function ipv6(o: Ip6Opts, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(40 + payload.length);
  const tc = o.tc ?? 0;
  const flow = o.flow ?? 0;
  b[0] = 0x60 | (tc >> 4);
  b[1] = ((tc & 15) << 4) | ((flow >> 16) & 15);
  b[2] = (flow >> 8) & 255;
  b[3] = flow & 255;
  const pl = o.payloadLen ?? payload.length;
  b[4] = pl >> 8;
  b[5] = pl & 255;
  b[6] = o.nh;
  b[7] = o.hop ?? 64;
  writeIpv6(b, 8, o.src ?? A6);
  writeIpv6(b, 24, o.dst ?? B6);
  b.set(payload, 40);
  return b;
}

/** The pseudo-header (RFC 8200 §8.1) followed by `upper`, for a naive checksum. */
function pseudo(src: Ipv6Addr, dst: Ipv6Addr, nh: number, upper: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + upper.length);
  writeIpv6(p, 0, src);
  writeIpv6(p, 16, dst);
  p[32] = upper.length >>> 24;
  p[33] = (upper.length >>> 16) & 255;
  p[34] = (upper.length >>> 8) & 255;
  p[35] = upper.length & 255;
  p[39] = nh;
  p.set(upper, 40);
  return p;
}

/** Fills the checksum at `at` of an upper-layer message over IPv6. */
export function withChecksum(src: Ipv6Addr, dst: Ipv6Addr, nh: number, upper: Uint8Array, at: number): Uint8Array {
  upper[at] = 0;
  upper[at + 1] = 0;
  const c = naiveChecksum(pseudo(src, dst, nh, upper));
  upper[at] = c >> 8;
  upper[at + 1] = c & 255;
  return upper;
}

export function checksumOk6(src: Ipv6Addr, dst: Ipv6Addr, nh: number, upper: Uint8Array): boolean {
  return naiveChecksum(pseudo(src, dst, nh, upper)) === 0;
}

export function icmp6(type: number, code: number, rest: Uint8Array, src: Ipv6Addr = A6, dst: Ipv6Addr = B6): Uint8Array {
  const m = new Uint8Array(4 + rest.length);
  m[0] = type;
  m[1] = code;
  m.set(rest, 4);
  return withChecksum(src, dst, 58, m, 2);
}

export function echo6(ident: number, seq: number, data: Uint8Array, src: Ipv6Addr = A6, dst: Ipv6Addr = B6, type = 128): Uint8Array {
  const rest = new Uint8Array(4 + data.length);
  rest[0] = ident >> 8;
  rest[1] = ident & 255;
  rest[2] = seq >> 8;
  rest[3] = seq & 255;
  rest.set(data, 4);
  return icmp6(type, 0, rest, src, dst);
}

export function udp6(sport: number, dport: number, data: Uint8Array, src: Ipv6Addr = A6, dst: Ipv6Addr = B6, zeroChecksum = false): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  u[0] = sport >> 8;
  u[1] = sport & 255;
  u[2] = dport >> 8;
  u[3] = dport & 255;
  u[4] = u.length >> 8;
  u[5] = u.length & 255;
  u.set(data, 8);
  if (!zeroChecksum) withChecksum(src, dst, 17, u, 6);
  return u;
}

/** An options header (hop-by-hop or destination options) holding `opts` TLV bytes, padded to 8n with PadN. */
export function optionsHeader(nh: number, opts: number[]): Uint8Array {
  let body = [...opts];
  const pad = (8 - ((2 + body.length) % 8)) % 8;
  if (pad === 1) body.push(0);
  else if (pad > 1) body = body.concat([1, pad - 2, ...new Array<number>(pad - 2).fill(0)]);
  const h = new Uint8Array(2 + body.length);
  h[0] = nh;
  h[1] = h.length / 8 - 1;
  h.set(body, 2);
  return h;
}

export function fragmentHeader(nh: number, offset: number, more: boolean, ident: number): Uint8Array {
  return Uint8Array.of(nh, 0, (offset >> 8) & 0xff, (offset & 0xf8) | (more ? 1 : 0), ident >>> 24, (ident >>> 16) & 255, (ident >>> 8) & 255, ident & 255);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The fields a test looks at in an IPv6 packet the stack sent. */
export function readIpv6(b: Uint8Array): { nh: number; hop: number; src: string; dst: string; payload: Uint8Array; flow: number; tc: number } {
  const pl = (b[4]! << 8) | b[5]!;
  const hexWord = (o: number): string => ((b[o]! << 8) | b[o + 1]!).toString(16);
  const addr = (o: number): string => parseIpv6(Array.from({ length: 8 }, (_, i) => hexWord(o + 2 * i)).join(':')).toString();
  return {
    nh: b[6]!, hop: b[7]!, src: addr(8), dst: addr(24), payload: b.subarray(40, 40 + pl),
    flow: ((b[1]! & 15) << 16) | (b[2]! << 8) | b[3]!, tc: ((b[0]! & 15) << 4) | (b[1]! >> 4),
  };
}
