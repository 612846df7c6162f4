/**
 * Whole stacks in one process over in-memory links, all on one manual clock: the base
 * of whole-stack tests and of deterministic simulation. Nothing waits in real time:
 * `run()` delivers frames, polls the stacks, lets promise continuations run, and jumps
 * the clock straight to the next timer.
 */
import { ManualClock } from '../core/clock.js';
import { SeededRand } from '../core/rand.js';
import { parseCidr, parseIpv4 } from '../ip/address.js';
import { parseCidr6, type Ipv6Addr } from '../ip/ipv6-address.js';
import type { LinkDevice } from '../link/link-device.js';
import { FaultLink, NO_FAULTS, parseFaultSpec, type FaultConfig } from '../link/fault-link.js';
import { MemoryLink } from '../link/memory-link.js';
import { LINKTYPE_RAW, PcapLink, PcapWriter, type CaptureWriter } from '../link/pcap.js';
import { PcapngWriter } from '../link/pcapng.js';
import { explainCapture } from '../observe/capture-notes.js';
import { dgramFace, type DgramFace } from '../socket/dgram.js';
import { KeepAliveCount, makeHost, type SocketHost } from '../socket/host.js';
import { netFace, type NetFace } from '../socket/net.js';
import type { NameOptions } from '../socket/names.js';
import { SocketApi } from '../socket/socket-api.js';
import { Stack, type StackConfig } from '../stack.js';

/** One simulated host: a stack on its end of an in-memory wire, with its sockets in every shape. */
export interface SimHost {
  /** The host's name, for messages (`'a'`, `'b'`). */
  name: string;
  /** Its address with prefix, e.g. `'10.7.0.1/24'`. */
  cidr: string;
  /** Its IPv6 address with prefix (`'fd00:7::1/64'`), when it has one. */
  cidr6?: string;
  /** The seed of its stack's SeededRand (`reboot` moves it on by one). */
  seed: number;
  /** Its stack (a new one after `reboot`). */
  stack: Stack;
  /** Its end of the in-memory wire. */
  link: MemoryLink;
  /** The device the stack runs on: `link`, or a FaultLink or PcapLink around it. */
  device: LinkDevice;
  /** The SocketHost its sockets run on (the simulation's clock and timers). */
  host: SocketHost;
  /** The BSD socket facade on this host's stack. */
  api: SocketApi;
  /** `node:net` on this host's stack (`createServer`, `connect`, ...). */
  net: NetFace;
  /** `node:dgram` on this host's stack (`createSocket('udp4')`). */
  dgram: DgramFace;
  /** Whether this host's open, ref'ed sockets and servers would keep a real process alive. */
  alive: KeepAliveCount;
}

/** Lets every queued promise continuation run (no timers, no real time). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A simulated network: hosts on in-memory wires, all on one ManualClock. `run*`/`until`
 * deliver frames, poll the stacks and move the clock straight to the next timer, so a
 * test never waits in real time and replays exactly from its seeds.
 */
export class SimNetwork {
  /** The clock every host's stack runs on (ms). */
  readonly clock: ManualClock;
  /** Every host, in the order added. */
  readonly hosts: SimHost[] = [];
  private dirty = false;

  /** An empty network whose clock starts at `start` ms. */
  constructor(start = 1_000_000) {
    this.clock = new ManualClock(start);
  }

