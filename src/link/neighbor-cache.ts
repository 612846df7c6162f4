/**
 * IPv6 neighbour discovery's neighbour cache (RFC 4861 §7.3): the state machine of one
 * entry per neighbour, its timers on the stack's clock, and the bounded queue of packets
 * waiting for an address to resolve. It sends nothing itself: `NdpLink` (the Ethernet
 * interface) solicits, transmits and counts through the callbacks it is given.
 *
 * States (§7.3.2) and what moves them (Appendix C):
 *
 *   (none) --send--> INCOMPLETE --NA(S)--> REACHABLE --ReachableTime--> STALE
 *   INCOMPLETE --NA(!S)--> STALE; INCOMPLETE --3 solicitations unanswered--> (deleted, queue dropped)
 *   STALE --send--> DELAY --DELAY_FIRST_PROBE_TIME--> PROBE --NA(S)--> REACHABLE
 *   PROBE --3 unicast probes unanswered--> (deleted)
 *   any --NS/unsolicited NA with a different link-layer address (override)--> STALE
 */
import { ipv6Equal, ipv6Hash, formatIpv6, type Ipv6Addr } from '../ip/ipv6-address.js';
import { formatMac } from './ethernet-frame.js';

export type NeighborState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE';

/** RFC 4861 §10 protocol constants (Linux's defaults are the same). */
export interface NeighborLimits {
  /** MAX_MULTICAST_SOLICIT: solicitations for an INCOMPLETE entry. */
  maxMulticastSolicit: number;
  /** MAX_UNICAST_SOLICIT: probes for an entry in PROBE. */
  maxUnicastSolicit: number;
  /** RetransTimer, ms. */
  retransMs: number;
  /** BaseReachableTime, ms (each entry's ReachableTime is 0.5-1.5 times it, §6.3.2). */
  reachableMs: number;
  /** DELAY_FIRST_PROBE_TIME, ms. */
  delayFirstProbeMs: number;
  /** Bytes of packets held per unresolved neighbour (Linux's unres_qlen_bytes). */
  maxQueueBytes: number;
  /** Entries; when full, a STALE one (else the oldest) is forgotten. */
  maxEntries: number;
}

export const DEFAULT_NEIGHBOR_LIMITS: NeighborLimits = {
  maxMulticastSolicit: 3,
  maxUnicastSolicit: 3,
  retransMs: 1000,
  reachableMs: 30_000,
  delayFirstProbeMs: 5000,
  maxQueueBytes: 212_992,
  maxEntries: 512,
};

export interface Neighbor {
  readonly addr: Ipv6Addr;
  state: NeighborState;
  mac: Uint8Array | null;
  isRouter: boolean;
  /** When the state's timer fires (-1: none, as in STALE). */
  timerAt: number;
  /** Solicitations or probes sent in this state. */
  probes: number;
  /** INCOMPLETE only: packets with LINK_HEADROOM bytes in front, waiting for the address (and each one's `tso`). */
  queue: Uint8Array[];
  queueTso: number[];
  queueBytes: number;
  /** For eviction: when the entry was made. */
  readonly createdAt: number;
}

/** What the cache asks of the link. */
export interface NeighborIo {
  /**
   * Send a neighbour solicitation for `target`: multicast to its solicited-node group when
   * `mac` is null, else unicast to `mac`. The entry's first queued packet (if any) is the
   * one that prompted it.
   */
  solicit(target: Ipv6Addr, mac: Uint8Array | null, now: number): void;
  /** Transmit a queued packet (LINK_HEADROOM bytes of room in front) to `mac`; `tso` as it was queued. */
  transmit(pkt: Uint8Array, mac: Uint8Array, tso: number): void;
  /** `n` packets were dropped (queue full, or resolution failed). */
  dropped(reason: 'queueFull' | 'unresolved', n: number): void;
  /** A random number in [0, 1) for ReachableTime. */
  random(): number;
}

export class NeighborCache {
  readonly limits: NeighborLimits;
  private readonly byHash = new Map<number, Neighbor[]>();
  private count = 0;

  constructor(
    private readonly io: NeighborIo,
    limits: Partial<NeighborLimits> = {},
  ) {
    this.limits = { ...DEFAULT_NEIGHBOR_LIMITS, ...limits };
  }

  get size(): number {
    return this.count;
  }

