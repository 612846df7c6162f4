/**
 * Routing for a host with one interface: our address and prefix, an optional gateway,
 * the choice of next hop and of source address.
 */
import { BROADCAST, formatIpv4, netmask, sameSubnet, type Ipv4Addr } from './address.js';
import { LOOPBACK_ADDR, isLoopback } from './loopback.js';

export interface RouteConfig {
  addr: Ipv4Addr;
  prefixLen: number;
  /** Next hop for destinations off the subnet; none means they are unreachable. */
  gateway?: Ipv4Addr;
}

export class Route {
  readonly addr: Ipv4Addr;
  readonly prefixLen: number;
  readonly gateway: Ipv4Addr | undefined;
  readonly subnetBroadcast: Ipv4Addr;

  constructor(c: RouteConfig) {
    if (c.prefixLen < 0 || c.prefixLen > 32) throw new RangeError(`prefix length ${c.prefixLen} is not 0..32`);
    if (c.gateway !== undefined && !sameSubnet(c.addr, c.gateway, c.prefixLen)) {
      throw new RangeError(`gateway ${formatIpv4(c.gateway)} is not on ${formatIpv4(c.addr)}/${c.prefixLen}`);
    }
    this.addr = c.addr;
    this.prefixLen = c.prefixLen;
    this.gateway = c.gateway;
    this.subnetBroadcast = c.prefixLen >= 31 ? BROADCAST : ((c.addr | ~netmask(c.prefixLen)) >>> 0);
  }

  /** Is `dst` an address this host accepts datagrams for? */
  accepts(dst: Ipv4Addr): boolean {
    return dst === this.addr || dst === BROADCAST || dst === this.subnetBroadcast;
  }

  /**
   * Is `a` this host's own, reached through the loopback interface: 127.0.0.0/8 (RFC 1122
   * §3.2.1.3) or our address (Linux's local route)?
   */
  isLocal(a: Ipv4Addr): boolean {
    return a === this.addr || isLoopback(a);
  }

  /** The source address for a datagram to `dst`: 127.0.0.1 towards 127.0.0.0/8, else ours. */
  sourceFor(dst: Ipv4Addr): Ipv4Addr {
    return isLoopback(dst) ? LOOPBACK_ADDR : this.addr;
  }

  isBroadcast(a: Ipv4Addr): boolean {
    return a === BROADCAST || a === this.subnetBroadcast;
  }

  onLink(dst: Ipv4Addr): boolean {
    return dst === BROADCAST || sameSubnet(dst, this.addr, this.prefixLen);
  }

  /** The next hop for `dst`, or -1 when there is no route (ourselves, through the loopback interface, included). */
  nextHop(dst: Ipv4Addr): number {
    if (this.onLink(dst) || this.isLocal(dst)) return dst;
    return this.gateway ?? -1;
  }
}