  /**
   * Two hosts joined by one in-memory wire. `wrap` may put a fault injector or a pcap
   * recorder on each end.
   */
  static pair(opts: {
    /** Host a's address with prefix; default `'10.7.0.1/24'`. */
    a?: string;
    /** Host b's address with prefix; default `'10.7.0.2/24'`. */
    b?: string;
    /**
     * IPv6 beside IPv4: true gives the hosts fd00:7::1/64 and fd00:7::2/64; or give
     * `a6`/`b6`. Default false (IPv4 only).
     */
    ipv6?: boolean;
    /** Host a's IPv6 address with prefix (implies `ipv6`). */
    a6?: string;
    /** Host b's IPv6 address with prefix (implies `ipv6`). */
    b6?: string;
    /** Seeds the hosts' stacks (a gets `seed`, b `seed + 1`) and the fault injectors; default 1. */
    seed?: number;
    /** The wire's MTU; default 1500. */
    mtu?: number;
    /** Wraps each end's link (index 0 for a, 1 for b) in a device of your own. */
    wrap?: (link: MemoryLink, clock: ManualClock, index: number) => LinkDevice;
    /**
     * Faults on the wire, both ends (a `FaultLink` on each, seeded from `seed`): a spec
     * such as `'loss=5%,reorder=2%,dup=1%'` or a partial `FaultConfig`.
     */
    faults?: string | Partial<FaultConfig>;
    /** TCP tunables for both stacks. */
    tcp?: StackConfig['tcp'];
    /** Record every frame host a sends and receives (see `pcap()`); `'pcapng'` with a comment on each frame saying why it was sent or dropped. */
    pcap?: boolean | 'pcapng';
  } = {}): {
    /** The network, to run. */
    net: SimNetwork;
    /** The first host (10.7.0.1 by default). */
    a: SimHost;
    /** The second host (10.7.0.2 by default). */
    b: SimHost;
  } {
    const net = new SimNetwork();
    if (opts.faults !== undefined && !opts.wrap) {
      const f = typeof opts.faults === 'string' ? parseFaultSpec(opts.faults) : { ...NO_FAULTS, ...opts.faults };
      const seed = opts.seed ?? 1;
      opts = { ...opts, wrap: (link, clock, i) => new FaultLink(link, { ...f, seed: seed * 2 + i }, new SeededRand(seed * 2 + i), clock) };
    }
    const [la, lb] = MemoryLink.pair('ip', opts.mtu ?? 1500);
    la.recordSent = false;
    lb.recordSent = false;
    let da: LinkDevice = opts.wrap?.(la, net.clock, 0) ?? la;
    if (opts.pcap) {
      // Recorded outside the fault injector: the trace shows what really crossed the wire.
      const sink = (chunk: Uint8Array): void => void net.pcapChunks.push(chunk.slice());
      net.pcapWriter = opts.pcap === 'pcapng' ? new PcapngWriter(sink, LINKTYPE_RAW, 'sim0') : new PcapWriter(sink, LINKTYPE_RAW);
      da = new PcapLink(da, net.pcapWriter, { now: () => net.clock.now() });
    }
    const six = opts.ipv6 === true || opts.a6 !== undefined || opts.b6 !== undefined;
    const a = net.add('a', la, opts.a ?? '10.7.0.1/24', opts.seed ?? 1, da, undefined, opts.tcp, {}, six ? (opts.a6 ?? 'fd00:7::1/64') : undefined);
    if (da instanceof PcapLink) {
      const p = da;
      a.stack.ip.loopbackTap = (b, off, len) => p.recordLoopback(b, off, len); // host a's loopback traffic too
      if (p.writer instanceof PcapngWriter) a.stack.tcp.tracer = explainCapture(a.stack, p, p.writer);
    }
    const b = net.add('b', lb, opts.b ?? '10.7.0.2/24', (opts.seed ?? 1) + 1, opts.wrap?.(lb, net.clock, 1), undefined, opts.tcp, {}, six ? (opts.b6 ?? 'fd00:7::2/64') : undefined);
    return { net, a, b };
  }

  private pcapWriter: CaptureWriter | null = null;
  private readonly pcapChunks: Uint8Array[] = [];

  /** The recorded trace as a pcap file's bytes (simulated time as timestamps). */
  pcap(): Uint8Array {
    this.pcapWriter?.flush();
    return Buffer.concat(this.pcapChunks);
  }

  /**
   * Adds a host: a stack at `cidr` (e.g. `'10.7.0.3/24'`) seeded with `seed`, on `device`
   * (by default `link` itself; give a wrapper around `link` to inject faults or record).
   * `link` is the host's end of a MemoryLink pair whose other end belongs to another host.
   * `cidr6` gives it an IPv6 address too (`'fd00:7::3/64'`).
   */
  add(name: string, link: MemoryLink, cidr: string, seed: number, device: LinkDevice = link, gateway?: string, tcp: StackConfig['tcp'] = {}, names: NameOptions = {}, cidr6?: string): SimHost {
    const { addr, prefixLen } = parseCidr(cidr);
    const stack = new Stack(device, { addr, prefixLen, gateway: gateway ? parseIpv4(gateway) : undefined, ...v6(cidr6), tcp }, new SeededRand(seed));
    stack.onInternalError = (err) => {
      throw err; // in simulation a bug must fail the test loudly
    };
    device.setReceiver(stack.receiverFor(() => this.clock.now(), () => (this.dirty = true)));
    const alive = new KeepAliveCount();
    const host = makeHost(stack, () => this.clock.now(), () => (this.dirty = true), alive);
    const api = new SocketApi(host, { hostName: name, ...names });
    const h: SimHost = { name, cidr, ...(cidr6 !== undefined ? { cidr6 } : {}), seed, stack, link, device, host, api, net: netFace(api), dgram: dgramFace(api), alive };
    this.hosts.push(h);
    return h;
  }

