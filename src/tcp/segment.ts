/**
 * A TCP segment's header as the stack reads and writes it (RFC 9293 §3.1): the one
 * header representation. The layer keeps one Segment for arrivals, filled from the
 * packet view (`parse`), which the state machine then reads (and trims to the window);
 * and one for departures, which the sender fills and `emit` writes in front of a payload
 * already in place. Both are reused: a segment in or out allocates nothing.
 *
 * (tcp-packet.ts's `TcpPacket` is the view over the bytes; its `parseTcp`/`emitTcp` give
 * a plain-object form of the same fields for tests and tools.)
 */
import { writeU16, writeU32 } from '../core/bytes.js';
import type { IpAddr } from '../ip/ip-address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../ip/checksum.js';
import { IP_PROTO_TCP } from '../ip/ipv4-packet.js';
import { TcpOptions } from './options.js';
import { ACK, FIN, SYN, TCP_HEADER_LEN, type TcpPacket } from './tcp-packet.js';

export class Segment {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** The raw 16-bit window field. */
  wnd = 0;
  urgent = 0;
  /** The IP ECN field it arrived with (RFC 3168 §5; set by the layer, not part of the TCP header). */
  ecn = 0;
  readonly opts = new TcpOptions();
  /** Payload: bytes, offset and length (trimming to the window adjusts off, len and seq). */
  b: Uint8Array = new Uint8Array(0);
  off = 0;
  len = 0;

  /**
   * Fills this from a packet view whose length was checked (`checkLen()`); false if the
   * options are malformed.
   */
  parse(p: TcpPacket): boolean {
    if (!p.options(this.opts)) return false;
    this.srcPort = p.srcPort();
    this.dstPort = p.dstPort();
    this.seq = p.seq();
    this.ack = p.ack();
    this.flags = p.flags();
    this.wnd = p.window();
    this.urgent = p.urgent();
    this.b = p.b;
    this.off = p.payloadOffset();
    this.len = p.payloadLen();
    return true;
  }

  /** Sets the header fields for a segment to send (options cleared; set them after). */
  set(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, wnd: number): this {
    this.srcPort = srcPort;
    this.dstPort = dstPort;
    this.seq = seq;
    this.ack = ack;
    this.flags = flags;
    this.wnd = wnd;
    this.urgent = 0;
    this.opts.clear();
    return this;
  }

  /** The header's length with its options. */
  headerLen(): number {
    return TCP_HEADER_LEN + this.opts.length();
  }

  /**
   * Writes the header at b[o] in front of `payloadLen` bytes already at b[o + headerLen()],
   * and the checksum over the pseudo-header (RFC 9293 §3.1), or only the pseudo-header's
   * sum when a device finishes it (`partialChecksum`: checksum offload). Returns the
   * segment's length.
   */
  emit(b: Uint8Array, o: number, src: IpAddr, dst: IpAddr, payloadLen: number, partialChecksum = false): number {
    const hl = this.headerLen();
    writeU16(b, o, this.srcPort);
    writeU16(b, o + 2, this.dstPort);
    writeU32(b, o + 4, this.seq);
    writeU32(b, o + 8, this.flags & ACK ? this.ack : 0);
    b[o + 12] = (hl / 4) << 4;
    b[o + 13] = this.flags;
    writeU16(b, o + 14, this.wnd);
    writeU16(b, o + 16, 0);
    writeU16(b, o + 18, this.urgent);
    this.opts.write(b, o + TCP_HEADER_LEN);
    const len = hl + payloadLen;
    const pseudo = pseudoHeaderSum(src, dst, IP_PROTO_TCP, len);
    // Offload: the device sums from the TCP header on, starting from what the field holds.
    writeU16(b, o + 16, partialChecksum ? ~finishChecksum(pseudo) & 0xffff : finishChecksum(sumBytes(b, o, len, pseudo)));
    return len;
  }

  /** Sequence space: payload plus SYN and FIN. */
  segLen(): number {
    return this.len + (this.flags & SYN ? 1 : 0) + (this.flags & FIN ? 1 : 0);
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}
