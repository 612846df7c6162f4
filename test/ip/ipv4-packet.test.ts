import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  IPV4_HEADER_LEN, IP_PROTO_UDP, Ipv4Packet, emitIpv4Header, parseIpv4Header, writeIpv4Header, type Ipv4Repr,
} from '../../src/ip/ipv4-packet.js';
import { hex, naiveChecksum, toHex } from '../helpers/packets.js';

// Wikipedia's IPv4 header checksum example: 192.168.0.1 > 192.168.0.199, UDP, DF, TTL 64,
// total length 115, checksum b861.
const HEADER = '45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7';
const REPR: Ipv4Repr = {
  src: 0xc0a80001, dst: 0xc0a800c7, protocol: IP_PROTO_UDP, ttl: 64, tos: 0, ident: 0,
  dontFrag: true, moreFrags: false, fragOffset: 0, payloadLen: 95,
};

/** The fixture header followed by its 95 payload bytes. */
function datagram(): Uint8Array {
  const b = new Uint8Array(115);
  b.set(hex(HEADER));
  for (let i = 20; i < 115; i++) b[i] = i;
  return b;
}

// A fragment with every field but DF non-zero: TOS b8, id 0xabcd, MF, offset 185*8 = 1480, TTL 1, ICMP.
const FRAG_HEADER = '45 b8 00 1c ab cd 20 b9 01 01 00 00 0a 00 00 01 0a 00 00 02';

function withChecksum(h: Uint8Array): Uint8Array {
  h[10] = 0;
  h[11] = 0;
  const c = naiveChecksum(h, 0, (h[0]! & 15) * 4);
  h[10] = c >> 8;
  h[11] = c & 255;
  return h;
}

describe('Ipv4Packet: deconstruct', () => {
  it('reads every field of a real header', () => {
    const p = new Ipv4Packet().reset(datagram(), 0, 115);
    expect(p.checkLen()).toBeNull();
    expect(p.version()).toBe(4);
    expect(p.headerLen()).toBe(20);
    expect(p.tos()).toBe(0);
    expect(p.totalLen()).toBe(115);
    expect(p.ident()).toBe(0);
    expect(p.dontFrag()).toBe(true);
    expect(p.moreFrags()).toBe(false);
    expect(p.fragOffset()).toBe(0);
    expect(p.isFragment()).toBe(false);
    expect(p.ttl()).toBe(64);
    expect(p.protocol()).toBe(17);
    expect(p.checksumField()).toBe(0xb861);
    expect(p.src()).toBe(0xc0a80001);
    expect(p.dst()).toBe(0xc0a800c7);
    expect(p.payloadOffset()).toBe(20);
    expect(p.payloadLen()).toBe(95);
    expect(p.verifyChecksum()).toBe(true);
    expect(parseIpv4Header(p)).toEqual(REPR);
  });

  it('reads a fragment header with every field set', () => {
    const b = withChecksum(hex(FRAG_HEADER + ' 11 22 33 44 55 66 77 88'));
    const p = new Ipv4Packet().reset(b, 0, b.length);
    expect(p.tos()).toBe(0xb8);
    expect(p.ident()).toBe(0xabcd);
    expect(p.dontFrag()).toBe(false);
    expect(p.moreFrags()).toBe(true);
    expect(p.fragOffset()).toBe(1480);
    expect(p.isFragment()).toBe(true);
    expect(p.ttl()).toBe(1);
    expect(p.protocol()).toBe(1);
    expect(p.payloadLen()).toBe(8);
    expect(parseIpv4Header(p)).toEqual({
      src: 0x0a000001, dst: 0x0a000002, protocol: 1, ttl: 1, tos: 0xb8, ident: 0xabcd,
      dontFrag: false, moreFrags: true, fragOffset: 1480, payloadLen: 8,
    });
  });

  it('the last fragment (offset set, MF clear) is a fragment; DF alone is not', () => {
    const b = withChecksum(hex('45 00 00 14 00 01 00 01 40 06 00 00 0a 00 00 01 0a 00 00 02'));
    const p = new Ipv4Packet().reset(b, 0, 20);
    expect(p.isFragment()).toBe(true);
    expect(p.moreFrags()).toBe(false);
    expect(p.fragOffset()).toBe(8);
    const q = new Ipv4Packet().reset(datagram(), 0, 115);
    expect(q.dontFrag() && !q.isFragment()).toBe(true);
  });

  it('reads a header at an offset inside a larger buffer', () => {
    const b = new Uint8Array(7 + 115 + 5).fill(0xff);
    b.set(datagram(), 7);
    const p = new Ipv4Packet().reset(b, 7, 115);
    expect(parseIpv4Header(p)).toEqual(REPR);
    expect(p.payloadOffset()).toBe(27);
  });

  it('accepts link padding after Total Length: the datagram is what Total Length says', () => {
    const b = new Uint8Array(130);
    b.set(datagram());
    const p = new Ipv4Packet().reset(b, 0, 130);
    expect(p.checkLen()).toBeNull();
    expect(p.payloadLen()).toBe(95);
  });

  it('accepts a header with options (IHL 6) and puts the payload after them', () => {
    const b = withChecksum(hex('46 00 00 1c 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02 01 01 01 00 aa bb cc dd'));
    const p = new Ipv4Packet().reset(b, 0, b.length);
    expect(p.checkLen()).toBeNull();
    expect(p.headerLen()).toBe(24);
    expect(p.payloadOffset()).toBe(24);
    expect(p.payloadLen()).toBe(4);
    expect(p.verifyChecksum()).toBe(true);
  });

  it('prints one line', () => {
    const p = new Ipv4Packet().reset(datagram(), 0, 115);
    expect(p.toString()).toBe('IPv4 192.168.0.1 > 192.168.0.199 proto=17 ttl=64 id=0 len=115 DF');
    const f = withChecksum(hex(FRAG_HEADER + ' 11 22 33 44 55 66 77 88'));
    expect(new Ipv4Packet().reset(f, 0, f.length).toString()).toBe('IPv4 10.0.0.1 > 10.0.0.2 proto=1 ttl=1 id=43981 len=28 frag off=1480+');
    expect(new Ipv4Packet().reset(f, 0, 10).toString()).toBe('IPv4 malformed (truncated, 10 bytes)');
  });
});

