/**
 * The retransmission queue: one record per segment in flight with the marks RACK-TLP
 * needs (RFC 8985 §6.1): SACKed (RFC 2018), lost, retransmitted, and the transmit time.
 * Covers appending and splitting records on (re)transmission, cumulative ACKs (records
 * delivered and reported to a DeliverySink, a partially acknowledged head trimmed), SACK
 * blocks (split at their edges; D-SACKs below SND.UNA, RFC 2883, and blocks past SND.MAX
 * ignored), the RFC 6675 counters and pipe, lost marks, the RTO with and without
 * reneging (RFC 2018 §8), skipping SACKed data when going back, and FIN placement.
 * Sequence numbers start just below 2^32 so records straddle the wrap. Then a
 * model-based property against a byte-by-byte scoreboard.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIN_SEG, LOST, RETRANS, RetransmitQueue, SACKED, type DeliverySink } from '../../../src/tcp/retransmit-queue.js';
import { seqAdd, seqDiff } from '../../../src/tcp/seq.js';

/** 2048 bytes below the wrap: the third 1000-byte segment, [2000, 3000), straddles 2^32. */
const ISS = 0xfffff800;
/** Sequence number `rel` bytes past ISS. */
const S = (rel: number): number => seqAdd(ISS, rel);

type Rec = [start: number, end: number, flags: number, xmitTs: number];

/** The records as [start, end, flags, xmitTs], positions relative to `iss`. */
function recs(q: RetransmitQueue, iss = ISS): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < q.count; i++) out.push([seqDiff(q.start(i), iss), seqDiff(q.end(i), iss), q.flags(i), q.xmitTs(i)]);
  return out;
}

type Call = [xmitTs: number, endSeq: number, retransmitted: boolean, now: number];

/** A DeliverySink that records its calls (endSeq as the raw sequence number). */
class Sink implements DeliverySink {
  calls: Call[] = [];
  delivered(xmitTs: number, endSeq: number, retransmitted: boolean, now: number): void {
    this.calls.push([xmitTs, endSeq, retransmitted, now]);
  }
}

/** Sends `n` segments of `mss` bytes from ISS, segment k at time k + 1. */
function sendSegs(n: number, mss = 1000): RetransmitQueue {
  const q = new RetransmitQueue();
  for (let k = 0; k < n; k++) q.onSend(S(k * mss), S((k + 1) * mss), false, k + 1);
  return q;
}

