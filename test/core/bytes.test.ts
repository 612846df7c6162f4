import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readU16, readU32, writeU16, writeU32 } from '../../src/core/bytes.js';
import { hex, toHex } from '../helpers/packets.js';

describe('big-endian field access', () => {
  it('reads known fields', () => {
    const b = hex('ff 12 34 56 78 9a bc de f0');
    expect(readU16(b, 1)).toBe(0x1234);
    expect(readU32(b, 1)).toBe(0x12345678);
    expect(readU32(b, 5)).toBe(0x9abcdef0); // high bit set: still unsigned
    expect(readU32(hex('ff ff ff ff'), 0)).toBe(0xffffffff);
    expect(readU16(hex('ff ff'), 0)).toBe(0xffff);
  });

  it('writes known fields in network byte order, touching only their bytes', () => {
    const b = new Uint8Array(8).fill(0xee);
    writeU32(b, 1, 0xdeadbeef);
    writeU16(b, 5, 0xcafe);
    expect(toHex(b)).toBe('eedeadbeefcafeee');
    writeU16(b, 0, 0x1ffff); // only the low 16 bits are written
    expect(toHex(b.subarray(0, 2))).toBe('ffff');
  });

  it('readU32(writeU32(v)) === v and readU16(writeU16(v)) === v at any offset', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat(0xffff), fc.nat(16), (v32, v16, o) => {
        const b = new Uint8Array(24);
        writeU32(b, o, v32);
        expect(readU32(b, o)).toBe(v32);
        writeU16(b, o + 4, v16);
        expect(readU16(b, o + 4)).toBe(v16);
        expect(readU32(b, o)).toBe(v32);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with DataView', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 32 }), fc.nat(), (b, k) => {
        const o = k % (b.length - 3);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        expect(readU32(b, o)).toBe(dv.getUint32(o));
        expect(readU16(b, o)).toBe(dv.getUint16(o));
      }),
      { numRuns: 300 },
    );
  });
});
