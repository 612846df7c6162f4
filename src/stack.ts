/**
 * A whole stack on one device: interface (TUN passthrough or Ethernet+ARP), IPv4 with
 * ICMP, and the transports registered on it. It does no I/O and reads no clock: frames
 * come in through `receiveFrame(..., now)`, timers run in `poll(now)`, and `pollAt()`
 * says when `poll` is next due (smoltcp's Interface::poll / poll_at).
 */
import { counters as makeCounters, type CounterSet } from './core/counters.js';
import { logger } from './core/log.js';
import type { Rand } from './core/rand.js';
import type { Ipv4Addr } from './ip/address.js';
import { Ipv4Layer } from './ip/ipv4-layer.js';
import type { ReassemblyLimits } from './ip/reassembly.js';
import { Route } from './ip/route.js';
import { EthernetInterface, type ArpLimits } from './link/ethernet-interface.js';
import { IpInterface } from './link/ip-interface.js';
import type { LinkDevice, LinkReceiver } from './link/link-device.js';
import type { NetInterface } from './link/net-interface.js';
import { UdpLayer } from './udp/udp-layer.js';
import { TcpLayer } from './tcp/tcp-layer.js';
import type { TcpConfig } from './tcp/config.js';

const log = logger('stack');

export interface StackConfig {
  addr: Ipv4Addr;
  prefixLen: number;
  gateway?: Ipv4Addr;
  reassembly?: Partial<ReassemblyLimits>;
  arp?: Partial<ArpLimits>;
  tcp?: Partial<TcpConfig>;
}

/** Something with timers that the stack polls (transports register one). */
export interface Pollable {
  poll(now: number): void;
  pollAt(): number | undefined;
}

const KEYS = ['internalErrors'] as const;

export class Stack {
  readonly iface: NetInterface;
  readonly ip: Ipv4Layer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;
  readonly route: Route;
  readonly counters: CounterSet<(typeof KEYS)[number]> = makeCounters(KEYS);
  /** Called when handling a packet threw: a bug, counted and logged, never fatal. */
  onInternalError: (err: unknown) => void = (err) => log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
  private readonly pollables: Pollable[] = [];

  constructor(
    readonly device: LinkDevice,
    config: StackConfig,
    readonly rand: Rand,
  ) {
    this.route = new Route({ addr: config.addr, prefixLen: config.prefixLen, gateway: config.gateway });
    this.iface = device.medium === 'ethernet' ? new EthernetInterface(device, this.route, config.arp) : new IpInterface(device);
    this.ip = new Ipv4Layer(this.route, this.iface, rand, { mtu: device.mtu, reassembly: config.reassembly });
    this.iface.deliverIp = (b, off, len, now, checksumOk) => this.ip.receive(b, off, len, now, checksumOk);
    this.udp = new UdpLayer(this.ip, rand);
    this.tcp = new TcpLayer(this.ip, rand, config.tcp);
    this.addPollable(this.tcp);
  }

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

  poll(now: number): void {
    try {
      this.iface.poll(now);
      this.ip.poll(now);
      const ps = this.pollables;
      for (let i = 0; i < ps.length; i++) ps[i]!.poll(now);
    } catch (err) {
      this.counters.internalErrors++;
      this.onInternalError(err);
    }
  }

  pollAt(): number | undefined {
    let t = this.iface.pollAt();
    const x = this.ip.pollAt();
    if (x !== undefined && (t === undefined || x < t)) t = x;
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
      udp: { ...this.udp.counters },
      tcp: { ...this.tcp.counters },
      stack: { ...this.counters },
    };
  }
}