describe('RetransmitQueue: sending', () => {
  it('appends one record per new segment, contiguous across the wrap', () => {
    const q = sendSegs(4);
    expect(q.count).toBe(4);
    expect(recs(q)).toEqual([
      [0, 1000, 0, 1],
      [1000, 2000, 0, 2],
      [2000, 3000, 0, 3],
      [3000, 4000, 0, 4],
    ]);
    // the raw sequence numbers wrap inside the third record
    expect(q.start(0)).toBe(0xfffff800);
    expect(q.start(2)).toBe(0xffffffd0);
    expect(q.end(2)).toBe(0x3b8);
    expect(q.start(3)).toBe(0x3b8);
    expect(q.sackedBytes + q.sackedSegs + q.lostBytes).toBe(0);
    expect(q.pipe(4000)).toBe(4000);
  });

  it('a zero-length send adds nothing; the first send fixes where the queue starts', () => {
    const q = new RetransmitQueue();
    q.onSend(S(0), S(0), false, 1);
    expect(q.count).toBe(0);
    q.onSend(S(0), S(10), false, 2);
    q.onSend(S(10), S(10), false, 3);
    expect(recs(q)).toEqual([[0, 10, 0, 2]]);
  });

  it('a retransmission inside one record splits it in three; only the middle is RETRANS with the new time', () => {
    const q = sendSegs(3);
    q.onSend(S(1200), S(1500), false, 50);
    expect(recs(q)).toEqual([
      [0, 1000, 0, 1],
      [1000, 1200, 0, 2],
      [1200, 1500, RETRANS, 50],
      [1500, 2000, 0, 2],
      [2000, 3000, 0, 3],
    ]);
  });

  it('a retransmission across records splits both edges, and clears LOST on what it resends', () => {
    const q = sendSegs(3);
    q.markLost(1);
    q.markLost(2);
    expect(q.lostBytes).toBe(2000);
    q.onSend(S(500), S(2500), false, 60); // across the wrap point too
    expect(recs(q)).toEqual([
      [0, 500, 0, 1],
      [500, 1000, RETRANS, 60],
      [1000, 2000, RETRANS, 60],
      [2000, 2500, RETRANS, 60],
      [2500, 3000, LOST, 3],
    ]);
    expect(q.lostBytes).toBe(500);
    expect(q.nextLost(0)).toBe(4);
  });

  it('a retransmission that runs past SND.MAX resends the old part and appends the new', () => {
    const q = sendSegs(2);
    q.onSend(S(1500), S(2500), false, 70);
    expect(recs(q)).toEqual([
      [0, 1000, 0, 1],
      [1000, 1500, 0, 2],
      [1500, 2000, RETRANS, 70],
      [2000, 2500, 0, 70],
    ]);
  });

  it('a retransmission reaching below SND.UNA touches only what is outstanding', () => {
    const q = sendSegs(2);
    q.ackTo(S(1000), null, 10);
    q.onSend(S(500), S(1500), false, 20);
    expect(recs(q)).toEqual([
      [1000, 1500, RETRANS, 20],
      [1500, 2000, 0, 2],
    ]);
    q.onSend(S(0), S(900), false, 30); // all of it already acknowledged
    expect(recs(q)).toEqual([
      [1000, 1500, RETRANS, 20],
      [1500, 2000, 0, 2],
    ]);
  });

  it('resending a SACKed record keeps its SACK mark and counts', () => {
    const q = sendSegs(2);
    q.sack(S(1000), S(2000), null, 5);
    q.onSend(S(0), S(2000), false, 40); // e.g. going back after a timeout without skipping
    expect(recs(q)).toEqual([
      [0, 1000, RETRANS, 40],
      [1000, 2000, SACKED | RETRANS, 40],
    ]);
    expect(q.sackedBytes).toBe(1000);
    expect(q.sackedSegs).toBe(1);
  });
});

