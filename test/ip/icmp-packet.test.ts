import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IcmpPacket, emitIcmp, icmpBufferLen, parseIcmp, type IcmpRepr,
} from '../../src/ip/icmp-packet.js';
import { hex, naiveChecksum, toHex } from '../helpers/packets.js';

// A Windows `ping`: echo request id=1 seq=1, 32 bytes "abcdefghijklmnopqrstuvwabcdefghi".
const DATA = '6162636465666768696a6b6c6d6e6f7071727374757677616263646566676869';
const ECHO_REQUEST = '08 00 4d 5a 00 01 00 01' + DATA;
const ECHO_REPLY = '00 00 55 5a 00 01 00 01' + DATA;
// Port unreachable quoting a UDP datagram's header and first 8 bytes.
const QUOTE = '45 00 00 24 12 34 00 00 40 11 00 00 0a 00 00 02 0a 00 00 01 9c 40 00 35 00 10 ab cd';
const FRAG_NEEDED_HEAD = '03 04 00 00 00 00 05 78'; // code 4, next-hop MTU 1400

function pkt(b: Uint8Array, o = 0, n = b.length - o): IcmpPacket {
  return new IcmpPacket().reset(b, o, n);
}

function plain(r: IcmpRepr | string): unknown {
  return typeof r === 'string' ? r : { ...r, data: toHex(r.data) };
}

function withChecksum(b: Uint8Array): Uint8Array {
  b[2] = 0;
  b[3] = 0;
  const c = naiveChecksum(b);
  b[2] = c >> 8;
  b[3] = c & 255;
  return b;
}

describe('IcmpPacket: deconstruct', () => {
  it('reads every field of a real echo request', () => {
    const b = hex(ECHO_REQUEST);
    const p = pkt(b);
    expect(p.checkLen()).toBeNull();
    expect(p.type()).toBe(ICMP_ECHO_REQUEST);
    expect(p.code()).toBe(0);
    expect(p.checksumField()).toBe(0x4d5a);
    expect(p.ident()).toBe(1);
    expect(p.seq()).toBe(1);
    expect(p.dataOffset()).toBe(8);
    expect(p.dataLen()).toBe(32);
    expect(p.isError()).toBe(false);
    expect(p.verifyChecksum()).toBe(true);
    expect(plain(parseIcmp(p))).toEqual({ kind: 'echoRequest', ident: 1, seq: 1, data: DATA });
    expect(p.toString()).toBe('ICMP echo request id=1 seq=1 len=32');
  });

  it('reads an echo reply', () => {
    const p = pkt(hex(ECHO_REPLY));
    expect(plain(parseIcmp(p))).toEqual({ kind: 'echoReply', ident: 1, seq: 1, data: DATA });
    expect(p.toString()).toBe('ICMP echo reply id=1 seq=1 len=32');
  });

  it('reads fragmentation needed with its next-hop MTU (RFC 1191)', () => {
    const b = withChecksum(hex(FRAG_NEEDED_HEAD + QUOTE));
    const p = pkt(b);
    expect(p.isError()).toBe(true);
    expect(p.nextHopMtu()).toBe(1400);
    expect(plain(parseIcmp(p))).toEqual({ kind: 'destUnreachable', code: 4, nextHopMtu: 1400, data: toHex(hex(QUOTE)) });
    expect(p.toString()).toBe('ICMP type=3 code=4 len=28');
  });

  it('reads time exceeded and other types', () => {
    const te = withChecksum(hex('0b 01 00 00 00 00 00 00' + QUOTE));
    expect(plain(parseIcmp(pkt(te)))).toEqual({ kind: 'timeExceeded', code: 1, data: toHex(hex(QUOTE)) });
    expect(pkt(te).isError()).toBe(true);
    // Timestamp request (type 13): the second word is kept whole.
    const ts = withChecksum(hex('0d 00 00 00 12 34 56 78'));
    expect(plain(parseIcmp(pkt(ts)))).toEqual({ kind: 'other', type: 13, code: 0, rest: 0x12345678, data: '' });
    expect(pkt(ts).isError()).toBe(false);
    // Parameter problem and source quench are errors.
    expect(pkt(hex('0c 00 00 00 00 00 00 00')).isError()).toBe(true);
    expect(pkt(hex('04 00 00 00 00 00 00 00')).isError()).toBe(true);
  });

  it('data is a view into the packet, bounded by the view length', () => {
    const b = new Uint8Array(3 + 40 + 5).fill(0xee);
    b.set(hex(ECHO_REQUEST), 3);
    const r = parseIcmp(pkt(b, 3, 40)) as Extract<IcmpRepr, { ident: number }>;
    expect(r.data.length).toBe(32);
    expect(r.data.buffer).toBe(b.buffer);
    expect(toHex(r.data)).toBe(DATA);
  });

  it('an 8-byte message with no data is valid; 7 bytes are truncated', () => {
    const b = withChecksum(hex('08 00 00 00 ab cd 00 07'));
    expect(plain(parseIcmp(pkt(b)))).toEqual({ kind: 'echoRequest', ident: 0xabcd, seq: 7, data: '' });
    expect(parseIcmp(pkt(b, 0, 7))).toBe('truncated');
    expect(parseIcmp(pkt(new Uint8Array(0)))).toBe('truncated');
    expect(pkt(b, 0, 7).toString()).toBe('ICMP truncated (7 bytes)');
  });

  it('a flipped bit anywhere is a bad checksum', () => {
    for (let i = 0; i < 40; i++) {
      const b = hex(ECHO_REQUEST);
      b[i] ^= 0x10;
      expect(parseIcmp(pkt(b)), `byte ${i}`).toBe('badChecksum');
    }
  });

  it('an odd-length message checksums with the trailing byte padded', () => {
    const b = withChecksum(hex('08 00 00 00 00 02 00 03 61 62 63'));
    expect(plain(parseIcmp(pkt(b)))).toEqual({ kind: 'echoRequest', ident: 2, seq: 3, data: '616263' });
  });
});