  get(addr: Ipv6Addr): Neighbor | undefined {
    const list = this.byHash.get(ipv6Hash(addr));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) if (ipv6Equal(list[i]!.addr, addr)) return list[i];
    return undefined;
  }

  private create(addr: Ipv6Addr, state: NeighborState, now: number): Neighbor {
    if (this.count >= this.limits.maxEntries) this.evict();
    const n: Neighbor = { addr, state, mac: null, isRouter: false, timerAt: -1, probes: 0, queue: [], queueTso: [], queueBytes: 0, createdAt: now };
    const h = ipv6Hash(addr);
    let list = this.byHash.get(h);
    if (!list) this.byHash.set(h, (list = []));
    list.push(n);
    this.count++;
    return n;
  }

  delete(n: Neighbor): void {
    const h = ipv6Hash(n.addr);
    const list = this.byHash.get(h);
    const i = list ? list.indexOf(n) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.byHash.delete(h);
    this.count--;
    if (n.queue.length > 0) this.io.dropped('unresolved', n.queue.length);
    n.queue = [];
    n.queueTso = [];
    n.queueBytes = 0;
  }

  /**
   * Makes room: the oldest STALE entry (nothing depends on it), else the oldest INCOMPLETE
   * one, else the oldest of any. So a flood of packets towards unresolvable neighbours
   * (spoofed sources draw answers that need resolving) replaces only its own kind and
   * never a neighbour in use, such as the router (RFC 6583 §6).
   */
  private evict(): void {
    let stale: Neighbor | undefined;
    let incomplete: Neighbor | undefined;
    let any: Neighbor | undefined;
    for (const list of this.byHash.values()) {
      for (let i = 0; i < list.length; i++) {
        const n = list[i]!;
        if (n.state === 'STALE' && (stale === undefined || n.createdAt < stale.createdAt)) stale = n;
        else if (n.state === 'INCOMPLETE' && (incomplete === undefined || n.createdAt < incomplete.createdAt)) incomplete = n;
        if (any === undefined || n.createdAt < any.createdAt) any = n;
      }
    }
    const victim = stale ?? incomplete ?? any;
    if (victim) this.delete(victim);
  }

  private reachableTime(): number {
    // §6.3.2: uniformly between MIN_RANDOM_FACTOR (0.5) and MAX_RANDOM_FACTOR (1.5) times BaseReachableTime.
    return Math.round(this.limits.reachableMs * (0.5 + this.io.random()));
  }

  /**
   * The link-layer address to send a packet for `addr` to now, or null when the packet
   * must wait: then `pkt` (already copied, with headroom) is queued and resolution runs
   * (§7.2.2, §7.3.3 "sending a packet").
   */
  resolve(addr: Ipv6Addr, now: number): Uint8Array | null {
    const n = this.get(addr);
    if (n === undefined || n.state === 'INCOMPLETE') return null;
    if (n.state === 'STALE') {
      // §7.3.3: the first packet to a STALE neighbour starts the DELAY timer.
      n.state = 'DELAY';
      n.timerAt = now + this.limits.delayFirstProbeMs;
    }
    return n.mac;
  }

  /** Queues a packet for an unresolved neighbour, soliciting it if this starts resolution. */
  enqueue(addr: Ipv6Addr, pkt: Uint8Array, now: number, tso = 0): void {
    let n = this.get(addr);
    let fresh = false;
    if (n === undefined) {
      n = this.create(addr, 'INCOMPLETE', now);
      n.probes = 1;
      n.timerAt = now + this.limits.retransMs;
      fresh = true;
    }
    if (n.state !== 'INCOMPLETE') return; // resolved meanwhile: the caller sends directly
    if (n.queueBytes + pkt.length > this.limits.maxQueueBytes) {
      this.io.dropped('queueFull', 1);
    } else {
      n.queue.push(pkt);
      n.queueTso.push(tso);
      n.queueBytes += pkt.length;
    }
    // (After queueing: the solicitation takes its source from the packet that prompted it.)
    if (fresh) this.io.solicit(addr, null, now);
  }

  /**
   * A neighbour advertisement for `target` (§7.2.5): `mac` its target link-layer address
   * option (or null), `solicited`, `override`, `router` its flags.
   */
  advertisement(target: Ipv6Addr, mac: Uint8Array | null, solicited: boolean, override: boolean, router: boolean, now: number): void {
    const n = this.get(target);
    if (n === undefined) return; // §7.2.5: no entry, the advertisement is silently discarded
    if (n.state === 'INCOMPLETE') {
      if (mac === null) return;
      n.mac = mac.slice(0, 6);
      n.isRouter = router;
      if (solicited) this.toReachable(n, now);
      else this.toStale(n);
      this.flush(n);
      return;
    }
    const differs = mac !== null && n.mac !== null && !sameMac(mac, n.mac);
    if (!override && differs) {
      // §7.2.5: a different address without override does not replace ours; a REACHABLE
      // entry becomes STALE (we may be talking to the wrong one).
      if (n.state === 'REACHABLE') this.toStale(n);
      return;
    }
    if (mac !== null) n.mac = mac.slice(0, 6);
    n.isRouter = router;
    if (solicited) this.toReachable(n, now);
    else if (differs) this.toStale(n);
  }

  /**
   * A solicitation from `src` carrying its source link-layer address (§7.2.3): it creates
   * or refreshes the entry as STALE (its reachability is not confirmed by this).
   */
  solicitation(src: Ipv6Addr, mac: Uint8Array, now: number): void {
    let n = this.get(src);
    if (n === undefined) {
      n = this.create(src, 'STALE', now);
      n.mac = mac.slice(0, 6);
      return;
    }
    if (n.state === 'INCOMPLETE') {
      n.mac = mac.slice(0, 6);
      this.toStale(n);
      this.flush(n);
      return;
    }
    if (n.mac === null || !sameMac(n.mac, mac)) {
      n.mac = mac.slice(0, 6);
      this.toStale(n);
    }
  }

  private toReachable(n: Neighbor, now: number): void {
    n.state = 'REACHABLE';
    n.probes = 0;
    n.timerAt = now + this.reachableTime();
  }

  private toStale(n: Neighbor): void {
    n.state = 'STALE';
    n.probes = 0;
    n.timerAt = -1;
  }

  private flush(n: Neighbor): void {
    const q = n.queue;
    const tsos = n.queueTso;
    n.queue = [];
    n.queueTso = [];
    n.queueBytes = 0;
    for (let i = 0; i < q.length; i++) this.io.transmit(q[i]!, n.mac!, tsos[i]!);
  }

  /** Runs the entries' timers due at `now`. */
  poll(now: number): void {
    if (this.count === 0) return;
    // (No copies of the table: a deleted entry is spliced out of its list, which is walked
    // backwards; a Map may lose entries while it is iterated.)
    for (const list of this.byHash.values()) {
      for (let i = list.length - 1; i >= 0; i--) {
        const n = list[i];
        if (n === undefined || n.timerAt < 0 || n.timerAt > now) continue;
        switch (n.state) {
          case 'INCOMPLETE':
            if (n.probes >= this.limits.maxMulticastSolicit) {
              this.delete(n); // §7.2.2: resolution failed; the queued packets are dropped
            } else {
              n.probes++;
              n.timerAt = now + this.limits.retransMs;
              this.io.solicit(n.addr, null, now);
            }
            break;
          case 'REACHABLE':
            this.toStale(n); // §7.3.3: ReachableTime passed without confirmation
            break;
          case 'DELAY':
            // §7.3.3: no upper-layer confirmation came: probe the cached address.
            n.state = 'PROBE';
            n.probes = 1;
            n.timerAt = now + this.limits.retransMs;
            this.io.solicit(n.addr, n.mac, now);
            break;
          case 'PROBE':
            if (n.probes >= this.limits.maxUnicastSolicit) {
              this.delete(n);
            } else {
              n.probes++;
              n.timerAt = now + this.limits.retransMs;
              this.io.solicit(n.addr, n.mac, now);
            }
            break;
          default:
            n.timerAt = -1;
        }
      }
    }
  }

  pollAt(): number | undefined {
    let t: number | undefined;
    for (const list of this.byHash.values()) for (const n of list) if (n.timerAt >= 0 && (t === undefined || n.timerAt < t)) t = n.timerAt;
    return t;
  }

  /** The cache as printable rows (`ip -6 neigh`; for `tcpip stat` and tests). */
  entries(): { ip: string; mac: string | null; state: NeighborState; router: boolean; queued: number }[] {
    const out: { ip: string; mac: string | null; state: NeighborState; router: boolean; queued: number }[] = [];
    for (const list of this.byHash.values()) {
      for (const n of list) out.push({ ip: formatIpv6(n.addr), mac: n.mac ? formatMac(n.mac) : null, state: n.state, router: n.isRouter, queued: n.queue.length });
    }
    return out;
  }
}

export function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}
