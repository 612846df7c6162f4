/**
 * Packet builders and readers for tests: hex fixtures, a naive reference checksum, IPv4
 * datagrams and fragments, ICMP echo messages, Ethernet and ARP frames.
 *
 * Builders use the src emitters (whose exact bytes the wire tests pin down against hex
 * fixtures); readers check checksums with the naive reference, not with src code.
 */
import { parseIpv4, type Ipv4Addr } from '../../src/ip/address.js';
import { emitIcmp, type IcmpRepr } from '../../src/ip/icmp-packet.js';
import { IPV4_HEADER_LEN, Ipv4Packet, emitIpv4Header, parseIpv4Header, type Ipv4Repr } from '../../src/ip/ipv4-packet.js';
import { ARP_LEN, emitArp, type ArpRepr } from '../../src/link/arp-packet.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, writeEthernetHeader } from '../../src/link/ethernet-frame.js';

/** "45 00 00 73" or "45000073" -> bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new Error(`bad hex fixture: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The Internet checksum the slow, obvious way (RFC 1071 §4.1), as a reference. */
export function naiveChecksum(b: Uint8Array, off = 0, len = b.length - off): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    const hi = b[off + i]!;
    const lo = i + 1 < len ? b[off + i + 1]! : 0;
    s += hi * 256 + lo;
    s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export const ip = parseIpv4;

export interface DatagramOpts {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  ttl?: number;
  tos?: number;
  ident?: number;
  dontFrag?: boolean;
  moreFrags?: boolean;
  /** Bytes; a multiple of 8. */
  fragOffset?: number;
}

export function reprOf(o: DatagramOpts, payloadLen: number): Ipv4Repr {
  return {
    src: o.src, dst: o.dst, protocol: o.protocol, ttl: o.ttl ?? 64, tos: o.tos ?? 0, ident: o.ident ?? 0,
    dontFrag: o.dontFrag ?? false, moreFrags: o.moreFrags ?? false, fragOffset: o.fragOffset ?? 0, payloadLen,
  };
}

/** One IPv4 datagram (or fragment): a 20-byte header from emitIpv4Header, then the payload. */
export function ipv4(o: DatagramOpts, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(IPV4_HEADER_LEN + payload.length);
  emitIpv4Header(reprOf(o, payload.length), b, 0);
  b.set(payload, IPV4_HEADER_LEN);
  return b;
}

/** A fragment piece: where it sits in the payload, how long it is, whether more follow. */
export interface Piece {
  off: number;
  len: number;
  more: boolean;
}

/** Splits `total` bytes into pieces of `chunk` bytes (a multiple of 8), the last shorter. */
export function splitPieces(total: number, chunk: number): Piece[] {
  if (chunk <= 0 || chunk % 8 !== 0) throw new Error(`chunk ${chunk} is not a positive multiple of 8`);
  const out: Piece[] = [];
  for (let off = 0; off < total; off += chunk) {
    const len = Math.min(chunk, total - off);
    out.push({ off, len, more: off + len < total });
  }
  if (out.length === 0) out.push({ off: 0, len: 0, more: false });
  return out;
}

/** The IPv4 fragment carrying `payload[piece.off, piece.off + piece.len)`. */
export function fragmentOf(o: DatagramOpts, payload: Uint8Array, piece: Piece): Uint8Array {
  return ipv4({ ...o, fragOffset: piece.off, moreFrags: piece.more }, payload.subarray(piece.off, piece.off + piece.len));
}

/** A fragment with explicit offset, length and MF, filled with `fill` (for overlap/flood tests). */
export function rawFragment(o: DatagramOpts, off: number, len: number, more: boolean, fill = 0xab): Uint8Array {
  return ipv4({ ...o, fragOffset: off, moreFrags: more }, new Uint8Array(len).fill(fill));
}

/** Every fragment of `payload`, `chunk` payload bytes each. */
export function fragmentAll(o: DatagramOpts, payload: Uint8Array, chunk: number): Uint8Array[] {
  return splitPieces(payload.length, chunk).map((p) => fragmentOf(o, payload, p));
}

