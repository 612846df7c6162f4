/**
 * The IPv6 layer (RFC 8200), IPv4's sibling: validates what the link hands up, walks the
 * extension header chain in order (§4.1), reassembles fragments (§4.5), demultiplexes by
 * next header; on the way down it adds the header with a flow label per flow (RFC 6437),
 * picks the source (route6.ts) and fragments what it originates above the path MTU
 * (RFC 8201, path-mtu.ts).
 *
 * It shares IPv4's transmit buffer: a transport writes its payload at TX_PAYLOAD_OFFSET,
 * which leaves room for the 40-byte header and the link's own in front of it.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import type { Rand } from '../core/rand.js';
import { writeU16 } from '../core/bytes.js';
import { Icmpv6 } from './icmpv6.js';
import {
  ICMPV6_PARAMETER_PROBLEM, ICMPV6_TIME_EXCEEDED, PARAM6_HEADER, PARAM6_INCOMPLETE_CHAIN, PARAM6_NEXT_HEADER, PARAM6_OPTION,
  TIME6_REASSEMBLY,
} from './icmpv6-packet.js';
import { ipv6Hash, isLoopback6, isMulticast6, isUnspecified6, type Ipv6Addr } from './ipv6-address.js';
import {
  FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, IPV6_MIN_MTU, Ipv6Packet, NH_DEST_OPTS, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6,
  NH_NONE, NH_ROUTING, extHeaderLen, fragIdentAt, fragMoreAt, fragOffsetAt, isExtensionHeader, writeFragmentHeader,
  writeIpv6Header,
} from './ipv6-packet.js';
import { LINK_HEADROOM, TX_PAYLOAD_OFFSET, type IpOutput, type TxBuffer, type SendError, type SendOptions, type TransportHandler } from './ipv4-layer.js';
import { LOOPBACK_MTU, LoopbackQueue } from './loopback.js';
import { PathMtuCache } from './path-mtu.js';
import { Reassembler, type FragmentIn, type ReassemblyLimits } from './reassembly.js';
import type { Route6 } from './route6.js';

const log = logger('ip6');

export const DEFAULT_HOP_LIMIT = 64; // Linux net.ipv6.conf.all.hop_limit
/** At most this many extension headers are walked; more is a counted drop (RFC 8504 §5.3 lets a host limit them). */
const MAX_EXT_HEADERS = 8;

const COUNTER_KEYS = [
  'received', 'delivered', 'sent', 'fragmentsReceived', 'reassembled', 'fragmentsSent', 'atomicFragments', 'loopback', 'loopbackDrops',
  // drops, by reason
  'truncated', 'badVersion', 'badPayloadLength', 'notForUs', 'martianSource', 'unknownNextHeader', 'badExtHeader', 'hopByHopNotFirst',
  'badOption', 'unknownOption', 'routingHeader', 'tooManyExtHeaders', 'noNextHeader', 'incompleteChain', 'fragBadLength',
  'fragNested', 'fragDuplicate', 'fragOverlap', 'fragOversized', 'fragInconsistent', 'fragMalformed', 'fragEvicted', 'fragTimeout',
  'fragTooMany',
  // send-side failures
  'outNoRoute', 'outNoSource', 'outTooBig',
] as const;
export type Ip6Counter = (typeof COUNTER_KEYS)[number];

export interface Ipv6LayerOptions {
  mtu: number;
  reassembly?: Partial<ReassemblyLimits>;
}

export class Ipv6Layer {
  readonly counters: CounterSet<Ip6Counter> = counters(COUNTER_KEYS);
  readonly icmp: Icmpv6;
  readonly pathMtu: PathMtuCache;
  mtu: number;
  /** Sees each packet that goes through the loopback interface (for pcap). */
  loopbackTap: ((b: Uint8Array, off: number, len: number) => void) | null = null;

  private readonly handlers: (TransportHandler | undefined)[] = new Array(256);
  private readonly reassembler: Reassembler;
  private readonly rx = new Ipv6Packet();
  private readonly frag = new Uint8Array(LINK_HEADROOM + IPV6_MIN_MTU + 65535);
  private readonly loopbackQueue = new LoopbackQueue();
  private readonly flowSecret: number;
  private readonly fin: FragmentIn = {
    src: 0, dst: 0, protocol: 0, ident: 0, offset: 0, more: false, b: new Uint8Array(0), from: 0, len: 0, headFrom: 0, headLen: 0, maxPayload: 0,
  };

