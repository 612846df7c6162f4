/**
 * Receive checksum offload through the whole stack (STYLE.md §6 layer 3): a TUN device
 * with offload says per frame that the kernel vouches for the transport checksum
 * (LinkReceiver.frame(..., checksumOk)), and UDP and TCP then skip verifying it, while
 * the IPv4 header checksum is always verified. Frames go in through the stack's own
 * LinkReceiver (Stack.receiverFor), at an offset in a shared buffer as the TUN device
 * hands them over. Covered: a bad UDP or TCP checksum is dropped and counted without
 * the flag and accepted with it; a bad IPv4 header checksum is dropped either way; the
 * flag does not leak into the next frame (same batch or next) nor outlive
 * Ipv4Layer.receive (even when delivery throws); datagrams reassembled from flagged
 * fragments and looped-back datagrams are verified; an Ethernet (TAP) interface passes
 * the device's flag on as TUN's does (TAP offload has virtio-net headers too). Packets are built with src emitters and checked against the naive
 * reference checksum in test/helpers/packets.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Ipv4Addr } from '../../src/ip/address.js';
import { TX_PAYLOAD_OFFSET, type TransportHandler } from '../../src/ip/ipv4-layer.js';
import { IP_PROTO_TCP, IP_PROTO_UDP } from '../../src/ip/ipv4-packet.js';
import { ETHERTYPE_IPV4 } from '../../src/link/ethernet-frame.js';
import type { LinkReceiver } from '../../src/link/link-device.js';
import { ACK, SYN, emitTcp } from '../../src/tcp/tcp-packet.js';
import { UdpEndpoint } from '../../src/udp/udp-layer.js';
import { emitUdp, writeUdpHeader } from '../../src/udp/udp-packet.js';
import { ethernet, fragmentAll, ip, ipv4, naiveChecksum, pattern, readIpv4, toHex } from '../helpers/packets.js';
import { Harness } from '../helpers/stack-harness.js';

const US = ip('10.0.0.1');
const PEER = ip('10.0.0.2');
const UDP_PORT = 7777;
const TCP_PORT = 80;
/** An IP protocol number no transport claims (RFC 3692 experimentation), for probe handlers. */
const PROBE_PROTO = 253;
/** The TUN device hands frames over at an offset in its receive buffer (after the stripped virtio-net header). */
const FRAME_OFF = 10;

const OUR_MAC = new Uint8Array([0x02, 0, 0, 0, 0, 0x01]);
const PEER_MAC = new Uint8Array([0x02, 0, 0, 0, 0, 0x02]);

interface Rig {
  h: Harness;
  rx: LinkReceiver;
}

function rig(medium: 'ip' | 'ethernet' = 'ip'): Rig {
  const h = medium === 'ip'
    ? new Harness({ addr: US, prefixLen: 24, gateway: ip('10.0.0.254') })
    : new Harness({ medium: 'ethernet', macs: [OUR_MAC, PEER_MAC], addr: US, prefixLen: 24, gateway: ip('10.0.0.254') });
  // The same receiver the harness gave the link, but one that lets us pass checksumOk.
  const rx = h.stack.receiverFor(() => h.now, () => h.stack.poll(h.now));
  return { h, rx };
}

/** Delivers `frames` as one batch, each with its checksumOk flag, as TunDevice.onBatch does. */
function feed(r: Rig, ...frames: [Uint8Array, boolean][]): void {
  let total = 0;
  for (const [f] of frames) total += FRAME_OFF + f.length;
  const buf = new Uint8Array(total).fill(0xee);
  let at = 0;
  const metas: [number, number, boolean][] = [];
  for (const [f, ok] of frames) {
    at += FRAME_OFF;
    buf.set(f, at);
    metas.push([at, f.length, ok]);
    at += f.length;
  }
  for (const [off, len, ok] of metas) r.rx.frame(buf, off, len, ok);
  r.rx.batchEnd();
}

/** A UDP datagram (IPv4 packet) built by src's emitter, with a correct checksum. */
function udpPacket(payload: Uint8Array, dport = UDP_PORT, sport = 40000, src: Ipv4Addr = PEER, dst: Ipv4Addr = US): Uint8Array {
  const seg = new Uint8Array(8 + payload.length);
  emitUdp({ srcPort: sport, dstPort: dport, payload }, src, dst, seg, 0);
  return ipv4({ src, dst, protocol: IP_PROTO_UDP, ident: 0x1234 }, seg);
}

