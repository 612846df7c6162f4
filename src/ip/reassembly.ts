/**
 * IPv4 fragment reassembly (RFC 791 §3.2, with the bookkeeping idea of RFC 815).
 *
 * Each datagram in progress is keyed by (source, destination, protocol, identification)
 * and keeps its fragments as sorted, copied ranges. Rules:
 *  - a fragment identical in offset and length to one already held is a duplicate and
 *    is ignored (retransmitted or duplicated by the network);
 *  - any other overlap discards the whole datagram: overlapping fragments are how
 *    filters are evaded (RFC 1858, RFC 3128), and Linux has dropped them since 4.19;
 *  - a datagram that would exceed 65,535 bytes, or whose fragments disagree about its
 *    length, is discarded;
 *  - a datagram not complete within `timeoutMs` (RFC 791 suggests 15 s; RFC 1122
 *    §3.3.2 recommends 60-120 s; Linux uses 30 s, as do we) is discarded;
 *  - at most `maxDatagrams` are in progress and at most `maxBytes` of memory are held,
 *    counting what each fragment really costs (its payload plus FRAGMENT_OVERHEAD of
 *    bookkeeping, as Linux counts an skb's truesize, so a flood of 8-byte fragments cannot
 *    hold 30 times the cap); above either cap the oldest datagram in progress is evicted;
 *  - a datagram of more than `maxFragments` fragments is discarded (BSD's
 *    maxfragsperpacket): nothing legitimate needs more than a 64 KiB datagram cut for a
 *    576-byte path (120), and the cap keeps inserting a fragment a bounded scan.
 * Every discard is counted by reason; none throws.
 */
import type { Ipv4Addr } from './address.js';
import { IPV4_HEADER_LEN, Ipv4Packet } from './ipv4-packet.js';

export interface ReassemblyLimits {
  timeoutMs: number;
  maxDatagrams: number;
  /** Memory held, fragments' payload and bookkeeping together. */
  maxBytes: number;
  /** Fragments per datagram. */
  maxFragments: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  timeoutMs: 30_000, // Linux net.ipv4.ipfrag_time
  maxDatagrams: 64,
  maxBytes: 4 * 1024 * 1024, // Linux net.ipv4.ipfrag_high_thresh
  maxFragments: 128, // > 120, a 65,535-byte datagram over a 576-byte path
};

/** What holding one fragment costs beyond its payload: the record, the copy's object, its slot. */
export const FRAGMENT_OVERHEAD = 160;
/** What one datagram in progress costs before any fragment: its record, key and header copy. */
export const DATAGRAM_OVERHEAD = 256;

const MAX_PAYLOAD = 65535 - IPV4_HEADER_LEN;

interface Fragment {
  off: number;
  data: Uint8Array;
}

interface Pending {
  key: string;
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  ident: number;
  frags: Fragment[];
  /** Payload length once the last fragment (MF=0) has arrived, else -1. */
  total: number;
  bytes: number;
  expiresAt: number;
  /** The first fragment's IP header and 8 payload bytes, for an ICMP Time Exceeded. */
  head: Uint8Array | null;
}

export type ReassemblyDrop =
  | 'fragDuplicate' | 'fragOverlap' | 'fragOversized' | 'fragInconsistent' | 'fragMalformed' | 'fragEvicted' | 'fragTimeout'
  | 'fragTooMany';