describe('IcmpPacket: construct', () => {
  it('emitIcmp writes the echo request fixture exactly', () => {
    const b = new Uint8Array(40);
    const n = emitIcmp({ kind: 'echoRequest', ident: 1, seq: 1, data: hex(DATA) }, b, 0);
    expect(n).toBe(40);
    expect(toHex(b)).toBe(toHex(hex(ECHO_REQUEST)));
  });

  it('emitIcmp writes the echo reply fixture exactly, at an offset, leaving the rest alone', () => {
    const b = new Uint8Array(46).fill(0xee);
    const r: IcmpRepr = { kind: 'echoReply', ident: 1, seq: 1, data: hex(DATA) };
    expect(emitIcmp(r, b, 4)).toBe(icmpBufferLen(r));
    expect(toHex(b.subarray(4, 44))).toBe(toHex(hex(ECHO_REPLY)));
    expect(toHex(b.subarray(0, 4)) + toHex(b.subarray(44))).toBe('eeeeeeeeeeee');
  });

  it('emitIcmp writes fragmentation needed with the MTU in the second half-word', () => {
    const b = new Uint8Array(36);
    emitIcmp({ kind: 'destUnreachable', code: 4, nextHopMtu: 1400, data: hex(QUOTE) }, b, 0);
    expect(toHex(b)).toBe(toHex(withChecksum(hex(FRAG_NEEDED_HEAD + QUOTE))));
  });

  it('emitIcmp writes time exceeded with zero in the unused word', () => {
    const b = new Uint8Array(36).fill(0xff);
    emitIcmp({ kind: 'timeExceeded', code: 1, data: hex(QUOTE) }, b, 0);
    expect(toHex(b)).toBe(toHex(withChecksum(hex('0b 01 00 00 00 00 00 00' + QUOTE))));
  });
});

const dataArb = fc.uint8Array({ maxLength: 64 });
const reprArb: fc.Arbitrary<IcmpRepr> = fc.oneof(
  fc.record({ kind: fc.constantFrom('echoRequest' as const, 'echoReply' as const), ident: fc.nat(0xffff), seq: fc.nat(0xffff), data: dataArb }),
  fc.record({ kind: fc.constant('destUnreachable' as const), code: fc.nat(255), nextHopMtu: fc.nat(0xffff), data: dataArb }),
  fc.record({ kind: fc.constant('timeExceeded' as const), code: fc.nat(255), data: dataArb }),
  fc.record({
    kind: fc.constant('other' as const),
    type: fc.nat(255).filter((t) => ![0, 3, 8, 11].includes(t)),
    code: fc.nat(255),
    rest: fc.nat({ max: 0xffffffff }),
    data: dataArb,
  }),
);

describe('IcmpPacket: properties', () => {
  it('parse(emit(r)) equals r, at any offset', () => {
    fc.assert(
      fc.property(reprArb, fc.nat(7), (r, o) => {
        const b = new Uint8Array(o + icmpBufferLen(r) + 3);
        const n = emitIcmp(r, b, o);
        expect(n).toBe(icmpBufferLen(r));
        expect(naiveChecksum(b, o, n)).toBe(0);
        expect(plain(parseIcmp(pkt(b, o, n)))).toEqual(plain(r));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw from checkLen, parseIcmp, isError or toString', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), (b, x, y) => {
        const o = x % (b.length + 1);
        const n = y % (b.length - o + 1);
        const p = pkt(b, o, n);
        const r = parseIcmp(p);
        expect(typeof p.toString()).toBe('string');
        if (n < 8) expect(r).toBe('truncated');
        else {
          p.isError();
          if (typeof r === 'object') expect(r.data.length).toBe(n - 8);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('random messages with a valid checksum always parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), (b) => {
        withChecksum(b);
        expect(typeof parseIcmp(pkt(b))).toBe('object');
      }),
      { numRuns: 300 },
    );
  });

  it('reads nothing outside its window', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), fc.boolean(), (w, pre, post, fix) => {
        if (fix && w.length >= 8) withChecksum(w);
        const a = new Uint8Array(pre.length + w.length + post.length);
        a.set(pre);
        a.set(w, pre.length);
        a.set(post, pre.length + w.length);
        const p1 = pkt(a, pre.length, w.length);
        const p2 = pkt(new Uint8Array(w));
        expect(plain(parseIcmp(p1))).toEqual(plain(parseIcmp(p2)));
        expect(p1.toString()).toBe(p2.toString());
      }),
      { numRuns: 300 },
    );
  });
});

describe('IcmpPacket: constants', () => {
  it('echo reply is type 0 and request type 8 (RFC 792)', () => {
    expect([ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST]).toEqual([0, 8]);
  });
});
