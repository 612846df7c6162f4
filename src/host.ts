/**
 * The package's front door: a stack on a device, with its sockets in the shapes Node
 * programs already use.
 *
 *   const host = await openTun({ dev: 'tcpip0', addr: '10.7.0.2/24' });
 *   http.createServer(app).listen(...)  →  host.net.createServer({ noDelay: true }, (s) => app.emit('connection', s)).listen(80);
 *   const res = await fetch(url, { dispatcher: new undici.Agent({ connect: host.connector() }) });
 *
 * `openTun` puts a stack on a Linux TUN/TAP device (the native addon); `createStack` puts
 * one on any `LinkDevice` of your own. Both return a `StackHost`: the BSD facade
 * (`host.socket`), the `node:net` and `node:dgram` faces (`host.net`, `host.dgram`),
 * HTTP agents and an undici connector that go out through the stack, counters, and
 * `close()`.
 *
 * Like Node's own sockets, a host keeps the process alive only while one of its sockets
 * or servers is open and ref'ed (`unref()` on a socket or server lets it go); `host.ref()`
 * keeps it alive with none, e.g. to answer pings.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import type * as tls from 'node:tls';
import type { Clock } from './core/clock.js';
import type { Rand } from './core/rand.js';
import { SeededRand } from './core/rand.js';
import { formatIpv4, parseCidr, parseIpv4, sameSubnet, type Ipv4Addr } from './ip/address.js';
import { formatIpv6, type Ipv6Addr } from './ip/ipv6-address.js';
import { addressing6, type Addressing6 } from './host-addressing.js';
import { FaultLink, parseFaultSpec, type FaultConfig } from './link/fault-link.js';
import type { LinkDevice } from './link/link-device.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapLink, PcapWriter, pcapFileSink } from './link/pcap.js';
import { PcapngWriter } from './link/pcapng.js';
import { explainCapture } from './observe/capture-notes.js';
import { TunDevice } from './link/tun-device.js';
import { formatMac } from './link/ethernet-frame.js';
import { traceFile } from './observe/trace-file.js';
import type { Tracer } from './tcp/trace.js';
import { CryptoRand, Runtime, osSeededRand, realClock, wallClock } from './runtime.js';
import { dgramFace, type DgramFace } from './socket/dgram.js';
import { KeepAliveCount, makeHost } from './socket/host.js';
import { httpAgent, httpsAgent, undiciConnector, type UndiciConnector } from './socket/http-agents.js';
import { netFace, type NetFace } from './socket/net.js';
import { SocketApi } from './socket/socket-api.js';
import type { NameOptions } from './socket/names.js';
import { Stack } from './stack.js';
import type { TcpConfig } from './tcp/config.js';

/** Options common to `openTun` and `createStack`. */
export interface StackOptions extends NameOptions {
  /** This stack's IPv4 address with its prefix, e.g. `'10.7.0.2/24'`. */
  addr: string;
  /**
   * The next hop for addresses off the subnet. On a TUN/TAP device it is also the
   * kernel side's address. Default: the lowest other address of the subnet (`.1`, or
   * `.2` when the stack is `.1`).
   */
  gateway?: string;
  /**
   * IPv6 beside IPv4: this stack's IPv6 address with its prefix, e.g. `'fd00:7::2/64'`
   * (/64 if left out). None: the stack speaks IPv4 only.
   */
  addr6?: string;
  /**
   * The IPv6 default router; on a TUN/TAP device also the kernel side's IPv6 address.
   * Default: the prefix's `::1` (`::2` when the stack is `::1`).
   */
  gateway6?: string;
  /** TCP tunables (MSL, buffers, congestion control, SACK, timestamps, ...). */
  tcp?: Partial<TcpConfig>;
  /** Write every TCP connection's events as JSON lines to this file (see `tcpip plot`). */
  trace?: string;
}

/** The name options out of a stack's options (checked when the host is made). */
function nameOptions(o: NameOptions): NameOptions {
  return { hostName: o.hostName, hosts: o.hosts, nameservers: o.nameservers, dnsTimeoutMs: o.dnsTimeoutMs, dnsAttempts: o.dnsAttempts };
}

