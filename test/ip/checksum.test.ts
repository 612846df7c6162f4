import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { checksum, finishChecksum, pseudoHeaderSum, sumBytes } from '../../src/ip/checksum.js';
import { hex, naiveChecksum } from '../helpers/packets.js';

describe('Internet checksum: known vectors', () => {
  it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 2ddf0, folds to ddf2', () => {
    const b = hex('00 01 f2 03 f4 f5 f6 f7');
    expect(sumBytes(b, 0, b.length)).toBe(0x2ddf0);
    expect(finishChecksum(0x2ddf0)).toBe(~0xddf2 & 0xffff);
    expect(checksum(b, 0, b.length)).toBe(0x220d);
  });

  it('the Wikipedia IPv4 header example checksums to b861, and verifies to 0 with it', () => {
    const h = hex('45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7');
    expect(checksum(h, 0, 20)).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(checksum(h, 0, 20)).toBe(0);
  });

  it('an empty range and all-zero bytes give ffff', () => {
    expect(sumBytes(new Uint8Array(4), 0, 0)).toBe(0);
    expect(checksum(new Uint8Array(0), 0, 0)).toBe(0xffff);
    expect(checksum(new Uint8Array(37), 0, 37)).toBe(0xffff);
  });

  it('all-ones bytes (sum ffff..., ones-complement negative zero) give 0', () => {
    expect(checksum(new Uint8Array(10).fill(0xff), 0, 10)).toBe(0);
  });

  it('an odd trailing byte is padded with zero on the right (RFC 1071)', () => {
    expect(sumBytes(hex('ab'), 0, 1)).toBe(0xab00);
    expect(sumBytes(hex('00 01 02'), 0, 3)).toBe(0x0001 + 0x0200);
    expect(checksum(hex('00 01 f2 03 f4 f5 f6 f7 01'), 0, 9)).toBe(~((0xddf2 + 0x0100) & 0xffff) & 0xffff);
  });

  it('odd lengths at every split point of the unrolled loop agree with the reference', () => {
    const b = hex('01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19');
    for (let off = 0; off < 8; off++) {
      for (let len = 0; off + len <= b.length; len++) {
        expect(checksum(b, off, len), `off=${off} len=${len}`).toBe(naiveChecksum(b, off, len));
      }
    }
  });

  it('reads only the range it is given (bytes outside do not count)', () => {
    const b = hex('ff ff 12 34 56 ff ff');
    expect(sumBytes(b, 2, 3)).toBe(0x1234 + 0x5600);
  });

  it('a running sum carries over: summing in two parts of even length equals one sum', () => {
    const b = hex('12 34 56 78 9a bc de f0 11 22');
    expect(checksum(b, 4, 6, sumBytes(b, 0, 4))).toBe(checksum(b, 0, 10));
  });

  it('finishChecksum folds carries more than once when needed', () => {
    // 0x1fffe -> 0xffff (1 + 0xfffe), complement 0.
    expect(finishChecksum(0x1fffe)).toBe(0);
    // 0xffff0001 -> 0xffff + 0x0001 = 0x10000 -> 0x0001, complement 0xfffe.
    expect(finishChecksum(0xffff0001)).toBe(0xfffe);
    // Far beyond 32 bits: the sum is kept in a double.
    expect(finishChecksum(0xffff * 1_000_000)).toBe(naiveFold(0xffff * 1_000_000));
  });

  it('pseudoHeaderSum for the RFC 768 pseudo-header fields', () => {
    // 192.168.0.1 -> 192.168.0.199, UDP, length 95
    const s = pseudoHeaderSum(0xc0a80001, 0xc0a800c7, 17, 95);
    expect(s).toBe(0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 95);
    const ph = hex('c0 a8 00 01 c0 a8 00 c7 00 11 00 5f');
    expect(finishChecksum(s)).toBe(naiveChecksum(ph));
  });
});

function naiveFold(x: number): number {
  let s = x;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

describe('Internet checksum: properties', () => {
  const bytesWithRange = fc
    .uint8Array({ minLength: 0, maxLength: 300 })
    .chain((b) =>
      fc.tuple(fc.constant(b), fc.nat(b.length)).chain(([b, off]) => fc.tuple(fc.constant(b), fc.constant(off), fc.nat(b.length - off))),
    );

  it('agrees with the naive reference over random bytes, offsets and lengths', () => {
    fc.assert(
      fc.property(bytesWithRange, ([b, off, len]) => {
        expect(checksum(b, off, len)).toBe(naiveChecksum(b, off, len));
      }),
      { numRuns: 500 },
    );
  });

  it('inserting the computed checksum at an even position makes the range verify to 0', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 200 }),
        fc.nat(),
        fc.nat(64),
        (data, pos, lead) => {
          const buf = new Uint8Array(lead + data.length + 3).fill(0x5a); // junk around the range
          buf.set(data, lead);
          const field = 2 * (pos % Math.floor(data.length / 2));
          buf[lead + field] = 0;
          buf[lead + field + 1] = 0;
          const c = checksum(buf, lead, data.length);
          buf[lead + field] = c >>> 8;
          buf[lead + field + 1] = c & 0xff;
          expect(checksum(buf, lead, data.length)).toBe(0);
          expect(naiveChecksum(buf, lead, data.length)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the sum over a split at an even point equals the sum over the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (b, k) => {
        const cut = 2 * (k % (Math.floor(b.length / 2) + 1));
        expect(finishChecksum(sumBytes(b, cut, b.length - cut, sumBytes(b, 0, cut)))).toBe(checksum(b, 0, b.length));
      }),
      { numRuns: 300 },
    );
  });

  it('pseudoHeaderSum equals the sum of the 12 pseudo-header bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.nat(255), fc.nat(0xffff), (src, dst, proto, len) => {
        const ph = new Uint8Array(12);
        const dv = new DataView(ph.buffer);
        dv.setUint32(0, src);
        dv.setUint32(4, dst);
        ph[9] = proto;
        dv.setUint16(10, len);
        expect(finishChecksum(pseudoHeaderSum(src, dst, proto, len))).toBe(naiveChecksum(ph));
      }),
      { numRuns: 300 },
    );
  });
});
