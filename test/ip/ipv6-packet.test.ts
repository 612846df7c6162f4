/**
 * IPv6 wire tests (STYLE.md §6 layer 1): the kernel's own packets parse and verify
 * (test/ip/fixtures/ipv6-kernel.json), emit then parse is identity, random bytes never
 * throw, and fragments reassemble whatever their order and duplication (RFC 8200 §4.5),
 * with overlaps dropped (RFC 5722) and memory capped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/ip/address.js';
import { Icmpv6Packet, parseIcmpv6 } from '../../src/ip/icmpv6-packet.js';
import { Ipv6Addr, formatIpv6 } from '../../src/ip/ipv6-address.js';
import { Ipv6Packet, emitIpv6Header, parseIpv6Header, type Ipv6Repr } from '../../src/ip/ipv6-packet.js';
import { TcpPacket, parseTcp } from '../../src/tcp/tcp-packet.js';
import { UdpPacket } from '../../src/udp/udp-packet.js';
import fixtures from './fixtures/ipv6-kernel.json' with { type: 'json' };
import { Harness } from '../helpers/stack-harness.js';
import { A6, B6, concat, echo6, fragmentHeader, ipv6, readIpv6 } from '../helpers/packets6.js';
import { pattern } from '../helpers/packets.js';

const fx = fixtures as unknown as Record<string, { ipv6: string; what: string }>;
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));
const names = Object.keys(fx).filter((k) => !k.startsWith('_'));

describe("the kernel's IPv6 packets", () => {
  it.each(names)('%s parses, and its upper-layer checksum verifies', (name) => {
    const b = hex(fx[name]!.ipv6);
    const p = new Ipv6Packet().reset(b, 0, b.length);
    expect(p.checkLen()).toBeNull();
    const r = parseIpv6Header(p);
    if (typeof r === 'string') throw new Error(r);
    expect(40 + r.payloadLen).toBe(b.length);
    expect(p.toString()).toMatch(/^IPv6 \S+ > \S+ nh=\d+ hlim=\d+ len=\d+/);
    const src = p.src();
    const dst = p.dst();
    let nh = r.nextHeader;
    let at = 40;
    if (nh === 0) { nh = b[at]!; at += (b[at + 1]! + 1) * 8; } // MLD's hop-by-hop header
    if (nh === 44) return; // a fragment: its checksum covers the whole datagram (below)
    const len = b.length - at;
    if (nh === 58) {
      const m = new Icmpv6Packet().reset(b, at, len);
      expect(m.verifyChecksum(src, dst)).toBe(true);
      expect(typeof parseIcmpv6(m, src, dst)).toBe('object');
    } else if (nh === 6) {
      const t = new TcpPacket().reset(b, at, len);
      expect(t.verifyChecksum(src, dst)).toBe(true);
      expect(typeof parseTcp(t, src, dst)).toBe('object');
    } else if (nh === 17) {
      expect(new UdpPacket().reset(b, at, len).verifyChecksum(src, dst)).toBe(true);
    } else {
      throw new Error(`unexpected next header ${nh}`);
    }
  });

  it("reads the kernel's SYN as the kernel meant it", () => {
    const b = hex(fx.tcp6_syn!.ipv6);
    const p = new Ipv6Packet().reset(b, 0, b.length);
    expect([formatIpv6(p.src()), formatIpv6(p.dst()), p.nextHeader(), p.hopLimit()]).toEqual(['fd00:7::1', 'fd00:7::2', 6, 64]);
    expect(p.flowLabel()).not.toBe(0); // Linux labels its flows (RFC 6437)
    const t = new TcpPacket().reset(b, 40, b.length - 40);
    expect(t.toString(p.src(), p.dst())).toMatch(/^TCP \[fd00:7::1\]:\d+ > \[fd00:7::2\]:\d+ S .*mss 1440/);
  });
});

const addrArb = fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff)).map(([a, b, c, d]) => new Ipv6Addr(a, b, c, d));

describe('IPv6 header codec', () => {
  it('parse(emit(r)) is r', () => {
    fc.assert(fc.property(addrArb, addrArb, fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(0xfffff), fc.nat(2000), (src, dst, nh, hop, tc, flow, len) => {
      const r: Ipv6Repr = { src, dst, nextHeader: nh, hopLimit: hop, trafficClass: tc, flowLabel: flow, payloadLen: len };
      const b = new Uint8Array(40 + len);
      emitIpv6Header(r, b, 0);
      const back = parseIpv6Header(new Ipv6Packet().reset(b, 0, b.length));
      expect(back).toEqual({ ...r, src: expect.objectContaining({ w0: src.w0, w1: src.w1, w2: src.w2, w3: src.w3 }), dst: expect.objectContaining({ w0: dst.w0, w1: dst.w1, w2: dst.w2, w3: dst.w3 }) });
    }));
  });

  it('random bytes give an error or a packet, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      const p = new Ipv6Packet().reset(b, 0, b.length);
      const bad = p.checkLen();
      expect(typeof p.toString()).toBe('string');
      if (bad === null) expect(typeof parseIpv6Header(p)).toBe('object');
      const m = new Icmpv6Packet().reset(b, 0, b.length);
      if (m.checkLen() === null) {
        expect(typeof m.toString()).toBe('string');
        if (m.checkNdpLen()) expect(m.linkLayerOption(1)).toBeGreaterThanOrEqual(-2);
      }
    }));
  });

  it('random bytes through a whole stack never throw, whatever their next header', () => {
    const h = new Harness({ addr: parseIpv4('10.7.0.2'), prefixLen: 24, addr6: B6, prefixLen6: 64 });
    fc.assert(fc.property(fc.constantFrom(0, 6, 17, 43, 44, 58, 59, 60, 253), fc.uint8Array({ maxLength: 200 }), (nh, payload) => {
      h.inject(ipv6({ nh }, payload));
      h.sent();
    }));
    expect(h.stack.counters.internalErrors).toBe(0);
  });
});

describe('IPv6 reassembly properties', () => {
  const harness = (): Harness => new Harness({ addr: parseIpv4('10.7.0.2'), prefixLen: 24, addr6: B6, prefixLen6: 64, gateway6: A6, mtu: 9000 });
  /** An echo request of `size` data bytes cut into pieces of `chunk` bytes (8n). */
  const pieces = (size: number, chunk: number, ident: number): Uint8Array[] => {
    const msg = echo6(5, 6, pattern(size, ident));
    const out: Uint8Array[] = [];
    for (let off = 0; off < msg.length; off += chunk) {
      const len = Math.min(chunk, msg.length - off);
      out.push(ipv6({ nh: 44 }, concat(fragmentHeader(58, off, off + len < msg.length, ident), msg.subarray(off, off + len))));
    }
    return out;
  };

  it('any order, with duplicates, reassembles and is answered with the same data', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 6000 }), fc.integer({ min: 1, max: 40 }), fc.nat(0xffffffff), fc.array(fc.nat(), { maxLength: 8 }), (size, c8, ident, dups) => {
      const h = harness();
      // At most 100 pieces (the cap is 128 fragments per datagram, maxFragments).
      const ps = pieces(size, Math.max(c8 * 8, Math.ceil((size + 8) / 800) * 8), ident);
      const order = fc.sample(fc.shuffledSubarray(ps.map((_, i) => i), { minLength: ps.length, maxLength: ps.length }), { numRuns: 1, seed: ident })[0]!;
      const frames = order.map((i) => ps[i]!);
      for (const d of dups) frames.splice(d % (frames.length + 1), 0, ps[d % ps.length]!);
      for (const f of frames) h.inject(f);
      const out = h.sent().map(readIpv6);
      // A reply (the MTU holds it whole); a second only if the duplicates made a whole second copy.
      expect(out.length).toBeGreaterThanOrEqual(1);
      expect(out.length).toBeLessThanOrEqual(1 + Math.floor(dups.length / ps.length));
      for (const o of out) {
        expect(o.payload[0]).toBe(129);
        expect(o.payload.subarray(8)).toEqual(pattern(size, ident));
      }
      // A duplicate that came after the datagram was whole starts a new one, which times out.
      h.advanceTo(60_000);
      expect(h.stack.ip6!.reassembly.datagrams).toBe(0);
    }), { numRuns: 60 });
  });

  it('any overlap that is not an exact duplicate drops the datagram (RFC 5722)', () => {
    fc.assert(fc.property(fc.integer({ min: 200, max: 3000 }), fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 7 }), (size, c8, shift) => {
      const h = harness();
      const chunk = c8 * 8;
      fc.pre((8 * shift) % chunk !== 0); // (a piece at a multiple of chunk would be an exact duplicate)
      const ps = pieces(size, chunk, 77);
      if (ps.length < 2 || ps.length > 100) return;
      // A second copy of the first piece, moved by 8·shift bytes: it overlaps the next piece.
      const msg = echo6(5, 6, pattern(size, 77));
      const off = Math.min(8 * shift, msg.length - chunk);
      const odd = ipv6({ nh: 44 }, concat(fragmentHeader(58, off, true, 77), msg.subarray(off, off + chunk)));
      h.inject(ps[0]!, odd, ...ps.slice(1));
      expect(h.sent()).toEqual([]);
      expect(h.stack.ip6!.counters.fragOverlap).toBeGreaterThanOrEqual(1);
    }), { numRuns: 60 });
  });

  it('memory stays capped under a flood of datagrams that never complete', () => {
    const h = new Harness({ addr: parseIpv4('10.7.0.2'), prefixLen: 24, addr6: B6, prefixLen6: 64, reassembly: { maxBytes: 256 * 1024, maxDatagrams: 64 } });
    for (let i = 0; i < 2000; i++) h.inject(pieces(4000, 1000, i)[0]!);
    expect(h.stack.ip6!.reassembly.datagrams).toBeLessThanOrEqual(64);
    expect(h.stack.ip6!.counters.fragEvicted).toBeGreaterThan(1900);
    expect(h.stack.counters.internalErrors).toBe(0);
  });
});
