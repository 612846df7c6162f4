import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/ip/address.js';
import { UdpPacket, emitUdp, parseUdp, writeUdpHeader } from '../../src/udp/udp-packet.js';

const SRC = parseIpv4('10.7.0.1');
const DST = parseIpv4('10.7.0.2');

// A datagram 10.7.0.1:40000 -> 10.7.0.2:7 carrying "hi", checksum computed by hand:
// pseudo header 0a07 0001 0a07 0002 0011 000a, header 9c40 0007 000a, data 6869.
const FIXTURE = Buffer.from('9c400007000a' + '0000' + '6869', 'hex');
function withChecksum(): Uint8Array {
  const b = new Uint8Array(FIXTURE);
  let s = 0x0a07 + 0x0001 + 0x0a07 + 0x0002 + 0x0011 + 0x000a + 0x9c40 + 0x0007 + 0x000a + 0x6869;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  b[6] = c >> 8;
  b[7] = c & 0xff;
  return b;
}

describe('UDP packet', () => {
  it('deconstructs a datagram', () => {
    const b = withChecksum();
    const p = new UdpPacket().reset(b, 0, b.length);
    expect(p.checkLen()).toBeNull();
    expect(p.srcPort()).toBe(40000);
    expect(p.dstPort()).toBe(7);
    expect(p.length()).toBe(10);
    expect(p.payloadLen()).toBe(2);
    expect(p.verifyChecksum(SRC, DST)).toBe(true);
    expect(p.toString()).toBe('UDP 40000 > 7 len=2');
  });

  it('constructs the same bytes', () => {
    const b = new Uint8Array(10);
    b.set([0x68, 0x69], 8);
    writeUdpHeader(b, 0, SRC, DST, 40000, 7, 2);
    expect(Buffer.from(b).toString('hex')).toBe(Buffer.from(withChecksum()).toString('hex'));
  });

  it('accepts a zero checksum (not computed by the sender, RFC 768)', () => {
    const b = new Uint8Array(FIXTURE);
    expect(parseUdp(new UdpPacket().reset(b, 0, b.length), SRC, DST)).toMatchObject({ srcPort: 40000, dstPort: 7 });
  });

  it('rejects a wrong checksum, a short header and lying lengths', () => {
    const b = withChecksum();
    b[9] ^= 1;
    expect(parseUdp(new UdpPacket().reset(b, 0, b.length), SRC, DST)).toBe('badChecksum');
    expect(new UdpPacket().reset(b, 0, 7).checkLen()).toBe('truncated');
    const long = withChecksum();
    long[5] = 11; // claims 11 bytes, 10 present
    expect(new UdpPacket().reset(long, 0, long.length).checkLen()).toBe('badLength');
    const short = withChecksum();
    short[5] = 7; // shorter than its own header
    expect(new UdpPacket().reset(short, 0, short.length).checkLen()).toBe('badLength');
  });

  it('sends a computed zero checksum as 0xffff', () => {
    // Search for a payload whose checksum computes to 0.
    const b = new Uint8Array(10);
    for (let v = 0; v < 65536; v++) {
      b[8] = v >> 8;
      b[9] = v & 0xff;
      writeUdpHeader(b, 0, SRC, DST, 1, 2, 2);
      if (b[6] === 0xff && b[7] === 0xff) {
        expect(parseUdp(new UdpPacket().reset(b, 0, 10), SRC, DST)).not.toBe('badChecksum');
        return;
      }
    }
    throw new Error('no payload computes to a zero checksum');
  });

  it('parse(emit(r)) is r, at any offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.nat(), fc.nat(), (sp, dp, payload, at, src, dst) => {
        const b = new Uint8Array(at + 8 + payload.length);
        const n = emitUdp({ srcPort: sp, dstPort: dp, payload }, src >>> 0, dst >>> 0, b, at);
        const r = parseUdp(new UdpPacket().reset(b, at, n), src >>> 0, dst >>> 0);
        expect(r).toEqual({ srcPort: sp, dstPort: dp, payload });
      }),
    );
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(10), (bytes, cut) => {
        const p = new UdpPacket().reset(bytes, Math.min(cut, bytes.length), Math.max(0, bytes.length - cut));
        parseUdp(p, SRC, DST);
        p.toString();
      }),
    );
  });
});