  // The packet being delivered right now (its IPv6 header first), so that a transport can
  // answer it with an ICMPv6 error that quotes it.
  curPacket: Uint8Array = new Uint8Array(0);
  curPacketOff = 0;
  curPacketLen = 0;
  curHopLimit = 0;
  /** The traffic class of the packet being delivered (its low two bits: ECN, RFC 3168 §5 / RFC 8200 §7). */
  curTc = 0;
  /** The device vouched for the transport checksum of the packet being delivered. */
  rxChecksumOk = false;
  /** The packet being delivered was reassembled from fragments (NDP refuses those, RFC 6980). */
  curReassembled = false;
  /** The packet being delivered came through the loopback interface (from ourselves). */
  curLooped = false;
  /** The packet being delivered came in a frame to a multicast or broadcast link address. */
  curLinkMulticast = false;

  constructor(
    readonly route: Route6,
    private readonly out: IpOutput,
    private readonly rand: Rand,
    opts: Ipv6LayerOptions,
    /** Where transports build outgoing packets, shared with IPv4. */
    readonly txb: TxBuffer,
  ) {
    if (opts.mtu < IPV6_MIN_MTU || opts.mtu > 65535) throw new RangeError(`MTU ${opts.mtu} is outside 1280..65535: IPv6 needs links of at least 1280 bytes (RFC 8200 §5); give a larger MTU, or no IPv6 address (--addr6 off)`);
    this.mtu = opts.mtu;
    this.pathMtu = new PathMtuCache(() => this.mtu);
    this.flowSecret = rand.u32();
    this.reassembler = new Reassembler(opts.reassembly, (reason) => this.counters[reason]++);
    this.icmp = new Icmpv6(this);
    this.handlers[NH_ICMPV6] = this.icmp;
  }

  register(nextHeader: number, h: TransportHandler): void {
    if (this.handlers[nextHeader]) throw new Error(`IPv6 next header ${nextHeader} already has a handler`);
    this.handlers[nextHeader] = h;
  }

  handler(nextHeader: number): TransportHandler | undefined {
    return this.handlers[nextHeader];
  }

  /** The MTU towards `dst`: the loopback interface's for our own addresses, else the path's. */
  mtuTo(dst: Ipv6Addr, now = 0): number {
    return this.route.isLocal(dst) ? LOOPBACK_MTU : this.pathMtu.get(dst, now);
  }

  tcpOffloadTo(dst: Ipv6Addr): boolean {
    return this.out.tcpOffload === true && !this.route.isLocal(dst);
  }

  /**
   * One IPv6 packet from the link. Never throws on any input. `linkMulticast`: it came in
   * a frame to a multicast or broadcast link address (what ICMPv6 errors must not answer).
   */
  receive(b: Uint8Array, o: number, n: number, now: number, checksumOk = false, linkMulticast = false): void {
    this.counters.received++;
    try {
      this.rxChecksumOk = checksumOk;
      this.curLinkMulticast = linkMulticast;
      this.receiveChecked(b, o, n, now, false);
    } finally {
      this.rxChecksumOk = false;
      this.curLinkMulticast = false;
    }
  }

  private receiveChecked(b: Uint8Array, o: number, n: number, now: number, looped: boolean): void {
    const p = this.rx.reset(b, o, n);
    const bad = p.checkLen();
    if (bad !== null) return this.drop(bad, p);
    if (log.enabled) log(`< ${p.toString()}`);
    const dst = p.dst();
    const src = p.src();
    if (!looped) {
      if (!this.route.accepts(dst)) return this.drop('notForUs', p);
      // RFC 4291 §2.5.2/§2.5.3/§2.7: never from a multicast address, ::1 or ourselves off the
      // wire. The unspecified source is legal only in DAD's neighbour solicitations, which
      // ICMPv6 checks (RFC 4861 §7.1.1).
      // (A tentative address of ours as the source is another host defending it: that
      // advertisement must reach duplicate address detection, RFC 4862 §5.4.4.)
      if (isMulticast6(src) || isLoopback6(src) || this.route.isOurs(src)) return this.drop('martianSource', p);
    }
    this.curHopLimit = p.hopLimit();
    this.curTc = p.trafficClass();
    this.curLooped = looped;
    this.walk(b, o, p.totalLen(), p.nextHeader(), o + IPV6_HEADER_LEN, o + 6, src, dst, now);
  }

