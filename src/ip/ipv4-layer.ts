/**
 * The IPv4 layer: validates what the link hands up, reassembles fragments, demultiplexes
 * by protocol; on the way down it adds the header, picks source and next hop, and
 * fragments datagrams larger than the MTU.
 *
 * Sending without allocation: a transport writes its payload into `ip.tx` at
 * `TX_PAYLOAD_OFFSET`, then calls `ip.send(...)`; the IP header goes in front of it and
 * room for a link header (Ethernet) is left in front of that.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import type { Rand } from '../core/rand.js';
import { formatIpv4, isMartianSource, type Ipv4Addr } from './address.js';
import type { IpAddr } from './ip-address.js';
import { Icmp } from './icmp.js';
import { UNREACH_PROTOCOL } from './icmp-packet.js';
import { IPV4_HEADER_LEN, IP_PROTO_ICMP, Ipv4Packet, writeIpv4Header } from './ipv4-packet.js';
import { LOOPBACK_MTU, LoopbackQueue } from './loopback.js';
import { Reassembler, type ReassemblyLimits } from './reassembly.js';
import type { Route } from './route.js';

const log = logger('ip');

/**
 * Room left in front of every outgoing IP header for the link's own header: Ethernet's 14
 * and, in a device's transmit slot, the 10-byte virtio-net header before that (24 keeps
 * the IP header and payload 4-byte aligned).
 */
export const LINK_HEADROOM = 24;
/** Where a transport writes its payload in `ip.tx`: room for the larger (IPv6) header and the link's. */
export const TX_PAYLOAD_OFFSET = LINK_HEADROOM + 40;

/**
 * Where the stack builds each outgoing packet (`ip.tx`): the device's next transmit slot
 * when the device lends one (`LinkDevice.txSlot`), so that a segment's bytes are copied
 * once, from the socket's buffer into the frame the device writes, else a buffer of the
 * stack's own, which the device then copies. Read `buf` afresh for every packet: once a
 * packet is sent, the next one goes in another slot.
 */
export class TxBuffer {
  private readonly own: Uint8Array | null;
  constructor(private readonly lender: { txSlot?(): Uint8Array } | null = null) {
    this.own = lender?.txSlot ? null : new Uint8Array(TX_PAYLOAD_OFFSET + 65535);
  }

  get buf(): Uint8Array {
    return this.own ?? this.lender!.txSlot!();
  }

  private scratch: Uint8Array | null = null;

  /**
   * The bytes `b[off, off+len)` of a datagram about to be fragmented, somewhere the
   * fragments will not overwrite: `b` itself, or when `b` is a slot lent by the device
   * (each fragment is copied into a slot) a copy in a buffer the IP layers share, from 0.
   */
  fragmentSource(b: Uint8Array, off: number, len: number): Uint8Array {
    if (this.own !== null || b.buffer !== this.lender!.txSlot!().buffer) return b;
    this.scratch ??= new Uint8Array(65535);
    this.scratch.set(b.subarray(off, off + len));
    return this.scratch;
  }
}
export const MAX_IP_PAYLOAD = 65535 - IPV4_HEADER_LEN;
export const DEFAULT_TTL = 64; // Linux net.ipv4.ip_default_ttl

/** What the link layer below offers the IP layer. */
export interface IpOutput {
  /**
   * Sends one IP datagram held in `b[off, off+len)`. `b` has at least LINK_HEADROOM bytes
   * of room before `off`, which the link may use for its header. The bytes are consumed
   * (copied or written) before this returns.
   */
  sendIp(b: Uint8Array, off: number, len: number, nextHop: IpAddr, now: number, tso?: number): void;
  /** The link takes TCP segments with partial checksums, up to 64 KiB (see LinkDevice.tcpOffload). */
  readonly tcpOffload?: boolean;
}

/** An ICMP error about a datagram this host sent, as handed to that datagram's transport. */
export interface IcmpErrorReport {
  type: number;
  code: number;
  /** For "fragmentation needed" (RFC 1191). */
  nextHopMtu: number;
  /** The offending datagram's source (us) and destination. */
  src: IpAddr;
  dst: IpAddr;
  protocol: number;
  /** The start of the offending datagram's transport header (at least 8 bytes). */
  data: Uint8Array;
}

export interface TransportHandler {
  /** A datagram for this host (from either IP family); the bytes are only valid during the call. */
  receive(src: IpAddr, dst: IpAddr, b: Uint8Array, off: number, len: number, now: number): void;
  icmpError?(e: IcmpErrorReport, now: number): void;
}

