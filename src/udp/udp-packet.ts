/**
 * UDP header (RFC 768): a view over bytes and the parsed meaning.
 * Safety rule: after `checkLen()` returns null, no accessor reads out of bounds.
 *
 *    |          Source Port          |       Destination Port        |
 *    |            Length             |           Checksum            |
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, writeU16 } from '../core/bytes.js';
import type { IpAddr } from '../ip/ip-address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../ip/checksum.js';
import { IP_PROTO_UDP } from '../ip/ipv4-packet.js';

export const UDP_HEADER_LEN = 8;
/** 65535 - 20 (IPv4 header) - 8 (UDP header). */
export const UDP_MAX_PAYLOAD = 65507;

export type UdpMalformed = 'truncated' | 'badLength';

export class UdpPacket extends PacketView {
  /** The header fits, and Length is at least 8 and within what IP delivered. */
  checkLen(): UdpMalformed | null {
    if (this.n < UDP_HEADER_LEN) return 'truncated';
    const len = this.length();
    if (len < UDP_HEADER_LEN || len > this.n) return 'badLength';
    return null;
  }

  srcPort(): number { return readU16(this.b, this.o); }
  dstPort(): number { return readU16(this.b, this.o + 2); }
  length(): number { return readU16(this.b, this.o + 4); }
  checksumField(): number { return readU16(this.b, this.o + 6); }
  payloadOffset(): number { return this.o + UDP_HEADER_LEN; }
  payloadLen(): number { return this.length() - UDP_HEADER_LEN; }

  /**
   * RFC 768: a zero checksum means the sender computed none. Over IPv6 the checksum is
   * mandatory and a zero one is discarded (RFC 8200 §8.1).
   */
  verifyChecksum(src: IpAddr, dst: IpAddr): boolean {
    if (this.checksumField() === 0) return typeof src === 'number';
    const len = this.length();
    return finishChecksum(sumBytes(this.b, this.o, len, pseudoHeaderSum(src, dst, IP_PROTO_UDP, len))) === 0;
  }

  override toString(): string {
    if (this.checkLen() !== null) return `UDP malformed (${this.checkLen()}, ${this.n} bytes)`;
    return `UDP ${this.srcPort()} > ${this.dstPort()} len=${this.payloadLen()}`;
  }
}

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export type UdpParseError = UdpMalformed | 'badChecksum';

export function parseUdp(p: UdpPacket, src: IpAddr, dst: IpAddr): UdpRepr | UdpParseError {
  const bad = p.checkLen();
  if (bad !== null) return bad;
  if (!p.verifyChecksum(src, dst)) return 'badChecksum';
  return { srcPort: p.srcPort(), dstPort: p.dstPort(), payload: p.b.subarray(p.payloadOffset(), p.payloadOffset() + p.payloadLen()) };
}

/**
 * Writes the header in front of `payloadLen` bytes already at `b[o + 8]`, with the
 * checksum (always computed on send; a computed 0 is sent as 0xffff, RFC 768).
 */
export function writeUdpHeader(b: Uint8Array, o: number, src: IpAddr, dst: IpAddr, srcPort: number, dstPort: number, payloadLen: number): number {
  const len = UDP_HEADER_LEN + payloadLen;
  writeU16(b, o, srcPort);
  writeU16(b, o + 2, dstPort);
  writeU16(b, o + 4, len);
  writeU16(b, o + 6, 0);
  const c = finishChecksum(sumBytes(b, o, len, pseudoHeaderSum(src, dst, IP_PROTO_UDP, len)));
  writeU16(b, o + 6, c === 0 ? 0xffff : c);
  return len;
}

export function emitUdp(r: UdpRepr, src: IpAddr, dst: IpAddr, b: Uint8Array, o: number): number {
  b.set(r.payload, o + UDP_HEADER_LEN);
  return writeUdpHeader(b, o, src, dst, r.srcPort, r.dstPort, r.payload.length);
}
