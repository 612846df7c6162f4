/**
 * The neighbour cache's state machine (RFC 4861 §7.3.2, Appendix C) on a manual clock:
 * every state, every timer edge, and the queue of packets waiting for resolution.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../src/ip/ipv6-address.js';
import { NeighborCache, type NeighborIo } from '../../src/link/neighbor-cache.js';

const X = parseIpv6('fd00:7::1');
const MAC1 = Uint8Array.of(2, 0, 0, 0, 0, 1);
const MAC2 = Uint8Array.of(2, 0, 0, 0, 0, 2);

function setup(limits = {}): { cache: NeighborCache; log: string[]; sent: string[]; drops: Record<string, number> } {
  const log: string[] = [];
  const sent: string[] = [];
  const drops: Record<string, number> = {};
  const io: NeighborIo = {
    solicit: (t, mac, now) => void log.push(`${now} NS ${t.toString()} ${mac ? 'unicast' : 'multicast'}`),
    transmit: (pkt, mac) => void sent.push(`${pkt.length}B to ${mac[5]}`),
    dropped: (reason, n) => void (drops[reason] = (drops[reason] ?? 0) + n),
    random: () => 0.5, // ReachableTime = BaseReachableTime
  };
  return { cache: new NeighborCache(io, limits), log, sent, drops };
}

const state = (c: NeighborCache): string | undefined => c.get(X)?.state;

describe('neighbour cache: resolution (INCOMPLETE)', () => {
  it('a packet to an unknown neighbour queues, solicits by multicast, and retransmits every RetransTimer', () => {
    const { cache, log } = setup();
    expect(cache.resolve(X, 0)).toBeNull();
    cache.enqueue(X, new Uint8Array(100), 0);
    expect(state(cache)).toBe('INCOMPLETE');
    cache.poll(999);
    cache.poll(1000);
    cache.poll(2000);
    expect(log).toEqual(['0 NS fd00:7::1 multicast', '1000 NS fd00:7::1 multicast', '2000 NS fd00:7::1 multicast']);
    expect(cache.pollAt()).toBe(3000);
  });

  it('after MAX_MULTICAST_SOLICIT unanswered, the entry goes and its queue is dropped and counted', () => {
    const { cache, drops } = setup();
    cache.enqueue(X, new Uint8Array(100), 0);
    cache.enqueue(X, new Uint8Array(100), 10);
    for (const t of [1000, 2000, 3000]) cache.poll(t);
    expect(cache.get(X)).toBeUndefined();
    expect(drops.unresolved).toBe(2);
    expect(cache.pollAt()).toBeUndefined();
  });

  it('a solicited advertisement makes it REACHABLE and sends the queue; unsolicited makes it STALE', () => {
    const a = setup();
    a.cache.enqueue(X, new Uint8Array(100), 0);
    a.cache.enqueue(X, new Uint8Array(60), 0);
    a.cache.advertisement(X, MAC1, true, true, false, 5);
    expect(state(a.cache)).toBe('REACHABLE');
    expect(a.sent).toEqual(['100B to 1', '60B to 1']);
    const b = setup();
    b.cache.enqueue(X, new Uint8Array(100), 0);
    b.cache.advertisement(X, MAC1, false, true, false, 5);
    expect(state(b.cache)).toBe('STALE');
    expect(b.sent).toEqual(['100B to 1']);
  });

  it('an advertisement without a link-layer address leaves INCOMPLETE as it is', () => {
    const { cache } = setup();
    cache.enqueue(X, new Uint8Array(10), 0);
    cache.advertisement(X, null, true, true, false, 5);
    expect(state(cache)).toBe('INCOMPLETE');
  });

  it('the queue is bounded in bytes; more is dropped and counted', () => {
    const { cache, drops } = setup({ maxQueueBytes: 250 });
    for (let i = 0; i < 4; i++) cache.enqueue(X, new Uint8Array(100), 0);
    expect(cache.get(X)!.queue.length).toBe(2);
    expect(drops.queueFull).toBe(2);
  });

  it('an advertisement for a neighbour with no entry is ignored (§7.2.5)', () => {
    const { cache } = setup();
    cache.advertisement(X, MAC1, true, true, false, 0);
    expect(cache.get(X)).toBeUndefined();
  });
});

describe('neighbour cache: REACHABLE -> STALE -> DELAY -> PROBE', () => {
  function reachable(): ReturnType<typeof setup> {
    const s = setup();
    s.cache.enqueue(X, new Uint8Array(10), 0);
    s.cache.advertisement(X, MAC1, true, true, false, 0);
    s.log.length = 0;
    return s;
  }

  it('REACHABLE lasts ReachableTime (0.5-1.5 x 30 s), then STALE with no timer', () => {
    const { cache } = reachable();
    expect(cache.resolve(X, 100)).toEqual(MAC1);
    cache.poll(29_999);
    expect(state(cache)).toBe('REACHABLE');
    cache.poll(30_000);
    expect(state(cache)).toBe('STALE');
    expect(cache.pollAt()).toBeUndefined();
  });

  it('sending to a STALE neighbour goes at once and starts DELAY; 5 s later PROBE solicits by unicast', () => {
    const { cache, log } = reachable();
    cache.poll(30_000);
    expect(cache.resolve(X, 31_000)).toEqual(MAC1);
    expect(state(cache)).toBe('DELAY');
    cache.poll(35_999);
    expect(state(cache)).toBe('DELAY');
    cache.poll(36_000);
    expect(state(cache)).toBe('PROBE');
    expect(log).toEqual(['36000 NS fd00:7::1 unicast']);
  });

  it('PROBE answered (solicited) returns to REACHABLE; unanswered MAX_UNICAST_SOLICIT times, the entry goes', () => {
    const a = reachable();
    a.cache.poll(30_000);
    a.cache.resolve(X, 30_000);
    a.cache.poll(35_000);
    a.cache.advertisement(X, MAC1, true, false, false, 35_500);
    expect(state(a.cache)).toBe('REACHABLE');
    const b = reachable();
    b.cache.poll(30_000);
    b.cache.resolve(X, 30_000);
    for (const t of [35_000, 36_000, 37_000, 38_000]) b.cache.poll(t);
    expect(b.log).toEqual(['35000 NS fd00:7::1 unicast', '36000 NS fd00:7::1 unicast', '37000 NS fd00:7::1 unicast']);
    expect(b.cache.get(X)).toBeUndefined();
  });

  it('a different address without Override only makes REACHABLE STALE; with Override it replaces it', () => {
    const { cache } = reachable();
    cache.advertisement(X, MAC2, false, false, false, 10);
    expect(state(cache)).toBe('STALE');
    expect(cache.get(X)!.mac).toEqual(MAC1);
    cache.advertisement(X, MAC2, false, true, false, 20);
    expect(cache.get(X)!.mac).toEqual(MAC2);
    expect(state(cache)).toBe('STALE');
    cache.advertisement(X, MAC2, true, true, true, 30);
    expect(state(cache)).toBe('REACHABLE');
    expect(cache.get(X)!.isRouter).toBe(true);
  });
});

describe('neighbour cache: solicitations (§7.2.3)', () => {
  it('a solicitation with a source link-layer address creates a STALE entry, and updates a changed one', () => {
    const { cache } = setup();
    cache.solicitation(X, MAC1, 0);
    expect(state(cache)).toBe('STALE');
    cache.advertisement(X, MAC1, true, true, false, 1);
    cache.solicitation(X, MAC1, 2);
    expect(state(cache)).toBe('REACHABLE'); // the same address changes nothing
    cache.solicitation(X, MAC2, 3);
    expect(state(cache)).toBe('STALE');
    expect(cache.get(X)!.mac).toEqual(MAC2);
  });

  it('a solicitation resolves an INCOMPLETE entry (STALE) and sends its queue', () => {
    const { cache, sent } = setup();
    cache.enqueue(X, new Uint8Array(10), 0);
    cache.solicitation(X, MAC1, 1);
    expect(state(cache)).toBe('STALE');
    expect(sent).toEqual(['10B to 1']);
  });

  it('the table is bounded: a STALE entry goes first', () => {
    const { cache } = setup({ maxEntries: 2 });
    cache.solicitation(parseIpv6('fd00:7::a'), MAC1, 0); // STALE
    cache.enqueue(parseIpv6('fd00:7::b'), new Uint8Array(1), 1); // INCOMPLETE
    cache.enqueue(parseIpv6('fd00:7::c'), new Uint8Array(1), 2);
    expect(cache.size).toBe(2);
    expect(cache.get(parseIpv6('fd00:7::a'))).toBeUndefined();
    expect(cache.entries().map((e) => e.ip).sort()).toEqual(['fd00:7::b', 'fd00:7::c']);
  });
});

describe('neighbour cache: a full table', () => {
  it('unresolvable neighbours replace each other, never a neighbour in use (RFC 6583 §6)', () => {
    const { cache } = setup({ maxEntries: 4 });
    const router = parseIpv6('fd00:7::1');
    cache.enqueue(router, new Uint8Array(1), 0);
    cache.advertisement(router, MAC1, true, true, true, 1);
    for (let i = 0; i < 20; i++) cache.enqueue(parseIpv6(`fd00:7::${(0x100 + i).toString(16)}`), new Uint8Array(1), 2 + i);
    expect(cache.size).toBe(4);
    expect(cache.get(router)?.state).toBe('REACHABLE');
  });
});