  /**
   * Walks the extension header chain of the packet `b[o, o+total)` from `at`, where the
   * header `nh` starts (its type was read at `nhField`), and delivers what follows it
   * (RFC 8200 §4: headers are processed strictly in the order they appear).
   */
  private walk(
    b: Uint8Array, o: number, total: number, nh: number, at: number, nhField: number, src: Ipv6Addr, dst: Ipv6Addr, now: number,
    /** Headers already walked before `at` (a reassembled datagram's unfragmentable part and fragment header). */
    headersBefore = 0,
  ): void {
    const end = o + total;
    const reassembled = headersBefore > 0;
    let first = !reassembled;
    for (let count = headersBefore; isExtensionHeader(nh); count++) {
      if (count >= MAX_EXT_HEADERS) return this.drop6('tooManyExtHeaders');
      const hl = extHeaderLen(nh, b, at, end);
      if (hl < 0 || at + hl > end) {
        // RFC 8200 §4.5 / RFC 7112: a chain that runs past the packet.
        return this.paramProblem(PARAM6_HEADER, at - o, b, o, total, 'badExtHeader', now);
      }
      if (nh === NH_HOP_BY_HOP) {
        // §4.3: "The Hop-by-Hop Options header ... MUST immediately follow the IPv6 header"; elsewhere
        // it is an unrecognised Next Header (§4.1).
        if (!first) return this.paramProblem(PARAM6_NEXT_HEADER, nhField - o, b, o, total, 'hopByHopNotFirst', now);
        if (!this.options(b, o, total, at, hl, dst, now)) return;
      } else if (nh === NH_DEST_OPTS) {
        if (!this.options(b, o, total, at, hl, dst, now)) return;
      } else if (nh === NH_ROUTING) {
        // §4.4: with Segments Left 0 the header is ignored; otherwise a host, which routes
        // nothing and knows no routing type (type 0 is deprecated, RFC 5095 §3), answers
        // Parameter Problem pointing at the Routing Type.
        if (at + 4 > end) return this.paramProblem(PARAM6_HEADER, at - o, b, o, total, 'badExtHeader', now);
        if (b[at + 3] !== 0) return this.paramProblem(PARAM6_HEADER, at + 2 - o, b, o, total, 'routingHeader', now);
      } else {
        // NH_FRAGMENT: a second one in a reassembled datagram is refused.
        if (reassembled) return this.drop6('fragNested');
        const fo = fragOffsetAt(b, at);
        const more = fragMoreAt(b, at);
        if (fo === 0 && !more) {
          // RFC 6946 §4: an atomic fragment is processed on its own, never reassembled.
          this.counters.atomicFragments++;
        } else {
          return this.fragment(b, o, total, at, src, dst, now);
        }
      }
      nhField = at;
      nh = b[at]!;
      at += hl;
      first = false;
    }
    if (nh === NH_NONE) return this.drop6('noNextHeader'); // §4.7: nothing follows
    // RFC 4291 §2.5.2: the unspecified source is for duplicate address detection's
    // neighbour solicitations only (ICMPv6 checks those); a transport must never answer it.
    // Likewise our own (tentative) address as the source: only NDP may come from it.
    if (nh !== NH_ICMPV6 && !this.curLooped && (isUnspecified6(src) || this.route.isAssigned(src))) return this.drop6('martianSource');
    const h = this.handlers[nh];
    if (h === undefined) {
      // §4: an unrecognised Next Header: Parameter Problem code 1 pointing at the field.
      return this.paramProblem(PARAM6_NEXT_HEADER, nhField - o, b, o, total, 'unknownNextHeader', now);
    }
    this.curPacket = b;
    this.curPacketOff = o;
    this.curPacketLen = total;
    this.counters.delivered++;
    h.receive(src, dst, b, at, end - at, now);
  }