/** A SYN (IPv4 packet) with an MSS option, with a correct checksum. */
function synPacket(seq: number, sport = 40001, dport = TCP_PORT): Uint8Array {
  const seg = new Uint8Array(20 + 40);
  const n = emitTcp({ srcPort: sport, dstPort: dport, seq, ack: 0, flags: SYN, window: 65535, options: { mss: 1460 }, payload: new Uint8Array(0) }, PEER, US, seg, 0);
  return ipv4({ src: PEER, dst: US, protocol: IP_PROTO_TCP, ident: 0x4321 }, seg.subarray(0, n));
}

/** Does the transport checksum of this IPv4 packet verify, by the naive reference over the pseudo-header? */
function transportVerifies(pkt: Uint8Array): boolean {
  const d = readIpv4(pkt);
  const seg = d.payload;
  const ph = new Uint8Array(12 + seg.length);
  ph.set(pkt.subarray(12, 20));
  ph[9] = d.repr.protocol;
  ph[10] = seg.length >> 8;
  ph[11] = seg.length & 0xff;
  ph.set(seg, 12);
  return naiveChecksum(ph) === 0;
}

/** A copy of `pkt` with its UDP or TCP checksum field wrong (never 0, which UDP reads as "none"). */
function badTransportChecksum(pkt: Uint8Array): Uint8Array {
  const b = pkt.slice();
  const field = 20 + (b[9] === IP_PROTO_UDP ? 6 : 16);
  b[field + 1]! ^= 0xff;
  expect((b[field]! << 8) | b[field + 1]!).not.toBe(0);
  expect(transportVerifies(b)).toBe(false);
  expect(naiveChecksum(b, 0, 20)).toBe(0); // the IPv4 header is still fine
  return b;
}

/** A copy of `pkt` whose IPv4 header checksum no longer verifies (TTL changed, checksum not). */
function badHeaderChecksum(pkt: Uint8Array): Uint8Array {
  const b = pkt.slice();
  b[8] = b[8] === 63 ? 62 : 63;
  expect(naiveChecksum(b, 0, 20)).not.toBe(0);
  return b;
}

function bindUdp(r: Rig, port = UDP_PORT): UdpEndpoint {
  const ep = new UdpEndpoint();
  expect(r.h.stack.udp.bind(ep, 0, port)).toBeNull();
  return ep;
}

function listenTcp(r: Rig, port = TCP_PORT): void {
  expect(r.h.stack.tcp.listen(port, 0, 16)).not.toBe('EADDRINUSE');
}

/** The SYN-ACKs among what the stack sent, as (dst port, ack) pairs; checks each by the reference checksum. */
function synAcks(r: Rig): { dport: number; ack: number }[] {
  const out: { dport: number; ack: number }[] = [];
  for (const f of r.h.sent()) {
    const d = readIpv4(f);
    if (d.repr.protocol !== IP_PROTO_TCP) continue;
    expect(transportVerifies(f)).toBe(true); // what we send is checksummed in full (no tx offload here)
    const t = d.payload;
    if ((t[13]! & (SYN | ACK)) !== (SYN | ACK)) continue;
    out.push({ dport: (t[2]! << 8) | t[3]!, ack: ((t[8]! << 24) | (t[9]! << 16) | (t[10]! << 8) | t[11]!) >>> 0 });
  }
  return out;
}

/** Registers a handler for PROBE_PROTO that records Ipv4Layer.rxChecksumOk at each delivery. */
function probe(r: Rig, also?: () => void): boolean[] {
  const seen: boolean[] = [];
  const h: TransportHandler = {
    receive: () => {
      seen.push(r.h.stack.ip.rxChecksumOk);
      also?.();
    },
  };
  r.h.stack.ip.register(PROBE_PROTO, h);
  return seen;
}

function probePacket(payload = pattern(32)): Uint8Array {
  return ipv4({ src: PEER, dst: US, protocol: PROBE_PROTO }, payload);
}