/**
 * The device's txqueuelen when openTun configures it: 1000, as Linux gives most virtual
 * devices (the kernel's default for TUN/TAP is 500). Measured under SYN and UDP floods
 * (issue #13), longer queues cut drops somewhat but cost up to 64 KiB of kernel memory
 * per queued offloaded segment if the stack stalls; `txQueueLen` raises it.
 */
export const DEFAULT_TX_QUEUE_LEN = 1000;

/** Options of `openTun`. */
export interface OpenTunOptions extends StackOptions {
  /** The device's name; default `tcpip0`. */
  dev?: string;
  /** `'tun'` (IP packets; the default) or `'tap'` (Ethernet frames, with ARP). */
  mode?: 'tun' | 'tap';
  /** The MTU to configure; default 1500. With `configure: false` the device's own MTU is used. */
  mtu?: number;
  /**
   * Configure the device: its kernel side gets `gateway`, the MTU is set and the link
   * brought up (needs CAP_NET_ADMIN). Default true. `false` attaches to an existing
   * persistent device exactly as its owner configured it, with no privilege needed when
   * the device belongs to this user (`ip tuntap add dev tcpip0 mode tun user $USER`).
   */
  configure?: boolean;
  /**
   * The kernel's queue of packets waiting for the stack (txqueuelen), when configuring
   * the device. Default DEFAULT_TX_QUEUE_LEN; a longer queue rides out floods and bursts
   * that arrive faster than the stack reads.
   */
  txQueueLen?: number;
  /**
   * Busy-poll the device for this many microseconds after frames arrive (0 to 1000;
   * default 0, off): the event loop keeps turning instead of sleeping, so the next frame
   * of a request/response exchange is read without a process wake-up. Cuts round-trip
   * latency at the cost of a busy core while traffic flows (see the README's figures).
   */
  busyPollUs?: number;
  /** Checksum and segmentation offload (virtio-net headers, TUN and TAP); default on, off with `pcap`/`fault`. */
  offload?: boolean;
  /**
   * Record every frame in and out to this capture file: pcap, or pcapng when the name ends
   * in `.pcapng`, with a comment on each frame saying why it was sent or dropped (Wireshark
   * shows them; `tshark -Y frame.comment`).
   */
  pcap?: string;
  /** Put the seeded fault injector between the device and the stack: `'loss=5%,seed=1'` or a `FaultConfig`. */
  fault?: string | FaultConfig;
  /** Replay a run: a seeded generator instead of the OS CSPRNG (never on a real network you care about). */
  seed?: number;
}

/** Options of `createStack`. */
export interface CreateStackOptions extends StackOptions {
  /** The device the stack sends and receives frames on. */
  link: LinkDevice;
  /** Milliseconds, monotonic; default the real clock. */
  clock?: Clock;
  /** Randomness for ISNs, ports and cookies; default the OS CSPRNG. */
  rand?: Rand;
}

/** What a stack's `http.Agent` and `https.Agent` take: Node's own options. */
export type HttpAgentOptions = http.AgentOptions;
/** What a stack's `https.Agent` takes: Node's own options (`ca`, `rejectUnauthorized`, ...). */
export type HttpsAgentOptions = https.AgentOptions;

/** A stack running on the real event loop, with its sockets in Node's shapes. */
export class StackHost {
  /** The BSD socket facade, shaped like Python's `socket` module: `host.socket.socket(AF_INET, SOCK_STREAM)`. */
  readonly socket: SocketApi;
  /** `node:net` on this stack: `createServer`, `connect`/`createConnection`, `Socket`, `Server`. */
  readonly net: NetFace;
  /** `node:dgram` on this stack: `createSocket('udp4')`. */
  readonly dgram: DgramFace;
  /** `http.Agent` and `https.Agent` classes whose connections go through this stack. */
  readonly http: {
    /** `new host.http.Agent({ keepAlive: true })`: pass it as `agent` to `http.get`/`http.request`. */
    Agent: {
      /** An agent with Node's own options; its connections are this stack's TCP streams. */
      new (options?: HttpAgentOptions): http.Agent;
    };
  };
  /** An `https.Agent` class: TLS over this stack's TCP streams. */
  readonly https: {
    /** `new host.https.Agent({ ca })`: pass it as `agent` to `https.get`/`https.request`. */
    Agent: {
      /** An agent with Node's own options (`ca`, `rejectUnauthorized`, ...): TLS over this stack's TCP streams. */
      new (options?: HttpsAgentOptions): https.Agent;
    };
  };
  /** This stack's own address, e.g. `'10.7.0.2'`. */
  readonly address: string;
  /** The next hop off the subnet (also the kernel side's address on a device), or undefined. */
  readonly gateway: string | undefined;
  private readonly alive: KeepAliveCount;
  private selfRef = false;
  private readonly onClose: () => void;

