/**
 * The interface on a TAP device: Ethernet II framing, ARP (RFC 826) with a cache for
 * IPv4, and IPv6 neighbour discovery (neighbor-discovery.ts) once the stack has IPv6.
 *
 * - Received frames addressed to us, to broadcast or (IPv6) to a 33:33:… multicast
 *   address are unwrapped; IPv4 and IPv6 go up, ARP is answered here, anything else is
 *   counted and dropped.
 * - ARP follows RFC 826's merge rule: a sender already in the cache is refreshed; a
 *   sender asking for our address is added; requests for our address are answered.
 * - Sending to a next hop with no cache entry queues the datagram (up to 208 KiB per
 *   address, Linux's unres_qlen_bytes, so a fragmented 64 KiB datagram fits whole)
 *   and broadcasts a request, retried every second up to 3 times (Linux's
 *   mcast_solicit=3, retrans_time=1 s); when that fails the queue is dropped and counted.
 * - Entries live 60 s (RFC 1122 §2.3.2.1 asks for a timeout; Linux keeps an entry
 *   reachable for 15-45 s and then re-validates it; we simply re-resolve).
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import { formatIpv4, type Ipv4Addr } from '../ip/address.js';
import type { IpAddr } from '../ip/ip-address.js';
import { LINK_HEADROOM } from '../ip/ipv4-layer.js';
import type { Ipv6Layer } from '../ip/ipv6-layer.js';
import { NeighborDiscovery, type NdpOptions } from './neighbor-discovery.js';
import type { Route } from '../ip/route.js';
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpPacket, emitArp } from './arp-packet.js';
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETH_HEADER_LEN, EthernetFrame, formatMac, writeEthernetHeader,
} from './ethernet-frame.js';
import type { LinkDevice } from './link-device.js';
import type { NetInterface } from './net-interface.js';

const log = logger('arp');

export interface ArpLimits {
  entryLifetimeMs: number;
  retryMs: number;
  maxTries: number;
  /** Bytes of datagrams held per unresolved address. */
  maxQueueBytesPerAddress: number;
  /** Cache entries (resolved and pending together). */
  maxEntries: number;
}

export const DEFAULT_ARP_LIMITS: ArpLimits = {
  entryLifetimeMs: 60_000,
  retryMs: 1_000,
  maxTries: 3,
  maxQueueBytesPerAddress: 212_992, // Linux net.ipv4.neigh.default.unres_qlen_bytes
  maxEntries: 512,
};

interface ArpEntry {
  mac: Uint8Array | null;
  expiresAt: number;
  /** Pending only: datagrams with LINK_HEADROOM bytes of room in front (and each one's `tso`), and the retry clock. */
  queue: Uint8Array[];
  queueTso: number[];
  queueBytes: number;
  tries: number;
  nextTryAt: number;
}

const KEYS = [
  'framesIn', 'framesOut', 'truncated', 'notForUs', 'unknownEtherType',
  'arpIn', 'arpMalformed', 'arpRequestsAnswered', 'arpRequestsSent', 'arpRepliesIn',
  'arpQueueFull', 'arpFailed', 'arpEvicted', 'ipv6Off',
] as const;
export type EthernetCounter = (typeof KEYS)[number];

export class EthernetInterface implements NetInterface {
  readonly counters: CounterSet<EthernetCounter> = counters(KEYS);
  readonly limits: ArpLimits;
  deliverIp: (b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean) => void = () => {};
  deliverIp6: ((b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean, linkMulticast?: boolean) => void) | null = null;
  /** IPv6 neighbour discovery, once the stack has IPv6 (attachIpv6). */
  ndp: NeighborDiscovery | null = null;
  private readonly cache = new Map<Ipv4Addr, ArpEntry>();
  private readonly frame = new EthernetFrame();
  private readonly arp = new ArpPacket();
  private readonly scratch = new Uint8Array(60); // minimum Ethernet frame, FCS excluded
  readonly mac: Uint8Array;

  constructor(
    private readonly device: LinkDevice,
    private readonly route: Route,
    limits: Partial<ArpLimits> = {},
    private readonly ndpOptions: NdpOptions & { random?: () => number } = {},
  ) {
    if (!device.mac) throw new Error(`${device.name}: an Ethernet interface needs the device's MAC address`);
    this.mac = device.mac;
    this.limits = { ...DEFAULT_ARP_LIMITS, ...limits };
  }