describe('receive checksum offload: UDP', () => {
  it('a good datagram is delivered with and without the flag (the baseline)', () => {
    const r = rig();
    const ep = bindUdp(r);
    feed(r, [udpPacket(pattern(40, 1)), false], [udpPacket(pattern(40, 2)), true]);
    expect(ep.queue.map((d) => toHex(d.data))).toEqual([toHex(pattern(40, 1)), toHex(pattern(40, 2))]);
    expect(r.h.stack.udp.counters).toMatchObject({ received: 2, delivered: 2, badChecksum: 0 });
  });

  it('a wrong UDP checksum without the flag is dropped and counted, not answered', () => {
    const r = rig();
    const ep = bindUdp(r);
    feed(r, [badTransportChecksum(udpPacket(pattern(40))), false]);
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.udp.counters).toMatchObject({ received: 1, badChecksum: 1, delivered: 0, noPort: 0 });
    expect(r.h.stack.ip.counters).toMatchObject({ delivered: 1, badChecksum: 0 });
    expect(r.h.sent()).toEqual([]);
  });

  it('the same datagram with the flag is delivered to the socket: the device vouched for it', () => {
    const r = rig();
    const ep = bindUdp(r);
    const bad = badTransportChecksum(udpPacket(pattern(40)));
    feed(r, [bad, true]);
    expect(ep.queue).toHaveLength(1);
    expect(toHex(ep.queue[0]!.data)).toBe(toHex(pattern(40)));
    expect(ep.queue[0]).toMatchObject({ addr: PEER, port: 40000 });
    expect(r.h.stack.udp.counters).toMatchObject({ received: 1, badChecksum: 0, delivered: 1 });
    // And once more without the flag: now it is checked again.
    feed(r, [bad, false]);
    expect(ep.queue).toHaveLength(1);
    expect(r.h.stack.udp.counters).toMatchObject({ received: 2, badChecksum: 1, delivered: 1 });
  });

  it('the flag does not excuse a malformed UDP length (only the checksum is skipped)', () => {
    const r = rig();
    const ep = bindUdp(r);
    const p = udpPacket(pattern(40));
    p[20 + 4] = 0xff; // UDP Length far beyond what IP delivered
    feed(r, [p, true]);
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.udp.counters).toMatchObject({ badLength: 1, delivered: 0 });
  });
});

describe('receive checksum offload: TCP', () => {
  it('a good SYN gets a SYN-ACK with and without the flag (the baseline)', () => {
    const r = rig();
    listenTcp(r);
    feed(r, [synPacket(1000, 40001), false], [synPacket(5000, 40002), true]);
    expect(synAcks(r)).toEqual([{ dport: 40001, ack: 1001 }, { dport: 40002, ack: 5001 }]);
    expect(r.h.stack.tcp.counters.badChecksum).toBe(0);
  });

  it('a SYN with a wrong TCP checksum without the flag: no SYN-ACK, counted as a bad checksum', () => {
    const r = rig();
    listenTcp(r);
    feed(r, [badTransportChecksum(synPacket(1000)), false]);
    expect(r.h.sent()).toEqual([]);
    expect(r.h.stack.tcp.counters).toMatchObject({ segsIn: 1, badChecksum: 1 });
    expect(r.h.stack.tcp.listenerList()[0]!.synQueue.size).toBe(0);
  });

  it('the same SYN with the flag gets a SYN-ACK', () => {
    const r = rig();
    listenTcp(r);
    const bad = badTransportChecksum(synPacket(0xfffffff0));
    feed(r, [bad, true]);
    expect(synAcks(r)).toEqual([{ dport: 40001, ack: 0xfffffff1 }]);
    expect(r.h.stack.tcp.counters).toMatchObject({ segsIn: 1, badChecksum: 0 });
  });

  it('a SYN with a wrong checksum to a closed port: no RST without the flag, a RST with it', () => {
    const r = rig();
    const bad = badTransportChecksum(synPacket(77, 40009, 81));
    feed(r, [bad, false]);
    expect(r.h.sent()).toEqual([]);
    expect(r.h.stack.tcp.counters).toMatchObject({ badChecksum: 1, noConnection: 0, resetsSent: 0 });
    feed(r, [bad, true]);
    const out = r.h.sent().map(readIpv4);
    expect(out).toHaveLength(1);
    expect(out[0]!.repr.protocol).toBe(IP_PROTO_TCP);
    expect(out[0]!.payload[13]! & 0x04).toBe(0x04); // RST
    expect(r.h.stack.tcp.counters).toMatchObject({ badChecksum: 1, noConnection: 1 });
  });
});

describe('receive checksum offload: the IPv4 header checksum is always verified', () => {
  it('a UDP datagram with a bad header checksum is dropped with the flag', () => {
    const r = rig();
    const ep = bindUdp(r);
    feed(r, [badHeaderChecksum(udpPacket(pattern(40))), true]);
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.ip.counters).toMatchObject({ received: 1, badChecksum: 1, delivered: 0 });
    expect(r.h.stack.udp.counters.received).toBe(0);
    expect(r.h.sent()).toEqual([]);
  });

  it('a SYN with a bad header checksum gets no SYN-ACK with the flag', () => {
    const r = rig();
    listenTcp(r);
    feed(r, [badHeaderChecksum(synPacket(1000)), true]);
    expect(r.h.sent()).toEqual([]);
    expect(r.h.stack.ip.counters).toMatchObject({ badChecksum: 1, delivered: 0 });
    expect(r.h.stack.tcp.counters.segsIn).toBe(0);
  });

  it('bad header and bad transport checksum together, with the flag: dropped at IP', () => {
    const r = rig();
    const ep = bindUdp(r);
    feed(r, [badHeaderChecksum(badTransportChecksum(udpPacket(pattern(40)))), true]);
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.ip.counters.badChecksum).toBe(1);
    expect(r.h.stack.udp.counters.received).toBe(0);
  });
});

