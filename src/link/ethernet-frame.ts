/**
 * Ethernet II frame header (IEEE 802.3, DIX framing): destination MAC, source MAC,
 * EtherType. Safety rule: after `checkLen()` returns null, no accessor reads out of bounds.
 */
import { PacketView } from '../core/packet-view.js';
import { readU16, writeU16 } from '../core/bytes.js';

export const ETH_HEADER_LEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export class EthernetFrame extends PacketView {
  checkLen(): 'truncated' | null {
    return this.n < ETH_HEADER_LEN ? 'truncated' : null;
  }

  etherType(): number { return readU16(this.b, this.o + 12); }
  payloadOffset(): number { return this.o + ETH_HEADER_LEN; }
  payloadLen(): number { return this.n - ETH_HEADER_LEN; }

  /** Is the destination `mac`? */
  dstIs(mac: Uint8Array): boolean {
    const b = this.b, o = this.o;
    return b[o] === mac[0] && b[o + 1] === mac[1] && b[o + 2] === mac[2] && b[o + 3] === mac[3] && b[o + 4] === mac[4] && b[o + 5] === mac[5];
  }

  dstIsBroadcast(): boolean { return this.dstIs(BROADCAST_MAC); }
  dstIsMulticast(): boolean { return (this.b[this.o]! & 1) === 1; }
  src(): Uint8Array { return this.b.subarray(this.o + 6, this.o + 12); }

  override toString(): string {
    if (this.checkLen() !== null) return `ETH truncated (${this.n} bytes)`;
    return `ETH ${formatMac(this.b.subarray(this.o + 6, this.o + 12))} > ${formatMac(this.b.subarray(this.o, this.o + 6))} type=0x${this.etherType().toString(16).padStart(4, '0')} len=${this.payloadLen()}`;
  }
}

export interface EthernetRepr {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
}

export function parseEthernet(f: EthernetFrame): EthernetRepr | 'truncated' {
  if (f.checkLen() !== null) return 'truncated';
  return { dst: f.b.slice(f.o, f.o + 6), src: f.b.slice(f.o + 6, f.o + 12), etherType: f.etherType() };
}

export function emitEthernet(r: EthernetRepr, b: Uint8Array, o: number): void {
  writeEthernetHeader(b, o, r.dst, r.src, r.etherType);
}

export function writeEthernetHeader(b: Uint8Array, o: number, dst: Uint8Array, src: Uint8Array, etherType: number): void {
  for (let i = 0; i < 6; i++) {
    b[o + i] = dst[i]!;
    b[o + 6 + i] = src[i]!;
  }
  writeU16(b, o + 12, etherType);
}

export function formatMac(m: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (m[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

export function parseMac(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new TypeError(`not a MAC address: ${JSON.stringify(s)}`);
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}