describe('Ipv4Packet: construct', () => {
  it('emitIpv4Header writes exactly the fixture bytes', () => {
    const b = new Uint8Array(20);
    emitIpv4Header(REPR, b, 0);
    expect(toHex(b)).toBe(toHex(hex(HEADER)));
  });

  it('writes the fragment fixture (every field but DF non-zero) with a checksum the reference accepts', () => {
    const b = new Uint8Array(28).fill(0x77);
    writeIpv4Header(b, 0, 0x0a000001, 0x0a000002, 1, 1, 0xb8, 0xabcd, false, true, 1480, 8);
    const expected = withChecksum(hex(FRAG_HEADER));
    expect(toHex(b.subarray(0, 20))).toBe(toHex(expected));
    expect(toHex(b.subarray(20))).toBe('7777777777777777'); // payload untouched
  });

  it('writes at an offset without touching the bytes around the header', () => {
    const b = new Uint8Array(30).fill(0xee);
    emitIpv4Header(REPR, b, 5);
    expect(toHex(b.subarray(5, 25))).toBe(toHex(hex(HEADER)));
    expect(b.subarray(0, 5).every((x) => x === 0xee)).toBe(true);
    expect(b.subarray(25).every((x) => x === 0xee)).toBe(true);
  });

  it('setters change one field each and fillChecksum makes the header verify again', () => {
    const b = datagram();
    const p = new Ipv4Packet().reset(b, 0, 115);
    p.setTtl(3);
    expect(p.verifyChecksum()).toBe(false);
    p.setIdent(0x1234);
    p.setSrc(0x01020304);
    p.setDst(0x05060708);
    p.setFragment(false, true, 16);
    p.setTotalLen(100);
    p.fillChecksum();
    expect(p.verifyChecksum()).toBe(true);
    expect(naiveChecksum(b, 0, 20)).toBe(0);
    expect(parseIpv4Header(p)).toEqual({
      src: 0x01020304, dst: 0x05060708, protocol: 17, ttl: 3, tos: 0, ident: 0x1234,
      dontFrag: false, moreFrags: true, fragOffset: 16, payloadLen: 80,
    });
  });
});

describe('Ipv4Packet: malformed input returns the error value', () => {
  const cases: [string, (b: Uint8Array) => Uint8Array, string][] = [
    ['empty', () => new Uint8Array(0), 'truncated'],
    ['19 bytes', (b) => b.subarray(0, 19), 'truncated'],
    ['version 6', (b) => ((b[0] = 0x65), b), 'badVersion'],
    ['version 0', (b) => ((b[0] = 0x05), b), 'badVersion'],
    ['IHL 4 (16 bytes)', (b) => ((b[0] = 0x44), b), 'badHeaderLength'],
    ['IHL 0', (b) => ((b[0] = 0x40), b), 'badHeaderLength'],
    ['IHL 15 (60 bytes) in a 40-byte buffer', (b) => ((b[0] = 0x4f), b.subarray(0, 40)), 'badHeaderLength'],
    ['total length 19 < header', (b) => ((b[2] = 0), (b[3] = 19), b), 'badTotalLength'],
    ['total length 0', (b) => ((b[2] = 0), (b[3] = 0), b), 'badTotalLength'],
    ['total length 116 > 115 bytes', (b) => ((b[3] = 116), b), 'badTotalLength'],
    ['total length 65535 in 115 bytes', (b) => ((b[2] = 0xff), (b[3] = 0xff), b), 'badTotalLength'],
    ['datagram cut short', (b) => b.subarray(0, 114), 'badTotalLength'],
    ['one bit flipped in the header', (b) => ((b[15] ^= 1), b), 'badChecksum'],
    ['checksum field zeroed', (b) => ((b[10] = 0), (b[11] = 0), b), 'badChecksum'],
  ];
  it.each(cases)('%s -> %s', (_name, mangle, expected) => {
    const b = mangle(datagram());
    const p = new Ipv4Packet().reset(b, 0, b.length);
    expect(parseIpv4Header(p)).toBe(expected);
    if (expected !== 'badChecksum') expect(p.checkLen()).toBe(expected);
    expect(p.toString()).toMatch(expected === 'badChecksum' ? /^IPv4 / : new RegExp(`^IPv4 malformed \\(${expected}, \\d+ bytes\\)$`));
  });

  it('a payload corruption is not the header checksum’s business', () => {
    const b = datagram();
    b[100] ^= 0xff;
    expect(parseIpv4Header(new Ipv4Packet().reset(b, 0, 115))).toEqual(REPR);
  });
});

