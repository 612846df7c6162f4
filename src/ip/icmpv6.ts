/**
 * ICMPv6 for this host (RFC 4443): answers echo requests, sends errors under a rate limit
 * (§2.4(f)), follows Packet Too Big into the path MTU cache (RFC 8201), hands the errors
 * it receives to the transport whose packet caused them, and passes neighbour discovery
 * messages to the interface (RFC 4861), which alone knows the link.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import { KeyedTokenBuckets, TokenBucket } from '../core/token-bucket.js';
import { writeU16, writeU32 } from '../core/bytes.js';
import {
  ICMP_DEST_UNREACHABLE, ICMP_PARAMETER_PROBLEM, ICMP_TIME_EXCEEDED, UNREACH_FRAG_NEEDED, UNREACH_HOST, UNREACH_NET,
  UNREACH_PORT, UNREACH_PROTOCOL,
} from './icmp-packet.js';
import {
  ICMPV6_DEST_UNREACHABLE, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_HEADER_LEN, ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM, ICMPV6_TIME_EXCEEDED, Icmpv6Packet, PARAM6_NEXT_HEADER, PARAM6_OPTION, UNREACH6_NO_ROUTE,
  UNREACH6_PORT, icmpv6Checksum, isIcmpv6Error,
} from './icmpv6-packet.js';
import { formatIpv6, ipv6Hash, isMulticast6, isUnspecified6, readIpv6, type Ipv6Addr } from './ipv6-address.js';
import {
  IPV6_HEADER_LEN, IPV6_MIN_MTU, NH_FRAGMENT, NH_ICMPV6, extHeaderLen, fragOffsetAt, isExtensionHeader,
} from './ipv6-packet.js';
import type { Ipv6Layer } from './ipv6-layer.js';
import type { SendError, TransportHandler } from './ipv4-layer.js';
import { TX_PAYLOAD_OFFSET } from './ipv4-layer.js';

const log = logger('icmp6');

/** RFC 4443 §2.4(c): an error carries as much of the invoking packet as fits in the minimum MTU. */
const MAX_QUOTE = IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;

const COUNTER_KEYS = [
  'received', 'echoRequests', 'echoReplies', 'echoRequestsSent', 'echoRepliesReceived', 'errorsReceived', 'errorsDelivered',
  'errorsSent', 'packetTooBig', 'ndp',
  'truncated', 'badChecksum', 'unhandledType', 'badQuote', 'rateLimited', 'rateLimitedHost', 'multicastEchoIgnored', 'unspecifiedSource',
] as const;
export type Icmpv6Counter = (typeof COUNTER_KEYS)[number];

/** Something that handles neighbour discovery messages (the Ethernet interface). */
export interface NdpHandler {
  /** An NDP message (types 133-137), checksum verified; `hopLimit` from its IPv6 header. */
  ndp(src: Ipv6Addr, dst: Ipv6Addr, hopLimit: number, p: Icmpv6Packet, now: number): void;
}

export class Icmpv6 implements TransportHandler {
  readonly counters: CounterSet<Icmpv6Counter> = counters(COUNTER_KEYS);
  // Linux: net.ipv6.icmp.ratelimit = 1000 ms per destination (token bucket, burst 6), and
  // the global icmp_msgs_per_sec / icmp_msgs_burst it shares with IPv4 (1000, 50).
  readonly errorLimit = new TokenBucket(1000, 50);
  private readonly hostLimit = new KeyedTokenBuckets(1, 6, 4096);
  private readonly pkt = new Icmpv6Packet();
  /** Echo replies to our own requests (a ping client listens here). */
  onEchoReply: ((src: Ipv6Addr, ident: number, seq: number, data: Uint8Array, now: number) => void) | null = null;
  /** Where NDP messages go; none on a TUN device (they are counted). */
  ndpHandler: NdpHandler | null = null;

  constructor(private readonly ip: Ipv6Layer) {}