  /**
   * The TLV options of a hop-by-hop or destination options header (RFC 8200 §4.2). An
   * unrecognised option's two high bits decide: skip it, discard the packet, or discard
   * and send Parameter Problem code 2 (always, or only when the destination is not
   * multicast). Returns whether the packet lives on.
   */
  private options(b: Uint8Array, o: number, total: number, at: number, hl: number, dst: Ipv6Addr, now: number): boolean {
    let i = at + 2;
    const end = at + hl;
    while (i < end) {
      const type = b[i]!;
      if (type === 0) { i++; continue; } // Pad1
      if (i + 2 > end || i + 2 + b[i + 1]! > end) {
        this.paramProblem(PARAM6_HEADER, i - o, b, o, total, 'badOption', now);
        return false;
      }
      const len = b[i + 1]!;
      // PadN (1) and Router Alert (5, RFC 2711: only routers act on it) are understood.
      if (type !== 1 && type !== 5) {
        const action = type >>> 6;
        if (action === 1) { this.drop6('unknownOption'); return false; }
        if (action === 2 || (action === 3 && !isMulticast6(dst))) {
          this.paramProblem(PARAM6_OPTION, i - o, b, o, total, 'unknownOption', now, action === 2);
          return false;
        }
        if (action === 3) { this.drop6('unknownOption'); return false; }
      }
      i += 2 + len;
    }
    return true;
  }

  /** A fragment (not atomic) whose header is at `fh`: reassembled, then the rest of the chain walked. */
  private fragment(b: Uint8Array, o: number, total: number, fh: number, src: Ipv6Addr, dst: Ipv6Addr, now: number): void {
    this.counters.fragmentsReceived++;
    const end = o + total;
    const data = fh + FRAGMENT_HEADER_LEN;
    const len = end - data;
    const more = fragMoreAt(b, fh);
    const off = fragOffsetAt(b, fh);
    // §4.5: a fragment other than the last whose length is not a multiple of 8: Parameter
    // Problem code 0 pointing at the Payload Length field.
    if (more && (len & 7) !== 0) return this.paramProblem(PARAM6_HEADER, 4, b, o, total, 'fragBadLength', now);
    const unfragExt = fh - (o + IPV6_HEADER_LEN);
    if (off === 0 && !this.chainComplete(b, data, end, b[fh]!)) {
      // RFC 7112 §5: the first fragment must hold the whole header chain.
      return this.paramProblem(PARAM6_INCOMPLETE_CHAIN, 0, b, o, total, 'incompleteChain', now);
    }
    // §4.5: a fragment that would make the reassembled payload longer than 65,535 bytes:
    // Parameter Problem code 0 pointing at its Fragment Offset field.
    if (unfragExt + FRAGMENT_HEADER_LEN + off + len > 65535) {
      return this.paramProblem(PARAM6_HEADER, fh + 2 - o, b, o, total, 'fragOversized', now);
    }
    this.rxChecksumOk = false;
    const f = this.fin;
    f.src = src;
    f.dst = dst;
    f.protocol = 0;
    f.ident = fragIdentAt(b, fh);
    f.offset = off;
    f.more = more;
    f.b = b;
    f.from = data;
    f.len = len;
    // The first fragment's unfragmentable part and fragment header, exactly (its Next
    // Header names the rest): the reassembled datagram's headers are the first fragment's
    // (§4.5), whatever the other fragments carried.
    f.headFrom = o;
    f.headLen = fh - o + FRAGMENT_HEADER_LEN;
    f.maxPayload = 65535 - unfragExt;
    const done = this.reassembler.addFragment(f, now);
    f.b = this.frag;
    if (done === null) return;
    this.counters.reassembled++;
    // The reassembled packet: the unfragmentable part, its last Next Header taken from the
    // fragment header, the payload length recomputed (§4.5 "Reassembly").
    const head = done.head;
    const unfragLen = head.length - FRAGMENT_HEADER_LEN;
    // Find, in the first fragment's headers, the field that names the fragment header.
    let hnh = head[6]!;
    let hat = IPV6_HEADER_LEN;
    let fhAt = 6;
    let headers = 1;
    while (hat < unfragLen && isExtensionHeader(hnh) && hnh !== NH_FRAGMENT) {
      const hl = extHeaderLen(hnh, head, hat, unfragLen);
      if (hl < 0) break;
      fhAt = hat;
      hnh = head[hat]!;
      hat += hl;
      headers++;
    }
    if (hat !== unfragLen || hnh !== NH_FRAGMENT) return this.drop6('badExtHeader'); // (cannot happen: the first fragment was walked)
    if (unfragLen - IPV6_HEADER_LEN + done.payload.length > 65535) return this.drop6('fragOversized');
    const whole = new Uint8Array(unfragLen + done.payload.length);
    whole.set(head.subarray(0, unfragLen));
    const innerNh = head[unfragLen]!;
    whole[fhAt] = innerNh;
    writeU16(whole, 4, unfragLen - IPV6_HEADER_LEN + done.payload.length);
    whole.set(done.payload, unfragLen);
    this.curReassembled = true;
    try {
      this.walk(whole, 0, whole.length, innerNh, unfragLen, fhAt, src, dst, now, headers);
    } finally {
      this.curReassembled = false;
    }
  }

