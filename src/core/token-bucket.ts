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
 * fixed table of `slots` buckets (a power of two) indexed by a hash of the key: no
 * allocation per key, so a flood from spoofed sources costs nothing but the table. Keys
 * that hash alike share a bucket: a collision can only make the limit stricter, never
 * reset it (so spoofing a neighbour of the victim's address cannot refill its budget).
 */
export class KeyedTokenBuckets {
  private readonly used: Uint8Array;
  private readonly tokens: Float64Array;
  private readonly last: Float64Array;
  private readonly shift: number;
  private n = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    readonly slots: number,
  ) {
    if (!Number.isInteger(Math.log2(slots)) || slots < 2) throw new RangeError(`slots must be a power of two, not ${slots}`);
    this.shift = 32 - Math.log2(slots);
    this.used = new Uint8Array(slots);
    this.tokens = new Float64Array(slots);
    this.last = new Float64Array(slots);
  }

  /** How many buckets are in use. */
  get size(): number {
    return this.n;
  }

  /** Takes one token from `key`'s bucket if there is one. */
  take(key: number, now: number): boolean {
    // Fibonacci hashing (Knuth): the high bits of the product depend on every bit of the key.
    const i = Math.imul(key | 0, 0x9e3779b1) >>> this.shift;
    if (!this.used[i]) {
      this.used[i] = 1;
      this.n++;
      this.tokens[i] = this.burst;
    } else {
      this.tokens[i] = Math.min(this.burst, this.tokens[i]! + ((now - this.last[i]!) * this.perSecond) / 1000);
    }
    this.last[i] = now;
    if (this.tokens[i]! < 1) return false;
    this.tokens[i]! -= 1;
    return true;
  }
}
