/**
 * TCP header (RFC 9293 §3.1): a view over bytes (`TcpPacket`); the parsed header the
 * stack uses is `Segment` (segment.ts), and `TcpRepr` is its plain-object form for tests. Safety rule: after `checkLen()` returns null, no accessor reads out of
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
import { readU16, readU32, writeU32 } from '../core/bytes.js';
import { formatEndpoint, type IpAddr } from '../ip/ip-address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../ip/checksum.js';
import { IP_PROTO_TCP } from '../ip/ipv4-packet.js';
import { TcpOptions, type OptionsToSend } from './options.js';
import { Segment } from './segment.js';

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

  verifyChecksum(src: IpAddr, dst: IpAddr): boolean {
    return finishChecksum(sumBytes(this.b, this.o, this.n, pseudoHeaderSum(src, dst, IP_PROTO_TCP, this.n))) === 0;
  }

  setAck(v: number): void { writeU32(this.b, this.o + 8, v); }
  setSeq(v: number): void { writeU32(this.b, this.o + 4, v); }

  /** `TCP 40000 > 7 S seq=… win=… mss 1460` (addresses are the caller's to add). */
  override toString(src?: IpAddr, dst?: IpAddr): string {
    const bad = this.checkLen();
    if (bad !== null) return `TCP malformed (${bad}, ${this.n} bytes)`;
    const ends = src !== undefined && dst !== undefined
      ? `${formatEndpoint(src, this.srcPort())} > ${formatEndpoint(dst, this.dstPort())}`
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

/**
 * A segment's header as a plain object: for tests and tools that build or inspect
 * segments by field. The stack itself reads and writes headers through `Segment`
 * (segment.ts), which these two functions use.
 */
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

export function parseTcp(p: TcpPacket, src: IpAddr, dst: IpAddr): TcpRepr | TcpParseError {
  const bad = p.checkLen();
  if (bad !== null) return bad;
  if (!p.verifyChecksum(src, dst)) return 'badChecksum';
  const s = new Segment();
  if (!s.parse(p)) return 'badOptions';
  return {
    srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq, ack: s.ack, flags: s.flags, window: s.wnd,
    urgent: s.urgent, options: s.opts.toPlain(), payload: p.b.subarray(s.off, s.off + s.len),
  };
}

/** Writes `r` (header and payload) at b[o]; returns the segment's length. */
export function emitTcp(r: TcpRepr, src: IpAddr, dst: IpAddr, b: Uint8Array, o: number): number {
  const s = new Segment().set(r.srcPort, r.dstPort, r.seq, r.ack, r.flags, r.window);
  s.urgent = r.urgent ?? 0;
  s.opts.setFrom(r.options);
  b.set(r.payload, o + s.headerLen());
  return s.emit(b, o, src, dst, r.payload.length);
}