  attachIpv6(ip6: Ipv6Layer): void {
    const random = this.ndpOptions.random ?? Math.random;
    this.ndp = new NeighborDiscovery(ip6, this.mac, (pkt, off, len, mac, tso) => this.transmit(pkt, off, len, mac, ETHERTYPE_IPV6, tso), random, this.ndpOptions);
  }

  /** Checksum and segmentation offload for TCP, when the device has it (TAP with virtio-net headers). */
  get tcpOffload(): boolean {
    return this.device.tcpOffload === true;
  }

  receiveFrame(b: Uint8Array, off: number, len: number, now: number, checksumOk = false): void {
    this.counters.framesIn++;
    const f = this.frame.reset(b, off, len);
    if (f.checkLen() !== null) {
      this.counters.truncated++;
      return;
    }
    const type = f.etherType();
    // IPv6 multicast frames (33:33:…) go up to the IPv6 layer, which keeps those for groups it is in.
    if (!f.dstIs(this.mac) && !f.dstIsBroadcast() && !(type === ETHERTYPE_IPV6 && b[off] === 0x33 && b[off + 1] === 0x33)) {
      this.counters.notForUs++;
      return;
    }
    if (type === ETHERTYPE_IPV4) {
      this.deliverIp(b, f.payloadOffset(), f.payloadLen(), now, checksumOk);
    } else if (type === ETHERTYPE_IPV6) {
      if (this.deliverIp6 === null) this.counters.ipv6Off++;
      else this.deliverIp6(b, f.payloadOffset(), f.payloadLen(), now, checksumOk, f.dstIsMulticast());
    } else if (type === ETHERTYPE_ARP) {
      this.receiveArp(b, f.payloadOffset(), f.payloadLen(), now);
    } else {
      this.counters.unknownEtherType++;
    }
  }

  private receiveArp(b: Uint8Array, off: number, len: number, now: number): void {
    this.counters.arpIn++;
    const p = this.arp.reset(b, off, len);
    if (p.checkLen() !== null) {
      this.counters.arpMalformed++;
      return;
    }
    if (log.enabled) log(`< ${p.toString()}`);
    const spa = p.senderIp();
    const tpa = p.targetIp();
    const op = p.operation();
    // RFC 826 "Packet Reception": merge the sender into the table if it is there ...
    let merged = false;
    const e = this.cache.get(spa);
    if (e && spa !== 0) {
      this.learn(spa, e, p.senderMac(), now);
      merged = true;
    }
    if (tpa !== this.route.addr) return;
    // ... and, when we are the target, add it if it was not.
    if (!merged && spa !== 0 && spa !== this.route.addr) {
      const fresh: ArpEntry = { mac: null, expiresAt: 0, queue: [], queueTso: [], queueBytes: 0, tries: 0, nextTryAt: 0 };
      this.insert(spa, fresh);
      this.learn(spa, fresh, p.senderMac(), now);
    }
    if (op === ARP_REPLY) this.counters.arpRepliesIn++;
    if (op === ARP_REQUEST) {
      this.counters.arpRequestsAnswered++;
      this.sendArp(ARP_REPLY, p.senderMac(), p.senderMac().slice(), spa);
    }
  }

  private learn(ip: Ipv4Addr, e: ArpEntry, mac: Uint8Array, now: number): void {
    e.mac = mac.slice(0, 6);
    e.expiresAt = now + this.limits.entryLifetimeMs;
    e.tries = 0;
    if (e.queue.length > 0) {
      const q = e.queue;
      const tsos = e.queueTso;
      e.queue = [];
      e.queueTso = [];
      e.queueBytes = 0;
      for (let i = 0; i < q.length; i++) this.transmit(q[i]!, LINK_HEADROOM, q[i]!.length - LINK_HEADROOM, e.mac, ETHERTYPE_IPV4, tsos[i]!);
    }
    if (log.enabled) log(`${formatIpv4(ip)} is-at ${formatMac(e.mac)}`);
  }