  /** Does the chain from `at` reach an upper-layer header whose first bytes are in the packet? */
  private chainComplete(b: Uint8Array, at: number, end: number, nh: number): boolean {
    for (let i = 0; i < MAX_EXT_HEADERS && isExtensionHeader(nh); i++) {
      const hl = extHeaderLen(nh, b, at, end);
      if (hl < 0 || at + hl > end) return false;
      nh = b[at]!;
      at += hl;
    }
    if (isExtensionHeader(nh)) return false;
    // RFC 7112 §5: the upper-layer header must be there too (Linux checks the fixed
    // header of TCP, UDP and ICMPv6 the same way).
    const need = nh === 6 ? 20 : nh === 17 || nh === NH_ICMPV6 ? 8 : 0;
    return at + need <= end;
  }

  private paramProblem(code: number, pointer: number, b: Uint8Array, o: number, total: number, reason: Ip6Counter, now: number, evenToMulticast = false): void {
    this.counters[reason]++;
    this.icmp.sendError(ICMPV6_PARAMETER_PROBLEM, code, pointer, b, o, total, now, evenToMulticast);
  }

  private drop(reason: Ip6Counter, p: Ipv6Packet): void {
    this.counters[reason]++;
    if (log.enabled) log(`drop ${reason}: ${p.toString()}`);
  }

  private drop6(reason: Ip6Counter): void {
    this.counters[reason]++;
    if (log.enabled) log(`drop ${reason}`);
  }

  /** A flow label per flow (RFC 6437 §3): a keyed hash of the addresses, next header and ports, never 0. */
  private flowLabel(src: Ipv6Addr, dst: Ipv6Addr, nh: number, b: Uint8Array, payloadOff: number): number {
    const ports = ((b[payloadOff]! << 24) | (b[payloadOff + 1]! << 16) | (b[payloadOff + 2]! << 8) | b[payloadOff + 3]!) >>> 0;
    let h = Math.imul(ipv6Hash(src) ^ this.flowSecret, 0x9e3779b1);
    h = Math.imul(h ^ ipv6Hash(dst) ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ ports ^ nh ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) & 0xfffff;
    return h === 0 ? 1 : h;
  }

  /** Transports write an outgoing payload here, at TX_PAYLOAD_OFFSET (read it afresh for each packet). */
  get tx(): Uint8Array {
    return this.txb.buf;
  }

  /** Sends the `payloadLen` bytes at `tx[TX_PAYLOAD_OFFSET]` from `src` to `dst` (next header `nh`). */
  send(nh: number, src: Ipv6Addr | null, dst: Ipv6Addr, payloadLen: number, now: number, opts?: SendOptions): SendError | null {
    return this.sendFrom(this.tx, TX_PAYLOAD_OFFSET, nh, src, dst, payloadLen, now, opts);
  }

