import { Ipv4Packet } from '../../src/ip/ipv4-packet.js';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DATAGRAM_OVERHEAD, Reassembler, type ReassemblyDrop, type ReassemblyLimits } from '../../src/ip/reassembly.js';
import { IP_PROTO_UDP } from '../../src/ip/ipv4-packet.js';
import {
  fragmentOf, ip, pattern, rawFragment, splitPieces, toHex, view, type DatagramOpts, type Piece,
} from '../helpers/packets.js';

const D: DatagramOpts = { src: ip('10.0.0.2'), dst: ip('10.0.0.1'), protocol: IP_PROTO_UDP, ident: 0x1234 };

/** A reassembler that counts its drops by reason. */
function make(limits: Partial<ReassemblyLimits> = {}): { r: Reassembler; drops: Record<string, number> } {
  const drops: Record<string, number> = {};
  const r = new Reassembler(limits, (why: ReassemblyDrop) => {
    drops[why] = (drops[why] ?? 0) + 1;
  });
  return { r, drops };
}

function add(r: Reassembler, frag: Uint8Array, now = 0): Uint8Array | null {
  const out = r.add(view(frag), now);
  return out === null ? null : out.payload;
}

function empty(r: Reassembler): void {
  expect(r.datagramsInProgress).toBe(0);
  expect(r.bytesHeld).toBe(0);
}

describe('Reassembler: examples', () => {
  it('three fragments in order make the datagram, with its identity', () => {
    const { r, drops } = make();
    const payload = pattern(40);
    const pieces = splitPieces(40, 16);
    expect(pieces).toEqual([{ off: 0, len: 16, more: true }, { off: 16, len: 16, more: true }, { off: 32, len: 8, more: false }]);
    expect(add(r, fragmentOf(D, payload, pieces[0]!))).toBeNull();
    expect(r.datagramsInProgress).toBe(1);
    expect(r.bytesHeld).toBe(16);
    expect(add(r, fragmentOf(D, payload, pieces[2]!))).toBeNull();
    expect(r.bytesHeld).toBe(24);
    const out = r.add(view(fragmentOf(D, payload, pieces[1]!)), 5);
    expect(out).not.toBeNull();
    const { header, ...rest } = out!;
    expect({ ...rest, payload: toHex(rest.payload) }).toEqual({ src: D.src, dst: D.dst, protocol: D.protocol, ident: D.ident, payload: toHex(payload) });
    // The header an ICMP error would quote: the whole datagram's, fragment fields cleared.
    const h = new Ipv4Packet().reset(header, 0, header.length);
    expect(h.verifyChecksum()).toBe(true);
    expect([h.moreFrags(), h.fragOffset(), h.totalLen(), h.ident()]).toEqual([false, 0, 20 + 40, D.ident]);
    empty(r);
    expect(drops).toEqual({});
  });

  it('keys datagrams by source, destination, protocol and identification', () => {
    const { r } = make();
    const payload = pattern(16);
    const [a, b] = splitPieces(16, 8) as [Piece, Piece];
    const variants: DatagramOpts[] = [D, { ...D, src: ip('10.0.0.3') }, { ...D, dst: ip('10.0.0.9') }, { ...D, protocol: 6 }, { ...D, ident: 0x1235 }];
    for (const v of variants) expect(add(r, fragmentOf(v, payload, a))).toBeNull();
    expect(r.datagramsInProgress).toBe(5);
    for (const v of variants) expect(toHex(add(r, fragmentOf(v, payload, b))!)).toBe(toHex(payload));
    empty(r);
  });

  it('copies fragment data: reusing the receive buffer does not corrupt a datagram in progress', () => {
    const { r } = make();
    const payload = pattern(24);
    const [a, b] = splitPieces(24, 16) as [Piece, Piece];
    const f = fragmentOf(D, payload, a);
    expect(add(r, f)).toBeNull();
    f.fill(0);
    expect(toHex(add(r, fragmentOf(D, payload, b))!)).toBe(toHex(payload));
  });

  it('ignores link padding after Total Length', () => {
    const { r } = make();
    const payload = pattern(24);
    const [a, b] = splitPieces(24, 16) as [Piece, Piece];
    const padded = new Uint8Array(20 + 8 + 30);
    padded.set(fragmentOf(D, payload, b));
    expect(add(r, padded)).toBeNull();
    expect(r.bytesHeld).toBe(8);
    expect(toHex(add(r, fragmentOf(D, payload, a))!)).toBe(toHex(payload));
  });

  it('an exact duplicate is ignored and counted, and does not disturb the datagram', () => {
    const { r, drops } = make();
    const payload = pattern(24);
    const [a, b] = splitPieces(24, 16) as [Piece, Piece];
    expect(add(r, fragmentOf(D, payload, a))).toBeNull();
    expect(add(r, fragmentOf(D, payload, a))).toBeNull();
    expect(r.bytesHeld).toBe(16);
    expect(drops).toEqual({ fragDuplicate: 1 });
    expect(toHex(add(r, fragmentOf(D, payload, b))!)).toBe(toHex(payload));
  });

  it('a non-final fragment whose length is not a multiple of 8, or 0, is malformed', () => {
    const { r, drops } = make();
    expect(add(r, rawFragment(D, 0, 12, true))).toBeNull();
    expect(add(r, rawFragment(D, 8, 0, true))).toBeNull();
    expect(drops).toEqual({ fragMalformed: 2 });
    empty(r);
  });
});