describe('receive checksum offload: the flag does not leak', () => {
  it('a flagged frame, then a bad one without the flag in the same batch: the second is dropped', () => {
    const r = rig();
    const ep = bindUdp(r);
    feed(r, [udpPacket(pattern(40, 1)), true], [badTransportChecksum(udpPacket(pattern(40, 2))), false]);
    expect(ep.queue.map((d) => toHex(d.data))).toEqual([toHex(pattern(40, 1))]);
    expect(r.h.stack.udp.counters).toMatchObject({ received: 2, delivered: 1, badChecksum: 1 });
  });

  it('a flagged frame, then a bad one without the flag in the next batch: the second is dropped', () => {
    const r = rig();
    const ep = bindUdp(r);
    listenTcp(r);
    feed(r, [badTransportChecksum(udpPacket(pattern(40, 1))), true]);
    expect(ep.queue).toHaveLength(1);
    feed(r, [badTransportChecksum(udpPacket(pattern(40, 2))), false]);
    feed(r, [badTransportChecksum(synPacket(1000)), false]);
    expect(ep.queue).toHaveLength(1);
    expect(r.h.stack.udp.counters.badChecksum).toBe(1);
    expect(r.h.stack.tcp.counters.badChecksum).toBe(1);
    expect(synAcks(r)).toEqual([]);
  });

  it('through h.inject (a link that never says checksumOk) after flagged frames: verified', () => {
    const r = rig();
    const ep = bindUdp(r);
    feed(r, [udpPacket(pattern(8)), true], [udpPacket(pattern(8)), true]);
    r.h.inject(badTransportChecksum(udpPacket(pattern(40))));
    expect(ep.queue).toHaveLength(2);
    expect(r.h.stack.udp.counters.badChecksum).toBe(1);
  });

  it('rxChecksumOk is set only while the flagged datagram is delivered, and false after receive returns', () => {
    const r = rig();
    const ip4 = r.h.stack.ip;
    const seen = probe(r);
    expect(ip4.rxChecksumOk).toBe(false);
    feed(r, [probePacket(), true], [probePacket(), false], [probePacket(), true]);
    expect(seen).toEqual([true, false, true]);
    expect(ip4.rxChecksumOk).toBe(false);
    // Directly on the layer, too, for frames that are delivered and frames dropped early.
    const frames: Uint8Array[] = [
      probePacket(), udpPacket(pattern(4)), synPacket(1), badHeaderChecksum(probePacket()),
      ipv4({ src: PEER, dst: ip('10.0.0.9'), protocol: PROBE_PROTO }, pattern(4)), // not for us
      ipv4({ src: PEER, dst: US, protocol: 254 }, pattern(4)), // unknown protocol
      new Uint8Array([0x45, 0, 0]), // truncated
    ];
    for (const f of frames) {
      ip4.receive(f, 0, f.length, 0, true);
      expect(ip4.rxChecksumOk).toBe(false);
    }
    expect(seen).toEqual([true, false, true, true]);
  });

  it('rxChecksumOk is false again when delivery throws (the stack contains the throw)', () => {
    const r = rig();
    const errors: unknown[] = [];
    r.h.stack.onInternalError = (e) => errors.push(e);
    const seen = probe(r, () => {
      throw new Error('handler bug');
    });
    const ep = bindUdp(r);
    feed(r, [probePacket(), true], [badTransportChecksum(udpPacket(pattern(40))), false]);
    expect(seen).toEqual([true]);
    expect(errors).toHaveLength(1);
    expect(r.h.stack.counters.internalErrors).toBe(1);
    expect(r.h.stack.ip.rxChecksumOk).toBe(false);
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.udp.counters.badChecksum).toBe(1);
  });
});