const reprArb: fc.Arbitrary<Ipv4Repr> = fc.record({
  src: fc.nat({ max: 0xffffffff }),
  dst: fc.nat({ max: 0xffffffff }),
  protocol: fc.nat(255),
  ttl: fc.nat(255),
  tos: fc.nat(255),
  ident: fc.nat(0xffff),
  dontFrag: fc.boolean(),
  moreFrags: fc.boolean(),
  fragOffset: fc.nat(0x1fff).map((x) => x * 8),
  payloadLen: fc.oneof(fc.nat(64), fc.constant(65535 - 20)),
});

/** Parse result with everything printable, for comparisons across buffers. */
function parseAt(b: Uint8Array, o: number, n: number): unknown {
  const p = new Ipv4Packet().reset(b, o, n);
  const r = parseIpv4Header(p);
  return { r, s: p.toString(), c: p.checkLen() };
}

describe('Ipv4Packet: properties', () => {
  it('parse(emit(r)) equals r, at any offset', () => {
    fc.assert(
      fc.property(reprArb, fc.nat(9), (r, o) => {
        const b = new Uint8Array(o + IPV4_HEADER_LEN + r.payloadLen);
        emitIpv4Header(r, b, o);
        expect(naiveChecksum(b, o, 20)).toBe(0);
        expect(parseIpv4Header(new Ipv4Packet().reset(b, o, IPV4_HEADER_LEN + r.payloadLen))).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });

  it('emit(parse(bytes)) reproduces any valid 20-byte header exactly (reserved flag aside)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(64), (h, extra) => {
        h[0] = 0x45;
        h[6]! &= 0x7f; // the reserved (evil) bit has no place in the repr
        const tl = 20 + extra;
        h[2] = tl >> 8;
        h[3] = tl & 255;
        withChecksum(h);
        const b = new Uint8Array(tl);
        b.set(h);
        const r = parseIpv4Header(new Ipv4Packet().reset(b, 0, tl));
        expect(typeof r).toBe('object');
        const out = new Uint8Array(20);
        emitIpv4Header(r as Ipv4Repr, out, 0);
        expect(toHex(out)).toBe(toHex(h));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw from checkLen, parseIpv4Header or toString', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), fc.nat(), (b, x, y) => {
        const o = b.length === 0 ? 0 : x % (b.length + 1);
        const n = y % (b.length - o + 1);
        const p = new Ipv4Packet().reset(b, o, n);
        const bad = p.checkLen();
        const r = parseIpv4Header(p);
        expect(typeof p.toString()).toBe('string');
        if (bad !== null) expect(r).toBe(bad);
        if (typeof r === 'object') expect(20 + r.payloadLen).toBeLessThanOrEqual(n);
      }),
      { numRuns: 1000 },
    );
  });

  it('random headers that look like IPv4 (0x45 first) parse or fail without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 80 }), (b) => {
        b[0] = 0x40 | (b[0]! & 15);
        const p = new Ipv4Packet().reset(b, 0, b.length);
        const r = parseIpv4Header(p);
        expect(['object', 'string']).toContain(typeof r);
        p.toString();
      }),
      { numRuns: 500 },
    );
  });

  it('reads nothing outside its window: the same bytes in different surroundings parse the same', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 60 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.boolean(),
        (w, before, after, plausible) => {
          if (plausible && w.length >= 20) {
            w[0] = 0x45;
            w[2] = 0;
            w[3] = Math.min(w.length, 20 + (w[3]! % 40));
            withChecksum(w);
          }
          const a = new Uint8Array(before.length + w.length + after.length);
          a.set(before);
          a.set(w, before.length);
          a.set(after, before.length + w.length);
          const alone = new Uint8Array(w);
          expect(parseAt(a, before.length, w.length)).toEqual(parseAt(alone, 0, alone.length));
        },
      ),
      { numRuns: 500 },
    );
  });
});
