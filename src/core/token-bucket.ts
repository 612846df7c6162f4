/**
 * A token bucket, for rate limits on what the stack sends unprompted: ICMP errors
 * (RFC 1812 §4.3.2.8, RFC 1122 §3.2.2), RSTs and challenge ACKs (RFC 5961 §7).
 */
export class TokenBucket {
  private tokens: number;
  private last = -Infinity;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (this.last !== -Infinity) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    }
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Token buckets per key (a destination address), as Linux's inet_peer rate limits, in a
 * fixed table of `slots` entries indexed by a hash of the key: no allocation per key, so
 * a flood from spoofed sources costs nothing but the table. A key whose slot another key
 * took starts again with a full burst (as a forgotten inet_peer does).
 */
export class KeyedTokenBuckets {
  private readonly keys: Int32Array;
  private readonly used: Uint8Array;
  private readonly tokens: Float64Array;
  private readonly last: Float64Array;
  private n = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    readonly slots: number,
  ) {
    this.keys = new Int32Array(slots);
    this.used = new Uint8Array(slots);
    this.tokens = new Float64Array(slots);
    this.last = new Float64Array(slots);
  }

  /** How many slots hold a key. */
  get size(): number {
    return this.n;
  }

  /** Takes one token from `key`'s bucket if there is one. */
  take(key: number, now: number): boolean {
    const k = key | 0;
    // A multiplicative hash (Knuth), so that neighbouring addresses spread over the table.
    const i = (Math.imul(k, 0x9e3779b1) >>> 0) % this.slots;
    if (!this.used[i] || this.keys[i] !== k) {
      if (!this.used[i]) this.n++;
      this.used[i] = 1;
      this.keys[i] = k;
      this.tokens[i] = this.burst;
      this.last[i] = now;
    } else {
      this.tokens[i] = Math.min(this.burst, this.tokens[i]! + ((now - this.last[i]!) * this.perSecond) / 1000);
      this.last[i] = now;
    }
    if (this.tokens[i]! < 1) return false;
    this.tokens[i]! -= 1;
    return true;
  }
}
