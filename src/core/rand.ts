/**
 * Randomness for the protocol core is injected, never taken from Math.random, so that a
 * run is a pure function of its seed. `SeededRand` is sfc32 (a small, fast, well-tested
 * generator); the runtime seeds it from the operating system's CSPRNG.
 */
export interface Rand {
  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number;
}

/** A deterministic Rand (sfc32): the same seed always gives the same sequence. */
export class SeededRand implements Rand {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The seed it was built with, as an unsigned 32-bit integer. */
  readonly seed: number;

  /** Seeds the generator (the seed is taken modulo 2^32) and discards its first 15 outputs. */
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = this.seed;
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counting generator).
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
}

/** A float in [0, 1). */
export function randFloat(r: Rand): number {
  return r.u32() / 4294967296;
}

/** An integer in [0, n). */
export function randInt(r: Rand, n: number): number {
  return Math.floor(randFloat(r) * n);
}