  /** @internal Use `openTun` or `createStack`. */
  constructor(
    /** The stack itself: layers, counters, connections. */
    readonly stack: Stack,
    /** The event loop that drives it. */
    readonly runtime: Runtime,
    onClose: () => void = () => {},
    names: NameOptions = {},
  ) {
    this.onClose = onClose;
    this.alive = new KeepAliveCount((alive) => runtime.keepAlive(alive || this.selfRef));
    this.socket = new SocketApi(makeHost(stack, () => runtime.clock.now(), () => runtime.wake(), this.alive), names);
    this.net = netFace(this.socket);
    this.dgram = dgramFace(this.socket);
    this.address = formatIpv4(stack.route.addr);
    this.gateway = stack.route.gateway !== undefined && stack.route.gateway !== 0 ? formatIpv4(stack.route.gateway) : undefined;
    this.http = { Agent: httpAgent(this.net) };
    this.https = { Agent: httpsAgent(this.net) };
    runtime.keepAlive(false);
  }

  /**
   * A `connect` function for undici (`new undici.Agent({ connect: host.connector() })`,
   * then `fetch(url, { dispatcher })`): its connections go through this stack, with TLS
   * for `https:` (`tlsOptions` such as `ca` or `rejectUnauthorized` apply).
   */
  connector(tlsOptions: tls.ConnectionOptions = {}): UndiciConnector {
    return undiciConnector(this.net, tlsOptions);
  }

  /** Every layer's counters (as `tcpip stat` shows them). */
  stats(): Record<string, Record<string, number>> {
    return this.stack.snapshot();
  }

  /** Keeps the process alive while the host is open, even with no socket (e.g. to answer pings). */
  ref(): this {
    this.selfRef = true;
    this.runtime.keepAlive(true);
    return this;
  }

  /** Undoes `ref()`: only open, ref'ed sockets and servers keep the process alive (the default). */
  unref(): this {
    this.selfRef = false;
    this.runtime.keepAlive(this.alive.alive);
    return this;
  }

  /** Stops the stack and closes the device (open connections are dropped without a word). */
  async close(): Promise<void> {
    await this.runtime.close();
    this.onClose();
  }
}

/** A stack on a Linux TUN or TAP device. */
export class TunHost extends StackHost {
  /** @internal */
  constructor(
    stack: Stack,
    runtime: Runtime,
    /** The TUN/TAP device (name, MTU, counters). */
    readonly tun: TunDevice,
    private readonly summary: string[],
    onClose: () => void,
    names: NameOptions = {},
  ) {
    super(stack, runtime, onClose, names);
  }

  /** Lines that describe the device and addresses, as the demo prints them. */
  describe(): string[] {
    return [...this.summary];
  }
}

interface Addressing {
  addr: Ipv4Addr;
  prefixLen: number;
  gateway: Ipv4Addr | undefined;
}

