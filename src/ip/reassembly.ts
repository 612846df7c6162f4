/**
 * Fragment reassembly for both IP families (RFC 791 §3.2 and RFC 8200 §4.5, with the
 * bookkeeping idea of RFC 815). `add` takes an IPv4 fragment; the IPv6 layer hands its
 * fragments to `addFragment` and rebuilds the header itself.
 *
 * Each datagram in progress is keyed by (source, destination, protocol, identification)
 * (IPv6: protocol 0, since only the first fragment names it)
 * and keeps its fragments' payload in one arena, in arrival order, with a sorted list of
 * the ranges held: memory is allocated per datagram (doubling), not per fragment, so a
 * flood of tiny fragments makes no garbage, and inserting one is a binary search. Rules:
 *  - a fragment identical in offset and length to one already held is a duplicate and
 *    is ignored (retransmitted or duplicated by the network);
 *  - any other overlap discards the whole datagram: overlapping fragments are how
 *    filters are evaded (RFC 1858, RFC 3128), and Linux has dropped them since 4.19
 *    (for IPv6 RFC 5722 requires it);
 *  - a datagram that would exceed 65,535 bytes, or whose fragments disagree about its
 *    length, is discarded;
 *  - a datagram not complete within `timeoutMs` (RFC 791 suggests 15 s; RFC 1122
 *    §3.3.2 recommends 60-120 s; Linux uses 30 s, as do we) is discarded;
 *  - at most `maxDatagrams` are in progress and at most `maxBytes` of memory are held,
 *    counting what is really allocated (arena, range list and DATAGRAM_OVERHEAD each, as
 *    Linux charges an skb's truesize rather than its payload); above either cap the
 *    oldest datagram in progress is evicted;
 *  - a datagram of more than `maxFragments` fragments is discarded (BSD's
 *    maxfragsperpacket): a 64 KiB datagram cut for a 576-byte path needs 120.
 * Every discard is counted by reason; none throws.
 */
import { ipEqual, ipHash, type IpAddr } from './ip-address.js';
import { IPV4_HEADER_LEN, Ipv4Packet } from './ipv4-packet.js';

export interface ReassemblyLimits {
  timeoutMs: number;
  maxDatagrams: number;
  /** Memory datagrams in progress may hold: their buffers and range lists plus DATAGRAM_OVERHEAD each. */
  maxBytes: number;
  /** Fragments one datagram may have (as BSD's net.inet.ip.maxfragsperpacket); 64 KiB over a 576-byte path is 119. */
  maxFragments: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  timeoutMs: 30_000, // Linux net.ipv4.ipfrag_time
  maxDatagrams: 64,
  maxBytes: 4 * 1024 * 1024, // Linux net.ipv4.ipfrag_high_thresh (Linux charges each fragment's skb truesize, not its payload)
  maxFragments: 128,
};

/** What a datagram in progress costs beyond its buffer and ranges: its record, key string, map entry, fragment-zero header. */
export const DATAGRAM_OVERHEAD = 512;
const INITIAL_BUFFER = 1024;
const INITIAL_RANGES = 8;

const MAX_PAYLOAD = 65535 - IPV4_HEADER_LEN;
const EMPTY = new Uint8Array(0);

interface Pending {
  key: number;
  src: IpAddr;
  dst: IpAddr;
  protocol: number;
  ident: number;
  /** The fragments' payload bytes in arrival order (an arena), grown by doubling: allocation is per datagram, not per fragment. */
  buf: Uint8Array;
  used: number;
  /** The fragments held: [start0, end0, at0, start1, end1, at1, ...] (at: where in `buf`), sorted by start and disjoint. */
  ranges: Int32Array;
  count: number;
  /** Payload length once the last fragment (MF=0) has arrived, else -1. */
  total: number;
  /** Payload bytes held: the ranges are disjoint, so the datagram is complete when this reaches `total`. */
  bytes: number;
  /** buf and ranges, in bytes, plus DATAGRAM_OVERHEAD: what counts against maxBytes. */
  cost: number;
  expiresAt: number;
  /** The first fragment's headers and 8 payload bytes (see FragmentIn.headLen), for an ICMP Time Exceeded and the IPv6 header chain. */
  head: Uint8Array | null;
}

