/**
 * IPv6 neighbour discovery on Ethernet (RFC 4861): neighbour solicitations and
 * advertisements with their validity checks (§7.1, RFC 6980: no fragmented NDP), the
 * neighbour cache (neighbor-cache.ts), the multicast mapping to 33:33:… (RFC 2464 §7),
 * and duplicate address detection before an address is used (RFC 4862 §5.4).
 *
 * Router solicitations and advertisements and redirects are counted and ignored: the
 * stack's addresses and default router are configured, not learnt (no SLAAC). The
 * stack joins no group a multicast router must hear of, so it sends no MLD reports.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import { writeU16, writeU32 } from '../core/bytes.js';
import {
  NA_OVERRIDE, NA_ROUTER, NA_SOLICITED, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, NDOPT_SOURCE_LL, NDOPT_TARGET_LL,
  icmpv6Checksum, type Icmpv6Packet,
} from '../ip/icmpv6-packet.js';
import type { NdpHandler } from '../ip/icmpv6.js';
import {
  ALL_NODES, UNSPECIFIED6, formatIpv6, readIpv6, ipv6Equal, isMulticast6, isUnspecified6, solicitedNode, writeIpv6, type Ipv6Addr,
} from '../ip/ipv6-address.js';
import type { Ipv6Layer } from '../ip/ipv6-layer.js';
import { NH_ICMPV6 } from '../ip/ipv6-packet.js';
import { LINK_HEADROOM as TX_HEADROOM, TX_PAYLOAD_OFFSET } from '../ip/ipv4-layer.js';
import { NeighborCache, type NeighborLimits } from './neighbor-cache.js';

const log = logger('ndp');

/** RFC 4861 §7.1: NDP messages travel with hop limit 255, proof they never crossed a router. */
const NDP_HOP_LIMIT = 255;
const NS_NA_LEN = 24;
const LL_OPTION_LEN = 8;

/** Neighbour discovery's limits (neighbor-cache.ts) and duplicate address detection, on an Ethernet (TAP) device. */
export interface NdpOptions extends Partial<NeighborLimits> {
  /** DupAddrDetectTransmits (RFC 4862 §5.1): solicitations per address before it is used; 0 skips DAD. Default 1. */
  dadTransmits?: number;
}

const KEYS = [
  'nsIn', 'naIn', 'nsOut', 'naOut', 'invalid', 'fragmented', 'routerMessagesIgnored', 'dadDuplicates', 'queueFull', 'unresolved',
] as const;
export type NdpCounter = (typeof KEYS)[number];

