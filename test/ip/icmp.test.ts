/**
 * ICMP through the whole stack (STYLE.md §6 layer 3): a Stack on a MemoryLink (TUN-like,
 * bare IPv4), datagrams injected on the wire, replies read from what the stack sent.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { IP_PROTO_ICMP, IP_PROTO_UDP } from '../../src/ip/ipv4-packet.js';
import {
  echoRequest, expectSameBytes, fragmentAll, icmp, ip, ipv4, naiveChecksum, pattern, readIcmp, readIpv4, reassembleReference, toHex,
} from '../helpers/packets.js';
import { Harness } from '../helpers/stack-harness.js';

const US = ip('10.0.0.1');
const PEER = ip('10.0.0.2');

function harness(): Harness {
  return new Harness({ addr: US, prefixLen: 24, gateway: ip('10.0.0.254') });
}

describe('ICMP echo', () => {
  it('an echo request gets an echo reply with the same id, seq and data, and valid checksums', () => {
    const h = harness();
    const data = pattern(56);
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP, ident: 77 }, echoRequest(0x1234, 9, data)));
    const out = h.sent();
    expect(out).toHaveLength(1);
    const d = readIpv4(out[0]!);
    expect(d.repr).toMatchObject({ src: US, dst: PEER, protocol: IP_PROTO_ICMP, ttl: 64, moreFrags: false, fragOffset: 0, payloadLen: 64 });
    const m = readIcmp(d.payload);
    expect(m).toMatchObject({ type: 0, code: 0, ident: 0x1234, seq: 9, checksumOk: true });
    expect(toHex(m.data)).toBe(toHex(data));
    expect(h.stack.ip.icmp.counters).toMatchObject({ received: 1, echoRequests: 1, echoReplies: 1 });
    expect(h.stack.ip.counters).toMatchObject({ received: 1, delivered: 1, sent: 1 });
  });

  it('answers from a gateway-routed (off-subnet) source through the same reply path', () => {
    const h = harness();
    const far = ip('93.184.216.34');
    h.inject(ipv4({ src: far, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(1, 2, pattern(8))));
    const out = h.sent();
    expect(out).toHaveLength(1);
    expect(readIpv4(out[0]!).repr.dst).toBe(far);
  });

  it('an odd-length echo request is answered with a valid checksum', () => {
    const h = harness();
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(3, 4, pattern(33))));
    const m = readIcmp(readIpv4(h.sent()[0]!).payload);
    expect(m.checksumOk).toBe(true);
    expect(toHex(m.data)).toBe(toHex(pattern(33)));
  });

  it('replies to any echo request: id, seq and data are echoed (property)', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.nat(0xffff), fc.uint8Array({ maxLength: 1400 }), (id, seq, data) => {
        const h = harness();
        h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(id, seq, data)));
        const out = h.sent();
        expect(out).toHaveLength(1);
        const m = readIcmp(readIpv4(out[0]!).payload);
        expect(m).toMatchObject({ type: 0, code: 0, ident: id, seq, checksumOk: true });
        expect(toHex(m.data)).toBe(toHex(data));
      }),
      { numRuns: 50 },
    );
  });

  it('a 65000-byte echo request in fragments is answered in fragments that reassemble to the same data', () => {
    const h = harness();
    const data = pattern(65000 - 8, 3);
    const frags = fragmentAll({ src: PEER, dst: US, protocol: IP_PROTO_ICMP, ident: 0xbeef }, echoRequest(0x4242, 1, data), 1480);
    expect(frags.length).toBe(44);
    h.inject(...frags.reverse()); // out of order, for good measure
    const out = h.sent();
    expect(out.length).toBe(44);
    const reads = out.map((f) => readIpv4(f));
    const ident = reads[0]!.repr.ident;
    for (const [i, f] of out.entries()) {
      const r = reads[i]!.repr;
      expect(f.length).toBeLessThanOrEqual(1500);
      expect(r.fragOffset % 8).toBe(0);
      expect(r.ident).toBe(ident);
      expect(r).toMatchObject({ src: US, dst: PEER, protocol: IP_PROTO_ICMP, dontFrag: false });
      expect(r.moreFrags).toBe(i < out.length - 1);
      if (r.moreFrags) expect(r.payloadLen % 8).toBe(0);
    }
    const whole = reassembleReference(reads);
    expect(whole.length).toBe(65000);
    const m = readIcmp(whole);
    expect(m).toMatchObject({ type: 0, code: 0, ident: 0x4242, seq: 1, checksumOk: true });
    expectSameBytes(m.data, data);
    expect(h.stack.ip.counters).toMatchObject({ fragmentsReceived: 44, reassembled: 1, fragmentsSent: 44, sent: 1 });
    expect(h.stack.ip.reassembly).toEqual({ datagrams: 0, bytes: 0 });
  });

  it('an echo request to the limited or the subnet broadcast is ignored and counted', () => {
    const h = harness();
    for (const dst of [ip('255.255.255.255'), ip('10.0.0.255')]) {
      h.inject(ipv4({ src: PEER, dst, protocol: IP_PROTO_ICMP }, echoRequest(1, 1, pattern(8))));
    }
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.icmp.counters.broadcastEchoIgnored).toBe(2);
    expect(h.stack.ip.icmp.counters.echoReplies).toBe(0);
  });

  it('an echo request with a bad ICMP checksum, or shorter than 8 bytes, is counted and not answered', () => {
    const h = harness();
    const bad = echoRequest(1, 1, pattern(8));
    bad[9] ^= 1;
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, bad));
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, bad.subarray(0, 7)));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.icmp.counters).toMatchObject({ received: 2, badChecksum: 1, truncated: 1, echoReplies: 0 });
  });

  it('echo replies and unknown types are not answered', () => {
    const h = harness();
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, icmp({ kind: 'echoReply', ident: 1, seq: 1, data: pattern(4) })));
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, icmp({ kind: 'other', type: 13, code: 0, rest: 0, data: pattern(12) })));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.icmp.counters.unhandledType).toBe(1);
  });
});

describe('ICMP errors', () => {
  it('an unknown protocol gets protocol unreachable quoting the header and the start of the data', () => {
    const h = harness();
    const dgram = ipv4({ src: PEER, dst: US, protocol: 253, ident: 0x5151 }, pattern(30));
    h.inject(dgram);
    const out = h.sent();
    expect(out).toHaveLength(1);
    const d = readIpv4(out[0]!);
    expect(d.repr).toMatchObject({ src: US, dst: PEER, protocol: IP_PROTO_ICMP });
    const m = readIcmp(d.payload);
    expect(m).toMatchObject({ type: 3, code: 2, checksumOk: true, ident: 0, seq: 0 });
    expect(toHex(m.data)).toBe(toHex(dgram)); // small enough to quote whole
    expect(h.stack.ip.counters.unknownProtocol).toBe(1);
    expect(h.stack.ip.icmp.counters.errorsSent).toBe(1);
  });

  it('a long datagram is quoted up to 576 bytes of error (RFC 1812 §4.3.2.3), header first', () => {
    const h = harness();
    const dgram = ipv4({ src: PEER, dst: US, protocol: 253 }, pattern(1200));
    h.inject(dgram);
    const out = h.sent()[0]!;
    expect(out.length).toBe(576);
    const m = readIcmp(readIpv4(out).payload);
    expect(m.checksumOk).toBe(true);
    expect(toHex(m.data)).toBe(toHex(dgram.subarray(0, 576 - 28)));
  });

  it('no error about a datagram sent to a broadcast address', () => {
    const h = harness();
    h.inject(ipv4({ src: PEER, dst: ip('10.0.0.255'), protocol: 253 }, pattern(8)));
    h.inject(ipv4({ src: PEER, dst: ip('255.255.255.255'), protocol: 253 }, pattern(8)));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.unknownProtocol).toBe(2);
    expect(h.stack.ip.icmp.counters.errorsSent).toBe(0);
  });

  it('a protocol unreachable for a fragmented datagram quotes its reassembled header and first bytes', () => {
    const h = harness();
    const payload = pattern(3000);
    const D = { src: PEER, dst: US, protocol: 253, ident: 0x7777 };
    h.inject(...fragmentAll(D, payload, 1480));
    const out = h.sent();
    expect(out).toHaveLength(1);
    const m = readIcmp(readIpv4(out[0]!).payload);
    expect(m).toMatchObject({ type: 3, code: 2, checksumOk: true });
    const q = readIpv4Quote(m.data);
    expect(q).toMatchObject({ src: PEER, dst: US, protocol: 253, ident: 0x7777 });
    expect(toHex(m.data.subarray(20, 28))).toBe(toHex(payload.subarray(0, 8)));
    // The quoted header must describe the data quoted after it: the datagram from offset 0
    // (Linux quotes the reassembled header: offset 0, MF clear).
    expect({ fragOffset: q.fragOffset, moreFrags: q.moreFrags }).toEqual({ fragOffset: 0, moreFrags: false });
  });

  it('rate limits errors: a burst of 50 at one instant, then 1000 per second', () => {
    const h = harness();
    // From a different source each (11.0.x.y, via the gateway): one source alone would meet
    // the per-destination limit first.
    const junk = (i: number): Uint8Array => ipv4({ src: (0x0b000000 + i) >>> 0, dst: US, protocol: 253, ident: i }, pattern(8));
    h.inject(...Array.from({ length: 60 }, (_, i) => junk(i)));
    expect(h.sent()).toHaveLength(50);
    expect(h.stack.ip.icmp.counters).toMatchObject({ errorsSent: 50, rateLimited: 10 });
    expect(h.stack.ip.counters.unknownProtocol).toBe(60);
    // Echo replies are not errors: never limited.
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(1, 1, pattern(8))));
    expect(h.sent()).toHaveLength(1);
    // 10 ms later, 10 tokens.
    h.now = 10;
    h.inject(...Array.from({ length: 20 }, (_, i) => junk(100 + i)));
    expect(h.sent()).toHaveLength(10);
    expect(h.stack.ip.icmp.counters.rateLimited).toBe(20);
    // A second later, a full burst again (never more than 50).
    h.now = 2000;
    h.inject(...Array.from({ length: 60 }, (_, i) => junk(200 + i)));
    expect(h.sent()).toHaveLength(50);
  });

  it('errors received are counted, and quotes too short to name a datagram are rejected', () => {
    const h = harness();
    const quote = ipv4({ src: US, dst: PEER, protocol: IP_PROTO_UDP }, pattern(8));
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, icmp({ kind: 'destUnreachable', code: 3, nextHopMtu: 0, data: quote })));
    h.inject(ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, icmp({ kind: 'destUnreachable', code: 3, nextHopMtu: 0, data: quote.subarray(0, 27) })));
    expect(h.sent()).toEqual([]); // never an error about an error
    expect(h.stack.ip.icmp.counters).toMatchObject({ errorsReceived: 2, badQuote: 1 });
  });

  it('the reply checksum is right for every error length (property)', () => {
    fc.assert(
      fc.property(fc.nat(1500), fc.integer({ min: 143, max: 252 }), (len, proto) => {
        const h = harness();
        h.inject(ipv4({ src: PEER, dst: US, protocol: proto }, pattern(len)));
        const out = h.sent();
        expect(out).toHaveLength(1);
        const d = readIpv4(out[0]!);
        expect(naiveChecksum(d.payload)).toBe(0);
        expect(d.payload.length).toBe(8 + Math.min(20 + len, 548));
      }),
      { numRuns: 40 },
    );
  });
});

/** The fields of a quoted IPv4 header, read by hand. */
function readIpv4Quote(q: Uint8Array): { src: number; dst: number; protocol: number; ident: number; fragOffset: number; moreFrags: boolean } {
  const w = (o: number): number => (q[o]! << 8) | q[o + 1]!;
  return {
    src: ((w(12) << 16) | w(14)) >>> 0,
    dst: ((w(16) << 16) | w(18)) >>> 0,
    protocol: q[9]!,
    ident: w(4),
    fragOffset: (w(6) & 0x1fff) * 8,
    moreFrags: (w(6) & 0x2000) !== 0,
  };
}