  /**
   * The host crashes and comes back with a fresh stack on the same wire and address: it
   * has forgotten every connection (its peer learns so from the RSTs it gets back).
   * Sockets of the old stack are left dangling, as a crashed process's would be.
   */
  reboot(h: SimHost, tcp: StackConfig['tcp'] = {}): void {
    const { addr, prefixLen } = parseCidr(h.cidr);
    h.seed++;
    const stack = new Stack(h.device, { addr, prefixLen, ...v6(h.cidr6), tcp }, new SeededRand(h.seed));
    stack.onInternalError = (err) => {
      throw err;
    };
    h.device.setReceiver(stack.receiverFor(() => this.clock.now(), () => (this.dirty = true)));
    h.stack = stack;
    h.alive = new KeepAliveCount();
    h.host = makeHost(stack, () => this.clock.now(), () => (this.dirty = true), h.alive);
    h.api = new SocketApi(h.host, { hostName: h.name });
    h.net = netFace(h.api);
    h.dgram = dgramFace(h.api);
  }

  /** One round: deliver what is on the wires, poll every stack, let promises run. */
  async step(): Promise<boolean> {
    let moved = false;
    const now = this.clock.now();
    for (const h of this.hosts) {
      if (h.link.deliver() > 0) moved = true;
    }
    for (const h of this.hosts) {
      h.device.poll?.(now);
      h.stack.poll(now);
    }
    // The end of a round, as the runtime's flush after each poll: a capture's notes that no
    // frame took are dropped here.
    this.pcapWriter?.flush();
    await settle();
    if (this.dirty) {
      this.dirty = false;
      moved = true;
    }
    for (const h of this.hosts) if (h.link.inbox.length > 0) moved = true;
    return moved;
  }

  private nextTimer(): number | undefined {
    let t: number | undefined;
    for (const h of this.hosts) {
      for (const x of [h.stack.pollAt(), h.device.pollAt?.()]) if (x !== undefined && (t === undefined || x < t)) t = x;
    }
    return t;
  }

  private stuckAt = -1;
  private stuckCount = 0;

  /** A timer that stays due after it has been run is a bug: time would stop. */
  private advanceTo(t: number): void {
    const now = this.clock.now();
    if (t <= now) {
      if (this.stuckAt === now && ++this.stuckCount > 1000) {
        throw new Error(`SimNetwork: a timer stays due at t=${now} after polling (a timer livelock): ${this.describeTimers()}`);
      }
      if (this.stuckAt !== now) {
        this.stuckAt = now;
        this.stuckCount = 0;
      }
    }
    this.clock.set(Math.max(now, t));
  }

  /** Every connection's sequence state and pending timers, and each stack's next poll, on one line (for livelock reports). */
  describeTimers(): string {
    const out: string[] = [];
    for (const h of this.hosts) {
      for (const c of h.stack.tcp.connections) {
        const s = c.snd;
        out.push(`${h.name} ${c.describe()} ${c.state} una=${s.una - s.iss} nxt=${s.nxt - s.iss} max=${s.max - s.iss} rcvNxt=${c.rcv.nxt - c.rcv.irs} sndBuf=${s.buf.length} sndWnd=${s.wnd} cwnd=${Math.round(c.cc.cwnd)} recovery=${c.loss.state} sacked=${JSON.stringify(c.rtx.sackedRanges().map(([x, y]) => [x - s.iss, y - s.iss]))} fin=${s.finSeq === -1 ? -1 : s.finSeq - s.iss} timers: ${c.timers.describe(this.clock.now())}`);
      }
      out.push(`${h.name} pollAt=${h.stack.pollAt()}`);
    }
    return out.join('; ');
  }

  /** Runs until `ms` of simulated time have passed. */
  async runFor(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      let rounds = 0;
      while (await this.step()) {
        if (++rounds > 100_000) throw new Error('SimNetwork: no quiescence after 100000 rounds (a livelock?)');
      }
      const t = this.nextTimer();
      if (t === undefined || t > end) break;
      this.advanceTo(t);
    }
    this.clock.set(Math.max(this.clock.now(), end));
    while (await this.step());
  }

  /** Runs until `p` settles (or `maxMs` of simulated time pass) and returns its value. */
  async until<T>(p: Promise<T>, maxMs = 600_000): Promise<T> {
    let done = false;
    const tracked = p.finally(() => (done = true));
    tracked.catch(() => {});
    const end = this.clock.now() + maxMs;
    while (!done) {
      const moved = await this.step();
      if (done) break;
      if (moved) continue;
      const t = this.nextTimer();
      if (t === undefined || t > end) throw new Error(`SimNetwork.until: nothing left to run at t=${this.clock.now()} and the promise is still pending: ${this.describeTimers()}`);
      this.advanceTo(t);
    }
    return tracked;
  }
}

/** A Stack's IPv6 settings from `'fd00:7::1/64'`. */
function v6(cidr6: string | undefined): { addr6?: Ipv6Addr; prefixLen6?: number } {
  if (cidr6 === undefined) return {};
  const { addr, prefixLen } = parseCidr6(cidr6.includes('/') ? cidr6 : `${cidr6}/64`);
  return { addr6: addr, prefixLen6: prefixLen };
}
