/**
 * Path MTU for IPv6 destinations (RFC 8201): a Packet Too Big lowers the MTU towards one
 * destination, never below 1280 (§4: "a node MUST NOT reduce its estimate of the Path MTU
 * below the IPv6 minimum link MTU"), and the estimate ages back to the link's MTU after
 * `ageMs` (§5.3: "the recommended setting for this timer is ten minutes"). The table is
 * bounded: when full, the entry that expires first is forgotten (its destination then
 * learns again from the next Packet Too Big).
 */
import { ipv6Equal, ipv6Hash, type Ipv6Addr } from './ipv6-address.js';
import { IPV6_MIN_MTU } from './ipv6-packet.js';

interface Entry {
  dst: Ipv6Addr;
  mtu: number;
  expiresAt: number;
}

export class PathMtuCache {
  private readonly byHash = new Map<number, Entry[]>();
  private count = 0;

  constructor(
    private readonly linkMtu: () => number,
    readonly ageMs = 10 * 60_000,
    readonly maxEntries = 1024,
  ) {}

  get size(): number {
    return this.count;
  }

  private find(dst: Ipv6Addr): Entry | undefined {
    const list = this.byHash.get(ipv6Hash(dst));
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) if (ipv6Equal(list[i]!.dst, dst)) return list[i];
    return undefined;
  }

  /** The MTU towards `dst` now. */
  get(dst: Ipv6Addr, now: number): number {
    const link = this.linkMtu();
    if (this.count === 0) return link;
    const e = this.find(dst);
    if (e === undefined) return link;
    if (e.expiresAt <= now) {
      this.remove(e);
      return link;
    }
    return Math.min(e.mtu, link);
  }

  /** A Packet Too Big said `mtu` towards `dst`. Returns the new estimate if it went down, else 0. */
  lower(dst: Ipv6Addr, mtu: number, now: number): number {
    const m = Math.max(IPV6_MIN_MTU, Math.floor(mtu));
    if (m >= this.get(dst, now)) return 0;
    let e = this.find(dst);
    if (e === undefined) {
      if (this.count >= this.maxEntries) this.evict();
      e = { dst, mtu: m, expiresAt: now + this.ageMs };
      const h = ipv6Hash(dst);
      let list = this.byHash.get(h);
      if (!list) this.byHash.set(h, (list = []));
      list.push(e);
      this.count++;
    } else {
      e.mtu = m;
      e.expiresAt = now + this.ageMs;
    }
    return m;
  }

  private evict(): void {
    let first: Entry | undefined;
    for (const list of this.byHash.values()) for (const e of list) if (first === undefined || e.expiresAt < first.expiresAt) first = e;
    if (first) this.remove(first);
  }

  private remove(e: Entry): void {
    const h = ipv6Hash(e.dst);
    const list = this.byHash.get(h);
    const i = list ? list.indexOf(e) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.byHash.delete(h);
    this.count--;
  }
}
