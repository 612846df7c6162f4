/**
 * ICMP for IPv4 (RFC 792): a view over bytes and the parsed message.
 *
 * Safety rule: after `checkLen()` returns null, no accessor reads out of bounds.
 *
 *    |     Type      |     Code      |          Checksum             |
 *    |           Identifier          |        Sequence Number        |   (echo)
 *    |            unused             |         Next-Hop MTU          |   (unreachable)
 *    |     Internet Header + 64 bits of Original Data Datagram ...   |
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, writeU16 } from '../core/bytes.js';
import { checksum } from './checksum.js';

export const ICMP_HEADER_LEN = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;

/** Destination Unreachable codes (RFC 792, RFC 1191). */
export const UNREACH_NET = 0;
export const UNREACH_HOST = 1;
export const UNREACH_PROTOCOL = 2;
export const UNREACH_PORT = 3;
export const UNREACH_FRAG_NEEDED = 4;
/** Time Exceeded codes. */
export const TIME_EXCEEDED_TTL = 0;
export const TIME_EXCEEDED_REASSEMBLY = 1;

export class IcmpPacket extends PacketView {
  checkLen(): 'truncated' | null {
    return this.n < ICMP_HEADER_LEN ? 'truncated' : null;
  }

  type(): number { return this.b[this.o]!; }
  code(): number { return this.b[this.o + 1]!; }
  checksumField(): number { return readU16(this.b, this.o + 2); }
  ident(): number { return readU16(this.b, this.o + 4); }
  seq(): number { return readU16(this.b, this.o + 6); }
  nextHopMtu(): number { return readU16(this.b, this.o + 6); }
  dataOffset(): number { return this.o + ICMP_HEADER_LEN; }
  dataLen(): number { return this.n - ICMP_HEADER_LEN; }
  isError(): boolean {
    const t = this.type();
    return t === ICMP_DEST_UNREACHABLE || t === ICMP_SOURCE_QUENCH || t === ICMP_TIME_EXCEEDED || t === ICMP_PARAMETER_PROBLEM;
  }
  verifyChecksum(): boolean {
    return checksum(this.b, this.o, this.n) === 0;
  }

  override toString(): string {
    if (this.checkLen() !== null) return `ICMP truncated (${this.n} bytes)`;
    const t = this.type();
    if (t === ICMP_ECHO_REQUEST || t === ICMP_ECHO_REPLY) {
      return `ICMP echo ${t === ICMP_ECHO_REQUEST ? 'request' : 'reply'} id=${this.ident()} seq=${this.seq()} len=${this.dataLen()}`;
    }
    return `ICMP type=${t} code=${this.code()} len=${this.dataLen()}`;
  }
}

export type IcmpRepr =
  | { kind: 'echoRequest' | 'echoReply'; ident: number; seq: number; data: Uint8Array }
  | { kind: 'destUnreachable'; code: number; nextHopMtu: number; data: Uint8Array }
  | { kind: 'timeExceeded'; code: number; data: Uint8Array }
  | { kind: 'other'; type: number; code: number; rest: number; data: Uint8Array };

export type IcmpParseError = 'truncated' | 'badChecksum';

/** Checked parse; `data` is a view (not a copy) into the packet's bytes. */
export function parseIcmp(p: IcmpPacket): IcmpRepr | IcmpParseError {
  if (p.checkLen() !== null) return 'truncated';
  if (!p.verifyChecksum()) return 'badChecksum';
  const data = p.b.subarray(p.dataOffset(), p.o + p.n);
  switch (p.type()) {
    case ICMP_ECHO_REQUEST:
      return { kind: 'echoRequest', ident: p.ident(), seq: p.seq(), data };
    case ICMP_ECHO_REPLY:
      return { kind: 'echoReply', ident: p.ident(), seq: p.seq(), data };
    case ICMP_DEST_UNREACHABLE:
      return { kind: 'destUnreachable', code: p.code(), nextHopMtu: p.nextHopMtu(), data };
    case ICMP_TIME_EXCEEDED:
      return { kind: 'timeExceeded', code: p.code(), data };
    default:
      return { kind: 'other', type: p.type(), code: p.code(), rest: (p.ident() * 65536 + p.seq()) >>> 0, data };
  }
}

export function icmpBufferLen(r: IcmpRepr): number {
  return ICMP_HEADER_LEN + r.data.length;
}

/** Writes `r` at `b[o]` with its checksum; returns the length written. */
export function emitIcmp(r: IcmpRepr, b: Uint8Array, o: number): number {
  let type: number, code: number, w1: number, w2: number;
  switch (r.kind) {
    case 'echoRequest': type = ICMP_ECHO_REQUEST; code = 0; w1 = r.ident; w2 = r.seq; break;
    case 'echoReply': type = ICMP_ECHO_REPLY; code = 0; w1 = r.ident; w2 = r.seq; break;
    case 'destUnreachable': type = ICMP_DEST_UNREACHABLE; code = r.code; w1 = 0; w2 = r.nextHopMtu; break;
    case 'timeExceeded': type = ICMP_TIME_EXCEEDED; code = r.code; w1 = 0; w2 = 0; break;
    default: type = r.type; code = r.code; w1 = r.rest >>> 16; w2 = r.rest & 0xffff; break;
  }
  b[o] = type;
  b[o + 1] = code;
  writeU16(b, o + 2, 0);
  writeU16(b, o + 4, w1);
  writeU16(b, o + 6, w2);
  b.set(r.data, o + ICMP_HEADER_LEN);
  const len = ICMP_HEADER_LEN + r.data.length;
  writeU16(b, o + 2, checksum(b, o, len));
  return len;
}
