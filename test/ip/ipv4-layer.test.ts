/**
 * The IPv4 layer through the whole stack (STYLE.md §6 layer 3): validation and drop
 * counters, fragmentation on the way out, reassembly timeouts on the manual clock.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { IP_PROTO_ICMP, IP_PROTO_UDP } from '../../src/ip/ipv4-packet.js';
import { TX_PAYLOAD_OFFSET } from '../../src/ip/ipv4-layer.js';
import {
  echoRequest, expectSameBytes, fragmentAll, fragmentOf, ip, ipv4, pattern, readIcmp, readIpv4, reassembleReference, splitPieces, toHex,
} from '../helpers/packets.js';
import { Harness } from '../helpers/stack-harness.js';

const US = ip('10.0.0.1');
const PEER = ip('10.0.0.2');

function harness(mtu = 1500): Harness {
  return new Harness({ addr: US, prefixLen: 24, gateway: ip('10.0.0.254'), mtu });
}

function ping(src = PEER, dst = US): Uint8Array {
  return ipv4({ src, dst, protocol: IP_PROTO_ICMP }, echoRequest(1, 1, pattern(16)));
}

function zeroDrops(c: Record<string, number>, except: string[] = []): void {
  for (const k of ['truncated', 'badVersion', 'badHeaderLength', 'badTotalLength', 'badChecksum', 'notForUs', 'martianSource', 'unknownProtocol']) {
    if (!except.includes(k)) expect(c[k], k).toBe(0);
  }
}

describe('IPv4 receive: drops are counted, never answered', () => {
  it('a valid datagram is received and delivered (the baseline for the drops below)', () => {
    const h = harness();
    h.inject(ping());
    expect(h.sent()).toHaveLength(1);
    expect(h.stack.ip.counters).toMatchObject({ received: 1, delivered: 1 });
    zeroDrops(h.stack.ip.counters);
  });

  it.each([
    ['bad header checksum', (b: Uint8Array) => ((b[8] = 63), b), 'badChecksum'],
    ['truncated below 20 bytes', (b: Uint8Array) => b.subarray(0, 12), 'truncated'],
    ['IHL below 5', (b: Uint8Array) => ((b[0] = 0x44), b), 'badHeaderLength'],
    ['IHL beyond the datagram', (b: Uint8Array) => ((b[0] = 0x4f), b.subarray(0, 40)), 'badHeaderLength'],
    ['total length beyond the frame', (b: Uint8Array) => b.subarray(0, b.length - 1), 'badTotalLength'],
    ['total length below the header', (b: Uint8Array) => ((b[2] = 0), (b[3] = 10), b), 'badTotalLength'],
  ] as const)('%s -> %s', (_name, mangle, counter) => {
    const h = harness();
    h.inject(mangle(ping()));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters[counter]).toBe(1);
    expect(h.stack.ip.counters.delivered).toBe(0);
    zeroDrops(h.stack.ip.counters, [counter]);
  });

  it('a datagram for another host is not for us', () => {
    const h = harness();
    h.inject(ping(PEER, ip('10.0.0.77')), ping(PEER, ip('8.8.8.8')));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.notForUs).toBe(2);
  });

  it.each(['0.0.0.0', '0.1.2.3', '127.0.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255', '10.0.0.255', '10.0.0.1'])(
    'a martian source %s is dropped',
    (src) => {
      const h = harness();
      h.inject(ping(ip(src)));
      expect(h.sent()).toEqual([]);
      expect(h.stack.ip.counters.martianSource).toBe(1);
      expect(h.stack.ip.counters.delivered).toBe(0);
    },
  );

  it('an IPv6 packet on the TUN link is counted by the interface', () => {
    const h = harness();
    h.inject(new Uint8Array([0x60, 0, 0, 0, 0, 8, 58, 64, ...new Uint8Array(40)]), new Uint8Array(0));
    expect(h.sent()).toEqual([]);
    expect(h.stack.iface.counters).toMatchObject({ notIp: 1, ipv6Off: 1 }); // (this stack has no IPv6 address)
  });

  it('link padding after Total Length is ignored', () => {
    const h = harness();
    const p = ping();
    const padded = new Uint8Array(p.length + 20);
    padded.set(p);
    h.inject(padded);
    const m = readIcmp(readIpv4(h.sent()[0]!).payload);
    expect(toHex(m.data)).toBe(toHex(pattern(16)));
  });

  it('random bytes never throw and never count an internal error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 10 }), fc.boolean(), (frames, v4) => {
        const h = harness();
        if (v4) for (const f of frames) if (f.length > 0) f[0] = 0x45;
        h.inject(...frames);
        expect(h.stack.counters.internalErrors).toBe(0);
        h.sent();
      }),
      { numRuns: 200 },
    );
  });

  it('random datagrams with valid headers never throw', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(0x3fff), fc.uint8Array({ maxLength: 80 }), (proto, frag, payload) => {
        const h = harness();
        const b = ipv4({ src: PEER, dst: US, protocol: proto, moreFrags: (frag & 0x2000) !== 0, fragOffset: (frag & 0x1fff) * 8 }, payload);
        h.inject(b);
        h.advanceTo(100_000);
        expect(h.stack.counters.internalErrors).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('IPv4 send: fragmentation', () => {
  it('fragments any payload to the MTU: each fragment fits, offsets are multiples of 8, they reassemble exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 68, max: 9000 }), fc.integer({ min: 0, max: 65515 }), fc.nat(250), (mtu, len, seed) => {
        const h = harness(mtu);
        const payload = pattern(len, seed);
        h.stack.ip.tx.set(payload, TX_PAYLOAD_OFFSET);
        expect(h.stack.ip.send(IP_PROTO_UDP, 0, PEER, len, 0)).toBeNull();
        const out = h.sent();
        const reads = out.map((f) => readIpv4(f));
        for (const [i, f] of out.entries()) {
          expect(f.length).toBeLessThanOrEqual(mtu);
          expect(reads[i]!.repr).toMatchObject({ src: US, dst: PEER, protocol: IP_PROTO_UDP, ident: reads[0]!.repr.ident });
          expect(reads[i]!.repr.fragOffset % 8).toBe(0);
        }
        if (20 + len <= mtu) expect(out).toHaveLength(1);
        expectSameBytes(reassembleReference(reads), payload);
      }),
      { numRuns: 30 },
    );
  });

  it('successive datagrams get different identifications', () => {
    const h = harness();
    for (let i = 0; i < 3; i++) h.stack.ip.send(IP_PROTO_UDP, 0, PEER, 8, 0);
    const ids = h.sent().map((f) => readIpv4(f).repr.ident);
    expect(new Set(ids).size).toBe(3);
  });

  it('DF on a datagram larger than the MTU fails with EMSGSIZE and sends nothing', () => {
    const h = harness(576);
    expect(h.stack.ip.send(IP_PROTO_UDP, 0, PEER, 600, 0, { dontFrag: true })).toBe('EMSGSIZE');
    expect(h.stack.ip.send(IP_PROTO_UDP, 0, PEER, 65516, 0)).toBe('EMSGSIZE');
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.outTooBig).toBe(2);
  });

  it('an off-subnet destination without a gateway is unreachable', () => {
    const h = new Harness({ addr: US, prefixLen: 24 });
    expect(h.stack.ip.send(IP_PROTO_UDP, 0, ip('8.8.8.8'), 8, 0)).toBe('ENETUNREACH');
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.outNoRoute).toBe(1);
  });
});

describe('IPv4 reassembly through the stack, on the manual clock', () => {
  const D = { src: PEER, dst: US, protocol: IP_PROTO_UDP, ident: 0x3333 };

  it('after 30 s an incomplete datagram with fragment zero gets ICMP time exceeded, code 1', () => {
    const h = harness();
    const payload = pattern(3000);
    const pieces = splitPieces(3000, 1480);
    const first = fragmentOf(D, payload, pieces[0]!);
    h.inject(first);
    h.now = 5000;
    h.inject(fragmentOf(D, payload, pieces[2]!));
    expect(h.sent()).toEqual([]);
    expect(h.stack.pollAt()).toBe(30_000);
    h.advanceTo(29_999);
    expect(h.sent()).toEqual([]);
    h.advanceTo(30_000);
    const out = h.sent();
    expect(out).toHaveLength(1);
    const d = readIpv4(out[0]!);
    expect(d.repr).toMatchObject({ src: US, dst: PEER, protocol: IP_PROTO_ICMP });
    const m = readIcmp(d.payload);
    expect(m).toMatchObject({ type: 11, code: 1, ident: 0, seq: 0, checksumOk: true });
    expect(toHex(m.data)).toBe(toHex(first.subarray(0, 28))); // its header and 64 bits of data
    expect(h.stack.ip.counters.fragTimeout).toBe(1);
    expect(h.stack.ip.reassembly).toEqual({ datagrams: 0, bytes: 0 });
    h.advanceTo(100_000);
    expect(h.sent()).toEqual([]);
  });

  it('without fragment zero, the timeout is counted but nothing is sent', () => {
    const h = harness();
    const payload = pattern(3000);
    h.inject(fragmentOf(D, payload, splitPieces(3000, 1480)[1]!));
    h.advanceTo(30_000);
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.fragTimeout).toBe(1);
  });

  it('no time exceeded about a fragmented ICMP error', () => {
    const h = harness();
    const quote = ipv4({ src: US, dst: PEER, protocol: IP_PROTO_UDP }, pattern(2000));
    const err = new Uint8Array(8 + quote.length);
    err[0] = 3;
    err[1] = 3;
    err.set(quote, 8);
    h.inject(fragmentAll({ ...D, protocol: IP_PROTO_ICMP }, err, 1480)[0]!);
    h.advanceTo(30_000);
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.fragTimeout).toBe(1);
  });

  it('a completed datagram does not time out', () => {
    const h = harness();
    h.inject(...fragmentAll({ ...D, protocol: IP_PROTO_ICMP }, echoRequest(5, 6, pattern(2000)), 512));
    expect(h.sent().length).toBeGreaterThan(0);
    expect(h.stack.pollAt()).toBeUndefined();
    h.advanceTo(60_000);
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.fragTimeout).toBe(0);
  });

  it('overlapping fragments are counted and the datagram is never delivered', () => {
    const h = harness();
    const msg = echoRequest(5, 6, pattern(2000));
    const frags = fragmentAll({ ...D, protocol: IP_PROTO_ICMP }, msg, 512);
    const evil = ipv4({ ...D, protocol: IP_PROTO_ICMP, fragOffset: 256, moreFrags: true }, new Uint8Array(512));
    h.inject(frags[0]!, evil, ...frags.slice(1));
    expect(h.stack.ip.counters.fragOverlap).toBe(1);
    expect(h.stack.ip.icmp.counters.echoReplies).toBe(0);
  });
});