describe('RetransmitQueue: cumulative ACKs', () => {
  it('drops delivered records and reports those not already SACKed, with their transmit time, end and RETRANS', () => {
    const q = sendSegs(4);
    q.onSend(S(2000), S(3000), false, 50); // the third segment resent
    q.sack(S(1000), S(2000), null, 60); // the second SACKed earlier: not reported again
    const sink = new Sink();
    q.ackTo(S(3000), sink, 100);
    expect(sink.calls).toEqual([
      [1, S(1000), false, 100],
      [50, S(3000), true, 100],
    ]);
    expect(sink.calls[1]![1]).toBe(0x3b8); // a wrapped, unsigned sequence number
    expect(recs(q)).toEqual([[3000, 4000, 0, 4]]);
    expect(q.sackedBytes).toBe(0);
    expect(q.sackedSegs).toBe(0);
  });

  it('trims a partially acknowledged head record without reporting it, keeping the counters right', () => {
    const q = sendSegs(2);
    q.markLost(0);
    const sink = new Sink();
    q.ackTo(S(400), sink, 10);
    expect(sink.calls).toEqual([]);
    expect(recs(q)).toEqual([
      [400, 1000, LOST, 1],
      [1000, 2000, 0, 2],
    ]);
    expect(q.lostBytes).toBe(600);
    q.sack(S(1000), S(2000), null, 11);
    q.ackTo(S(1500), sink, 12); // inside a SACKed record
    expect(sink.calls).toEqual([[1, S(1000), false, 12]]);
    expect(recs(q)).toEqual([[1500, 2000, SACKED, 2]]);
    expect(q.sackedBytes).toBe(500);
    expect(q.sackedSegs).toBe(1);
    expect(q.lostBytes).toBe(0);
  });

  it('an ACK at or below SND.UNA changes nothing; one at SND.MAX empties the queue', () => {
    const q = sendSegs(3);
    q.ackTo(S(1000), null, 5);
    const before = recs(q);
    const sink = new Sink();
    q.ackTo(S(1000), sink, 6);
    q.ackTo(S(0), sink, 6);
    expect(recs(q)).toEqual(before);
    expect(sink.calls).toEqual([]);
    q.ackTo(S(3000), sink, 7);
    expect(q.count).toBe(0);
    expect(sink.calls.map((c) => c[1])).toEqual([S(2000), S(3000)]);
    // sending resumes from SND.MAX
    q.onSend(S(3000), S(3100), false, 8);
    expect(recs(q)).toEqual([[3000, 3100, 0, 8]]);
  });

  it('clear() forgets every record and counter', () => {
    const q = sendSegs(3);
    q.sack(S(1000), S(2000), null, 5);
    q.markLost(0);
    q.clear();
    expect(q.count).toBe(0);
    expect([q.sackedBytes, q.sackedSegs, q.lostBytes]).toEqual([0, 0, 0]);
    expect(q.sackedRanges()).toEqual([]);
  });
});

describe('RetransmitQueue: SACK blocks', () => {
  it('marks the records inside a block, splits at its edges, returns and reports only what is new', () => {
    const q = sendSegs(4);
    const sink = new Sink();
    expect(q.sack(S(1500), S(3000), sink, 100)).toBe(1500);
    expect(recs(q)).toEqual([
      [0, 1000, 0, 1],
      [1000, 1500, 0, 2],
      [1500, 2000, SACKED, 2],
      [2000, 3000, SACKED, 3],
      [3000, 4000, 0, 4],
    ]);
    expect(sink.calls).toEqual([
      [2, S(2000), false, 100],
      [3, S(3000), false, 100],
    ]);
    expect(q.sackedBytes).toBe(1500);
    expect(q.sackedSegs).toBe(2);
    expect(q.sackedRanges()).toEqual([[S(1500), S(3000)]]);

    // the same block again, widened: only [1000, 1500) is new
    sink.calls = [];
    expect(q.sack(S(1000), S(3000), sink, 110)).toBe(500);
    expect(sink.calls).toEqual([[2, S(1500), false, 110]]);
    expect(q.sack(S(1000), S(3000), sink, 120)).toBe(0);
    expect(sink.calls).toHaveLength(1);
    expect(q.sackedBytes).toBe(2000);
    expect(q.sackedSegs).toBe(3);
    expect(q.pipe(4000)).toBe(2000);
  });

  it('reports a SACKed retransmission as retransmitted', () => {
    const q = sendSegs(2);
    q.onSend(S(1000), S(2000), false, 30);
    const sink = new Sink();
    q.sack(S(1000), S(2000), sink, 90);
    expect(sink.calls).toEqual([[30, S(2000), true, 90]]);
  });

  it('a SACK clears the lost mark (the segment arrived after all)', () => {
    const q = sendSegs(3);
    q.markLost(1);
    expect(q.lostBytes).toBe(1000);
    expect(q.sack(S(1000), S(2000), null, 10)).toBe(1000);
    expect(q.flags(1)).toBe(SACKED);
    expect(q.lostBytes).toBe(0);
    expect(q.nextLost(0)).toBe(-1);
  });

  it('ignores a D-SACK below SND.UNA (RFC 2883); a block straddling SND.UNA counts only its outstanding part', () => {
    const q = sendSegs(3);
    q.ackTo(S(1000), null, 5);
    const before = recs(q);
    const sink = new Sink();
    expect(q.sack(S(0), S(1000), sink, 6)).toBe(0);
    expect(q.sack(S(200), S(700), sink, 6)).toBe(0);
    expect(recs(q)).toEqual(before);
    expect(sink.calls).toEqual([]);
    expect(q.sack(S(500), S(1500), sink, 7)).toBe(500);
    expect(recs(q).slice(0, 2)).toEqual([
      [1000, 1500, SACKED, 2],
      [1500, 2000, 0, 2],
    ]);
  });

  it('ignores blocks that reach past SND.MAX, empty or inverted blocks, and any block on an empty queue', () => {
    const q = sendSegs(4);
    const before = recs(q);
    expect(q.sack(S(3500), S(4500), null, 9)).toBe(0);
    expect(q.sack(S(4000), S(5000), null, 9)).toBe(0);
    expect(q.sack(S(2000), S(2000), null, 9)).toBe(0);
    expect(q.sack(S(3000), S(2000), null, 9)).toBe(0);
    expect(recs(q)).toEqual(before);
    expect(q.sackedBytes).toBe(0);
    expect(new RetransmitQueue().sack(S(0), S(10), null, 1)).toBe(0);
  });

  it('sackedRanges merges adjacent SACKed records, across the wrap', () => {
    const q = sendSegs(6);
    q.sack(S(1000), S(2000), null, 1);
    q.sack(S(2000), S(2600), null, 1);
    q.sack(S(4000), S(5000), null, 1);
    expect(q.sackedRanges()).toEqual([
      [S(1000), S(2600)],
      [S(4000), S(5000)],
    ]);
    expect(q.sackedRanges()[0]).toEqual([0xfffffbe8, 0x228]);
    expect(q.sackedSegs).toBe(3);
  });
});