/** Parses and checks `addr` and `gateway` (clear errors for bad values). */
export function addressing(addr: string, gateway?: string): Addressing {
  if (typeof addr !== 'string') throw new TypeError(`addr must be a string like '10.7.0.2/24', not ${String(addr)}`);
  const cidr = addr.includes('/') ? addr : `${addr}/24`;
  let parsed: { addr: Ipv4Addr; prefixLen: number };
  try {
    parsed = parseCidr(cidr);
  } catch (e) {
    throw new TypeError(`addr "${addr}" is not an IPv4 address with a prefix, like 10.7.0.2/24 (${(e as Error).message})`);
  }
  const { addr: a, prefixLen } = parsed;
  let gw: Ipv4Addr | undefined;
  if (gateway !== undefined) {
    try {
      gw = parseIpv4(gateway);
    } catch (e) {
      throw new TypeError(`gateway "${gateway}" is not an IPv4 address (${(e as Error).message})`);
    }
  } else if (prefixLen <= 30) {
    const base = (a & (prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0)) >>> 0;
    gw = (base + 1) >>> 0 === a ? (base + 2) >>> 0 : (base + 1) >>> 0;
  }
  if (gw !== undefined && (!sameSubnet(a, gw, prefixLen) || gw === a)) {
    throw new TypeError(`gateway ${formatIpv4(gw)} must be another address on ${formatIpv4(a)}/${prefixLen}`);
  }
  return { addr: a, prefixLen, gateway: gw };
}

/** The Stack's IPv6 settings from checked addressing. */
function v6Config(a6: Addressing6 | undefined): { addr6?: Ipv6Addr; prefixLen6?: number; gateway6?: Ipv6Addr } {
  return a6 === undefined ? {} : { addr6: a6.addr, prefixLen6: a6.prefixLen, gateway6: a6.gateway };
}

/** Adds a tracer after the stack's own (if any). */
function chainTracer(stack: Stack, t: Tracer): void {
  const prev = stack.tcp.tracer;
  stack.tcp.tracer = prev ? (r) => (prev(r), t(r)) : t;
}

function traceOn(stack: Stack, path: string | undefined): () => void {
  if (!path) return () => {};
  const t = traceFile(path);
  stack.tcp.tracer = t.tracer;
  return t.close;
}

/**
 * Puts a stack on a Linux TUN (default) or TAP device: creates or attaches to the
 * device, configures its kernel side (unless `configure: false`), and starts the stack
 * on the event loop. Needs the native addon; without it, rejects with code ENOADDON and
 * a message saying what to install.
 */
