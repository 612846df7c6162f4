/**
 * IPv6 header (RFC 8200 §3) and the extension headers the stack reads and writes (§4):
 * a view over bytes (`Ipv6Packet`), the parsed meaning (`Ipv6Repr`), and the fragment
 * header (§4.5).
 *
 * Safety rule: after `checkLen()` returns null, no accessor of the fixed header reads out
 * of bounds. Extension headers are walked by the IP layer, which checks each length
 * against the payload before reading it. Parsing never throws.
 *
 *     0                   1                   2                   3
 *    |Version| Traffic Class |           Flow Label                  |
 *    |         Payload Length        |  Next Header  |   Hop Limit   |
 *    |                    Source Address (128 bits)                  |
 *    |                 Destination Address (128 bits)                |
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, readU32, writeU16, writeU32 } from '../core/bytes.js';
import { formatIpv6, readIpv6, writeIpv6, type Ipv6Addr } from './ipv6-address.js';

export const IPV6_HEADER_LEN = 40;
export const IPV6_MIN_MTU = 1280; // RFC 8200 §5
export const FRAGMENT_HEADER_LEN = 8;

// Next Header values (IANA "Assigned Internet Protocol Numbers").
export const NH_HOP_BY_HOP = 0;
export const NH_TCP = 6;
export const NH_UDP = 17;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_ICMPV6 = 58;
export const NH_NONE = 59;
export const NH_DEST_OPTS = 60;

/** Why a packet failed `checkLen()`; each is a drop counter of the IPv6 layer. */
export type Ipv6Malformed = 'truncated' | 'badVersion' | 'badPayloadLength';

export class Ipv6Packet extends PacketView {
  checkLen(): Ipv6Malformed | null {
    if (this.n < IPV6_HEADER_LEN) return 'truncated';
    if (this.b[this.o]! >> 4 !== 6) return 'badVersion';
    // A zero Payload Length announces a jumbogram (RFC 2675), which a link with a 64 KiB
    // MTU never carries; the link may pad a short frame, so only longer is an error.
    const pl = this.payloadLen();
    if (pl === 0 && this.n > IPV6_HEADER_LEN) return 'badPayloadLength';
    if (IPV6_HEADER_LEN + pl > this.n) return 'badPayloadLength';
    return null;
  }

  version(): number { return this.b[this.o]! >> 4; }
  trafficClass(): number { return (readU16(this.b, this.o) >>> 4) & 0xff; }
  flowLabel(): number { return readU32(this.b, this.o) & 0xfffff; }
  payloadLen(): number { return readU16(this.b, this.o + 4); }
  nextHeader(): number { return this.b[this.o + 6]!; }
  hopLimit(): number { return this.b[this.o + 7]!; }
  src(): Ipv6Addr { return readIpv6(this.b, this.o + 8); }
  dst(): Ipv6Addr { return readIpv6(this.b, this.o + 24); }
  payloadOffset(): number { return this.o + IPV6_HEADER_LEN; }
  /** The whole datagram's length (header and payload), which may be less than the frame's. */
  totalLen(): number { return IPV6_HEADER_LEN + this.payloadLen(); }

  setPayloadLen(v: number): void { writeU16(this.b, this.o + 4, v); }
  setHopLimit(v: number): void { this.b[this.o + 7] = v; }

  /** One line, as debug logs and failing tests print it. */
  override toString(): string {
    const bad = this.checkLen();
    if (bad !== null) return `IPv6 malformed (${bad}, ${this.n} bytes)`;
    const fl = this.flowLabel();
    return `IPv6 ${formatIpv6(this.src())} > ${formatIpv6(this.dst())} nh=${this.nextHeader()} hlim=${this.hopLimit()} len=${this.payloadLen()}${this.trafficClass() ? ` tc=0x${this.trafficClass().toString(16)}` : ''}${fl ? ` flow=0x${fl.toString(16)}` : ''}`;
  }
}

/** The parsed meaning of a fixed IPv6 header. */
export interface Ipv6Repr {
  src: Ipv6Addr;
  dst: Ipv6Addr;
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  payloadLen: number;
}

/** Checked parse of untrusted bytes: a repr, or the reason it is not one. */
export function parseIpv6Header(p: Ipv6Packet): Ipv6Repr | Ipv6Malformed {
  const bad = p.checkLen();
  if (bad !== null) return bad;
  return {
    src: p.src(), dst: p.dst(), nextHeader: p.nextHeader(), hopLimit: p.hopLimit(),
    trafficClass: p.trafficClass(), flowLabel: p.flowLabel(), payloadLen: p.payloadLen(),
  };
}

export function emitIpv6Header(r: Ipv6Repr, b: Uint8Array, o: number): void {
  writeIpv6Header(b, o, r.src, r.dst, r.nextHeader, r.hopLimit, r.trafficClass, r.flowLabel, r.payloadLen);
}

/** The allocation-free form of `emitIpv6Header` used on the send path. */
export function writeIpv6Header(
  b: Uint8Array, o: number, src: Ipv6Addr, dst: Ipv6Addr, nextHeader: number, hopLimit: number,
  trafficClass: number, flowLabel: number, payloadLen: number,
): void {
  writeU32(b, o, ((6 << 28) | ((trafficClass & 0xff) << 20) | (flowLabel & 0xfffff)) >>> 0);
  writeU16(b, o + 4, payloadLen);
  b[o + 6] = nextHeader;
  b[o + 7] = hopLimit;
  writeIpv6(b, o + 8, src);
  writeIpv6(b, o + 24, dst);
}

/**
 * The fragment header (RFC 8200 §4.5), 8 bytes:
 *
 *    | Next Header  |   Reserved    |    Fragment Offset      |Res|M|
 *    |                         Identification                        |
 */
export function writeFragmentHeader(b: Uint8Array, o: number, nextHeader: number, offsetBytes: number, more: boolean, ident: number): void {
  b[o] = nextHeader;
  b[o + 1] = 0;
  writeU16(b, o + 2, (offsetBytes & 0xfff8) | (more ? 1 : 0));
  writeU32(b, o + 4, ident >>> 0);
}

/** Fragment offset in bytes, from the fragment header at `b[o]`. */
export function fragOffsetAt(b: Uint8Array, o: number): number { return readU16(b, o + 2) & 0xfff8; }
export function fragMoreAt(b: Uint8Array, o: number): boolean { return (b[o + 3]! & 1) !== 0; }
export function fragIdentAt(b: Uint8Array, o: number): number { return readU32(b, o + 4); }

/** Is `nh` an extension header this stack walks (RFC 8200 §4.1's order, less ESP/AH)? */
export function isExtensionHeader(nh: number): boolean {
  return nh === NH_HOP_BY_HOP || nh === NH_ROUTING || nh === NH_FRAGMENT || nh === NH_DEST_OPTS;
}

/**
 * The length of the extension header at `b[o]` (RFC 8200 §4.3-4.6: (Hdr Ext Len + 1) × 8,
 * the fragment header always 8), or -1 when fewer than 2 bytes are left to read it.
 */
export function extHeaderLen(nh: number, b: Uint8Array, o: number, end: number): number {
  if (nh === NH_FRAGMENT) return FRAGMENT_HEADER_LEN;
  if (o + 2 > end) return -1;
  return (b[o + 1]! + 1) * 8;
}