  receive(src: Ipv6Addr | number, dst: Ipv6Addr | number, b: Uint8Array, off: number, len: number, now: number): void {
    if (typeof src === 'number' || typeof dst === 'number') return;
    this.counters.received++;
    const p = this.pkt.reset(b, off, len);
    if (p.checkLen() !== null) {
      this.counters.truncated++;
      return;
    }
    if (!p.verifyChecksum(src, dst)) {
      this.counters.badChecksum++;
      return;
    }
    if (log.enabled) log(`< ${formatIpv6(src)} > ${formatIpv6(dst)} ${p.toString()}`);
    const type = p.type();
    // RFC 4291 §2.5.2 / RFC 4861 §7.1.1: only duplicate address detection's solicitations
    // come from the unspecified address, and only NDP from our own tentative address (a
    // host defending it, RFC 4862 §5.4.4); nothing else may be answered there.
    if ((isUnspecified6(src) || (this.ip.route.isAssigned(src) && !this.ip.curLooped)) && type !== 135 && type !== 136) {
      this.counters.unspecifiedSource++;
      return;
    }
    if (type === ICMPV6_ECHO_REQUEST) {
      // RFC 4443 §4.2: a reply to a request sent to a multicast address comes from a unicast
      // address of ours. Linux answers them (echo_ignore_multicast = 0); so do we.
      const from = isMulticast6(dst) ? this.ip.route.sourceFor(src) : dst;
      if (from === null) {
        this.counters.multicastEchoIgnored++;
        return;
      }
      this.counters.echoRequests++;
      const tx = this.ip.tx;
      const o = TX_PAYLOAD_OFFSET;
      tx.set(b.subarray(off, off + len), o);
      tx[o] = ICMPV6_ECHO_REPLY;
      tx[o + 1] = 0;
      writeU16(tx, o + 2, 0);
      writeU16(tx, o + 2, icmpv6Checksum(tx, o, len, from, src));
      // The reply is fragmented if the path needs it (RFC 4443 §4.2 returns all the data).
      if (this.ip.send(NH_ICMPV6, from, src, len, now) === null) this.counters.echoReplies++;
      return;
    }
    if (type === ICMPV6_ECHO_REPLY) {
      this.counters.echoRepliesReceived++;
      this.onEchoReply?.(src, p.ident(), p.seq(), b.subarray(p.dataOffset(), off + len), now);
      return;
    }
    if (isIcmpv6Error(type)) {
      this.counters.errorsReceived++;
      this.deliverError(p, now);
      return;
    }
    if (type >= 133 && type <= 137) {
      this.counters.ndp++;
      this.ndpHandler?.ndp(src, dst, this.ip.curHopLimit, p, now);
      return;
    }
    // RFC 4443 §2.4(b): an unknown informational message is silently discarded (MLD too: we
    // join no group a querier needs to hear about).
    this.counters.unhandledType++;
  }

  /** Sends an echo request (the ping client's half). */
  sendEchoRequest(dst: Ipv6Addr, ident: number, seq: number, data: Uint8Array, now: number): SendError | null {
    const src = this.ip.route.sourceFor(dst);
    if (src === null) return 'EHOSTUNREACH';
    const tx = this.ip.tx;
    const o = TX_PAYLOAD_OFFSET;
    if (data.length > 65535 - ICMPV6_HEADER_LEN) return 'EMSGSIZE';
    tx[o] = ICMPV6_ECHO_REQUEST;
    tx[o + 1] = 0;
    writeU16(tx, o + 2, 0);
    writeU16(tx, o + 4, ident);
    writeU16(tx, o + 6, seq);
    tx.set(data, o + ICMPV6_HEADER_LEN);
    const len = ICMPV6_HEADER_LEN + data.length;
    writeU16(tx, o + 2, icmpv6Checksum(tx, o, len, src, dst));
    const err = this.ip.send(NH_ICMPV6, src, dst, len, now);
    if (err === null) this.counters.echoRequestsSent++;
    return err;
  }

  /**
   * Hands an error to the transport that sent the packet it quotes, and a Packet Too Big
   * to the path MTU cache first. Transports see the ICMPv4 type and code of the same
   * meaning (as Linux's icmpv6_err_convert maps both to one errno).
   */
  private deliverError(p: Icmpv6Packet, now: number): void {
    const qo = p.dataOffset();
    const ql = p.dataLen();
    const b = p.b;
    if (ql < IPV6_HEADER_LEN || b[qo]! >> 4 !== 6) {
      this.counters.badQuote++;
      return;
    }
    const qsrc = readIpv6(b, qo + 8);
    const qdst = readIpv6(b, qo + 24);
    // Only about packets we sent.
    if (!this.ip.route.isAssigned(qsrc)) {
      this.counters.badQuote++;
      return;
    }
    const type = p.type();
    const code = p.code();
    let mtu = 0;
    if (type === ICMPV6_PACKET_TOO_BIG) {
      this.counters.packetTooBig++;
      mtu = p.word();
      // RFC 8201 §4: never below 1280; a bigger one than we use changes nothing.
      this.ip.pathMtu.lower(qdst, mtu, now);
      mtu = Math.max(IPV6_MIN_MTU, Math.min(mtu, 65535));
    }
    // Walk the quoted header chain to the transport header (when quoted far enough).
    let nh = b[qo + 6]!;
    let at = qo + IPV6_HEADER_LEN;
    const end = qo + ql;
    for (let i = 0; i < 8 && isExtensionHeader(nh); i++) {
      const hl = extHeaderLen(nh, b, at, end);
      if (hl < 0 || at + hl > end) break;
      if (nh === NH_FRAGMENT && fragOffsetAt(b, at) !== 0) break; // not the first fragment: no transport header
      nh = b[at]!;
      at += hl;
    }
    if (isExtensionHeader(nh) || at + 8 > end) {
      this.counters.badQuote++;
      return;
    }
    const h = this.ip.handler(nh);
    if (h?.icmpError === undefined) return;
    let t4 = ICMP_DEST_UNREACHABLE;
    let c4 = UNREACH_HOST;
    if (type === ICMPV6_PACKET_TOO_BIG) c4 = UNREACH_FRAG_NEEDED;
    else if (type === ICMPV6_DEST_UNREACHABLE) c4 = code === UNREACH6_PORT ? UNREACH_PORT : code === UNREACH6_NO_ROUTE ? UNREACH_NET : UNREACH_HOST;
    else if (type === ICMPV6_TIME_EXCEEDED) { t4 = ICMP_TIME_EXCEEDED; c4 = code; }
    else if (type === ICMPV6_PARAMETER_PROBLEM) {
      if (code === PARAM6_NEXT_HEADER) c4 = UNREACH_PROTOCOL;
      else { t4 = ICMP_PARAMETER_PROBLEM; c4 = 0; }
    } else return; // an unknown error type: RFC 4443 §2.4(d) says pass it up; no transport acts on one
    this.counters.errorsDelivered++;
    h.icmpError({ type: t4, code: c4, nextHopMtu: mtu, src: qsrc, dst: qdst, protocol: nh, data: b.subarray(at, end) }, now);
  }

