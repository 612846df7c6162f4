/**
 * A whole stack on one device: interface (TUN passthrough or Ethernet with ARP and
 * neighbour discovery), IPv4 with ICMP and IPv6 with ICMPv6 side by side, and the
 * transports registered on both. It does no I/O and reads no clock: frames
 * come in through `receiveFrame(..., now)`, timers run in `poll(now)`, and `pollAt()`
 * says when `poll` is next due (smoltcp's Interface::poll / poll_at).
 */
import { counters as makeCounters, type CounterSet } from './core/counters.js';
import { logger } from './core/log.js';
import type { Rand } from './core/rand.js';
import type { Ipv4Addr } from './ip/address.js';
import { Ipv4Layer, TxBuffer } from './ip/ipv4-layer.js';
import { IpLayer } from './ip/ip-layer.js';
import { linkLocalFromMac, type Ipv6Addr } from './ip/ipv6-address.js';
import { Ipv6Layer } from './ip/ipv6-layer.js';
import { Route6 } from './ip/route6.js';
import type { ReassemblyLimits } from './ip/reassembly.js';
import { Route } from './ip/route.js';
import { EthernetInterface, type ArpLimits } from './link/ethernet-interface.js';
import { IpInterface } from './link/ip-interface.js';
import type { LinkDevice, LinkReceiver } from './link/link-device.js';
import type { NetInterface } from './link/net-interface.js';
import type { NdpOptions } from './link/neighbor-discovery.js';
import { UdpLayer } from './udp/udp-layer.js';
import { TcpLayer } from './tcp/tcp-layer.js';
import type { TcpConfig } from './tcp/config.js';

const log = logger('stack');

/** How a Stack is addressed and tuned. Addresses are IPv4 addresses as unsigned 32-bit numbers. */
export interface StackConfig {
  /** This stack's own address. */
  addr: Ipv4Addr;
  /** The subnet's prefix length, 0 to 32. */
  prefixLen: number;
  /** The next hop for addresses off the subnet; none means they are unreachable. */
  gateway?: Ipv4Addr;
  /**
   * IPv6: this stack's global or unique-local address (e.g. fd00:7::2). With it (or with
   * `linkLocal6` on Ethernet) the stack speaks IPv6 beside IPv4; without, IPv6 packets are
   * counted and dropped.
   */
  addr6?: Ipv6Addr;
  /** The IPv6 on-link prefix length (64 by default). */
  prefixLen6?: number;
  /** The IPv6 default router. */
  gateway6?: Ipv6Addr;
  /**
   * On Ethernet: a link-local address (fe80::/64) from the MAC (RFC 4862 §5.3), true by
   * default when `addr6` is set.
   */
  linkLocal6?: boolean;
  /** Limits on IP fragment reassembly (timeout, datagrams, bytes, fragments per datagram). */
  reassembly?: Partial<ReassemblyLimits>;
  /** ARP cache and queue limits, on an Ethernet (TAP) device. */
  arp?: Partial<ArpLimits>;
  /** IPv6 neighbour discovery limits and duplicate address detection, on an Ethernet (TAP) device. */
  ndp?: NdpOptions;
  /** TCP tunables; what is left out comes from DEFAULT_TCP_CONFIG. */
  tcp?: Partial<TcpConfig>;
}

/** Something with timers that the stack polls (transports register one). */
export interface Pollable {
  /** Runs whatever is due at `now` (ms). */
  poll(now: number): void;
  /** When `poll` is next due (ms on the same clock), or undefined if nothing is pending. */
  pollAt(): number | undefined;
}

const KEYS = ['internalErrors'] as const;
/** Looped-back datagrams per batch, and batches per poll. */
const LOOPBACK_BATCH = 64;
const LOOPBACK_ROUNDS = 64;

/**
 * One TCP/IP stack on one LinkDevice. It does no I/O of its own and reads no clock: a
 * Runtime (or a SimNetwork) feeds it frames, calls `poll` when `pollAt` says, and flushes
 * the device.
 */
export class Stack {
  /** The network interface on the device: IP passthrough on TUN, Ethernet with ARP on TAP. */
  readonly iface: NetInterface;
  /** The IPv4 layer, with ICMP and fragment reassembly. */
  readonly ip: Ipv4Layer;
  /** The IPv6 layer, with ICMPv6, reassembly and path MTU; null when the stack has no IPv6 address. */
  readonly ip6: Ipv6Layer | null;
  /** Both families as the transports see them. */
  readonly ipLayer: IpLayer;
  /** The UDP layer: endpoints and counters. */
  readonly udp: UdpLayer;
  /** The TCP layer: connections, listeners, counters, and `tracer` (set it to trace every connection). */
  readonly tcp: TcpLayer;
  /** This stack's address, prefix and gateway. */
  readonly route: Route;
  /** The stack's own counters (`internalErrors`: times that handling a frame or a timer threw). */
  readonly counters: CounterSet<(typeof KEYS)[number]> = makeCounters(KEYS);
  /** Called when handling a packet threw: a bug, counted and logged, never fatal. */
  onInternalError: (err: unknown) => void = (err) => log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
  private readonly pollables: Pollable[] = [];