describe('RetransmitQueue: lost marks, pipe, timeouts', () => {
  it('markLost counts lost bytes once, never on a SACKed record; nextLost finds them in order', () => {
    const q = sendSegs(5);
    q.sack(S(2000), S(3000), null, 10);
    q.markLost(0);
    q.markLost(0); // twice: counted once
    q.markLost(2); // SACKed: no effect
    q.markLost(3);
    expect(q.lostBytes).toBe(2000);
    expect(q.flags(2)).toBe(SACKED);
    expect(q.nextLost(0)).toBe(0);
    expect(q.nextLost(1)).toBe(3);
    expect(q.nextLost(4)).toBe(-1);
    // RFC 6675 pipe: in flight minus SACKed minus lost
    expect(q.pipe(5000)).toBe(5000 - 1000 - 2000);
    expect(q.pipe(2500)).toBe(0); // never negative
    // retransmitting a lost record puts it back in the pipe
    q.onSend(S(0), S(1000), false, 20);
    expect(q.lostBytes).toBe(1000);
    expect(q.nextLost(0)).toBe(3);
    expect(q.pipe(5000)).toBe(3000);
  });

  it('an RTO keeps SACK marks but clears lost marks', () => {
    const q = sendSegs(4);
    q.sack(S(2000), S(3000), null, 10);
    q.markLost(0);
    q.markLost(1);
    q.onTimeout();
    expect(recs(q).map((r) => r[2])).toEqual([0, 0, SACKED, 0]);
    expect(q.lostBytes).toBe(0);
    expect(q.sackedBytes).toBe(1000);
    expect(q.sackedSegs).toBe(1);
    expect(q.nextLost(0)).toBe(-1);
    expect(q.sackedRanges()).toEqual([[S(2000), S(3000)]]);
  });

  it('an RTO with the first record SACKED means the peer reneged (RFC 2018 §8): all SACK marks go', () => {
    const q = sendSegs(4);
    q.sack(S(0), S(1000), null, 10);
    q.sack(S(2000), S(3000), null, 10);
    q.markLost(1);
    q.onTimeout();
    expect(recs(q).map((r) => r[2])).toEqual([0, 0, 0, 0]);
    expect([q.sackedBytes, q.sackedSegs, q.lostBytes]).toEqual([0, 0, 0]);
    expect(q.sackedRanges()).toEqual([]);
    expect(q.skipSacked(S(0))).toBe(S(0));
    // the marks can be set again afterwards
    expect(q.sack(S(0), S(1000), null, 11)).toBe(1000);
    expect(q.sackedBytes).toBe(1000);
  });

  it('markAllLost (RFC 8985 §6.3): every record not SACKed is lost, RETRANS kept', () => {
    const q = sendSegs(4);
    q.sack(S(2000), S(3000), null, 10);
    q.onSend(S(1000), S(2000), false, 15); // a retransmission
    q.markAllLost();
    expect(recs(q).map((r) => r[2])).toEqual([LOST, LOST | RETRANS, SACKED, LOST]);
    expect([q.lostBytes, q.sackedBytes]).toEqual([3000, 1000]);
    expect(q.pipe(4000)).toBe(0);
    expect(q.nextLost(0)).toBe(0);
    expect(q.nextLost(2)).toBe(3);
  });

  it('markAllLost with the first record SACKed: the peer reneged, everything is lost', () => {
    const q = sendSegs(3);
    q.sack(S(0), S(1000), null, 10);
    q.markAllLost();
    expect(recs(q).map((r) => r[2])).toEqual([LOST, LOST, LOST]);
    expect([q.lostBytes, q.sackedBytes, q.sackedSegs]).toEqual([3000, 0, 0]);
  });

  it('onTimeout on an empty queue is harmless', () => {
    const q = new RetransmitQueue();
    q.onTimeout();
    expect(q.count).toBe(0);
  });
});