  /**
   * Sends an error about the packet `b[o, o+n)` (its IPv6 header first). `word` is the
   * MTU or pointer. RFC 4443 §2.4(e): never about an ICMPv6 error, a packet to a multicast
   * address (but Packet Too Big, and Parameter Problem code 2 when the option asks), or a
   * packet whose source is not a unicast address.
   */
  sendError(type: number, code: number, word: number, b: Uint8Array, o: number, n: number, now: number, evenToMulticast = false): void {
    if (n < IPV6_HEADER_LEN) return;
    const origSrc = readIpv6(b, o + 8);
    const origDst = readIpv6(b, o + 24);
    if (isMulticast6(origSrc) || isUnspecified6(origSrc)) return;
    // (§2.4(e.3-5): a packet sent to a multicast IPv6 address, or in a link-layer multicast
    // or broadcast frame, is treated alike.)
    const toGroup = isMulticast6(origDst) || this.ip.curLinkMulticast;
    if (toGroup && !(evenToMulticast || type === ICMPV6_PACKET_TOO_BIG || (type === ICMPV6_PARAMETER_PROBLEM && code === PARAM6_OPTION))) return;
    if (this.isAboutAnError(b, o, n)) return;
    if (!this.hostLimit.take(ipv6Hash(origSrc), now)) {
      this.counters.rateLimitedHost++;
      return;
    }
    if (!this.errorLimit.take(now)) {
      this.counters.rateLimited++;
      return;
    }
    // The source: the address the packet was sent to when it is ours, else our best for the peer.
    const from = this.ip.route.isOurs(origDst) ? origDst : this.ip.route.sourceFor(origSrc);
    if (from === null) return;
    const tx = this.ip.tx;
    const to = TX_PAYLOAD_OFFSET;
    const quote = Math.min(n, MAX_QUOTE);
    tx[to] = type;
    tx[to + 1] = code;
    writeU16(tx, to + 2, 0);
    writeU32(tx, to + 4, word >>> 0);
    tx.set(b.subarray(o, o + quote), to + ICMPV6_HEADER_LEN);
    const len = ICMPV6_HEADER_LEN + quote;
    writeU16(tx, to + 2, icmpv6Checksum(tx, to, len, from, origSrc));
    if (log.enabled) log(`> error type=${type} code=${code} to ${formatIpv6(origSrc)}`);
    if (this.ip.send(NH_ICMPV6, from, origSrc, len, now) === null) this.counters.errorsSent++;
  }

  /** Is the packet an ICMPv6 error (or a fragment of a packet whose type is unknown)? */
  private isAboutAnError(b: Uint8Array, o: number, n: number): boolean {
    let nh = b[o + 6]!;
    let at = o + IPV6_HEADER_LEN;
    const end = o + n;
    for (let i = 0; i < 8 && isExtensionHeader(nh); i++) {
      const hl = extHeaderLen(nh, b, at, end);
      if (hl < 0 || at + hl > end) return false;
      if (nh === NH_FRAGMENT && fragOffsetAt(b, at) !== 0) return false;
      nh = b[at]!;
      at += hl;
    }
    // (RFC 4443 §2.4(e.2): nor about a Redirect.)
    return nh === NH_ICMPV6 && at < end && (isIcmpv6Error(b[at]!) || b[at] === 137);
  }
}