/**
 * One fragment as an IP layer describes it (filled in place by the caller: no object per
 * fragment).
 */
export interface FragmentIn {
  src: IpAddr;
  dst: IpAddr;
  /** IPv4's protocol; 0 for IPv6, whose key is (source, destination, identification). */
  protocol: number;
  ident: number;
  /** Offset of this fragment's data in the datagram, in bytes. */
  offset: number;
  more: boolean;
  /** The fragment's data: `b[from, from + len)`. */
  b: Uint8Array;
  from: number;
  len: number;
  /** What of the fragment to keep when it is the first (offset 0): `b[headFrom, headFrom + headLen)`. */
  headFrom: number;
  headLen: number;
  /** The largest `offset + len` a datagram of this family may reach. */
  maxPayload: number;
}

export type ReassemblyDrop = 'fragDuplicate' | 'fragOverlap' | 'fragOversized' | 'fragInconsistent' | 'fragMalformed' | 'fragEvicted' | 'fragTimeout' | 'fragTooMany';

export interface Reassembled {
  src: IpAddr;
  dst: IpAddr;
  protocol: number;
  ident: number;
  payload: Uint8Array;
  /**
   * The datagram's own header: the first fragment's, with the fragment fields cleared
   * and the total length of the whole (what an ICMP error about it quotes).
   */
  header: Uint8Array;
}

export class Reassembler {
  /**
   * Datagrams in progress by a small-integer key (the identification and 15 bits of the
   * source: no string built per fragment); datagrams sharing a key are told apart by
   * comparing every field (see find).
   */
  private readonly pending = new Map<number, Pending[]>();
  private count = 0;
  private bytes = 0;
  private memory = 0;
  readonly limits: ReassemblyLimits;

  constructor(
    limits: Partial<ReassemblyLimits> = {},
    /** Called once per discarded fragment or datagram, with the reason. */
    private readonly onDrop: (reason: ReassemblyDrop) => void = () => {},
  ) {
    this.limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
  }

  get datagramsInProgress(): number {
    return this.count;
  }