  /** As `send`, for a payload at `b[off]` with LINK_HEADROOM + 40 bytes of room before it. */
  sendFrom(
    b: Uint8Array, off: number, nh: number, src: Ipv6Addr | null, dst: Ipv6Addr, payloadLen: number, now: number, opts?: SendOptions,
  ): SendError | null {
    if (payloadLen > 65535) {
      this.counters.outTooBig++;
      return 'EMSGSIZE';
    }
    const from = opts?.rawSource === true ? src : src === null || isUnspecified6(src) ? this.route.sourceFor(dst) : src;
    if (from === null) {
      this.counters.outNoSource++;
      return 'EHOSTUNREACH';
    }
    const hop = opts?.ttl ?? DEFAULT_HOP_LIMIT;
    const tc = opts?.tos ?? 0;
    const flow = this.flowLabel(from, dst, nh, b, off);
    const h = off - IPV6_HEADER_LEN;
    const total = IPV6_HEADER_LEN + payloadLen;
    if (this.route.isLocal(dst)) {
      // To ourselves: never on the wire; delivered from poll() as IPv4's loopback is.
      writeIpv6Header(b, h, from, dst, nh, hop, tc, flow, payloadLen);
      if (!this.loopbackQueue.push(b, h, total)) {
        this.counters.loopbackDrops++;
        return null;
      }
      if (this.loopbackTap) this.loopbackTap(b, h, total);
      this.counters.sent++;
      this.counters.loopback++;
      return null;
    }
    const nextHop = this.route.nextHop(dst);
    if (nextHop === null) {
      this.counters.outNoRoute++;
      return 'ENETUNREACH';
    }
    const tso = opts?.tso ?? 0;
    const mtu = this.pathMtu.get(dst, now);
    if (total <= mtu || tso > 0) {
      writeIpv6Header(b, h, from, dst, nh, hop, tc, flow, payloadLen);
      if (log.enabled) log(`> ${this.rx.reset(b, h, total).toString()}`);
      this.counters.sent++;
      this.out.sendIp(b, h, total, nextHop, now, tso);
      return null;
    }
    if (opts?.dontFrag === true) {
      this.counters.outTooBig++;
      return 'EMSGSIZE';
    }
    // §4.5: fragments of the payload, 8-byte multiples, each behind a copy of the header
    // and a fragment header; the identification unpredictable (RFC 7739 §5). A packet
    // built in the device's slot is copied out first (the fragments are copied into it).
    const whole = this.txb.fragmentSource(b, off, payloadLen);
    if (whole !== b) [b, off] = [whole, 0];
    const chunk = ((mtu - IPV6_HEADER_LEN - FRAGMENT_HEADER_LEN) >> 3) << 3;
    const ident = this.rand.u32();
    const fb = this.frag;
    const fh = LINK_HEADROOM;
    for (let at = 0; at < payloadLen; at += chunk) {
      const len = Math.min(chunk, payloadLen - at);
      const more = at + len < payloadLen;
      writeIpv6Header(fb, fh, from, dst, NH_FRAGMENT, hop, tc, flow, FRAGMENT_HEADER_LEN + len);
      writeFragmentHeader(fb, fh + IPV6_HEADER_LEN, nh, at, more, ident);
      fb.set(b.subarray(off + at, off + at + len), fh + IPV6_HEADER_LEN + FRAGMENT_HEADER_LEN);
      if (log.enabled) log(`> ${this.rx.reset(fb, fh, IPV6_HEADER_LEN + FRAGMENT_HEADER_LEN + len).toString()} frag off=${at}${more ? '+' : ''}`);
      this.counters.fragmentsSent++;
      this.out.sendIp(fb, fh, IPV6_HEADER_LEN + FRAGMENT_HEADER_LEN + len, nextHop, now);
    }
    this.counters.sent++;
    return null;
  }

  /** Timers (reassembly). */
  poll(now: number): void {
    if (this.reassembler.datagramsInProgress > 0) {
      this.reassembler.poll(now, (head) => {
        // RFC 8200 §4.5: Time Exceeded (reassembly) quoting the first fragment, if it came.
        this.icmp.sendError(ICMPV6_TIME_EXCEEDED, TIME6_REASSEMBLY, 0, head, 0, head.length, now);
      });
    }
  }

  loopbackPending(): boolean {
    return this.loopbackQueue.length > 0;
  }

  deliverLoopback(now: number, max: number): number {
    this.loopbackNow = now;
    return this.loopbackQueue.drain(this.deliverOne, max);
  }

  private loopbackNow = 0;
  private readonly deliverOne = (b: Uint8Array, off: number, len: number): void => {
    this.counters.received++;
    this.rxChecksumOk = false;
    this.receiveChecked(b, off, len, this.loopbackNow, true);
  };

  pollAt(): number | undefined {
    if (this.loopbackQueue.length > 0) return 0;
    return this.reassembler.datagramsInProgress > 0 ? this.reassembler.pollAt() : undefined;
  }

  get reassembly(): { datagrams: number; bytes: number } {
    return { datagrams: this.reassembler.datagramsInProgress, bytes: this.reassembler.bytesHeld };
  }

  describe(): string {
    return `${this.route.describe()} mtu ${this.mtu}`;
  }
}
