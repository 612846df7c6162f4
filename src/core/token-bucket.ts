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
