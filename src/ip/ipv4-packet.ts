/**
 * IPv4 header (RFC 791 §3.1): a view over bytes (`Ipv4Packet`) and the parsed meaning
 * (`Ipv4Repr`), as smoltcp's wire module splits them.
 *
 * Safety rule: after `checkLen()` returns null, no accessor reads out of bounds. Before
 * that, only `checkLen()` may be called. Parsing never throws.
 *
 *     0                   1                   2                   3
 *    |Version|  IHL  |Type of Service|          Total Length         |
 *    |         Identification        |Flags|      Fragment Offset    |
 *    |  Time to Live |    Protocol   |         Header Checksum       |
 *    |                       Source Address                          |
 *    |                    Destination Address                        |
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, readU32, writeU16, writeU32 } from '../core/bytes.js';
import { formatIpv4, type Ipv4Addr } from './address.js';
import { checksum } from './checksum.js';

export const IPV4_HEADER_LEN = 20;
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

/** Why a packet failed `checkLen()`; each is a drop counter of the IP layer. */
export type Ipv4Malformed = 'truncated' | 'badVersion' | 'badHeaderLength' | 'badTotalLength';

export class Ipv4Packet extends PacketView {
  checkLen(): Ipv4Malformed | null {
    if (this.n < IPV4_HEADER_LEN) return 'truncated';
    if (this.b[this.o]! >> 4 !== 4) return 'badVersion';
    const hl = this.headerLen();
    if (hl < IPV4_HEADER_LEN || hl > this.n) return 'badHeaderLength';
    const tl = this.totalLen();
    // The link may pad a short frame; the datagram is what Total Length says it is.
    if (tl < hl || tl > this.n) return 'badTotalLength';
    return null;
  }

  version(): number { return this.b[this.o]! >> 4; }
  headerLen(): number { return (this.b[this.o]! & 0x0f) * 4; }
  tos(): number { return this.b[this.o + 1]!; }
  totalLen(): number { return readU16(this.b, this.o + 2); }
  ident(): number { return readU16(this.b, this.o + 4); }
  dontFrag(): boolean { return (readU16(this.b, this.o + 6) & FLAG_DF) !== 0; }
  moreFrags(): boolean { return (readU16(this.b, this.o + 6) & FLAG_MF) !== 0; }
  /** Fragment offset in bytes. */
  fragOffset(): number { return (readU16(this.b, this.o + 6) & 0x1fff) * 8; }
  isFragment(): boolean { return (readU16(this.b, this.o + 6) & (FLAG_MF | 0x1fff)) !== 0; }
  ttl(): number { return this.b[this.o + 8]!; }
  protocol(): number { return this.b[this.o + 9]!; }
  checksumField(): number { return readU16(this.b, this.o + 10); }
  src(): Ipv4Addr { return readU32(this.b, this.o + 12); }
  dst(): Ipv4Addr { return readU32(this.b, this.o + 16); }
  payloadOffset(): number { return this.o + this.headerLen(); }
  payloadLen(): number { return this.totalLen() - this.headerLen(); }

  verifyChecksum(): boolean {
    return checksum(this.b, this.o, this.headerLen()) === 0;
  }

  setTotalLen(v: number): void { writeU16(this.b, this.o + 2, v); }
  setIdent(v: number): void { writeU16(this.b, this.o + 4, v); }
  setFragment(dontFrag: boolean, moreFrags: boolean, offsetBytes: number): void {
    writeU16(this.b, this.o + 6, (dontFrag ? FLAG_DF : 0) | (moreFrags ? FLAG_MF : 0) | ((offsetBytes >>> 3) & 0x1fff));
  }
  setTtl(v: number): void { this.b[this.o + 8] = v; }
  setSrc(a: Ipv4Addr): void { writeU32(this.b, this.o + 12, a); }
  setDst(a: Ipv4Addr): void { writeU32(this.b, this.o + 16, a); }
  fillChecksum(): void {
    writeU16(this.b, this.o + 10, 0);
    writeU16(this.b, this.o + 10, checksum(this.b, this.o, this.headerLen()));
  }

  /** One line, as debug logs and failing tests print it. */
  override toString(): string {
    if (this.checkLen() !== null) return `IPv4 malformed (${this.checkLen()}, ${this.n} bytes)`;
    const frag = this.isFragment() ? ` frag off=${this.fragOffset()}${this.moreFrags() ? '+' : ''}` : '';
    return `IPv4 ${formatIpv4(this.src())} > ${formatIpv4(this.dst())} proto=${this.protocol()} ttl=${this.ttl()} id=${this.ident()} len=${this.totalLen()}${this.dontFrag() ? ' DF' : ''}${frag}`;
  }
}

/** The parsed meaning of an IPv4 header (options are not represented: we never send any). */
export interface Ipv4Repr {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  ttl: number;
  tos: number;
  ident: number;
  dontFrag: boolean;
  moreFrags: boolean;
  /** In bytes; a multiple of 8. */
  fragOffset: number;
  payloadLen: number;
}

export type Ipv4ParseError = Ipv4Malformed | 'badChecksum';

/** Checked parse of untrusted bytes: a repr, or the reason it is not one. */
export function parseIpv4Header(p: Ipv4Packet): Ipv4Repr | Ipv4ParseError {
  const bad = p.checkLen();
  if (bad !== null) return bad;
  if (!p.verifyChecksum()) return 'badChecksum';
  return {
    src: p.src(),
    dst: p.dst(),
    protocol: p.protocol(),
    ttl: p.ttl(),
    tos: p.tos(),
    ident: p.ident(),
    dontFrag: p.dontFrag(),
    moreFrags: p.moreFrags(),
    fragOffset: p.fragOffset(),
    payloadLen: p.payloadLen(),
  };
}

/** Writes a 20-byte header for `r` at `b[o]`, checksum included. */
export function emitIpv4Header(r: Ipv4Repr, b: Uint8Array, o: number): void {
  writeIpv4Header(b, o, r.src, r.dst, r.protocol, r.ttl, r.tos, r.ident, r.dontFrag, r.moreFrags, r.fragOffset, r.payloadLen);
}

/** The allocation-free form of `emitIpv4Header` used on the send path. */
export function writeIpv4Header(
  b: Uint8Array, o: number, src: Ipv4Addr, dst: Ipv4Addr, protocol: number, ttl: number, tos: number,
  ident: number, dontFrag: boolean, moreFrags: boolean, fragOffset: number, payloadLen: number,
): void {
  b[o] = 0x45;
  b[o + 1] = tos;
  writeU16(b, o + 2, IPV4_HEADER_LEN + payloadLen);
  writeU16(b, o + 4, ident);
  writeU16(b, o + 6, (dontFrag ? FLAG_DF : 0) | (moreFrags ? FLAG_MF : 0) | ((fragOffset >>> 3) & 0x1fff));
  b[o + 8] = ttl;
  b[o + 9] = protocol;
  writeU16(b, o + 10, 0);
  writeU32(b, o + 12, src);
  writeU32(b, o + 16, dst);
  writeU16(b, o + 10, checksum(b, o, IPV4_HEADER_LEN));
}
