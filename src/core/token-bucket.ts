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
 * A token bucket per key (a destination address), as Linux's inet_peer rate limits: at
 * most `maxKeys` are remembered, the oldest forgotten first, so spoofed sources cost a
 * bounded table. A forgotten key starts again with a full burst.
 */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<number, TokenBucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    readonly maxKeys: number,
  ) {}

  /** How many keys are remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `key`'s bucket if there is one. */
  take(key: number, now: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      b = new TokenBucket(this.perSecond, this.burst);
      this.buckets.set(key, b);
    }
    return b.take(now);
  }
}
