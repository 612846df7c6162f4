/**
 * TCP header (RFC 9293 §3.1): a view over bytes (`TcpPacket`) and the parsed segment
 * (`TcpRepr`). Safety rule: after `checkLen()` returns null, no accessor reads out of
 * bounds, and `options()` parses only within the header.
 *
 *    |          Source Port          |       Destination Port        |
 *    |                        Sequence Number                        |
 *    |                    Acknowledgment Number                      |
 *    |  Data |       |C|E|U|A|P|R|S|F|                               |
 *    | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *    |           Checksum            |         Urgent Pointer        |
 *    |                    Options                    |    Padding    |
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, readU32, writeU16, writeU32 } from '../core/bytes.js';
import type { Ipv4Addr } from '../ip/address.js';
import { formatIpv4 } from '../ip/address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../ip/checksum.js';
import { IP_PROTO_TCP } from '../ip/ipv4-packet.js';
import { TcpOptions, optionsLength, writeOptions, type OptionsToSend } from './options.js';

export const TCP_HEADER_LEN = 20;
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export type TcpMalformed = 'truncated' | 'badDataOffset' | 'badOptions';

export class TcpPacket extends PacketView {
  checkLen(): 'truncated' | 'badDataOffset' | null {
    if (this.n < TCP_HEADER_LEN) return 'truncated';
    const hl = this.headerLen();
    if (hl < TCP_HEADER_LEN || hl > this.n) return 'badDataOffset';
    return null;
  }

  srcPort(): number { return readU16(this.b, this.o); }
  dstPort(): number { return readU16(this.b, this.o + 2); }
  seq(): number { return readU32(this.b, this.o + 4); }
  ack(): number { return readU32(this.b, this.o + 8); }
  headerLen(): number { return (this.b[this.o + 12]! >> 4) * 4; }
  flags(): number { return this.b[this.o + 13]!; }
  window(): number { return readU16(this.b, this.o + 14); }
  checksumField(): number { return readU16(this.b, this.o + 16); }
  urgent(): number { return readU16(this.b, this.o + 18); }
  payloadOffset(): number { return this.o + this.headerLen(); }
  payloadLen(): number { return this.n - this.headerLen(); }
  /** Sequence space the segment occupies: payload plus one each for SYN and FIN. */
  segLen(): number {
    const f = this.flags();
    return this.payloadLen() + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
  }

  /** Parses the options into `into`; false if the list is malformed. */
  options(into: TcpOptions): boolean {
    return into.parse(this.b, this.o + TCP_HEADER_LEN, this.headerLen() - TCP_HEADER_LEN);
  }

  verifyChecksum(src: Ipv4Addr, dst: Ipv4Addr): boolean {
    return finishChecksum(sumBytes(this.b, this.o, this.n, pseudoHeaderSum(src, dst, IP_PROTO_TCP, this.n))) === 0;
  }

  setAck(v: number): void { writeU32(this.b, this.o + 8, v); }
  setSeq(v: number): void { writeU32(this.b, this.o + 4, v); }

  /** `TCP 40000 > 7 S seq=… win=… mss 1460` (addresses are the caller's to add). */
  override toString(src?: Ipv4Addr, dst?: Ipv4Addr): string {
    const bad = this.checkLen();
    if (bad !== null) return `TCP malformed (${bad}, ${this.n} bytes)`;
    const ends = src !== undefined && dst !== undefined
      ? `${formatIpv4(src)}:${this.srcPort()} > ${formatIpv4(dst)}:${this.dstPort()}`
      : `${this.srcPort()} > ${this.dstPort()}`;
    const f = this.flags();
    const opts = new TcpOptions();
    const optText = this.options(opts) ? opts.toString() : 'bad options';
    return `TCP ${ends} ${flagString(f)} seq=${this.seq()}${f & ACK ? ` ack=${this.ack()}` : ''} win=${this.window()} len=${this.payloadLen()}${optText ? ` <${optText}>` : ''}`;
  }
}

