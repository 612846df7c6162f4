/**
 * ISNs (RFC 6528, RFC 9293 §3.4.1): HalfSipHash-2-4 checked against the reference test
 * vectors of the SipHash authors (github.com/veorq/SipHash, vectors.h, vectors_hsip32:
 * key = 00 01 .. 07, message i = the i bytes 00 01 .. i-1, 32-bit tag stored
 * little-endian), then the ISN's clock and keyed-hash properties.
 *
 * src's halfSipHash takes 32-bit words, not bytes, and sets the length byte to
 * 4 * words.length, so it can only express messages whose length is a multiple of 4
 * (the bytes packed little-endian into words). Those vectors (0, 4, 8, 12, 16 bytes) are
 * checked directly; the others check the byte-oriented reference written out below.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRand, type Rand } from '../../../src/core/rand.js';
import { IsnGenerator, halfSipHash } from '../../../src/tcp/isn.js';
import { seqDiff } from '../../../src/tcp/seq.js';

/** vectors_hsip32[0..16], as the 4 bytes of each tag in order. */
const VECTORS = [
  'a9359f5b', '27475ab8', 'fa62a603', '8afee704', '2a6e4689', 'c5fab669', '5863fc23', '8bcf63c5',
  'd0b8848f', 'f806e779', '94b07934', '08083050', '57f0872f', '77e663ff', 'd6fff87c', '74fe2b97',
  'd9b5ac84',
];
/** A tag's 4 bytes read as a little-endian u32 (U8TO32_LE). */
const tagOf = (hex: string): number => Buffer.from(hex, 'hex').readUInt32LE(0);

const rotl = (x: number, b: number): number => ((x << b) | (x >>> (32 - b))) >>> 0;

/** HalfSipHash-2-4 with a 32-bit output over bytes, written from the reference C code. */
function referenceHalfSipHash(key: Uint8Array, msg: Uint8Array): number {
  const k0 = Buffer.from(key).readUInt32LE(0);
  const k1 = Buffer.from(key).readUInt32LE(4);
  const v = [k0, k1, (0x6c796765 ^ k0) >>> 0, (0x74656462 ^ k1) >>> 0];
  const round = (): void => {
    v[0] = (v[0]! + v[1]!) >>> 0; v[1] = rotl(v[1]!, 5); v[1] = (v[1] ^ v[0]) >>> 0; v[0] = rotl(v[0], 16);
    v[2] = (v[2]! + v[3]!) >>> 0; v[3] = rotl(v[3]!, 8); v[3] = (v[3] ^ v[2]) >>> 0;
    v[0] = (v[0] + v[3]) >>> 0; v[3] = rotl(v[3], 7); v[3] = (v[3] ^ v[0]) >>> 0;
    v[2] = (v[2] + v[1]) >>> 0; v[1] = rotl(v[1], 13); v[1] = (v[1] ^ v[2]) >>> 0; v[2] = rotl(v[2], 16);
  };
  const whole = msg.length - (msg.length % 4);
  for (let i = 0; i < whole; i += 4) {
    const m = Buffer.from(msg.subarray(i, i + 4)).readUInt32LE(0);
    v[3] = (v[3]! ^ m) >>> 0;
    round();
    round();
    v[0] = (v[0]! ^ m) >>> 0;
  }
  let b = ((msg.length & 0xff) << 24) >>> 0;
  for (let j = msg.length % 4 - 1; j >= 0; j--) b = (b | (msg[whole + j]! << (8 * j))) >>> 0;
  v[3] = (v[3]! ^ b) >>> 0;
  round();
  round();
  v[0] = (v[0]! ^ b) >>> 0;
  v[2] = (v[2]! ^ 0xff) >>> 0;
  for (let i = 0; i < 4; i++) round();
  return (v[1]! ^ v[3]!) >>> 0;
}

const KEY = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
const K0 = 0x03020100;
const K1 = 0x07060504;
const msgOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);
/** Bytes packed little-endian into 32-bit words (length a multiple of 4). */
function wordsOf(msg: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < msg.length; i += 4) out.push(Buffer.from(msg.subarray(i, i + 4)).readUInt32LE(0));
  return out;
}

describe('HalfSipHash-2-4', () => {
  it('the byte-oriented reference reproduces the published vectors (0..16 bytes)', () => {
    expect(tagOf(VECTORS[0]!)).toBe(0x5b9f35a9);
    VECTORS.forEach((v, n) => {
      expect(referenceHalfSipHash(KEY, msgOf(n)).toString(16)).toBe(tagOf(v).toString(16));
    });
  });

  it('src matches the published vectors for 0, 4, 8, 12 and 16 bytes', () => {
    expect(halfSipHash(K0, K1, [])).toBe(0x5b9f35a9);
    for (const n of [4, 8, 12, 16]) {
      expect(halfSipHash(K0, K1, wordsOf(msgOf(n))).toString(16)).toBe(tagOf(VECTORS[n]!).toString(16));
    }
  });

  it('src matches the reference for any key and any whole-word message', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }),
      (key, words) => {
        const msg = new Uint8Array(4 * words.length);
        words.forEach((w, i) => Buffer.from(msg.buffer).writeUInt32LE(w, 4 * i));
        const k = Buffer.from(key);
        expect(halfSipHash(k.readUInt32LE(0), k.readUInt32LE(4), words)).toBe(referenceHalfSipHash(key, msg));
      },
    ));
  });

  it('is an unsigned 32-bit value, deterministic, and depends on the key', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }),
      (k0, k1, words) => {
        const h = halfSipHash(k0, k1, words);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
        expect(halfSipHash(k0, k1, words)).toBe(h);
      },
    ));
    const hs = new Set<number>();
    for (let k = 0; k < 200; k++) hs.add(halfSipHash(k, 0, [1, 2, 3, 4]));
    expect(hs.size).toBe(200); // collisions among 200 would be a 5e-6 event
  });
});