/** The 33:33:xx:xx:xx:xx Ethernet address of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMac(a: Ipv6Addr, out: Uint8Array = new Uint8Array(6)): Uint8Array {
  out[0] = 0x33;
  out[1] = 0x33;
  out[2] = a.w3 >>> 24;
  out[3] = (a.w3 >>> 16) & 255;
  out[4] = (a.w3 >>> 8) & 255;
  out[5] = a.w3 & 255;
  return out;
}

export class NeighborDiscovery implements NdpHandler {
  readonly counters: CounterSet<NdpCounter> = counters(KEYS);
  readonly cache: NeighborCache;
  private readonly dadTransmits: number;
  /** Tentative addresses: solicitations left to send and when the next goes (or DAD ends). */
  private readonly dad: { addr: Ipv6Addr; left: number; at: number }[] = [];
  private started = false;

  constructor(
    private readonly ip6: Ipv6Layer,
    private readonly mac: Uint8Array,
    /** Sends a packet (with LINK_HEADROOM in front) to an Ethernet address (`tso`: an offloaded TCP segment). */
    private readonly transmit: (pkt: Uint8Array, off: number, len: number, mac: Uint8Array, tso: number) => void,
    random: () => number,
    opts: NdpOptions = {},
  ) {
    this.dadTransmits = opts.dadTransmits ?? 1;
    this.cache = new NeighborCache({
      solicit: (target, mac, now) => this.sendSolicitation(target, mac, now),
      transmit: (pkt, mac, tso) => this.transmit(pkt, TX_HEADROOM, pkt.length - TX_HEADROOM, mac, tso),
      dropped: (reason, n) => void (this.counters[reason === 'queueFull' ? 'queueFull' : 'unresolved'] += n),
      random,
    }, opts);
    ip6.icmp.ndpHandler = this;
    // RFC 4862 §5.4: every address is tentative until DAD has run on it.
    if (this.dadTransmits > 0) {
      for (const a of ip6.route.addresses()) {
        ip6.route.setTentative(a, true);
        this.dad.push({ addr: a, left: this.dadTransmits, at: 0 });
      }
    }
  }

  /** Is `a` an address still under duplicate address detection? */
  get tentative(): number {
    return this.dad.length;
  }

  // ------------------------------------------------------------------ receiving

  ndp(src: Ipv6Addr, dst: Ipv6Addr, hopLimit: number, p: Icmpv6Packet, now: number): void {
    const type = p.type();
    if (type !== ND_NEIGHBOR_SOLICIT && type !== ND_NEIGHBOR_ADVERT) {
      this.counters.routerMessagesIgnored++;
      return;
    }
    // RFC 6980 §5: NDP in a fragmented packet is discarded.
    if (this.ip6.curReassembled) {
      this.counters.fragmented++;
      return;
    }
    // RFC 4861 §7.1.1 / §7.1.2: hop limit 255, code 0, at least 24 bytes, a unicast target,
    // well-formed options.
    if (hopLimit !== NDP_HOP_LIMIT || p.code() !== 0 || !p.checkNdpLen()) {
      this.counters.invalid++;
      return;
    }
    const target = p.target();
    if (isMulticast6(target)) {
      this.counters.invalid++;
      return;
    }
    if (type === ND_NEIGHBOR_SOLICIT) this.solicitation(src, dst, target, p, now);
    else this.advertisement(dst, target, p, now);
  }

  private solicitation(src: Ipv6Addr, dst: Ipv6Addr, target: Ipv6Addr, p: Icmpv6Packet, now: number): void {
    const sll = p.linkLayerOption(NDOPT_SOURCE_LL);
    if (sll === -2) {
      this.counters.invalid++;
      return;
    }
    const fromUnspecified = isUnspecified6(src);
    // §7.1.1: from the unspecified address only to a solicited-node group, without a source link-layer option.
    if (fromUnspecified && (!isMulticast6(dst) || sll >= 0 || !ipv6Equal(dst, solicitedNode(target)))) {
      this.counters.invalid++;
      return;
    }
    this.counters.nsIn++;
    const route = this.ip6.route;
    if (!route.isAssigned(target)) return; // not ours: nothing to say
    if (route.isTentative(target)) {
      // RFC 4862 §5.4.3: another node's DAD for the same address means it is a duplicate;
      // a solicitation from a real address is for someone else's resolution: ignored.
      if (fromUnspecified) this.duplicate(target);
      return;
    }
    if (!fromUnspecified && sll >= 0) this.cache.solicitation(src, p.b.subarray(sll, sll + 6), now);
    // §7.2.4: solicited and override, to the source; to all nodes (not solicited) when DAD asked.
    if (fromUnspecified) this.sendAdvertisement(ALL_NODES, target, NA_OVERRIDE, now);
    else this.sendAdvertisement(src, target, NA_SOLICITED | NA_OVERRIDE, now);
  }

  private advertisement(dst: Ipv6Addr, target: Ipv6Addr, p: Icmpv6Packet, now: number): void {
    const flags = p.word();
    const solicited = (flags & NA_SOLICITED) !== 0;
    // §7.1.2: an advertisement to a multicast address is never solicited.
    if (isMulticast6(dst) && solicited) {
      this.counters.invalid++;
      return;
    }
    const tll = p.linkLayerOption(NDOPT_TARGET_LL);
    if (tll === -2) {
      this.counters.invalid++;
      return;
    }
    this.counters.naIn++;
    const route = this.ip6.route;
    if (route.isAssigned(target)) {
      // RFC 4862 §5.4.4: someone else uses our (tentative) address.
      if (route.isTentative(target)) this.duplicate(target);
      else log(`neighbour advertisement claims our ${formatIpv6(target)}`);
      return;
    }
    this.cache.advertisement(target, tll >= 0 ? p.b.subarray(tll, tll + 6) : null, solicited, (flags & NA_OVERRIDE) !== 0, (flags & NA_ROUTER) !== 0, now);
  }

  private duplicate(a: Ipv6Addr): void {
    this.counters.dadDuplicates++;
    const i = this.dad.findIndex((d) => ipv6Equal(d.addr, a));
    if (i >= 0) this.dad.splice(i, 1);
    // The address stays tentative: it is never used (RFC 4862 §5.4.5). Counted
    // (ndp.dadDuplicates, in `tcpip stat`) and logged.
    log(`duplicate address detection: ${formatIpv6(a)} is already in use on the link; the stack will not use it`);
  }

  // ------------------------------------------------------------------ sending

  /** Sends an IPv6 packet to its next hop (on-link): multicast mapped, unicast resolved (§7.2.2). */
  send(b: Uint8Array, off: number, len: number, nextHop: Ipv6Addr, now: number, tso = 0): void {
    if (isMulticast6(nextHop)) {
      this.transmit(b, off, len, multicastMac(nextHop, this.mcastMac), 0);
      return;
    }
    const mac = this.cache.resolve(nextHop, now);
    if (mac !== null) {
      this.transmit(b, off, len, mac, tso);
      return;
    }
    this.cache.enqueue(nextHop, b.slice(off - TX_HEADROOM, off + len), now, tso);
  }

  private readonly mcastMac = new Uint8Array(6);

  private sendSolicitation(target: Ipv6Addr, mac: Uint8Array | null, now: number, fromUnspecified = false): void {
    const tx = this.ip6.tx;
    const o = TX_PAYLOAD_OFFSET;
    tx[o] = ND_NEIGHBOR_SOLICIT;
    tx[o + 1] = 0;
    writeU16(tx, o + 2, 0);
    writeU32(tx, o + 4, 0);
    writeIpv6(tx, o + 8, target);
    let len = NS_NA_LEN;
    // §4.3: the source link-layer option, except from the unspecified address (DAD).
    if (!fromUnspecified) len += this.writeLlOption(tx, o + len, NDOPT_SOURCE_LL);
    const dst = mac === null ? solicitedNode(target) : target;
    // §7.2.2: from the source of the packet that prompted the solicitation when it is ours,
    // else an address of ours (the one we would use towards the target).
    const prompt = fromUnspecified ? undefined : this.cache.get(target)?.queue[0];
    const promptSrc = prompt !== undefined ? readIpv6(prompt, TX_HEADROOM + 8) : null;
    const src = fromUnspecified ? UNSPECIFIED6 : promptSrc !== null && this.ip6.route.isOurs(promptSrc) ? promptSrc : this.ip6.route.sourceFor(target);
    if (src === null) return;
    writeU16(tx, o + 2, icmpv6Checksum(tx, o, len, src, dst));
    this.counters.nsOut++;
    if (log.enabled) log(`> who-has ${formatIpv6(target)}${mac ? ' (unicast probe)' : ''}`);
    this.ip6.send(NH_ICMPV6, src, dst, len, now, { ttl: NDP_HOP_LIMIT, rawSource: true });
  }

  private sendAdvertisement(dst: Ipv6Addr, target: Ipv6Addr, flags: number, now: number): void {
    const tx = this.ip6.tx;
    const o = TX_PAYLOAD_OFFSET;
    tx[o] = ND_NEIGHBOR_ADVERT;
    tx[o + 1] = 0;
    writeU16(tx, o + 2, 0);
    writeU32(tx, o + 4, flags >>> 0);
    writeIpv6(tx, o + 8, target);
    const len = NS_NA_LEN + this.writeLlOption(tx, o + NS_NA_LEN, NDOPT_TARGET_LL);
    // §7.2.4: from the target address itself.
    writeU16(tx, o + 2, icmpv6Checksum(tx, o, len, target, dst));
    this.counters.naOut++;
    this.ip6.send(NH_ICMPV6, target, dst, len, now, { ttl: NDP_HOP_LIMIT, rawSource: true });
  }

  private writeLlOption(b: Uint8Array, o: number, type: number): number {
    b[o] = type;
    b[o + 1] = 1; // in units of 8 bytes
    b.set(this.mac, o + 2);
    return LL_OPTION_LEN;
  }

  // ------------------------------------------------------------------ timers

  poll(now: number): void {
    if (!this.started) {
      this.started = true;
      for (const d of this.dad) d.at = now;
    }
    for (let i = 0; i < this.dad.length; ) {
      const d = this.dad[i]!;
      if (d.at > now) {
        i++;
        continue;
      }
      if (d.left === 0) {
        // RFC 4862 §5.4: RetransTimer after the last solicitation without a duplicate: the address is ours.
        this.ip6.route.setTentative(d.addr, false);
        this.dad.splice(i, 1);
        log(`${formatIpv6(d.addr)} passed duplicate address detection`);
        continue;
      }
      d.left--;
      d.at = now + this.cache.limits.retransMs;
      this.sendSolicitation(d.addr, null, now, true);
      i++;
    }
    this.cache.poll(now);
  }

  pollAt(): number | undefined {
    let t = this.cache.pollAt();
    if (!this.started && this.dad.length > 0) return 0;
    for (const d of this.dad) if (t === undefined || d.at < t) t = d.at;
    return t;
  }
}