export async function openTun(options: OpenTunOptions): Promise<TunHost> {
  if (options === null || typeof options !== 'object') throw new TypeError('openTun(options): options must be an object with at least addr');
  const mode = options.mode ?? 'tun';
  if (mode !== 'tun' && mode !== 'tap') throw new TypeError(`mode must be 'tun' or 'tap', not "${String(mode)}"`);
  const dev = options.dev ?? 'tcpip0';
  if (typeof dev !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw new TypeError(`dev "${String(dev)}" is not a valid interface name (1-15 letters, digits, _ . -)`);
  const mtu = options.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new RangeError(`mtu must be an integer from 576 to 65535, not ${String(mtu)}`);
  const { addr, prefixLen, gateway } = addressing(options.addr, options.gateway);
  const a6 = options.addr6 !== undefined ? addressing6(options.addr6, options.gateway6) : undefined;
  if (a6 === undefined && options.gateway6 !== undefined) throw new TypeError('gateway6 needs addr6 (the stack\'s IPv6 address)');
  const fault = typeof options.fault === 'string' ? parseFaultSpec(options.fault) : options.fault;
  const medium = mode === 'tap' ? 'ethernet' : 'ip';
  // Offload makes the kernel hand us 64 KiB TCP segments; a pcap or fault injector wants
  // the wire's own packets, so either turns it off.
  const offload = (options.offload ?? true) && !options.pcap && !fault;
  const txQueueLen = options.txQueueLen ?? DEFAULT_TX_QUEUE_LEN;
  if (!Number.isInteger(txQueueLen) || txQueueLen < 1 || txQueueLen > 1_000_000) throw new RangeError(`txQueueLen must be an integer from 1 to 1000000, not ${String(txQueueLen)}`);
  const tun = TunDevice.open({
    name: dev, medium, mtu, kernelAddr: gateway, prefixLen, offload, configure: options.configure, txQueueLen,
    kernelAddr6: a6?.gateway, prefixLen6: a6?.prefixLen,
  });
  let device: LinkDevice = tun;
  if (fault) device = new FaultLink(device, fault, new SeededRand(fault.seed), realClock);
  let pcap: PcapLink | null = null;
  let pcapng: PcapngWriter | null = null;
  if (options.pcap) {
    // The PcapLink closes its file when the device closes.
    const f = pcapFileSink(options.pcap);
    const linkType = tun.medium === 'ethernet' ? LINKTYPE_ETHERNET : LINKTYPE_RAW;
    const writer = options.pcap.endsWith('.pcapng') ? (pcapng = new PcapngWriter(f.sink, linkType, tun.name)) : PcapWriter.forMedium(f.sink, tun.medium);
    device = pcap = new PcapLink(device, writer, wallClock, f.close);
  }
  const stack = new Stack(device, { addr, prefixLen, gateway, ...v6Config(a6), tcp: options.tcp ?? {} }, osSeededRand(options.seed));
  // What goes through the loopback interface is captured too (see PcapLink.recordLoopback).
  if (pcap) {
    stack.ip.loopbackTap = (b, off, len) => pcap.recordLoopback(b, off, len);
    if (stack.ip6) stack.ip6.loopbackTap = (b, off, len) => pcap.recordLoopback(b, off, len);
  }
  const traceClose = traceOn(stack, options.trace);
  if (pcap && pcapng) chainTracer(stack, explainCapture(stack, pcap, pcapng));
  const runtime = new Runtime(stack, device);
  const busyPollUs = options.busyPollUs ?? 0;
  if (!Number.isInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > 1000) throw new RangeError(`busyPollUs must be an integer from 0 to 1000, not ${String(busyPollUs)}`);
  runtime.busyPollUs = busyPollUs;
  const summary = [
    `device   ${tun.name} (${medium === 'ip' ? 'TUN, IP packets' : 'TAP, Ethernet frames'}), MTU ${tun.mtu}${tun.tcpOffload ? ', checksum + TCP segmentation offload' : ''}${options.configure === false ? ', attached as configured' : ''}`,
    `kernel   ${gateway !== undefined ? `${formatIpv4(gateway)}/${prefixLen}` : '(no address)'}${a6?.gateway ? `  ${formatIpv6(a6.gateway)}/${a6.prefixLen}` : ''}${tun.kernelMac ? `  mac ${formatMac(tun.kernelMac)}` : ''}`,
    `stack    ${formatIpv4(addr)}/${prefixLen}${stack.ip6 ? `  ${stack.ip6.route.describe()}` : ''}${tun.mac ? `  mac ${formatMac(tun.mac)}` : ''}`,
    ...(fault ? [`faults   ${JSON.stringify(fault)}`] : []),
    ...(options.pcap ? [`pcap     ${options.pcap}`] : []),
    ...(options.trace ? [`trace    ${options.trace}`] : []),
  ];
  const host = new TunHost(stack, runtime, tun, summary, () => traceClose(), nameOptions(options));
  runtime.start();
  return host;
}

/**
 * Puts a stack on a device of your own (anything that implements `LinkDevice`: a
 * WebSocket tunnel, a pipe to another process, an in-memory wire) and runs it on the
 * event loop with the real clock (or `clock`). For tests on a manual clock, use
 * `SimNetwork` from `tcpip-ts/sim` instead.
 */
export function createStack(options: CreateStackOptions): StackHost {
  if (options === null || typeof options !== 'object' || !options.link) throw new TypeError('createStack(options): options.link (a LinkDevice) is required');
  const { addr, prefixLen, gateway } = addressing(options.addr, options.gateway);
  const a6 = options.addr6 !== undefined ? addressing6(options.addr6, options.gateway6) : undefined;
  const stack = new Stack(options.link, { addr, prefixLen, gateway, ...v6Config(a6), tcp: options.tcp ?? {} }, options.rand ?? new CryptoRand());
  const traceClose = traceOn(stack, options.trace);
  const runtime = new Runtime(stack, options.link, options.clock ?? realClock);
  const host = new StackHost(stack, runtime, traceClose, nameOptions(options));
  runtime.start();
  return host;
}