/** A Rand that hands out given values. */
function fixedRand(...values: number[]): Rand {
  let i = 0;
  return { u32: () => values[i++ % values.length]! };
}

const LOCAL = 0x0a070002;
const REMOTE = 0x0a070001;

describe('IsnGenerator', () => {
  it('ISN = M + F(local ip, remote ip, ports; key) with the key from the injected Rand', () => {
    const g = new IsnGenerator(fixedRand(K0, K1));
    const f = halfSipHash(K0, K1, [LOCAL, REMOTE, ((7 << 16) | 40000) >>> 0, 0]);
    expect(g.isn(LOCAL, 7, REMOTE, 40000, 0)).toBe(f);
    expect(g.isn(LOCAL, 7, REMOTE, 40000, 1000)).toBe((f + 250_000) >>> 0);
  });

  it('is deterministic for a given seed (a simulation replays)', () => {
    const a = new IsnGenerator(new SeededRand(42));
    const b = new IsnGenerator(new SeededRand(42));
    for (let t = 0; t < 50; t++) expect(a.isn(LOCAL, 80, REMOTE, 30000 + t, t * 7)).toBe(b.isn(LOCAL, 80, REMOTE, 30000 + t, t * 7));
  });

  it('different keys give different ISNs for the same 4-tuple', () => {
    const isns = new Set<number>();
    for (let seed = 0; seed < 100; seed++) isns.add(new IsnGenerator(new SeededRand(seed)).isn(LOCAL, 80, REMOTE, 40000, 0));
    expect(isns.size).toBe(100);
  });

  it('M advances 250 per ms (one per 4 µs, RFC 9293 §3.4.1), across the 2^32 wrap', () => {
    const g = new IsnGenerator(new SeededRand(7));
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 8_000_000 }),
      fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }),
      (now, dt, lp, rp) => {
        const a = g.isn(LOCAL, lp, REMOTE, rp, now);
        const b = g.isn(LOCAL, lp, REMOTE, rp, now + dt);
        expect(Number.isInteger(b) && b >= 0 && b <= 0xffffffff).toBe(true);
        expect(seqDiff(b, a)).toBe(dt * 250); // dt * 250 < 2^31
      },
    ));
    // 4 µs is one tick
    expect(seqDiff(g.isn(LOCAL, 1, REMOTE, 2, 0.004), g.isn(LOCAL, 1, REMOTE, 2, 0))).toBe(1);
    // after 2^32 / 250 ms (about 4.77 hours) the clock has gone round once
    expect(g.isn(LOCAL, 1, REMOTE, 2, 2 ** 32 / 250)).toBe(g.isn(LOCAL, 1, REMOTE, 2, 0));
  });

  it('different 4-tuples give unrelated ISNs (no collisions, about half the bits change)', () => {
    const g = new IsnGenerator(new SeededRand(1234));
    const seen = new Set<number>();
    let flipped = 0;
    let pairs = 0;
    const popcount = (x: number): number => {
      let c = 0;
      for (let v = x >>> 0; v; v >>>= 1) c += v & 1;
      return c;
    };
    for (let port = 1024; port < 2024; port++) {
      const x = g.isn(LOCAL, 80, REMOTE, port, 0);
      seen.add(x);
      const y = g.isn(LOCAL, 80, REMOTE, port + 1, 0); // the next port
      flipped += popcount(x ^ y);
      pairs++;
    }
    expect(seen.size).toBe(1000);
    const mean = flipped / pairs;
    expect(mean).toBeGreaterThan(14);
    expect(mean).toBeLessThan(18);
    // each field of the tuple matters
    const base = g.isn(LOCAL, 80, REMOTE, 40000, 0);
    expect(g.isn(LOCAL + 1, 80, REMOTE, 40000, 0)).not.toBe(base);
    expect(g.isn(LOCAL, 81, REMOTE, 40000, 0)).not.toBe(base);
    expect(g.isn(LOCAL, 80, REMOTE + 1, 40000, 0)).not.toBe(base);
    expect(g.isn(LOCAL, 40000, REMOTE, 80, 0)).not.toBe(base); // ports swapped
    expect(g.isn(REMOTE, 80, LOCAL, 40000, 0)).not.toBe(base); // addresses swapped
  });
});