/** "S", "SA" (SYN-ACK), "FA", "R", "PA", "." for a bare ACK. */
export function flagString(f: number): string {
  let s = '';
  if (f & SYN) s += 'S';
  if (f & FIN) s += 'F';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & URG) s += 'U';
  if (f & ACK) s += s === '' ? '.' : 'A';
  return s || 'none';
}

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  options: OptionsToSend;
  payload: Uint8Array;
}

export type TcpParseError = TcpMalformed | 'badChecksum';

export function parseTcp(p: TcpPacket, src: Ipv4Addr, dst: Ipv4Addr): TcpRepr | TcpParseError {
  const bad = p.checkLen();
  if (bad !== null) return bad;
  if (!p.verifyChecksum(src, dst)) return 'badChecksum';
  const o = new TcpOptions();
  if (!p.options(o)) return 'badOptions';
  const options: TcpRepr['options'] = {};
  if (o.mss >= 0) options.mss = o.mss;
  if (o.wscale >= 0) options.wscale = o.wscale;
  if (o.sackPermitted) options.sackPermitted = true;
  if (o.hasTimestamps) options.timestamps = { tsVal: o.tsVal, tsEcr: o.tsEcr };
  if (o.sackCount > 0) {
    options.sack = [];
    for (let k = 0; k < o.sackCount; k++) options.sack.push([o.sack[2 * k]!, o.sack[2 * k + 1]!]);
  }
  return {
    srcPort: p.srcPort(), dstPort: p.dstPort(), seq: p.seq(), ack: p.ack(), flags: p.flags(), window: p.window(),
    urgent: p.urgent(), options, payload: p.b.subarray(p.payloadOffset(), p.o + p.n),
  };
}

/**
 * Writes a header (with options) at b[o] in front of `payloadLen` bytes that are already
 * at b[o + header length], and fills in the checksum. Returns the segment's length.
 */
export function writeTcpHeader(
  b: Uint8Array, o: number, src: Ipv4Addr, dst: Ipv4Addr, srcPort: number, dstPort: number,
  seq: number, ack: number, flags: number, window: number, opts: OptionsToSend | null, payloadLen: number,
  urgent = 0,
  /** Leave the checksum partial (the pseudo-header sum only) for a device that finishes it (checksum offload). */
  partialChecksum = false,
): number {
  const optLen = opts ? optionsLength(opts) : 0;
  const hl = TCP_HEADER_LEN + optLen;
  writeU16(b, o, srcPort);
  writeU16(b, o + 2, dstPort);
  writeU32(b, o + 4, seq);
  writeU32(b, o + 8, flags & ACK ? ack : 0);
  b[o + 12] = (hl / 4) << 4;
  b[o + 13] = flags;
  writeU16(b, o + 14, window);
  writeU16(b, o + 16, 0);
  writeU16(b, o + 18, urgent);
  if (opts) writeOptions(opts, b, o + TCP_HEADER_LEN);
  const len = hl + payloadLen;
  const pseudo = pseudoHeaderSum(src, dst, IP_PROTO_TCP, len);
  // Offload: the device sums from the TCP header on, starting from what the field holds.
  writeU16(b, o + 16, partialChecksum ? ~finishChecksum(pseudo) & 0xffff : finishChecksum(sumBytes(b, o, len, pseudo)));
  return len;
}

/** The header length (with options) of a segment carrying `opts`. */
export function tcpHeaderLen(opts: OptionsToSend | null): number {
  return TCP_HEADER_LEN + (opts ? optionsLength(opts) : 0);
}

export function emitTcp(r: TcpRepr, src: Ipv4Addr, dst: Ipv4Addr, b: Uint8Array, o: number): number {
  const hl = tcpHeaderLen(r.options);
  b.set(r.payload, o + hl);
  return writeTcpHeader(b, o, src, dst, r.srcPort, r.dstPort, r.seq, r.ack, r.flags, r.window, r.options, r.payload.length, r.urgent ?? 0);
}