describe('receive checksum offload: never for reassembled or looped-back datagrams', () => {
  const payload = pattern(2000, 3);

  function fragmentsOf(pkt: Uint8Array): Uint8Array[] {
    const d = readIpv4(pkt);
    return fragmentAll({ src: PEER, dst: US, protocol: d.repr.protocol, ident: 0x5151 }, d.payload, 800);
  }

  it('a good datagram reassembled from flagged fragments is delivered (the baseline)', () => {
    const r = rig();
    const ep = bindUdp(r);
    const frags = fragmentsOf(udpPacket(payload));
    expect(frags).toHaveLength(3);
    feed(r, ...frags.map((f): [Uint8Array, boolean] => [f, true]));
    expect(r.h.stack.ip.counters).toMatchObject({ fragmentsReceived: 3, reassembled: 1 });
    expect(ep.queue).toHaveLength(1);
    expect(toHex(ep.queue[0]!.data)).toBe(toHex(payload));
  });

  it('a bad UDP checksum in a datagram reassembled from flagged fragments is dropped', () => {
    const r = rig();
    const ep = bindUdp(r);
    const frags = fragmentsOf(badTransportChecksum(udpPacket(payload)));
    feed(r, ...frags.map((f): [Uint8Array, boolean] => [f, true]));
    expect(r.h.stack.ip.counters).toMatchObject({ fragmentsReceived: 3, reassembled: 1, delivered: 1 });
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.udp.counters).toMatchObject({ received: 1, badChecksum: 1, delivered: 0 });
  });

  it('the same, fragments in separate batches and out of order', () => {
    const r = rig();
    const ep = bindUdp(r);
    const frags = fragmentsOf(badTransportChecksum(udpPacket(payload)));
    for (const i of [2, 0, 1]) feed(r, [frags[i]!, true]);
    expect(r.h.stack.ip.counters.reassembled).toBe(1);
    expect(ep.queue).toHaveLength(0);
    expect(r.h.stack.udp.counters.badChecksum).toBe(1);
  });

  it('a reassembled datagram is delivered with rxChecksumOk false', () => {
    const r = rig();
    const seen = probe(r);
    const frags = fragmentAll({ src: PEER, dst: US, protocol: PROBE_PROTO, ident: 9 }, pattern(1000), 496);
    feed(r, ...frags.map((f): [Uint8Array, boolean] => [f, true]));
    expect(r.h.stack.ip.counters.reassembled).toBe(1);
    expect(seen).toEqual([false]);
  });

  it('a datagram looped back to ourselves while a flagged frame is handled is verified', () => {
    for (const corrupt of [false, true]) {
      const r = rig();
      const ep = bindUdp(r);
      const ip4 = r.h.stack.ip;
      const data = pattern(24, 7);
      const seen = probe(r, () => {
        // From inside the flagged delivery: a UDP datagram to our own address.
        const o = TX_PAYLOAD_OFFSET;
        ip4.tx.set(data, o + 8);
        const len = writeUdpHeader(ip4.tx, o, US, US, 5555, UDP_PORT, data.length);
        if (corrupt) ip4.tx[o + 7]! ^= 0xff;
        expect(ip4.send(IP_PROTO_UDP, 0, US, len, r.h.now)).toBeNull();
      });
      feed(r, [probePacket(), true]);
      expect(seen).toEqual([true]);
      expect(ip4.counters.loopback).toBe(1);
      if (corrupt) {
        expect(ep.queue).toHaveLength(0);
        expect(r.h.stack.udp.counters.badChecksum).toBe(1);
      } else {
        expect(ep.queue.map((d) => toHex(d.data))).toEqual([toHex(data)]);
        expect(r.h.stack.udp.counters.badChecksum).toBe(0);
      }
    }
  });
});

describe('receive checksum offload on an Ethernet (TAP) interface: the device\'s flag is passed on, as on TUN', () => {
  it('a flagged frame is taken as the device vouched for it; an unflagged bad one is verified and dropped', () => {
    const r = rig('ethernet');
    const ep = bindUdp(r);
    const seen = probe(r);
    feed(
      r,
      // A TAP device with virtio-net headers vouches (NEEDS_CSUM / DATA_VALID): not re-verified.
      [ethernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, badTransportChecksum(udpPacket(pattern(40, 1)))), true],
      [ethernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, udpPacket(pattern(40, 2))), true],
      [ethernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, badTransportChecksum(udpPacket(pattern(40, 3)))), false],
      [ethernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, probePacket()), true],
    );
    expect(ep.queue.map((d) => toHex(d.data))).toEqual([toHex(pattern(40, 1)), toHex(pattern(40, 2))]);
    expect(r.h.stack.udp.counters).toMatchObject({ received: 3, badChecksum: 1, delivered: 2 });
    expect(seen).toEqual([true]);
  });
});
