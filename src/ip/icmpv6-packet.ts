/**
 * ICMPv6 (RFC 4443) and the neighbour discovery messages (RFC 4861 §4): a view over bytes
 * and the parsed message. The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3).
 *
 * Safety rule: after `checkLen()` returns null, no accessor of the 8-byte header reads out
 * of bounds; the NDP accessors are only called after `checkNdpLen()`.
 *
 *    |     Type      |     Code      |          Checksum             |
 *    |           Identifier          |        Sequence Number        |   (echo)
 *    |                             MTU                               |   (packet too big)
 *    |                           Pointer                             |   (parameter problem)
 *    |    As much of invoking packet as possible without the ICMPv6 packet exceeding 1280 bytes
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, readU32 } from '../core/bytes.js';
import { checksum, pseudoHeaderSum6 } from './checksum.js';
import { readIpv6, type Ipv6Addr } from './ipv6-address.js';
import { NH_ICMPV6 } from './ipv6-packet.js';

export const ICMPV6_HEADER_LEN = 8;
export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAMETER_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_REDIRECT = 137;

/** Destination Unreachable codes (RFC 4443 §3.1). */
export const UNREACH6_NO_ROUTE = 0;
export const UNREACH6_ADMIN = 1;
export const UNREACH6_BEYOND_SCOPE = 2;
export const UNREACH6_ADDRESS = 3;
export const UNREACH6_PORT = 4;
/** Time Exceeded codes (§3.3). */
export const TIME6_HOP_LIMIT = 0;
export const TIME6_REASSEMBLY = 1;
/** Parameter Problem codes (§3.4, RFC 7112 §4 for code 3). */
export const PARAM6_HEADER = 0;
export const PARAM6_NEXT_HEADER = 1;
export const PARAM6_OPTION = 2;
export const PARAM6_INCOMPLETE_CHAIN = 3;

/** NDP options (RFC 4861 §4.6). */
export const NDOPT_SOURCE_LL = 1;
export const NDOPT_TARGET_LL = 2;

/** Neighbour advertisement flags (RFC 4861 §4.4). */
export const NA_ROUTER = 0x80000000;
export const NA_SOLICITED = 0x40000000;
export const NA_OVERRIDE = 0x20000000;

export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}


export class Icmpv6Packet extends PacketView {
  checkLen(): 'truncated' | null {
    return this.n < ICMPV6_HEADER_LEN ? 'truncated' : null;
  }

  type(): number { return this.b[this.o]!; }
  code(): number { return this.b[this.o + 1]!; }
  checksumField(): number { return readU16(this.b, this.o + 2); }
  ident(): number { return readU16(this.b, this.o + 4); }
  seq(): number { return readU16(this.b, this.o + 6); }
  /** Packet Too Big's MTU, Parameter Problem's pointer, NA's flags: the second word. */
  word(): number { return readU32(this.b, this.o + 4); }
  dataOffset(): number { return this.o + ICMPV6_HEADER_LEN; }
  dataLen(): number { return this.n - ICMPV6_HEADER_LEN; }

  verifyChecksum(src: Ipv6Addr, dst: Ipv6Addr): boolean {
    return checksum(this.b, this.o, this.n, pseudoHeaderSum6(src, dst, NH_ICMPV6, this.n)) === 0;
  }

  /** NS and NA carry a target address after the first word (RFC 4861 §4.3, §4.4). */
  checkNdpLen(): boolean {
    return this.n >= 24;
  }
  target(): Ipv6Addr { return readIpv6(this.b, this.o + 8); }

  /**
   * The link-layer address option of `kind` (source or target) in an NS/NA, as the offset
   * of its 6 bytes, -1 when absent, or -2 when the options are malformed (a zero length,
   * or one running past the message: RFC 4861 §4.6 says discard).
   */
  linkLayerOption(kind: number): number {
    let at = this.o + 24;
    const end = this.o + this.n;
    let found = -1;
    while (at < end) {
      if (at + 2 > end) return -2;
      const len = this.b[at + 1]! * 8;
      if (len === 0 || at + len > end) return -2;
      if (this.b[at] === kind && len >= 8 && found === -1) found = at + 2;
      at += len;
    }
    return found;
  }

  override toString(): string {
    if (this.checkLen() !== null) return `ICMPv6 truncated (${this.n} bytes)`;
    const t = this.type();
    if (t === ICMPV6_ECHO_REQUEST || t === ICMPV6_ECHO_REPLY) {
      return `ICMPv6 echo ${t === ICMPV6_ECHO_REQUEST ? 'request' : 'reply'} id=${this.ident()} seq=${this.seq()} len=${this.dataLen()}`;
    }
    if ((t === ND_NEIGHBOR_SOLICIT || t === ND_NEIGHBOR_ADVERT) && this.checkNdpLen()) {
      return `ICMPv6 neighbor ${t === ND_NEIGHBOR_SOLICIT ? 'solicitation' : 'advertisement'} who-has ${this.target().toString()}`;
    }
    if (t === ICMPV6_PACKET_TOO_BIG) return `ICMPv6 packet too big mtu=${this.word()}`;
    return `ICMPv6 type=${t} code=${this.code()} len=${this.dataLen()}`;
  }
}

/** The parsed meaning of the messages the stack reads. */
export type Icmpv6Repr =
  | { kind: 'echoRequest' | 'echoReply'; ident: number; seq: number; data: Uint8Array }
  | { kind: 'error'; type: number; code: number; word: number; invoking: Uint8Array }
  | { kind: 'other'; type: number; code: number };

/** Checked parse (checksum included): a repr, or the reason it is not one. */
export function parseIcmpv6(p: Icmpv6Packet, src: Ipv6Addr, dst: Ipv6Addr): Icmpv6Repr | 'truncated' | 'badChecksum' {
  if (p.checkLen() !== null) return 'truncated';
  if (!p.verifyChecksum(src, dst)) return 'badChecksum';
  const t = p.type();
  if (t === ICMPV6_ECHO_REQUEST || t === ICMPV6_ECHO_REPLY) {
    return { kind: t === ICMPV6_ECHO_REQUEST ? 'echoRequest' : 'echoReply', ident: p.ident(), seq: p.seq(), data: p.b.slice(p.dataOffset(), p.o + p.n) };
  }
  if (isIcmpv6Error(t)) return { kind: 'error', type: t, code: p.code(), word: p.word(), invoking: p.b.slice(p.dataOffset(), p.o + p.n) };
  return { kind: 'other', type: t, code: p.code() };
}

/** The checksum to put in an ICMPv6 message at `b[o, o+len)` whose checksum field is zero. */
export function icmpv6Checksum(b: Uint8Array, o: number, len: number, src: Ipv6Addr, dst: Ipv6Addr): number {
  return checksum(b, o, len, pseudoHeaderSum6(src, dst, NH_ICMPV6, len));
}