/** A datagram of protocol 253 (no handler): each one asks for a protocol unreachable. */
const junk = (src: number, i: number): Uint8Array => ipv4({ src, dst: US, protocol: 253, ident: i }, pattern(8));
const errorsTo = (h: Harness): number[] => h.sent().map((f) => readIpv4(f)).filter((d) => readIcmp(d.payload).type === 3).map((d) => d.repr.dst);

describe('ICMP errors: per-destination limit', () => {
  // Linux icmpv4_xrlim_allow / inet_peer_xrlim_allow: per destination, one token per
  // icmp_ratelimit (1000 ms), at most XRLIM_BURST_FACTOR (6) saved up; for the types in
  // icmp_ratemask (0x1818: unreachable, source quench, time exceeded, parameter problem).
  it('one destination gets a burst of 6, then one error per second; the rest are counted rateLimitedHost', () => {
    const h = harness();
    h.inject(...Array.from({ length: 20 }, (_, i) => junk(PEER, i)));
    expect(errorsTo(h)).toEqual(Array(6).fill(PEER));
    expect(h.stack.ip.icmp.counters).toMatchObject({ errorsSent: 6, rateLimitedHost: 14, rateLimited: 0 });
    h.now = 999;
    h.inject(junk(PEER, 100));
    expect(errorsTo(h)).toEqual([]);
    h.now = 1000;
    h.inject(junk(PEER, 101), junk(PEER, 102));
    expect(errorsTo(h)).toEqual([PEER]);
  });

  it('one busy destination does not use up another\'s budget (no shared-limit side channel)', () => {
    const h = harness();
    const other = ip('10.0.0.3');
    h.inject(...Array.from({ length: 60 }, (_, i) => junk(PEER, i))); // more than the global burst of 50
    h.sent();
    h.inject(...Array.from({ length: 3 }, (_, i) => junk(other, 200 + i)));
    expect(errorsTo(h)).toEqual([other, other, other]);
  });

  it('the global limit still holds across many destinations: a burst of 50, then 1000 per second', () => {
    const h = harness();
    const srcs = Array.from({ length: 60 }, (_, i) => ip(`10.0.0.${10 + i}`));
    h.inject(...srcs.map((s, i) => junk(s, i)));
    expect(errorsTo(h)).toHaveLength(50);
    expect(h.stack.ip.icmp.counters).toMatchObject({ errorsSent: 50, rateLimited: 10, rateLimitedHost: 0 });
  });

  it('the per-destination table is bounded: 5000 spoofed sources leave at most maxHosts entries', () => {
    const h = harness();
    for (let i = 0; i < 5000; i++) {
      h.now = i; // 1 ms apart: the global bucket refills, every source is new
      h.inject(junk((0x0b000000 + i) >>> 0, i)); // 11.0.x.y: off-subnet sources, via the gateway
    }
    expect(h.stack.ip.icmp.hostsTracked).toBeLessThanOrEqual(h.stack.ip.icmp.limits.maxHosts);
  });

  it('echo replies are not limited per destination (not in the rate mask)', () => {
    const h = harness();
    for (let i = 0; i < 20; i++) {
      const req = new Uint8Array([8, 0, 0, 0, 0, 1, 0, i]);
      const sum = (~((req[0]! << 8) + req[7]! + 1) & 0xffff);
      req[2] = sum >>> 8;
      req[3] = sum & 0xff;
      h.inject(ipv4({ src: PEER, dst: US, protocol: 1, ident: 300 + i }, req));
    }
    expect(h.sent()).toHaveLength(20);
  });
});

describe('ICMP errors: the per-destination table cannot be gamed', () => {
  it("spoofing sources that share the victim's table slot does not refill the victim's budget", () => {
    const h = harness();
    // Addresses alike in their low bits, alternating with the victim's: whatever slots they
    // land in, the victim's own bucket is never reset, so it still gets a burst of 6.
    const victim = ip('10.0.0.2');
    const others = Array.from({ length: 8 }, (_, k) => (victim ^ ((k + 1) << 12)) >>> 0);
    const flood: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      flood.push(junk(victim, 2 * i));
      flood.push(junk(others[i % others.length]!, 2 * i + 1));
    }
    h.inject(...flood);
    expect(errorsTo(h).filter((d) => d === victim).length).toBeLessThanOrEqual(6);
  });
});