  private insert(ip: Ipv4Addr, e: ArpEntry): void {
    while (this.cache.size >= this.limits.maxEntries) {
      const oldest = this.cache.keys().next().value as Ipv4Addr;
      const victim = this.cache.get(oldest)!;
      this.counters.arpEvicted++;
      this.counters.arpFailed += victim.queue.length;
      this.cache.delete(oldest);
    }
    this.cache.set(ip, e);
  }

  sendIp(b: Uint8Array, off: number, len: number, nextHop: IpAddr, now: number, tso = 0): void {
    if (typeof nextHop !== 'number') {
      if (this.ndp !== null) this.ndp.send(b, off, len, nextHop, now, tso);
      return;
    }
    if (nextHop === 0xffffffff || nextHop === this.route.subnetBroadcast) {
      this.transmit(b, off, len, BROADCAST_MAC);
      return;
    }
    let e = this.cache.get(nextHop);
    if (e && e.mac && e.expiresAt > now) {
      this.transmit(b, off, len, e.mac, ETHERTYPE_IPV4, tso);
      return;
    }
    if (!e || e.mac) {
      // Unknown, or known but expired: resolve (again).
      if (e) this.cache.delete(nextHop);
      e = { mac: null, expiresAt: 0, queue: [], queueTso: [], queueBytes: 0, tries: 0, nextTryAt: now };
      this.insert(nextHop, e);
    }
    if (e.queueBytes + len > this.limits.maxQueueBytesPerAddress) {
      this.counters.arpQueueFull++;
    } else {
      e.queue.push(b.slice(off - LINK_HEADROOM, off + len));
      e.queueTso.push(tso);
      e.queueBytes += len;
    }
    if (e.tries === 0) this.solicit(nextHop, e, now);
  }

  private solicit(ip: Ipv4Addr, e: ArpEntry, now: number): void {
    e.tries++;
    e.nextTryAt = now + this.limits.retryMs;
    this.counters.arpRequestsSent++;
    if (log.enabled) log(`> who-has ${formatIpv4(ip)}`);
    this.sendArp(ARP_REQUEST, BROADCAST_MAC, new Uint8Array(6), ip);
  }

  private sendArp(op: number, dstMac: Uint8Array, targetMac: Uint8Array, targetIp: Ipv4Addr): void {
    const s = this.scratch;
    s.fill(0);
    writeEthernetHeader(s, 0, dstMac, this.mac, ETHERTYPE_ARP);
    emitArp({ operation: op, senderMac: this.mac, senderIp: this.route.addr, targetMac, targetIp }, s, ETH_HEADER_LEN);
    this.counters.framesOut++;
    this.device.send(s, 0, Math.max(60, ETH_HEADER_LEN + ARP_LEN));
  }

  /** Writes the Ethernet header into the headroom in front of the datagram and sends. */
  private transmit(b: Uint8Array, off: number, len: number, dstMac: Uint8Array, etherType = ETHERTYPE_IPV4, tso = 0): void {
    writeEthernetHeader(b, off - ETH_HEADER_LEN, dstMac, this.mac, etherType);
    this.counters.framesOut++;
    this.device.send(b, off - ETH_HEADER_LEN, len + ETH_HEADER_LEN, tso);
  }

  poll(now: number): void {
    this.ndp?.poll(now);
    for (const [ip, e] of this.cache) {
      if (e.mac !== null) continue;
      if (e.nextTryAt > now) continue;
      if (e.tries >= this.limits.maxTries) {
        this.counters.arpFailed += e.queue.length;
        this.cache.delete(ip);
        if (log.enabled) log(`${formatIpv4(ip)} unresolved after ${e.tries} requests`);
        continue;
      }
      this.solicit(ip, e, now);
    }
  }

  pollAt(): number | undefined {
    let t: number | undefined = this.ndp?.pollAt();
    for (const e of this.cache.values()) {
      if (e.mac === null && (t === undefined || e.nextTryAt < t)) t = e.nextTryAt;
    }
    return t;
  }

  /** The cache as printable rows (for `tcpip stat` and tests). */
  entries(): { ip: string; mac: string | null; expiresAt: number; queued: number }[] {
    return [...this.cache].map(([ip, e]) => ({
      ip: formatIpv4(ip), mac: e.mac ? formatMac(e.mac) : null, expiresAt: e.expiresAt, queued: e.queue.length,
    }));
  }
}