export interface SendOptions {
  ttl?: number;
  tos?: number;
  /** Set DF; a datagram that does not fit the MTU then fails with EMSGSIZE. */
  dontFrag?: boolean;
  /**
   * A TCP segment for an offloading link (`tcpOffloadTo(dst)` said yes): its checksum
   * is partial and the link cuts it into segments of `tso` payload bytes; it may exceed
   * the MTU.
   */
  tso?: number;
  /** IPv6: send from `src` exactly, even the unspecified address (duplicate address detection, RFC 4862 §5.4.2). */
  rawSource?: boolean;
}

export type SendError = 'EMSGSIZE' | 'EHOSTUNREACH' | 'ENETUNREACH';

const COUNTER_KEYS = [
  'received', 'delivered', 'sent', 'fragmentsReceived', 'reassembled', 'fragmentsSent', 'loopback',
  // datagrams dropped because the loopback queue was full
  'loopbackDrops',
  // drops, by reason
  'truncated', 'badVersion', 'badHeaderLength', 'badTotalLength', 'badChecksum', 'notForUs',
  'martianSource', 'unknownProtocol', 'fragDuplicate', 'fragOverlap', 'fragOversized',
  'fragInconsistent', 'fragMalformed', 'fragEvicted', 'fragTimeout', 'fragTooMany',
  // send-side failures
  'outNoRoute', 'outTooBig',
] as const;
export type IpCounter = (typeof COUNTER_KEYS)[number];

export interface Ipv4LayerOptions {
  mtu: number;
  reassembly?: Partial<ReassemblyLimits>;
}

export class Ipv4Layer {
  readonly counters: CounterSet<IpCounter> = counters(COUNTER_KEYS);
  readonly icmp: Icmp;
  mtu: number;

  private readonly handlers: (TransportHandler | undefined)[] = new Array(256);
  private readonly reassembler: Reassembler;
  private readonly rx = new Ipv4Packet();
  private readonly frag = new Uint8Array(LINK_HEADROOM + 65535);
  private readonly loopbackQueue = new LoopbackQueue();
  /** Sees each datagram that goes through the loopback interface (for pcap). */
  loopbackTap: ((b: Uint8Array, off: number, len: number) => void) | null = null;
  private ident: number;

  // The datagram being delivered right now, so that a transport can answer it with an
  // ICMP error (port unreachable) that quotes it.
  curHeader: Uint8Array = new Uint8Array(0);
  curHeaderOff = 0;
  curHeaderLen = 0;
  curPayload: Uint8Array = this.curHeader;
  curPayloadOff = 0;
  curPayloadLen = 0;
  curDst: Ipv4Addr = 0;
  /** The TOS byte of the datagram being delivered (its low two bits: the ECN field, RFC 3168). */
  curTos = 0;
  /**
   * The device vouched for the transport checksum of the datagram being delivered
   * (receive checksum offload): TCP and UDP skip verifying it. Never for reassembled or
   * looped-back datagrams.
   */
  rxChecksumOk = false;

  constructor(
    readonly route: Route,
    private readonly out: IpOutput,
    rand: Rand,
    opts: Ipv4LayerOptions,
    /** Where transports build outgoing packets (shared with IPv6). */
    readonly txb: TxBuffer = new TxBuffer(),
  ) {
    if (opts.mtu < 68 || opts.mtu > 65535) throw new RangeError(`MTU ${opts.mtu} is outside 68..65535 (RFC 791)`);
    this.mtu = opts.mtu;
    this.ident = rand.u32() & 0xffff;
    this.reassembler = new Reassembler(opts.reassembly, (reason) => this.counters[reason]++);
    this.icmp = new Icmp(this);
    this.handlers[IP_PROTO_ICMP] = this.icmp;
  }

  /** Transports write an outgoing payload here, at TX_PAYLOAD_OFFSET (read it afresh for each packet). */
  get tx(): Uint8Array {
    return this.txb.buf;
  }

  /** May TCP hand segments for `dst` to the link with partial checksums and longer than the MTU? (Not to ourselves: loopback verifies checksums.) */
  tcpOffloadTo(dst: Ipv4Addr): boolean {
    return this.out.tcpOffload === true && !this.route.isLocal(dst);
  }

  /** The MTU towards `dst`: the loopback interface's for this host's own addresses, else the device's. */
  mtuTo(dst: Ipv4Addr): number {
    return this.route.isLocal(dst) ? LOOPBACK_MTU : this.mtu;
  }

