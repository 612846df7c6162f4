/**
 * The challenge-ACK limit (RFC 5961 §7) is per connection: one per 500 ms each, as
 * Linux's tcp_invalid_ratelimit. A single limit shared by all connections is the side
 * channel of CVE-2016-5696: an off-path attacker exhausts it with his own connection and
 * counts the challenge ACKs he still receives, learning whether a probe he spoofed into
 * someone else's connection drew one, and from that its ports and sequence numbers.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { parseIpv4 } from '../../src/ip/address.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { Stack } from '../../src/stack.js';
import { DEFAULT_TCP_CONFIG } from '../../src/tcp/config.js';
import { TcpConnection } from '../../src/tcp/connection.js';
import { CHALLENGE_ACK_INTERVAL_MS } from '../../src/tcp/tcp-layer.js';

function setup(): { stack: Stack; conn: () => TcpConnection } {
  const [a] = MemoryLink.pair('ip', 1500);
  const stack = new Stack(a, { addr: parseIpv4('10.7.0.2'), prefixLen: 24 }, new SeededRand(1));
  return { stack, conn: () => new TcpConnection(stack.tcp, DEFAULT_TCP_CONFIG, 1460, 0) };
}

describe('challenge ACK rate limit (RFC 5961 §7, CVE-2016-5696)', () => {
  it('allows one per connection per interval, and counts the rest', () => {
    const { stack, conn } = setup();
    const c = conn();
    expect(CHALLENGE_ACK_INTERVAL_MS).toBe(500);
    const sent = (now: number): boolean => {
      const before = c.stats.challengeAcks;
      stack.tcp.challengeAck(c, now);
      return c.stats.challengeAcks > before;
    };
    expect(sent(1000)).toBe(true);
    expect(sent(1000)).toBe(false);
    expect(sent(1499)).toBe(false);
    expect(sent(1500)).toBe(true);
    expect(stack.tcp.counters.challengeAcksRateLimited).toBe(2);
  });

  it("one connection's exhausted limit does not change another's: nothing to count across connections", () => {
    const { stack, conn } = setup();
    const attacker = conn();
    const victim = conn();
    // The attacker spends far more than any global budget on his own connection...
    for (let i = 0; i < 5000; i++) stack.tcp.challengeAck(attacker, 2000);
    expect(attacker.stats.challengeAcks).toBe(1);
    // ...and the victim's connection still answers, at the same instant.
    stack.tcp.challengeAck(victim, 2000);
    expect(victim.stats.challengeAcks).toBe(1);
    // And the victim's answer leaves the attacker's allowance exactly as it was.
    stack.tcp.challengeAck(attacker, 2000 + CHALLENGE_ACK_INTERVAL_MS);
    expect(attacker.stats.challengeAcks).toBe(2);
  });
});