describe('RetransmitQueue: going back over SACKed data', () => {
  it('skipSacked jumps to the end of the SACKed run; roomBeforeSacked measures up to the next one', () => {
    const q = sendSegs(6);
    q.sack(S(1000), S(3000), null, 10); // two records, across the wrap
    q.sack(S(4000), S(5000), null, 10);
    expect(q.skipSacked(S(0))).toBe(S(0));
    expect(q.skipSacked(S(1000))).toBe(S(3000));
    expect(q.skipSacked(S(1500))).toBe(S(3000));
    expect(q.skipSacked(S(3000))).toBe(S(3000));
    expect(q.skipSacked(S(4000))).toBe(S(5000));
    expect(q.skipSacked(S(6000))).toBe(S(6000)); // SND.MAX: outside the queue
    expect(q.skipSacked(S(-10))).toBe(S(-10)); // below SND.UNA

    expect(q.roomBeforeSacked(S(0))).toBe(1000);
    expect(q.roomBeforeSacked(S(200))).toBe(800);
    expect(q.roomBeforeSacked(S(3000))).toBe(1000);
    expect(q.roomBeforeSacked(S(3999))).toBe(1);
    expect(q.roomBeforeSacked(S(4000))).toBe(0); // at the start of a SACKed record: none
    expect(q.roomBeforeSacked(S(5000))).toBe(Infinity); // no SACKed record after it
    expect(q.roomBeforeSacked(S(6000))).toBe(Infinity); // outside the queue
  });
});

describe('RetransmitQueue: FIN', () => {
  it('FIN_SEG stays on the record holding the last sequence number through splits and trims', () => {
    const q = sendSegs(1);
    q.onSend(S(1000), S(1501), true, 2); // 500 bytes and the FIN
    expect(q.flags(1)).toBe(FIN_SEG);
    q.sack(S(1000), S(1200), null, 3);
    q.onSend(S(1300), S(1400), false, 4);
    expect(recs(q)).toEqual([
      [0, 1000, 0, 1],
      [1000, 1200, SACKED, 2],
      [1200, 1300, 0, 2],
      [1300, 1400, RETRANS, 4],
      [1400, 1501, FIN_SEG, 2],
    ]);
    q.ackTo(S(1450), null, 5);
    expect(recs(q)).toEqual([[1450, 1501, FIN_SEG, 2]]);
    q.onSend(S(1450), S(1501), true, 6); // the FIN resent
    expect(recs(q)).toEqual([[1450, 1501, FIN_SEG | RETRANS, 6]]);
  });
});