describe('Reassembler: any order, any duplicates', () => {
  const scenario = fc
    .record({ len: fc.integer({ min: 1, max: 3000 }), chunk: fc.integer({ min: 1, max: 64 }).map((k) => 8 * k), seed: fc.nat(250) })
    .chain(({ len, chunk, seed }) => {
      const n = splitPieces(len, chunk).length;
      const idx = Array.from({ length: n }, (_, i) => i);
      return fc.record({
        len: fc.constant(len),
        chunk: fc.constant(chunk),
        seed: fc.constant(seed),
        order: fc.shuffledSubarray(idx, { minLength: n, maxLength: n }),
        dups: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n)), { maxLength: 6 }),
      });
    });

  it('every permutation, with whole-fragment duplicates, reassembles exactly the original payload', () => {
    fc.assert(
      fc.property(scenario, ({ len, chunk, seed, order, dups }) => {
        const { r, drops } = make({ maxFragments: 1 << 16 }); // (the fragment cap has its own tests)
        const payload = pattern(len, seed);
        const pieces = splitPieces(len, chunk);
        const seq = [...order];
        for (const [which, at] of dups) seq.splice(Math.min(at, seq.length), 0, which);
        const seen = new Set<number>();
        let repeats = 0;
        let result: Uint8Array | null = null;
        for (const i of seq) {
          if (seen.has(i)) repeats++;
          seen.add(i);
          result = add(r, fragmentOf(D, payload, pieces[i]!));
          if (seen.size === pieces.length) break;
          expect(result, 'completed before every fragment arrived').toBeNull();
        }
        expect(result).not.toBeNull();
        expect(toHex(result!)).toBe(toHex(payload));
        expect(drops).toEqual(repeats > 0 ? { fragDuplicate: repeats } : {});
        empty(r);
      }),
      { numRuns: 200 },
    );
  });

  it('interleaved datagrams with different identifications reassemble independently', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
        (la, lb, picks) => {
          const { r } = make();
          const pa = pattern(la, 1), pb = pattern(lb, 2);
          const A = { ...D, ident: 1 }, B = { ...D, ident: 2 };
          const qa = splitPieces(la, 16).map((p) => fragmentOf(A, pa, p)).reverse();
          const qb = splitPieces(lb, 24).map((p) => fragmentOf(B, pb, p));
          const done: string[] = [];
          let k = 0;
          while (qa.length + qb.length > 0) {
            const fromA = qb.length === 0 || (qa.length > 0 && picks[k++ % picks.length]);
            const out = add(r, (fromA ? qa : qb).shift()!);
            if (out) done.push(toHex(out));
          }
          expect(done.sort()).toEqual([toHex(pa), toHex(pb)].sort());
          empty(r);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('Reassembler: overlaps discard the datagram', () => {
  it.each([
    ['same offset, longer', 0, 24],
    ['same offset, shorter', 0, 8],
    ['starts inside, ends beyond', 8, 16],
    ['starts before, ends inside', 0, 24, 16],
    ['covers it entirely', 0, 48, 16],
    ['inside it', 8, 8],
  ])('%s', (_name, off, len, heldOff = 0) => {
    const { r, drops } = make();
    expect(add(r, rawFragment(D, heldOff, 16, true, 1))).toBeNull();
    expect(add(r, rawFragment(D, off, len, true, 2))).toBeNull();
    expect(drops).toEqual({ fragOverlap: 1 });
    empty(r);
  });

  it('a fragment adjacent on either side is not an overlap', () => {
    const { r, drops } = make();
    add(r, rawFragment(D, 16, 16, true));
    add(r, rawFragment(D, 0, 16, true));
    add(r, rawFragment(D, 32, 8, true));
    expect(drops).toEqual({});
    expect(r.bytesHeld).toBe(40);
  });

  const overlapCase = fc
    .record({ len: fc.integer({ min: 17, max: 2000 }), chunk: fc.integer({ min: 1, max: 32 }).map((k) => 8 * k) })
    .filter(({ len, chunk }) => splitPieces(len, chunk).length >= 2)
    .chain(({ len, chunk }) => {
      const pieces = splitPieces(len, chunk);
      const nonLast = pieces.length - 1;
      return fc.record({
        len: fc.constant(len),
        chunk: fc.constant(chunk),
        held: fc.subarray(Array.from({ length: nonLast }, (_, i) => i), { minLength: 1 }),
        target: fc.nat(nonLast - 1),
        into: fc.nat(),
        before: fc.nat(8),
        extra: fc.nat(8),
      });
    });

  it('a partial overlap with any held fragment discards the datagram and counts fragOverlap', () => {
    fc.assert(
      fc.property(overlapCase, ({ len, chunk, held, target, into, before, extra }) => {
        const { r, drops } = make({ maxFragments: 1 << 16 });
        const payload = pattern(len);
        const pieces = splitPieces(len, chunk);
        const hold = held.includes(target) ? held : [...held, target];
        for (const i of hold) expect(add(r, fragmentOf(D, payload, pieces[i]!))).toBeNull();
        const F = pieces[target]!;
        const x = F.off + 8 * (into % (F.len / 8)); // an 8-aligned byte inside F
        const gOff = Math.max(0, x - 8 * before);
        const gLen = x - gOff + 8 * (1 + extra);
        fc.pre(!pieces.some((p) => p.off === gOff && p.len === gLen)); // not a duplicate of any piece
        expect(add(r, rawFragment(D, gOff, gLen, true, 0xee))).toBeNull();
        expect(drops).toEqual({ fragOverlap: 1 });
        empty(r);
        // The discarded state is gone: the genuine fragments reassemble from scratch.
        let out: Uint8Array | null = null;
        for (const p of pieces) out = add(r, fragmentOf(D, payload, p));
        expect(toHex(out!)).toBe(toHex(payload));
      }),
      { numRuns: 200 },
    );
  });
});

describe('Reassembler: oversized and inconsistent datagrams', () => {
  it('a fragment reaching past 65,535 bytes of datagram is oversized, and discards what was held', () => {
    const { r, drops } = make();
    expect(add(r, rawFragment(D, 0, 16, true))).toBeNull();
    expect(add(r, rawFragment(D, 8191 * 8, 8, false))).toBeNull(); // the largest offset field, 65528 + 8
    expect(drops).toEqual({ fragOversized: 1 });
    empty(r);
  });

  it('the boundary: 20 + payload = 65535 is fine, one more byte is oversized', () => {
    const { r, drops } = make();
    expect(add(r, rawFragment(D, 65512, 3, false))).toBeNull();
    expect(drops).toEqual({});
    expect(r.bytesHeld).toBe(3);
    const { r: r2, drops: d2 } = make();
    expect(add(r2, rawFragment(D, 65512, 4, false))).toBeNull();
    expect(d2).toEqual({ fragOversized: 1 });
    empty(r2);
  });

  it('oversized fragments at random offsets are always counted, never held', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8191 }), fc.integer({ min: 1, max: 2000 }), fc.boolean(), (o8, len, more) => {
        const off = o8 * 8;
        const l = more ? Math.ceil(len / 8) * 8 : len;
        fc.pre(off + l > 65515);
        const { r, drops } = make();
        expect(add(r, rawFragment(D, off, l, more))).toBeNull();
        expect(drops).toEqual({ fragOversized: 1 });
        empty(r);
      }),
      { numRuns: 200 },
    );
  });

  it('two last fragments that disagree on the end are inconsistent', () => {
    const { r, drops } = make();
    add(r, rawFragment(D, 0, 16, true));
    add(r, rawFragment(D, 32, 8, false));
    expect(add(r, rawFragment(D, 40, 8, false))).toBeNull();
    expect(drops).toEqual({ fragInconsistent: 1 });
    empty(r);
  });

  it('a fragment reaching past a known end is inconsistent', () => {
    const { r, drops } = make();
    add(r, rawFragment(D, 16, 4, false));
    expect(add(r, rawFragment(D, 16, 16, true))).toBeNull();
    expect(drops).toEqual({ fragInconsistent: 1 });
    empty(r);
  });

  it('a last fragment ending before a fragment already held is inconsistent', () => {
    const { r, drops } = make();
    add(r, rawFragment(D, 32, 16, true));
    expect(add(r, rawFragment(D, 8, 8, false))).toBeNull();
    expect(drops).toEqual({ fragInconsistent: 1 });
    empty(r);
  });

  it('a repeated last fragment is a duplicate, not an inconsistency', () => {
    const { r, drops } = make();
    add(r, rawFragment(D, 16, 5, false));
    add(r, rawFragment(D, 16, 5, false));
    expect(drops).toEqual({ fragDuplicate: 1 });
    expect(r.datagramsInProgress).toBe(1);
  });
});

