/**
 * ARP for IPv4 over Ethernet (RFC 826). Only the one shape we speak is accepted:
 * hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and 4.
 * Safety rule: after `checkLen()` returns null, no accessor reads out of bounds.
 *
 *   htype(2) ptype(2) hlen(1) plen(1) oper(2) sha(6) spa(4) tha(6) tpa(4)
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, readU32, writeU16, writeU32 } from '../core/bytes.js';
import { formatIpv4, type Ipv4Addr } from '../ip/address.js';
import { formatMac } from './ethernet-frame.js';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export type ArpMalformed = 'truncated' | 'unsupported';

export class ArpPacket extends PacketView {
  checkLen(): ArpMalformed | null {
    if (this.n < ARP_LEN) return 'truncated';
    const b = this.b, o = this.o;
    if (readU16(b, o) !== 1 || readU16(b, o + 2) !== 0x0800 || b[o + 4] !== 6 || b[o + 5] !== 4) return 'unsupported';
    return null;
  }

  operation(): number { return readU16(this.b, this.o + 6); }
  senderMac(): Uint8Array { return this.b.subarray(this.o + 8, this.o + 14); }
  senderIp(): Ipv4Addr { return readU32(this.b, this.o + 14); }
  targetMac(): Uint8Array { return this.b.subarray(this.o + 18, this.o + 24); }
  targetIp(): Ipv4Addr { return readU32(this.b, this.o + 24); }

  override toString(): string {
    const bad = this.checkLen();
    if (bad !== null) return `ARP malformed (${bad})`;
    return this.operation() === ARP_REQUEST
      ? `ARP who-has ${formatIpv4(this.targetIp())} tell ${formatIpv4(this.senderIp())} (${formatMac(this.senderMac())})`
      : `ARP ${formatIpv4(this.senderIp())} is-at ${formatMac(this.senderMac())} op=${this.operation()}`;
  }
}

export interface ArpRepr {
  operation: number;
  senderMac: Uint8Array;
  senderIp: Ipv4Addr;
  targetMac: Uint8Array;
  targetIp: Ipv4Addr;
}

export function parseArp(p: ArpPacket): ArpRepr | ArpMalformed {
  const bad = p.checkLen();
  if (bad !== null) return bad;
  return {
    operation: p.operation(),
    senderMac: p.senderMac().slice(),
    senderIp: p.senderIp(),
    targetMac: p.targetMac().slice(),
    targetIp: p.targetIp(),
  };
}

export function emitArp(r: ArpRepr, b: Uint8Array, o: number): number {
  writeU16(b, o, 1);
  writeU16(b, o + 2, 0x0800);
  b[o + 4] = 6;
  b[o + 5] = 4;
  writeU16(b, o + 6, r.operation);
  b.set(r.senderMac.subarray(0, 6), o + 8);
  writeU32(b, o + 14, r.senderIp);
  b.set(r.targetMac.subarray(0, 6), o + 18);
  writeU32(b, o + 24, r.targetIp);
  return ARP_LEN;
}