describe('RetransmitQueue: many records', () => {
  it('grows past its initial capacity and reuses space freed by ACKs, keeping every record', () => {
    const q = new RetransmitQueue();
    let max = 0;
    let una = 0;
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 40; k++, max += 10) q.onSend(S(max), S(max + 10), false, round * 100 + k);
      una += 300;
      q.ackTo(S(una), null, round * 100 + 50);
      const r = recs(q);
      expect(r.length).toBe((max - una) / 10);
      r.forEach(([s, e, f, ts], i) => {
        expect([s, e, f]).toEqual([una + 10 * i, una + 10 * i + 10, 0]);
        expect(ts).toBe(Math.floor(s / 400) * 100 + ((s % 400) / 10));
      });
    }
  });
});

// --- Model-based: the queue against a byte-by-byte scoreboard -------------------------

interface Byte {
  sacked: boolean;
  lost: boolean;
  /** Ever retransmitted. */
  ever: boolean;
  ts: number;
}

type Op =
  | { op: 'send'; len: number }
  | { op: 'rexmit'; at: number; len: number }
  | { op: 'sack'; l: number; w: number }
  | { op: 'ack'; at: number }
  | { op: 'lost'; i: number }
  | { op: 'timeout' }
  | { op: 'probe'; at: number; from: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('send' as const), len: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rexmit' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sack' as const), l: fc.nat(), w: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ack' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('lost' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'timeout' }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('probe' as const), at: fc.nat(), from: fc.nat() }) },
);

/** ISS: mostly just below the wrap point, sometimes anywhere. */
const issArb = fc.oneof(
  fc.constant(0xfffff000),
  fc.integer({ min: -6000, max: 50 }).map((d) => (0x1_0000_0000 + d) >>> 0),
  fc.integer({ min: 0, max: 0xffffffff }),
);

/**
 * Cheap assertions for the model run: expect() is only reached on a mismatch (thousands of
 * expect() calls per run would dominate the time), and then fails with both values.
 */
function eq(what: string, got: unknown, want: unknown): void {
  if (got !== want) expect({ what, got }).toEqual({ what, got: want });
}
function same(what: string, got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) expect({ what, got }).toEqual({ what, got: want });
}

/** How often the interesting paths were taken, so the property is known to reach them. */
interface Seen {
  reneged: number;
  newlySacked: number;
  lostMarked: number;
  maxRecords: number;
  wrapped: number;
}