  register(protocol: number, h: TransportHandler): void {
    if (this.handlers[protocol]) throw new Error(`IP protocol ${protocol} already has a handler`);
    this.handlers[protocol] = h;
  }

  handler(protocol: number): TransportHandler | undefined {
    return this.handlers[protocol];
  }

  /** One IP datagram from the link. Never throws on any input. */
  receive(b: Uint8Array, o: number, n: number, now: number, checksumOk = false): void {
    this.counters.received++;
    try {
      this.rxChecksumOk = checksumOk;
      this.receiveChecked(b, o, n, now);
    } finally {
      this.rxChecksumOk = false;
    }
  }

  private receiveChecked(b: Uint8Array, o: number, n: number, now: number): void {
    const p = this.rx.reset(b, o, n);
    const bad = p.checkLen();
    if (bad !== null) return this.drop(bad, p);
    if (!p.verifyChecksum()) return this.drop('badChecksum', p);
    if (log.enabled) log(`< ${p.toString()}`);
    const dst = p.dst();
    const src = p.src();
    if (!this.route.accepts(dst)) return this.drop('notForUs', p);
    // RFC 1122 §3.2.1.3 / RFC 1812 §5.3.7: discard martian and broadcast sources, and our
    // own address arriving from the wire (a "land" packet).
    if (isMartianSource(src) || this.route.isBroadcast(src) || src === this.route.addr) return this.drop('martianSource', p);
    // RFC 1122 §3.2.1.7: a host must not discard a datagram because its TTL is below 2
    // (TTL is a router's business), so TTL is not checked on receipt.
    this.dispatch(p, now);
  }

  private dispatch(p: Ipv4Packet, now: number): void {
    this.curDst = p.dst();
    this.curTos = p.tos();
    if (p.isFragment()) {
      this.counters.fragmentsReceived++;
      const whole = this.reassembler.add(p, now);
      if (whole === null) return;
      this.rxChecksumOk = false;
      this.counters.reassembled++;
      this.curHeader = whole.header;
      this.curHeaderOff = 0;
      this.curHeaderLen = whole.header.length;
      this.curPayload = whole.payload;
      this.curPayloadOff = 0;
      this.curPayloadLen = whole.payload.length;
      this.deliver(whole.protocol, whole.src as Ipv4Addr, whole.dst as Ipv4Addr, whole.payload, 0, whole.payload.length, now);
      return;
    }
    this.curHeader = p.b;
    this.curHeaderOff = p.o;
    this.curHeaderLen = p.headerLen();
    this.curPayload = p.b;
    this.curPayloadOff = p.payloadOffset();
    this.curPayloadLen = p.payloadLen();
    this.deliver(p.protocol(), p.src(), p.dst(), p.b, p.payloadOffset(), p.payloadLen(), now);
  }

  private deliver(protocol: number, src: Ipv4Addr, dst: Ipv4Addr, b: Uint8Array, off: number, len: number, now: number): void {
    const h = this.handlers[protocol];
    if (h === undefined) {
      this.counters.unknownProtocol++;
      // RFC 1122 §3.2.2.1: protocol unreachable for a transport we do not implement.
      this.icmp.sendUnreachableForCurrent(UNREACH_PROTOCOL, now);
      return;
    }
    this.counters.delivered++;
    h.receive(src, dst, b, off, len, now);
  }

  private drop(reason: IpCounter, p: Ipv4Packet): void {
    this.counters[reason]++;
    if (log.enabled) log(`drop ${reason}: ${p.toString()}`);
  }

  /**
   * Sends the `payloadLen` bytes at `tx[TX_PAYLOAD_OFFSET]` to `dst`. `src` 0 means our
   * address. Returns null, or why it could not be sent.
   */
  send(protocol: number, src: Ipv4Addr, dst: Ipv4Addr, payloadLen: number, now: number, opts?: SendOptions): SendError | null {
    return this.sendFrom(this.tx, TX_PAYLOAD_OFFSET, protocol, src, dst, payloadLen, now, opts);
  }