  private find(key: number, src: IpAddr, dst: IpAddr, protocol: number, ident: number): Pending | undefined {
    const list = this.pending.get(key);
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      if (d.ident === ident && d.protocol === protocol && ipEqual(d.src, src) && ipEqual(d.dst, dst)) return d;
    }
    return undefined;
  }

  /** Every datagram in progress (in no particular order: evictOldest compares deadlines). */
  private *all(): IterableIterator<Pending> {
    for (const list of this.pending.values()) yield* list;
  }

  /** Payload bytes held. */
  get bytesHeld(): number {
    return this.bytes;
  }

  /** Memory held (buffers, range lists, per-datagram overhead): what maxBytes caps. */
  get memoryHeld(): number {
    return this.memory;
  }

  /** Fragments held, over every datagram in progress. */
  get fragmentsHeld(): number {
    let n = 0;
    for (const d of this.all()) n += d.count;
    return n;
  }

  private readonly in4: FragmentIn = {
    src: 0, dst: 0, protocol: 0, ident: 0, offset: 0, more: false, b: new Uint8Array(0), from: 0, len: 0, headFrom: 0, headLen: 0, maxPayload: MAX_PAYLOAD,
  };
  private readonly hv4 = new Ipv4Packet();

  /**
   * Adds one IPv4 fragment (a checked packet view). Returns the whole datagram's payload
   * when this fragment completes it, else null.
   */
  add(p: Ipv4Packet, now: number): Reassembled | null {
    const f = this.in4;
    f.src = p.src();
    f.dst = p.dst();
    f.protocol = p.protocol();
    f.ident = p.ident();
    f.offset = p.fragOffset();
    f.more = p.moreFrags();
    f.b = p.b;
    f.from = p.payloadOffset();
    f.len = p.payloadLen();
    f.headFrom = p.o;
    f.headLen = Math.min(p.n, p.headerLen() + 8);
    const done = this.addFragment(f, now);
    f.b = EMPTY;
    if (done === null) return null;
    const head = done.head;
    const hl = (head[0]! & 15) * 4;
    if (hl + done.payload.length > 65535) {
      this.onDrop('fragOversized');
      return null;
    }
    const hv = this.hv4.reset(head.slice(0, hl), 0, hl);
    hv.setFragment(hv.dontFrag(), false, 0);
    hv.setTotalLen(hv.headerLen() + done.payload.length);
    hv.fillChecksum();
    return { src: done.src, dst: done.dst, protocol: done.protocol, ident: done.ident, payload: done.payload, header: hv.b };
  }

  /**
   * Adds one fragment of either family. Returns the datagram's data and the first
   * fragment's kept bytes (`head`) when this fragment completes it, else null.
   */
  addFragment(f: FragmentIn, now: number): { src: IpAddr; dst: IpAddr; protocol: number; ident: number; payload: Uint8Array; head: Uint8Array } | null {
    const off = f.offset;
    const len = f.len;
    const more = f.more;
    // RFC 791, RFC 8200 §4.5: every fragment but the last carries a multiple of 8 bytes.
    if ((more && (len === 0 || (len & 7) !== 0))) {
      this.onDrop('fragMalformed');
      return null;
    }
    const src = f.src;
    const ident = f.ident;
    const key = ((ipHash(src) & 0x7fff) << 16) ^ ident;
    let d = this.find(key, src, f.dst, f.protocol, ident);
    if (off + len > f.maxPayload) {
      this.onDrop('fragOversized');
      if (d) this.remove(d);
      return null;
    }
    if (!d) {
      while (this.count >= this.limits.maxDatagrams) this.evictOldest();
      d = {
        key, src, dst: f.dst, protocol: f.protocol, ident, buf: new Uint8Array(0), used: 0, ranges: new Int32Array(0),
        count: 0, total: -1, bytes: 0, cost: DATAGRAM_OVERHEAD, expiresAt: now + this.limits.timeoutMs, head: null,
      };
      let list = this.pending.get(key);
      if (!list) this.pending.set(key, (list = []));
      list.push(d);
      this.count++;
      this.memory += d.cost;
    }
    const end = off + len;
    const r = d.ranges;
    const n = d.count;
    const maxEnd = n > 0 ? r[3 * n - 2]! : 0;
    if (!more) {
      if ((d.total !== -1 && d.total !== end) || maxEnd > end) {
        this.onDrop('fragInconsistent');
        this.remove(d);
        return null;
      }
      d.total = end;
    } else if (d.total !== -1 && end > d.total) {
      this.onDrop('fragInconsistent');
      this.remove(d);
      return null;
    }
    // Binary search: i is the first fragment starting at or after `off`.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[3 * mid]! < off) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    if (i < n && r[3 * i] === off && r[3 * i + 1] === end) {
      this.onDrop('fragDuplicate');
      return null;
    }
    if ((i > 0 && r[3 * i - 2]! > off) || (i < n && end > r[3 * i]!)) {
      this.onDrop('fragOverlap');
      this.remove(d);
      return null;
    }
    if (n >= this.limits.maxFragments) {
      this.onDrop('fragTooMany');
      this.remove(d);
      return null;
    }
    // Room: a bigger arena or range list, under the memory cap (evicting older datagrams, never this one).
    const need = d.used + len;
    const bufSize = need > d.buf.length ? grow(d.buf.length, INITIAL_BUFFER, need, f.maxPayload) : d.buf.length;
    const rangeSize = 3 * (n + 1) > r.length ? grow(r.length, 3 * INITIAL_RANGES, 3 * (n + 1), 3 * this.limits.maxFragments) : r.length;
    const cost = bufSize + 4 * rangeSize + DATAGRAM_OVERHEAD;
    const extra = cost - d.cost;
    while (this.memory + extra > this.limits.maxBytes && this.count > 1) this.evictOldest(d);
    if (this.memory + extra > this.limits.maxBytes) {
      this.onDrop('fragEvicted');
      this.remove(d);
      return null;
    }
    if (bufSize !== d.buf.length) {
      const b = new Uint8Array(bufSize);
      b.set(d.buf.subarray(0, d.used));
      d.buf = b;
    }
    if (rangeSize !== r.length) {
      const nr = new Int32Array(rangeSize);
      nr.set(r.subarray(0, 3 * n));
      d.ranges = nr;
    }
    const rr = d.ranges;
    rr.copyWithin(3 * i + 3, 3 * i, 3 * n);
    rr[3 * i] = off;
    rr[3 * i + 1] = end;
    rr[3 * i + 2] = d.used;
    d.count = n + 1;
    const from = f.from;
    if (len <= 64) {
      // Small fragments (a flood's) are copied by hand: no view object per fragment.
      for (let k = 0; k < len; k++) d.buf[d.used + k] = f.b[from + k]!;
    } else {
      d.buf.set(f.b.subarray(from, from + len), d.used);
    }
    d.used += len;
    d.bytes += len;
    this.bytes += len;
    this.memory += extra;
    d.cost = cost;
    if (off === 0 && d.head === null) d.head = f.b.slice(f.headFrom, f.headFrom + f.headLen);
    // The ranges are disjoint: complete when they add up to the total.
    if (d.total === -1 || d.bytes !== d.total) return null;
    const head = d.head!; // fragment zero is present: the datagram is complete
    this.remove(d);
    const payload = new Uint8Array(d.total);
    for (let k = 0; k < d.count; k++) {
      const at = d.ranges[3 * k + 2]!;
      payload.set(d.buf.subarray(at, at + d.ranges[3 * k + 1]! - d.ranges[3 * k]!), d.ranges[3 * k]!);
    }
    return { src: d.src, dst: d.dst, protocol: d.protocol, ident: d.ident, payload, head };
  }

  /** The earliest time a datagram in progress expires, or undefined. */
  pollAt(): number | undefined {
    let t: number | undefined;
    for (const list of this.pending.values()) for (const d of list) if (t === undefined || d.expiresAt < t) t = d.expiresAt;
    return t;
  }

  /**
   * Discards datagrams whose time is up. `onExpired` gets the first fragment's header
   * (for ICMP Time Exceeded, RFC 792) where fragment zero had arrived.
   */
  poll(now: number, onExpired?: (head: Uint8Array) => void): void {
    for (const d of [...this.all()]) {
      if (d.expiresAt <= now) {
        this.onDrop('fragTimeout');
        this.remove(d);
        if (d.head && onExpired) onExpired(d.head);
      }
    }
  }

  /** Evicts the datagram in progress that started first (but `keep`). */
  private evictOldest(keep?: Pending): void {
    let oldest: Pending | undefined;
    for (const d of this.all()) if (d !== keep && (oldest === undefined || d.expiresAt < oldest.expiresAt)) oldest = d;
    if (!oldest) return;
    this.onDrop('fragEvicted');
    this.remove(oldest);
  }

  private remove(d: Pending): void {
    const list = this.pending.get(d.key);
    const i = list ? list.indexOf(d) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.pending.delete(d.key);
    this.count--;
    this.bytes -= d.bytes;
    this.memory -= d.cost;
  }
}

/** Doubles `size` (from `initial`) until it holds `need`, at most `max`. */
function grow(size: number, initial: number, need: number, max: number): number {
  let n = Math.max(size * 2, initial);
  while (n < need) n *= 2;
  return Math.min(n, Math.max(max, need));
}
