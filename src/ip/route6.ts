/**
 * IPv6 addressing and routing for a host with one interface: a global (or unique local)
 * address with its on-link prefix, a link-local address (on Ethernet), an optional
 * default router, and the choice of next hop and source address.
 *
 * An address is "tentative" while duplicate address detection runs (RFC 4862 §5.4): the
 * host answers nothing for it and sends nothing from it, but listens on its
 * solicited-node group to hear a duplicate.
 */
import {
  ALL_NODES, LOOPBACK6, formatIpv6, ipv6Equal, isLinkLocal6, isLinkScopeMulticast, isLoopback6, isMulticast6,
  samePrefix6, solicitedNode, type Ipv6Addr,
} from './ipv6-address.js';

export interface Route6Config {
  /** The global or unique-local address. */
  addr?: Ipv6Addr;
  /** Its on-link prefix length (RFC 4861 §2.1); 64 by default. */
  prefixLen?: number;
  /** The link-local address (fe80::/64), on Ethernet. */
  linkLocal?: Ipv6Addr;
  /** The default router; none means off-link destinations are unreachable. */
  gateway?: Ipv6Addr;
}

export class Route6 {
  readonly addr: Ipv6Addr | null;
  readonly prefixLen: number;
  readonly linkLocal: Ipv6Addr | null;
  readonly gateway: Ipv6Addr | null;
  /** Our addresses' solicited-node groups, which we listen on (RFC 4861 §7.2.1). */
  readonly groups: Ipv6Addr[];
  /** Addresses undergoing duplicate address detection. */
  private readonly tentative: Ipv6Addr[] = [];

  constructor(c: Route6Config) {
    const prefixLen = c.prefixLen ?? 64;
    if (!Number.isInteger(prefixLen) || prefixLen < 1 || prefixLen > 128) throw new RangeError(`IPv6 prefix length ${prefixLen} is not 1..128`);
    for (const [what, a] of [['address', c.addr], ['link-local address', c.linkLocal]] as const) {
      if (a !== undefined && (isMulticast6(a) || isLoopback6(a) || (a.w0 | a.w1 | a.w2 | a.w3) === 0)) {
        throw new RangeError(`${formatIpv6(a)} cannot be this host's ${what} (it is not a unicast address)`);
      }
    }
    if (c.linkLocal !== undefined && !isLinkLocal6(c.linkLocal)) throw new RangeError(`${formatIpv6(c.linkLocal)} is not a link-local address (fe80::/10)`);
    if (c.gateway !== undefined && c.addr === undefined && c.linkLocal === undefined) throw new RangeError('an IPv6 gateway needs an IPv6 address');
    if (c.gateway !== undefined && !isLinkLocal6(c.gateway) && (c.addr === undefined || !samePrefix6(c.gateway, c.addr, prefixLen))) {
      throw new RangeError(`IPv6 gateway ${formatIpv6(c.gateway)} is not on-link`);
    }
    this.addr = c.addr ?? null;
    this.prefixLen = prefixLen;
    this.linkLocal = c.linkLocal ?? null;
    this.gateway = c.gateway ?? null;
    this.groups = [];
    if (this.addr) this.groups.push(solicitedNode(this.addr));
    if (this.linkLocal) this.groups.push(solicitedNode(this.linkLocal));
  }

  /** Our unicast addresses (tentative ones included). */
  addresses(): Ipv6Addr[] {
    const out: Ipv6Addr[] = [];
    if (this.linkLocal) out.push(this.linkLocal);
    if (this.addr) out.push(this.addr);
    return out;
  }

  setTentative(a: Ipv6Addr, on: boolean): void {
    const i = this.tentative.findIndex((t) => ipv6Equal(t, a));
    if (on && i < 0) this.tentative.push(a);
    if (!on && i >= 0) this.tentative.splice(i, 1);
  }

  isTentative(a: Ipv6Addr): boolean {
    for (let i = 0; i < this.tentative.length; i++) if (ipv6Equal(this.tentative[i]!, a)) return true;
    return false;
  }

  /** One of our unicast addresses, tentative or not. */
  isAssigned(a: Ipv6Addr): boolean {
    return (this.addr !== null && ipv6Equal(a, this.addr)) || (this.linkLocal !== null && ipv6Equal(a, this.linkLocal));
  }

  /** One of our unicast addresses, usable (DAD done). */
  isOurs(a: Ipv6Addr): boolean {
    return this.isAssigned(a) && (this.tentative.length === 0 || !this.isTentative(a));
  }

  /** Is `dst` an address this host accepts packets for: ours, all-nodes, or one of our solicited-node groups? */
  accepts(dst: Ipv6Addr): boolean {
    if (this.isOurs(dst)) return true;
    if (!isMulticast6(dst)) return false;
    if (ipv6Equal(dst, ALL_NODES)) return true;
    for (let i = 0; i < this.groups.length; i++) if (ipv6Equal(dst, this.groups[i]!)) return true;
    return false;
  }

  /** Reached through the loopback interface: ::1 (RFC 4291 §2.5.3) or our own address. */
  isLocal(a: Ipv6Addr): boolean {
    return isLoopback6(a) || this.isOurs(a);
  }

  /**
   * The source for a packet to `dst` (RFC 6724 §5, reduced to what one interface has):
   * ::1 towards ::1, the link-local address towards link-local destinations and
   * link-scope multicast, else the global one; null when there is none usable.
   */
  sourceFor(dst: Ipv6Addr): Ipv6Addr | null {
    if (isLoopback6(dst)) return LOOPBACK6;
    const ll = this.linkLocal !== null && !this.isTentative(this.linkLocal) ? this.linkLocal : null;
    const g = this.addr !== null && !this.isTentative(this.addr) ? this.addr : null;
    if (isLinkLocal6(dst) || isLinkScopeMulticast(dst)) return ll ?? g;
    // RFC 6724 §5 rule 2: never a link-local source for a wider scope (a connection opened
    // during DAD would keep it, and the router drops it).
    return g;
  }

  onLink(dst: Ipv6Addr): boolean {
    return isLinkLocal6(dst) || isMulticast6(dst) || (this.addr !== null && samePrefix6(dst, this.addr, this.prefixLen));
  }

  /** The next hop for `dst`, or null when there is no route. */
  nextHop(dst: Ipv6Addr): Ipv6Addr | null {
    if (this.onLink(dst) || this.isLocal(dst)) return dst;
    return this.gateway;
  }

  describe(): string {
    const parts: string[] = [];
    if (this.addr) parts.push(`${formatIpv6(this.addr)}/${this.prefixLen}`);
    if (this.linkLocal) parts.push(`${formatIpv6(this.linkLocal)}/64`);
    return parts.join(' ');
  }
}