describe('Reassembler: timeout on the manual clock', () => {
  it('expires exactly timeoutMs after the first fragment, counting fragTimeout', () => {
    const { r, drops } = make({ timeoutMs: 30_000 });
    add(r, rawFragment(D, 8, 8, true), 1000);
    add(r, rawFragment(D, 24, 8, true), 20_000); // later fragments do not extend the deadline
    expect(r.pollAt()).toBe(31_000);
    const heads: Uint8Array[] = [];
    r.poll(30_999, (h) => heads.push(h));
    expect(r.datagramsInProgress).toBe(1);
    r.poll(31_000, (h) => heads.push(h));
    expect(drops).toEqual({ fragTimeout: 1 });
    expect(heads).toEqual([]); // fragment zero never came
    empty(r);
    expect(r.pollAt()).toBeUndefined();
  });

  const timeoutCase = fc
    .record({ len: fc.integer({ min: 9, max: 600 }), chunk: fc.integer({ min: 1, max: 8 }).map((k) => 8 * k), timeoutMs: fc.integer({ min: 1, max: 100_000 }), t0: fc.nat(1e6) })
    .filter(({ len, chunk }) => splitPieces(len, chunk).length >= 2)
    .chain((c) => {
      const n = splitPieces(c.len, c.chunk).length;
      return fc.record({
        c: fc.constant(c),
        subset: fc.subarray(Array.from({ length: n }, (_, i) => i), { minLength: 1, maxLength: n - 1 }),
        gaps: fc.array(fc.nat(1000), { minLength: n, maxLength: n }),
      });
    });

  it('an incomplete datagram expires at first arrival + timeoutMs; onExpired gets fragment zero’s header and 8 bytes iff it came', () => {
    fc.assert(
      fc.property(timeoutCase, ({ c, subset, gaps }) => {
        const { r, drops } = make({ timeoutMs: c.timeoutMs });
        const payload = pattern(c.len);
        const pieces = splitPieces(c.len, c.chunk);
        let t = c.t0;
        const deadline = c.t0 + c.timeoutMs;
        let first: Uint8Array | null = null;
        for (let k = 0; k < subset.length; k++) {
          if (t >= deadline) break;
          const f = fragmentOf(D, payload, pieces[subset[k]!]!);
          if (subset[k] === 0) first = f;
          expect(add(r, f, t)).toBeNull();
          t = Math.min(t + gaps[k]!, deadline - 1);
        }
        expect(r.pollAt()).toBe(deadline);
        const heads: Uint8Array[] = [];
        r.poll(deadline - 1, (h) => heads.push(h));
        expect(r.datagramsInProgress).toBe(1);
        r.poll(deadline, (h) => heads.push(h));
        empty(r);
        expect(drops).toEqual({ fragTimeout: 1 });
        if (first) expect(heads.map(toHex)).toEqual([toHex(first.subarray(0, 28))]);
        else expect(heads).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('poll without onExpired still discards', () => {
    const { r, drops } = make({ timeoutMs: 10 });
    add(r, rawFragment(D, 0, 8, true), 0);
    r.poll(10);
    expect(drops).toEqual({ fragTimeout: 1 });
    empty(r);
  });
});

describe('Reassembler: caps', () => {
  it('starting one datagram too many evicts the oldest', () => {
    const { r, drops } = make({ maxDatagrams: 2 });
    const payload = pattern(16);
    const [a, b] = splitPieces(16, 8) as [Piece, Piece];
    for (const ident of [1, 2, 3]) add(r, fragmentOf({ ...D, ident }, payload, a));
    expect(r.datagramsInProgress).toBe(2);
    expect(drops).toEqual({ fragEvicted: 1 });
    expect(add(r, fragmentOf({ ...D, ident: 1 }, payload, b))).toBeNull(); // 1 was evicted
    expect(toHex(add(r, fragmentOf({ ...D, ident: 3 }, payload, b))!)).toBe(toHex(payload));
  });

  // maxBytes caps memory as allocated: each datagram's arena and range list, and its overhead.
  it('a fragment larger than maxBytes on its own is dropped', () => {
    const { r, drops } = make({ maxBytes: DATAGRAM_OVERHEAD + 64 });
    add(r, rawFragment(D, 0, 72, true));
    expect(drops).toEqual({ fragEvicted: 1 });
    empty(r);
  });

  it('going over maxBytes evicts older datagrams, not the one being added to', () => {
    const probe = make();
    add(probe.r, rawFragment(D, 0, 32, true));
    const one = probe.r.memoryHeld; // what a datagram with one small fragment costs
    expect(one).toBeGreaterThan(DATAGRAM_OVERHEAD + 32);
    const { r, drops } = make({ maxBytes: 2 * one + 100 });
    add(r, rawFragment({ ...D, ident: 1 }, 0, 32, true));
    add(r, rawFragment({ ...D, ident: 2 }, 0, 32, true));
    expect(r.memoryHeld).toBe(2 * one);
    expect(drops).toEqual({});
    // ident 2's arena must grow past its first 1 KiB: ident 1 goes to make room.
    add(r, rawFragment({ ...D, ident: 2 }, 32, 1200, true));
    expect(drops).toEqual({ fragEvicted: 1 });
    expect(r.datagramsInProgress).toBe(1);
    expect(r.bytesHeld).toBe(1232);
  });

  const floodFrag = fc.record({
    src: fc.nat(5),
    ident: fc.nat(3),
    off8: fc.oneof(fc.nat(40), fc.nat(8191)),
    len: fc.nat(300),
    more: fc.boolean(),
    dt: fc.nat(3000),
  });

  it('under arbitrary fragment floods, datagramsInProgress <= maxDatagrams and bytesHeld <= maxBytes', () => {
    fc.assert(
      fc.property(
        fc.record({ maxDatagrams: fc.integer({ min: 1, max: 6 }), maxBytes: fc.integer({ min: 1, max: 2000 }), timeoutMs: fc.integer({ min: 1, max: 20_000 }) }),
        fc.array(floodFrag, { maxLength: 150 }),
        (limits, flood) => {
          const { r, drops } = make(limits);
          let now = 0;
          for (const f of flood) {
            now += f.dt;
            if (f.dt % 7 === 0) r.poll(now);
            const len = f.more ? f.len & ~7 : f.len;
            r.add(view(rawFragment({ ...D, src: 0x0a000010 + f.src, ident: f.ident }, f.off8 * 8, len, f.more)), now);
            expect(r.datagramsInProgress).toBeLessThanOrEqual(limits.maxDatagrams);
            expect(r.bytesHeld).toBeLessThanOrEqual(limits.maxBytes);
            expect(r.bytesHeld).toBeGreaterThanOrEqual(0);
            if (r.datagramsInProgress === 0) expect(r.bytesHeld).toBe(0);
          }
          for (const k of Object.keys(drops)) {
            expect(['fragDuplicate', 'fragOverlap', 'fragOversized', 'fragInconsistent', 'fragMalformed', 'fragEvicted', 'fragTimeout']).toContain(k);
          }
          // Everything left expires, and the byte accounting comes back to zero.
          r.poll(now + limits.timeoutMs);
          empty(r);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Reassembler: the real cost of tiny fragments', () => {
  // 64 datagrams (the cap) x 6000 fragments of 8 bytes, none ever complete: 384,000
  // fragments, 3 MB of payload, under the 4 MiB payload cap today.
  it('384,000 never-completing 8-byte fragments: what is held stays within the cap, bookkeeping included', () => {
    const { r, drops } = make();
    const frame = rawFragment({ ...D, ident: 0 }, 0, 8, true);
    const p = view(frame);
    // Reassembler.add reads the header fields, not the checksum (the IP layer checked it):
    // one frame, rewritten in place. (Its RSS and CPU are measured by `npm run load --
    // --fragments`, not here.)
    let peakMemory = 0;
    let peakFragments = 0;
    for (let k = 0; k < 6000; k++) {
      for (let ident = 0; ident < 64; ident++) {
        frame[4] = ident >>> 8; frame[5] = ident & 255;
        const off8 = k; // offsets 0, 8, 16, ...: MF set on every one, so none completes
        frame[6] = 0x20 | (off8 >>> 8); frame[7] = off8 & 255;
        r.add(p, 0);
      }
      peakMemory = Math.max(peakMemory, r.memoryHeld);
      peakFragments = Math.max(peakFragments, r.fragmentsHeld);
    }
    // The cap bounds what is really held: payload plus the bookkeeping of each fragment,
    // and so the number of fragments (8 KiB of them, not the 384,000 a payload cap allows).
    expect(peakMemory).toBeLessThanOrEqual(r.limits.maxBytes);
    expect(peakFragments).toBeLessThanOrEqual(r.limits.maxDatagrams * r.limits.maxFragments);
    expect(r.datagramsInProgress).toBeLessThanOrEqual(64);
    expect((drops.fragTooMany ?? 0) + (drops.fragEvicted ?? 0)).toBeGreaterThan(0);
    r.poll(r.limits.timeoutMs);
    expect([r.datagramsInProgress, r.bytesHeld, r.memoryHeld]).toEqual([0, 0, 0]);
  });

  // A per-datagram fragment cap (as BSD's net.inet.ip.maxfragsperpacket): a 64 KiB datagram
  // over a 576-byte path is 120 fragments; nothing legitimate needs thousands.
  it('a datagram with more than maxFragments fragments is discarded and counted fragTooMany', () => {
    const { r, drops } = make({ maxFragments: 16 });
    for (let i = 0; i < 16; i++) expect(r.add(view(rawFragment(D, i * 8, 8, true)), 0)).toBeNull();
    expect(drops).toEqual({});
    r.add(view(rawFragment(D, 16 * 8, 8, true)), 0);
    expect(drops).toEqual({ fragTooMany: 1 });
    expect([r.datagramsInProgress, r.bytesHeld, r.memoryHeld]).toEqual([0, 0, 0]);
  });

  it('the default fragment cap lets a 65,515-byte datagram in 552-byte fragments (a 576-byte path) through', () => {
    const { r, drops } = make();
    const payload = pattern(65_515);
    const pieces = splitPieces(payload.length, 552);
    let out = null;
    for (const pc of pieces.reverse()) out = r.add(view(fragmentOf(D, payload, pc)), 0) ?? out;
    expect(drops).toEqual({});
    expect(toHex(out!.payload)).toBe(toHex(payload));
  });

  it('memoryHeld counts each fragment\'s bookkeeping on top of its payload', () => {
    const { r } = make();
    r.add(view(rawFragment(D, 0, 8, true)), 0);
    expect(r.bytesHeld).toBe(8);
    expect(r.memoryHeld).toBeGreaterThan(8);
  });
});