function runModel(iss: number, ops: Op[], make = (): RetransmitQueue => new RetransmitQueue(), seen?: Seen): void {
  const q = make();
  const sq = (rel: number): number => seqAdd(iss, rel);
  const bytes: Byte[] = [];
  let una = 0;
  let max = 0;
  let now = 0;

  const sink = new Sink();
  const check = (): void => {
    const r = recs(q, iss);
    eq('empty iff SND.UNA = SND.MAX', r.length === 0, una === max);
    if (r.length > 0) {
      eq('first start', r[0]![0], una);
      eq('last end', r[r.length - 1]![1], max);
    }
    let sacked = 0;
    let lost = 0;
    let sackedSegs = 0;
    let prevEnd = una;
    for (const [s, e, f, ts] of r) {
      eq('contiguous and sorted', s, prevEnd);
      eq('non-empty', e > s, true);
      prevEnd = e;
      const b0 = bytes[s]!;
      // a record is uniform: the model never needs a boundary inside one
      for (let k = s + 1; k < e; k++) {
        const b = bytes[k]!;
        if (b.sacked !== b0.sacked || b.lost !== b0.lost || b.ever !== b0.ever || b.ts !== b0.ts) same(`byte ${k} of record [${s}, ${e})`, b, b0);
      }
      // SACKED and LOST exactly as the model; RETRANS only on bytes that were resent; never FIN
      const want = (b0.sacked ? SACKED : b0.lost ? LOST : 0) | (f & RETRANS && b0.ever ? RETRANS : 0);
      eq(`flags of record [${s}, ${e})`, f, want);
      eq(`xmitTs of record [${s}, ${e})`, ts, b0.ts);
      if (b0.sacked) {
        sacked += e - s;
        sackedSegs++;
      } else if (b0.lost) lost += e - s;
    }
    eq('sackedBytes', q.sackedBytes, sacked);
    eq('sackedSegs', q.sackedSegs, sackedSegs);
    eq('lostBytes', q.lostBytes, lost);
    eq('pipe', q.pipe(max - una), max - una - sacked - lost);
    // the merged SACKed ranges are the maximal runs of SACKed bytes
    const runs: [number, number][] = [];
    for (let k = una; k < max; k++) {
      if (!bytes[k]!.sacked) continue;
      const last = runs[runs.length - 1];
      if (last && last[1] === sq(k)) last[1] = sq(k + 1);
      else runs.push([sq(k), sq(k + 1)]);
    }
    same('sackedRanges', q.sackedRanges(), runs);
  };

  for (const o of ops) {
    now++;
    const flight = max - una;
    const pre = recs(q, iss);
    sink.calls = [];
    switch (o.op) {
      case 'send':
        q.onSend(sq(max), sq(max + o.len), false, now);
        for (let k = max; k < max + o.len; k++) bytes[k] = { sacked: false, lost: false, ever: false, ts: now };
        max += o.len;
        break;
      case 'rexmit': {
        const s = una + (o.at % (flight + 1));
        const e = s + o.len;
        q.onSend(sq(s), sq(e), false, now);
        for (let k = s; k < Math.min(e, max); k++) {
          const b = bytes[k]!;
          b.ever = true;
          b.lost = false;
          b.ts = now;
        }
        for (let k = max; k < e; k++) bytes[k] = { sacked: false, lost: false, ever: false, ts: now };
        max = Math.max(max, e);
        break;
      }
      case 'sack': {
        // a block from a little below SND.UNA to a little past SND.MAX
        const l = una - 30 + (o.l % (flight + 60));
        const r = l + (o.w % (flight + 40)) - 5;
        const valid = flight > 0 && r > una && r > l && r <= max;
        const lc = Math.max(l, una);
        let newly = 0;
        if (valid) {
          for (let k = lc; k < r; k++) {
            const b = bytes[k]!;
            if (b.sacked) continue;
            b.sacked = true;
            b.lost = false;
            newly++;
          }
        }
        eq('newly SACKed bytes', q.sack(sq(l), sq(r), sink, now), newly);
        if (seen && newly > 0) seen.newlySacked++;
        const want: Call[] = valid
          ? pre.filter(([s, e, f]) => (f & SACKED) === 0 && e > lc && s < r).map(([, e, f, ts]) => [ts, sq(Math.min(e, r)), (f & RETRANS) !== 0, now])
          : [];
        same('SACK deliveries', sink.calls, want);
        break;
      }
      case 'ack': {
        const a = una - 5 + (o.at % (flight + 6)); // sometimes at or below SND.UNA
        q.ackTo(sq(a), sink, now);
        const want: Call[] = a > una ? pre.filter(([, e, f]) => e <= a && (f & SACKED) === 0).map(([, e, f, ts]) => [ts, sq(e), (f & RETRANS) !== 0, now]) : [];
        same('ACK deliveries', sink.calls, want);
        una = Math.max(una, a);
        break;
      }
      case 'lost': {
        if (pre.length === 0) break;
        const i = o.i % pre.length;
        const [s, e] = pre[i]!;
        q.markLost(i);
        if (!bytes[s]!.sacked) {
          for (let k = s; k < e; k++) bytes[k]!.lost = true;
          if (seen) seen.lostMarked++;
        }
        break;
      }
      case 'timeout': {
        const reneged = flight > 0 && bytes[una]!.sacked;
        if (seen && reneged) seen.reneged++;
        q.onTimeout();
        for (let k = una; k < max; k++) {
          bytes[k]!.lost = false;
          if (reneged) bytes[k]!.sacked = false;
        }
        break;
      }
      case 'probe': {
        // what the sender does when going back: skip SACKed data, then send up to the next SACKed byte
        let s = una + (o.at % (flight + 1));
        const skipped = q.skipSacked(sq(s));
        while (s < max && bytes[s]!.sacked) s++;
        eq('skipSacked', skipped, sq(s));
        let j = s;
        while (j < max && !bytes[j]!.sacked) j++;
        eq('roomBeforeSacked', q.roomBeforeSacked(skipped), s < max && j < max ? j - s : Infinity);
        const from = o.from % (pre.length + 1);
        const want = pre.findIndex(([st], i) => i >= from && bytes[st]!.lost && !bytes[st]!.sacked);
        eq('nextLost', q.nextLost(from), want);
        break;
      }
    }
    check();
    if (seen) {
      seen.maxRecords = Math.max(seen.maxRecords, q.count);
      if (q.count > 0 && q.start(0) > q.end(q.count - 1)) seen.wrapped++; // the records straddle 2^32
    }
  }
}