export interface Reassembled {
  src: Ipv4Addr;
  dst: Ipv4Addr;
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
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;
  /** Memory held: payload plus bookkeeping (what `maxBytes` caps). */
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
    return this.pending.size;
  }

  /** Payload bytes held. */
  get bytesHeld(): number {
    return this.bytes;
  }

  /** Fragments held, over every datagram in progress. */
  get fragmentsHeld(): number {
    let n = 0;
    for (const d of this.pending.values()) n += d.frags.length;
    return n;
  }

  /** Memory held, payload and bookkeeping (at most `limits.maxBytes`). */
  get memoryHeld(): number {
    return this.memory;
  }

  /**
   * Adds one fragment (a checked packet view). Returns the whole datagram's payload when
   * this fragment completes it, else null.
   */
  add(p: Ipv4Packet, now: number): Reassembled | null {
    const off = p.fragOffset();
    const len = p.payloadLen();
    const more = p.moreFrags();
    // RFC 791: every fragment but the last carries a multiple of 8 bytes.
    if ((more && (len === 0 || (len & 7) !== 0))) {
      this.onDrop('fragMalformed');
      return null;
    }
    const key = `${p.src()}/${p.dst()}/${p.protocol()}/${p.ident()}`;
    let d = this.pending.get(key);
    if (off + len > MAX_PAYLOAD) {
      this.onDrop('fragOversized');
      if (d) this.remove(d);
      return null;
    }
    if (!d) {
      d = {
        key, src: p.src(), dst: p.dst(), protocol: p.protocol(), ident: p.ident(),
        frags: [], total: -1, bytes: 0, expiresAt: now + this.limits.timeoutMs, head: null,
      };
      while (this.pending.size >= this.limits.maxDatagrams) this.evictOldest();
      this.pending.set(key, d);
      this.memory += DATAGRAM_OVERHEAD;
    }
    const end = off + len;
    if (!more) {
      if ((d.total !== -1 && d.total !== end) || d.frags.some((f) => f.off + f.data.length > end)) {
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
    // Find the insertion point (from the end: fragments mostly arrive in order); reject overlaps.
    let i = d.frags.length;
    while (i > 0 && d.frags[i - 1]!.off >= off) i--;
    const prev = i > 0 ? d.frags[i - 1]! : null;
    const next = i < d.frags.length ? d.frags[i]! : null;
    if (next && next.off === off && next.data.length === len) {
      this.onDrop('fragDuplicate');
      return null;
    }
    if ((prev && prev.off + prev.data.length > off) || (next && end > next.off)) {
      this.onDrop('fragOverlap');
      this.remove(d);
      return null;
    }
    if (d.frags.length >= this.limits.maxFragments) {
      this.onDrop('fragTooMany');
      this.remove(d);
      return null;
    }
    // Make room under the memory cap (never by evicting this datagram itself).
    const cost = len + FRAGMENT_OVERHEAD;
    while (this.memory + cost > this.limits.maxBytes && this.pending.size > 1) this.evictOldest(d);
    if (this.memory + cost > this.limits.maxBytes) {
      this.onDrop('fragEvicted');
      this.remove(d);
      return null;
    }
    const data = p.b.slice(p.payloadOffset(), p.payloadOffset() + len);
    d.frags.splice(i, 0, { off, data });
    d.bytes += len;
    this.bytes += len;
    this.memory += cost;
    if (off === 0 && d.head === null) {
      d.head = p.b.slice(p.o, p.o + Math.min(p.n, p.headerLen() + 8));
    }
    if (d.total === -1) return null;
    // Complete when the sorted fragments tile [0, total) without a gap.
    let at = 0;
    for (const f of d.frags) {
      if (f.off !== at) return null;
      at += f.data.length;
    }
    if (at !== d.total) return null;
    const head = d.head!; // fragment zero is present: the datagram is complete
    this.remove(d);
    // The whole datagram, header included, must fit in 65,535 bytes: a first fragment with
    // IP options leaves less room for the payload than MAX_PAYLOAD assumes.
    if ((head[0]! & 15) * 4 + d.total > 65535) {
      this.onDrop('fragOversized');
      return null;
    }
    const payload = new Uint8Array(d.total);
    for (const f of d.frags) payload.set(f.data, f.off);
    const hv = new Ipv4Packet().reset(head.slice(0, (head[0]! & 15) * 4), 0, (head[0]! & 15) * 4);
    hv.setFragment(hv.dontFrag(), false, 0);
    hv.setTotalLen(hv.headerLen() + d.total);
    hv.fillChecksum();
    return { src: d.src, dst: d.dst, protocol: d.protocol, ident: d.ident, payload, header: hv.b };
  }

  /** The earliest time a datagram in progress expires, or undefined. */
  pollAt(): number | undefined {
    let t: number | undefined;
    for (const d of this.pending.values()) if (t === undefined || d.expiresAt < t) t = d.expiresAt;
    return t;
  }

  /**
   * Discards datagrams whose time is up. `onExpired` gets the first fragment's header
   * (for ICMP Time Exceeded, RFC 792) where fragment zero had arrived.
   */
  poll(now: number, onExpired?: (head: Uint8Array) => void): void {
    for (const d of this.pending.values()) {
      if (d.expiresAt <= now) {
        this.onDrop('fragTimeout');
        this.remove(d);
        if (d.head && onExpired) onExpired(d.head);
      }
    }
  }

  private evictOldest(keep?: Pending): void {
    for (const d of this.pending.values()) {
      if (d === keep) continue;
      this.onDrop('fragEvicted');
      this.remove(d);
      return;
    }
  }

  private remove(d: Pending): void {
    if (this.pending.get(d.key) === d) {
      this.pending.delete(d.key);
      this.bytes -= d.bytes;
      this.memory -= d.bytes + d.frags.length * FRAGMENT_OVERHEAD + DATAGRAM_OVERHEAD;
    }
  }
}
