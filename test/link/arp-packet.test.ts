import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpPacket, emitArp, parseArp, type ArpRepr } from '../../src/link/arp-packet.js';
import { ETH_HEADER_LEN, formatMac } from '../../src/link/ethernet-frame.js';
import { hex, toHex } from '../helpers/packets.js';

// A real ARP request frame (Wireshark sample "arp-storm"): who-has 24.166.173.159 tell
// 24.166.172.1, from 00:07:0d:af:f4:54, broadcast, padded to 60 bytes.
const REQUEST_FRAME =
  'ff ff ff ff ff ff 00 07 0d af f4 54 08 06' +
  ' 00 01 08 00 06 04 00 01 00 07 0d af f4 54 18 a6 ac 01 00 00 00 00 00 00 18 a6 ad 9f' +
  ' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00';
const REQUEST: ArpRepr = {
  operation: ARP_REQUEST,
  senderMac: hex('00 07 0d af f4 54'),
  senderIp: 0x18a6ac01,
  targetMac: hex('00 00 00 00 00 00'),
  targetIp: 0x18a6ad9f,
};
// Its answer: 24.166.173.159 is-at 00:11:22:33:44:55.
const REPLY_BODY = '00 01 08 00 06 04 00 02 00 11 22 33 44 55 18 a6 ad 9f 00 07 0d af f4 54 18 a6 ac 01';

function pkt(b: Uint8Array, o = 0, n = b.length - o): ArpPacket {
  return new ArpPacket().reset(b, o, n);
}

function plain(r: ArpRepr | string): unknown {
  return typeof r === 'string' ? r : { ...r, senderMac: formatMac(r.senderMac), targetMac: formatMac(r.targetMac) };
}

describe('ArpPacket: deconstruct', () => {
  it('reads every field of a real request (inside its Ethernet frame)', () => {
    const b = hex(REQUEST_FRAME);
    const p = pkt(b, ETH_HEADER_LEN, b.length - ETH_HEADER_LEN); // padding included, as the link hands it up
    expect(p.checkLen()).toBeNull();
    expect(p.operation()).toBe(ARP_REQUEST);
    expect(formatMac(p.senderMac())).toBe('00:07:0d:af:f4:54');
    expect(p.senderIp()).toBe(0x18a6ac01);
    expect(formatMac(p.targetMac())).toBe('00:00:00:00:00:00');
    expect(p.targetIp()).toBe(0x18a6ad9f);
    expect(plain(parseArp(p))).toEqual(plain(REQUEST));
    expect(p.toString()).toBe('ARP who-has 24.166.173.159 tell 24.166.172.1 (00:07:0d:af:f4:54)');
  });

  it('reads a reply', () => {
    const p = pkt(hex(REPLY_BODY));
    expect(p.operation()).toBe(ARP_REPLY);
    expect(p.toString()).toBe('ARP 24.166.173.159 is-at 00:11:22:33:44:55 op=2');
  });

  it('parseArp copies the addresses', () => {
    const b = hex(REPLY_BODY);
    const r = parseArp(pkt(b)) as ArpRepr;
    b.fill(0);
    expect(formatMac(r.senderMac)).toBe('00:11:22:33:44:55');
    expect(formatMac(r.targetMac)).toBe('00:07:0d:af:f4:54');
  });

  it.each([
    ['27 bytes', (b: Uint8Array) => b.subarray(0, 27), 'truncated'],
    ['empty', () => new Uint8Array(0), 'truncated'],
    ['hardware type 6 (IEEE 802)', (b: Uint8Array) => ((b[1] = 6), b), 'unsupported'],
    ['protocol IPv6', (b: Uint8Array) => ((b[2] = 0x86), (b[3] = 0xdd), b), 'unsupported'],
    ['hardware length 8', (b: Uint8Array) => ((b[4] = 8), b), 'unsupported'],
    ['protocol length 16', (b: Uint8Array) => ((b[5] = 16), b), 'unsupported'],
  ] as const)('%s -> %s', (_name, mangle, expected) => {
    const b = mangle(hex(REPLY_BODY));
    const p = pkt(b);
    expect(p.checkLen()).toBe(expected);
    expect(parseArp(p)).toBe(expected);
    expect(p.toString()).toBe(`ARP malformed (${expected})`);
  });
});

describe('ArpPacket: construct', () => {
  it('emitArp writes the real request exactly', () => {
    const b = new Uint8Array(ARP_LEN + 4).fill(0xee);
    expect(emitArp(REQUEST, b, 2)).toBe(ARP_LEN);
    expect(toHex(b)).toBe('eeee' + toHex(hex(REQUEST_FRAME).subarray(14, 42)) + 'eeee');
  });

  it('emitArp writes the reply exactly', () => {
    const b = new Uint8Array(ARP_LEN);
    emitArp({ operation: ARP_REPLY, senderMac: hex('00 11 22 33 44 55'), senderIp: 0x18a6ad9f, targetMac: hex('00 07 0d af f4 54'), targetIp: 0x18a6ac01 }, b, 0);
    expect(toHex(b)).toBe(toHex(hex(REPLY_BODY)));
  });
});

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 });
const reprArb: fc.Arbitrary<ArpRepr> = fc.record({
  operation: fc.nat(0xffff),
  senderMac: macArb,
  senderIp: fc.nat({ max: 0xffffffff }),
  targetMac: macArb,
  targetIp: fc.nat({ max: 0xffffffff }),
});

describe('ArpPacket: properties', () => {
  it('parse(emit(r)) equals r, at any offset', () => {
    fc.assert(
      fc.property(reprArb, fc.nat(8), (r, o) => {
        const b = new Uint8Array(o + ARP_LEN);
        emitArp(r, b, o);
        expect(plain(parseArp(pkt(b, o, ARP_LEN)))).toEqual(plain(r));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw, and nothing outside the window is read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), fc.boolean(), (w, pre, post, fix) => {
        if (fix && w.length >= 6) w.set([0, 1, 8, 0, 6, 4]);
        const a = new Uint8Array(pre.length + w.length + post.length);
        a.set(pre);
        a.set(w, pre.length);
        a.set(post, pre.length + w.length);
        const p1 = pkt(a, pre.length, w.length);
        const p2 = pkt(new Uint8Array(w));
        expect(plain(parseArp(p1))).toEqual(plain(parseArp(p2)));
        expect(p1.toString()).toBe(p2.toString());
      }),
      { numRuns: 500 },
    );
  });
});