  /** Builds the layers on `device`; nothing runs until frames arrive or `poll` is called. */
  constructor(
    /** The device the stack sends and receives frames on. */
    readonly device: LinkDevice,
    config: StackConfig,
    /** Randomness for ISNs, ephemeral ports, IP identification and SYN cookies. */
    readonly rand: Rand,
  ) {
    this.route = new Route({ addr: config.addr, prefixLen: config.prefixLen, gateway: config.gateway });
    this.iface = device.medium === 'ethernet' ? new EthernetInterface(device, this.route, config.arp, { ...config.ndp, random: () => rand.u32() / 0x100000000 }) : new IpInterface(device);
    // Packets are built in the device's transmit slot when it lends one (one copy per byte).
    this.ip = new Ipv4Layer(this.route, this.iface, rand, { mtu: device.mtu, reassembly: config.reassembly }, new TxBuffer(device.txSlot ? device : null));
    this.iface.deliverIp = (b, off, len, now, checksumOk) => this.ip.receive(b, off, len, now, checksumOk);
    const ethernet = device.medium === 'ethernet';
    const linkLocal = ethernet && (config.linkLocal6 ?? config.addr6 !== undefined) ? linkLocalFromMac(device.mac!) : undefined;
    if (config.addr6 !== undefined || linkLocal !== undefined) {
      const route6 = new Route6({ addr: config.addr6, prefixLen: config.prefixLen6, gateway: config.gateway6, linkLocal });
      this.ip6 = new Ipv6Layer(route6, this.iface, rand, { mtu: device.mtu, reassembly: config.reassembly }, this.ip.txb);
      const ip6 = this.ip6;
      this.iface.deliverIp6 = (b, off, len, now, checksumOk, linkMulticast) => ip6.receive(b, off, len, now, checksumOk, linkMulticast === true);
      this.iface.attachIpv6?.(ip6);
    } else {
      this.ip6 = null;
    }
    this.ipLayer = new IpLayer(this.ip, this.ip6);
    this.udp = new UdpLayer(this.ipLayer, rand);
    this.tcp = new TcpLayer(this.ipLayer, rand, config.tcp);
    this.addPollable(this.tcp);
  }

  /** Adds something with timers for `poll` to run and `pollAt` to count (e.g. a SocketHost's timers). */
  addPollable(p: Pollable): void {
    this.pollables.push(p);
  }

  /** One frame from the device. A throw while handling it is a bug: counted, logged, contained. */
  receiveFrame(b: Uint8Array, off: number, len: number, now: number, checksumOk = false): void {
    try {
      this.iface.receiveFrame(b, off, len, now, checksumOk);
    } catch (err) {
      this.counters.internalErrors++;
      this.onInternalError(err);
    }
  }

  /**
   * Runs whatever is due at `now` (ms): the interface's and IP layer's timers and queues,
   * the loopback interface, TCP's timers, and each `addPollable`. A throw is counted and
   * logged.
   */
  poll(now: number): void {
    try {
      this.iface.poll(now);
      this.ip.poll(now);
      this.ip6?.poll(now);
      this.loopback(now);
      const ps = this.pollables;
      for (let i = 0; i < ps.length; i++) ps[i]!.poll(now);
      // What the timers sent to ourselves goes round now too.
      this.loopback(now);
    } catch (err) {
      this.counters.internalErrors++;
      this.onInternalError(err);
    }
  }

  /**
   * Delivers what waits on the loopback interface, in batches as a device's frames come
   * (one ACK per connection per batch), until nothing is left or LOOPBACK_ROUNDS batches
   * have gone (the rest on the next poll, so that a flood cannot hold the event loop).
   */
  private loopback(now: number): void {
    const ip6 = this.ip6;
    for (let round = 0; round < LOOPBACK_ROUNDS && (this.ip.loopbackPending() || (ip6 !== null && ip6.loopbackPending())); round++) {
      this.tcp.beginBatch();
      try {
        this.ip.deliverLoopback(now, LOOPBACK_BATCH);
        if (ip6 !== null) ip6.deliverLoopback(now, LOOPBACK_BATCH);
      } finally {
        this.tcp.endBatch(now);
      }
    }
  }

  /** When `poll` is next due (ms), or undefined if no timer is pending. */
  pollAt(): number | undefined {
    let t = this.iface.pollAt();
    const x = this.ip.pollAt();
    if (x !== undefined && (t === undefined || x < t)) t = x;
    const x6 = this.ip6?.pollAt();
    if (x6 !== undefined && (t === undefined || x6 < t)) t = x6;
    const ps = this.pollables;
    for (let i = 0; i < ps.length; i++) {
      const y = ps[i]!.pollAt();
      if (y !== undefined && (t === undefined || y < t)) t = y;
    }
    return t;
  }

  /** A receiver that feeds this stack, taking `now` from `clock` once per batch. */
  receiverFor(now: () => number, afterBatch: () => void): LinkReceiver {
    let batchNow = -1;
    return {
      frame: (b, off, len, checksumOk) => {
        if (batchNow < 0) {
          batchNow = now();
          this.tcp.beginBatch();
        }
        this.receiveFrame(b, off, len, batchNow, checksumOk === true);
      },
      batchEnd: () => {
        if (batchNow >= 0) {
          try {
            // One ACK per connection for the whole batch (ACK coalescing).
            this.tcp.endBatch(batchNow);
          } catch (err) {
            this.counters.internalErrors++;
            this.onInternalError(err);
          }
        }
        batchNow = -1;
        afterBatch();
      },
    };
  }

  /** Every layer's counters, for `tcpip stat`, the HTTP page and tests. */
  snapshot(): Record<string, Record<string, number>> {
    return {
      link: { ...this.iface.counters },
      ip: { ...this.ip.counters },
      icmp: { ...this.ip.icmp.counters },
      ...(this.ip6 ? { ip6: { ...this.ip6.counters }, icmp6: { ...this.ip6.icmp.counters } } : {}),
      udp: { ...this.udp.counters },
      tcp: { ...this.tcp.counters },
      stack: { ...this.counters },
    };
  }
}