/** A fresh Ipv4Packet view over a whole buffer. */
export function view(b: Uint8Array): Ipv4Packet {
  return new Ipv4Packet().reset(b, 0, b.length);
}

/** An ICMP message built by emitIcmp. */
export function icmp(r: IcmpRepr): Uint8Array {
  const b = new Uint8Array(8 + r.data.length);
  emitIcmp(r, b, 0);
  return b;
}

export function echoRequest(ident: number, seq: number, data: Uint8Array): Uint8Array {
  return icmp({ kind: 'echoRequest', ident, seq, data });
}

/** Bytes 0, 1, 2, ... (mod 251, so that no period lines up with 8-byte fragment offsets). */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}

/** An Ethernet II frame, not padded. */
export function ethernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(ETH_HEADER_LEN + payload.length);
  writeEthernetHeader(b, 0, dst, src, etherType);
  b.set(payload, ETH_HEADER_LEN);
  return b;
}

/** An ARP frame padded to the 60-byte Ethernet minimum. */
export function arpFrame(ethDst: Uint8Array, ethSrc: Uint8Array, r: ArpRepr): Uint8Array {
  const b = new Uint8Array(60);
  writeEthernetHeader(b, 0, ethDst, ethSrc, ETHERTYPE_ARP);
  emitArp(r, b, ETH_HEADER_LEN);
  return b.subarray(0, Math.max(60, ETH_HEADER_LEN + ARP_LEN));
}

/** A datagram read back from the wire: its header (checked) and a copy of its payload. */
export interface ReadDatagram {
  repr: Ipv4Repr;
  header: Uint8Array;
  payload: Uint8Array;
}

/** Parses `b[off..]` as an IPv4 datagram and fails the test if it is not a valid one. */
export function readIpv4(b: Uint8Array, off = 0): ReadDatagram {
  const p = new Ipv4Packet().reset(b, off, b.length - off);
  const r = parseIpv4Header(p);
  if (typeof r === 'string') throw new Error(`not a valid IPv4 datagram (${r}): ${toHex(b.subarray(off, off + 40))}`);
  if (naiveChecksum(b, off, p.headerLen()) !== 0) throw new Error('IPv4 header checksum does not verify (reference)');
  return {
    repr: r,
    header: b.slice(off, off + p.headerLen()),
    payload: b.slice(p.payloadOffset(), p.payloadOffset() + p.payloadLen()),
  };
}

/** Reads an ICMP message's fields by hand (no src parser), checking its checksum by reference. */
export function readIcmp(b: Uint8Array): { type: number; code: number; ident: number; seq: number; data: Uint8Array; checksumOk: boolean } {
  if (b.length < 8) throw new Error(`ICMP message of ${b.length} bytes`);
  return {
    type: b[0]!,
    code: b[1]!,
    ident: (b[4]! << 8) | b[5]!,
    seq: (b[6]! << 8) | b[7]!,
    data: b.slice(8),
    checksumOk: naiveChecksum(b) === 0,
  };
}

/** Reassembles fragments read back from the wire, independently of src/ip/reassembly.ts. */
export function reassembleReference(frags: ReadDatagram[]): Uint8Array {
  const sorted = [...frags].sort((a, b) => a.repr.fragOffset - b.repr.fragOffset);
  const last = sorted[sorted.length - 1]!;
  if (last.repr.moreFrags) throw new Error('last fragment has MF set');
  const total = last.repr.fragOffset + last.payload.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of sorted) {
    if (f.repr.fragOffset !== at) throw new Error(`gap or overlap at ${at} (fragment at ${f.repr.fragOffset})`);
    out.set(f.payload, at);
    at += f.payload.length;
  }
  return out;
}

/** Fast byte equality for large buffers (toHex on 64 KiB is slow); prints where they differ. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)) === 0) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  throw new Error(`bytes differ at ${i} (lengths ${actual.length} and ${expected.length}): ${toHex(actual.subarray(i, i + 16))} vs ${toHex(expected.subarray(i, i + 16))}`);
}
