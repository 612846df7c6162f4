import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER_LEN, EthernetFrame, emitEthernet, formatMac, parseEthernet, parseMac,
  type EthernetRepr,
} from '../../src/link/ethernet-frame.js';
import { hex, toHex } from '../helpers/packets.js';

// Broadcast ARP frame from 00:07:0d:af:f4:54 (Wireshark sample "arp-storm"), padded to 60 bytes.
const ARP_FRAME =
  'ff ff ff ff ff ff 00 07 0d af f4 54 08 06' +
  ' 00 01 08 00 06 04 00 01 00 07 0d af f4 54 18 a6 ac 01 00 00 00 00 00 00 18 a6 ad 9f' +
  ' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00';
// Unicast IPv4 frame from 52:54:00:12:34:56 to 02:00:00:00:00:01, header only.
const IP_FRAME_HEADER = '02 00 00 00 00 01 52 54 00 12 34 56 08 00';

function frame(b: Uint8Array, o = 0, n = b.length - o): EthernetFrame {
  return new EthernetFrame().reset(b, o, n);
}

function plain(r: EthernetRepr | string): unknown {
  return typeof r === 'string' ? r : { dst: formatMac(r.dst), src: formatMac(r.src), etherType: r.etherType };
}

describe('EthernetFrame: deconstruct', () => {
  it('reads a real broadcast ARP frame', () => {
    const f = frame(hex(ARP_FRAME));
    expect(f.checkLen()).toBeNull();
    expect(f.etherType()).toBe(ETHERTYPE_ARP);
    expect(f.dstIsBroadcast()).toBe(true);
    expect(f.dstIsMulticast()).toBe(true);
    expect(formatMac(f.src())).toBe('00:07:0d:af:f4:54');
    expect(f.payloadOffset()).toBe(14);
    expect(f.payloadLen()).toBe(46);
    expect(plain(parseEthernet(f))).toEqual({ dst: 'ff:ff:ff:ff:ff:ff', src: '00:07:0d:af:f4:54', etherType: 0x0806 });
    expect(f.toString()).toBe('ETH 00:07:0d:af:f4:54 > ff:ff:ff:ff:ff:ff type=0x0806 len=46');
  });

  it('reads a unicast IPv4 frame at an offset', () => {
    const b = new Uint8Array(20).fill(0xff);
    b.set(hex(IP_FRAME_HEADER), 3);
    const f = frame(b, 3, 14);
    expect(f.etherType()).toBe(ETHERTYPE_IPV4);
    expect(f.dstIs(hex('02 00 00 00 00 01'))).toBe(true);
    expect(f.dstIs(hex('02 00 00 00 00 02'))).toBe(false);
    expect(f.dstIsBroadcast()).toBe(false);
    expect(f.dstIsMulticast()).toBe(false);
    expect(f.payloadOffset()).toBe(17);
    expect(f.payloadLen()).toBe(0);
    expect(plain(parseEthernet(f))).toEqual({ dst: '02:00:00:00:00:01', src: '52:54:00:12:34:56', etherType: 0x0800 });
  });

  it('parseEthernet copies the addresses (they outlive the frame buffer)', () => {
    const b = hex(IP_FRAME_HEADER);
    const r = parseEthernet(frame(b)) as EthernetRepr;
    b.fill(0);
    expect(formatMac(r.dst)).toBe('02:00:00:00:00:01');
    expect(formatMac(r.src)).toBe('52:54:00:12:34:56');
  });

  it('13 bytes are truncated', () => {
    const f = frame(hex(IP_FRAME_HEADER), 0, 13);
    expect(f.checkLen()).toBe('truncated');
    expect(parseEthernet(f)).toBe('truncated');
    expect(f.toString()).toBe('ETH truncated (13 bytes)');
    expect(parseEthernet(frame(new Uint8Array(0)))).toBe('truncated');
  });
});

describe('EthernetFrame: construct', () => {
  it('emitEthernet writes the fixture header exactly, and nothing else', () => {
    const b = new Uint8Array(18).fill(0xee);
    emitEthernet({ dst: parseMac('02:00:00:00:00:01'), src: parseMac('52:54:00:12:34:56'), etherType: ETHERTYPE_IPV4 }, b, 2);
    expect(toHex(b)).toBe('eeee' + toHex(hex(IP_FRAME_HEADER)) + 'eeee');
  });

  it('emitEthernet writes the ARP frame header', () => {
    const b = new Uint8Array(14);
    emitEthernet({ dst: BROADCAST_MAC, src: hex('00 07 0d af f4 54'), etherType: ETHERTYPE_ARP }, b, 0);
    expect(toHex(b)).toBe(toHex(hex(ARP_FRAME).subarray(0, 14)));
  });
});

describe('parseMac / formatMac', () => {
  it('parses and formats', () => {
    expect(toHex(parseMac('52:54:00:12:34:56'))).toBe('525400123456');
    expect(toHex(parseMac('AA:bb:CC:dd:EE:ff'))).toBe('aabbccddeeff');
    expect(formatMac(hex('aa bb cc dd ee ff'))).toBe('aa:bb:cc:dd:ee:ff');
    expect(formatMac(BROADCAST_MAC)).toBe('ff:ff:ff:ff:ff:ff');
  });

  it.each(['', '52:54:00:12:34', '52:54:00:12:34:56:78', '52-54-00-12-34-56', '5:54:00:12:34:56', '52:54:00:12:34:5g', ' 52:54:00:12:34:56', '525400123456'])(
    'rejects %j with a TypeError',
    (s) => {
      expect(() => parseMac(s)).toThrow(TypeError);
      expect(() => parseMac(s)).toThrow(JSON.stringify(s));
    },
  );

  it('round trips any 6 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (m) => {
        const s = formatMac(m);
        expect(s).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        expect(toHex(parseMac(s))).toBe(toHex(m));
      }),
      { numRuns: 300 },
    );
  });
});

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 });

describe('EthernetFrame: properties', () => {
  it('parse(emit(r)) equals r, at any offset', () => {
    fc.assert(
      fc.property(fc.record({ dst: macArb, src: macArb, etherType: fc.nat(0xffff) }), fc.nat(8), fc.nat(40), (r, o, extra) => {
        const b = new Uint8Array(o + ETH_HEADER_LEN + extra);
        emitEthernet(r, b, o);
        const f = frame(b, o, ETH_HEADER_LEN + extra);
        expect(plain(parseEthernet(f))).toEqual(plain(r));
        expect(f.payloadLen()).toBe(extra);
        expect(f.dstIs(r.dst)).toBe(true);
        expect(f.dstIsMulticast()).toBe((r.dst[0]! & 1) === 1);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw, and nothing outside the window is read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (w, pre, post) => {
        const a = new Uint8Array(pre.length + w.length + post.length);
        a.set(pre);
        a.set(w, pre.length);
        a.set(post, pre.length + w.length);
        const f1 = frame(a, pre.length, w.length);
        const f2 = frame(new Uint8Array(w));
        expect(plain(parseEthernet(f1))).toEqual(plain(parseEthernet(f2)));
        expect(f1.toString()).toBe(f2.toString());
        if (f1.checkLen() === null) {
          expect(f1.dstIsBroadcast()).toBe(f2.dstIsBroadcast());
          expect(f1.payloadLen()).toBe(w.length - 14);
        }
      }),
      { numRuns: 500 },
    );
  });
});