describe('RetransmitQueue: model-based', () => {
  it('matches a byte-by-byte scoreboard under random sends, resends, SACKs, ACKs, losses and timeouts', () => {
    const seen: Seen = { reneged: 0, newlySacked: 0, lostMarked: 0, maxRecords: 0, wrapped: 0 };
    fc.assert(fc.property(issArb, fc.array(opArb, { maxLength: 80, size: 'max' }), (iss, ops) => runModel(iss, ops, undefined, seen)), { numRuns: 300 });
    // the runs reached reneging, SACKs, lost marks, growth past the initial 16 records, and the wrap
    expect(seen.reneged).toBeGreaterThan(0);
    expect(seen.newlySacked).toBeGreaterThan(0);
    expect(seen.lostMarked).toBeGreaterThan(0);
    expect(seen.maxRecords).toBeGreaterThan(16);
    expect(seen.wrapped).toBeGreaterThan(0);
  });

  it('the property can fail: a queue that forgets lost marks is caught', () => {
    class ForgetsLost extends RetransmitQueue {
      override markLost(): void {}
    }
    expect(() => fc.assert(fc.property(issArb, fc.array(opArb, { maxLength: 80, size: 'max' }), (iss, ops) => runModel(iss, ops, () => new ForgetsLost())), { numRuns: 300 })).toThrow();
  });
});

/** RETRANS means "retransmitted at least once" (RACK's step 2 and 3 depend on it). */
describe('RetransmitQueue: RETRANS is sticky', () => {
  it('RETRANS ("retransmitted at least once") survives a later lost mark', () => {
    const q = sendSegs(2);
    q.onSend(S(0), S(1000), false, 50); // resent
    q.markLost(0); // and the copy judged lost too
    // src: markLost does (f | LOST) & ~RETRANS, so a delivery of this record is then
    // reported to RACK as never retransmitted (see rack.test.ts, RFC 8985 §6.2 steps 2-3)
    expect(q.flags(0)).toBe(LOST | RETRANS);
    const sink = new Sink();
    q.ackTo(S(1000), sink, 200);
    expect(sink.calls).toEqual([[50, S(1000), true, 200]]);
  });
});