  /** As `send`, for a payload at `b[off]` with LINK_HEADROOM + 20 bytes of room before it. */
  sendFrom(
    b: Uint8Array, off: number, protocol: number, src: Ipv4Addr, dst: Ipv4Addr, payloadLen: number, now: number,
    opts?: SendOptions,
  ): SendError | null {
    if (payloadLen > MAX_IP_PAYLOAD) {
      this.counters.outTooBig++;
      return 'EMSGSIZE';
    }
    const from = src === 0 ? this.route.sourceFor(dst) : src;
    const ttl = opts?.ttl ?? DEFAULT_TTL;
    const tos = opts?.tos ?? 0;
    const df = opts?.dontFrag ?? false;
    const ident = this.ident;
    this.ident = (this.ident + 1) & 0xffff;
    const total = IPV4_HEADER_LEN + payloadLen;
    const h = off - IPV4_HEADER_LEN;

    if (this.route.isLocal(dst)) {
      // To ourselves: never on the wire (RFC 1122 §3.2.1.3). Queued, and delivered from
      // poll(), so that a transport is never re-entered from its own send.
      writeIpv4Header(b, h, from, dst, protocol, ttl, tos, ident, df, false, 0, payloadLen);
      if (!this.loopbackQueue.push(b, h, total)) {
        this.counters.loopbackDrops++;
        return null; // dropped as a full device queue drops: the transport recovers
      }
      if (this.loopbackTap) this.loopbackTap(b, h, total);
      this.counters.sent++;
      this.counters.loopback++;
      return null;
    }
    const nextHop = this.route.nextHop(dst);
    if (nextHop === -1) {
      this.counters.outNoRoute++;
      return 'ENETUNREACH';
    }
    const tso = opts?.tso ?? 0;
    if (total <= this.mtu || tso > 0) {
      writeIpv4Header(b, h, from, dst, protocol, ttl, tos, ident, df, false, 0, payloadLen);
      if (log.enabled) log(`> ${this.rx.reset(b, h, total).toString()}`);
      this.counters.sent++;
      this.out.sendIp(b, h, total, nextHop, now, tso);
      return null;
    }
    if (df) {
      this.counters.outTooBig++;
      return 'EMSGSIZE';
    }
    // RFC 791 §3.2: fragment into pieces whose data is a multiple of 8 bytes. A datagram
    // built in the device's slot is copied out first: the fragments are copied into that slot.
    const whole = this.txb.fragmentSource(b, off, payloadLen);
    if (whole !== b) [b, off] = [whole, 0];
    const chunk = ((this.mtu - IPV4_HEADER_LEN) >> 3) << 3;
    const fb = this.frag;
    const fh = LINK_HEADROOM;
    for (let at = 0; at < payloadLen; at += chunk) {
      const len = Math.min(chunk, payloadLen - at);
      const more = at + len < payloadLen;
      writeIpv4Header(fb, fh, from, dst, protocol, ttl, tos, ident, false, more, at, len);
      fb.set(b.subarray(off + at, off + at + len), fh + IPV4_HEADER_LEN);
      if (log.enabled) log(`> ${this.rx.reset(fb, fh, IPV4_HEADER_LEN + len).toString()}`);
      this.counters.fragmentsSent++;
      this.out.sendIp(fb, fh, IPV4_HEADER_LEN + len, nextHop, now);
    }
    this.counters.sent++;
    return null;
  }

  /** Timers (reassembly). The loopback queue is delivered by `deliverLoopback`. */
  poll(now: number): void {
    // (Only with fragments pending: the closure and the iteration cost an allocation per poll.)
    if (this.reassembler.datagramsInProgress > 0) this.reassembler.poll(now, (head) => this.icmp.sendReassemblyTimeout(head, now));
  }

  /** Datagrams are waiting on the loopback interface. */
  loopbackPending(): boolean {
    return this.loopbackQueue.length > 0;
  }

  /**
   * Delivers up to `max` looped-back datagrams (and what delivering them queues), as the
   * device's frames are delivered: the checksums are verified, never vouched for.
   * Returns how many.
   */
  deliverLoopback(now: number, max: number): number {
    this.loopbackNow = now;
    return this.loopbackQueue.drain(this.deliverOne, max);
  }

  private loopbackNow = 0;
  private readonly deliverOne = (b: Uint8Array, off: number, len: number): void => {
    this.counters.received++;
    this.rxChecksumOk = false;
    const p = this.rx.reset(b, off, len);
    if (p.checkLen() !== null || !p.verifyChecksum()) {
      this.counters.badChecksum++;
      return;
    }
    this.dispatch(p, this.loopbackNow);
  };

  pollAt(): number | undefined {
    if (this.loopbackQueue.length > 0) return 0;
    return this.reassembler.datagramsInProgress > 0 ? this.reassembler.pollAt() : undefined;
  }

  get reassembly(): { datagrams: number; bytes: number } {
    return { datagrams: this.reassembler.datagramsInProgress, bytes: this.reassembler.bytesHeld };
  }

  describe(): string {
    return `${formatIpv4(this.route.addr)}/${this.route.prefixLen} mtu ${this.mtu}`;
  }
}
