/**
 * ICMP for this host (RFC 792, RFC 1122 §3.2.2): answers echo requests, sends errors
 * (protocol/port unreachable, reassembly time exceeded) under a rate limit, and hands the
 * errors it receives to the transport whose datagram caused them.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import { KeyedTokenBuckets, TokenBucket } from '../core/token-bucket.js';
import { readU32, writeU16 } from '../core/bytes.js';
import { formatIpv4, isMartianSource, isMulticast, type Ipv4Addr } from './address.js';
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_LEN, ICMP_PARAMETER_PROBLEM,
  ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, IcmpPacket, TIME_EXCEEDED_REASSEMBLY,
} from './icmp-packet.js';
import { IPV4_HEADER_LEN, IP_PROTO_ICMP } from './ipv4-packet.js';
import { MAX_IP_PAYLOAD, TX_PAYLOAD_OFFSET, type Ipv4Layer, type SendError, type TransportHandler } from './ipv4-layer.js';
import { checksum } from './checksum.js';

const log = logger('icmp');

/** RFC 1812 §4.3.2.3: an error quotes as much of the datagram as fits in 576 bytes. */
const MAX_ERROR_LEN = 576 - IPV4_HEADER_LEN - ICMP_HEADER_LEN;

const COUNTER_KEYS = [
  'received', 'echoRequests', 'echoReplies', 'echoRequestsSent', 'echoRepliesReceived', 'errorsReceived', 'errorsDelivered', 'errorsSent',
  'truncated', 'badChecksum', 'unhandledType', 'badQuote', 'rateLimited', 'rateLimitedHost', 'broadcastEchoIgnored',
] as const;
export type IcmpCounter = (typeof COUNTER_KEYS)[number];

export class Icmp implements TransportHandler {
  readonly counters: CounterSet<IcmpCounter> = counters(COUNTER_KEYS);
  // Linux: net.ipv4.icmp_msgs_per_sec = 1000, icmp_msgs_burst = 50; we match.
  readonly errorLimit = new TokenBucket(1000, 50);
  /**
   * Per destination as well (RFC 1812 §4.3.2.8): Linux's icmp_ratelimit gives each peer
   * one error per 1000 ms with a burst of 6 (XRLIM_BURST_FACTOR) for the types in
   * icmp_ratemask (unreachable, source quench, time exceeded, parameter problem: every
   * error we send), so a flood from one host gets 6 answers, not the global 50, and one
   * busy host cannot spend another's budget. The table has `maxHosts` slots.
   */
  readonly limits: Readonly<{ perHostPerSecond: number; perHostBurst: number; maxHosts: number }> = Object.freeze({ perHostPerSecond: 1, perHostBurst: 6, maxHosts: 4096 });
  private readonly hostLimit = new KeyedTokenBuckets(this.limits.perHostPerSecond, this.limits.perHostBurst, this.limits.maxHosts);
  private readonly pkt = new IcmpPacket();
  /** Echo replies to our own requests (a ping client listens here). */
  onEchoReply: ((src: Ipv4Addr, ident: number, seq: number, data: Uint8Array, now: number) => void) | null = null;

  constructor(private readonly ip: Ipv4Layer) {}

  /** Destinations whose error budget is remembered (bounded by `limits.maxHosts`). */
  get hostsTracked(): number {
    return this.hostLimit.size;
  }

  receive(src: Ipv4Addr, dst: Ipv4Addr, b: Uint8Array, off: number, len: number, now: number): void {
    this.counters.received++;
    const p = this.pkt.reset(b, off, len);
    if (p.checkLen() !== null) {
      this.counters.truncated++;
      return;
    }
    if (!p.verifyChecksum()) {
      this.counters.badChecksum++;
      return;
    }
    if (log.enabled) log(`< ${formatIpv4(src)} > ${formatIpv4(dst)} ${p.toString()}`);
    const type = p.type();
    if (type === ICMP_ECHO_REQUEST) {
      // RFC 1122 §3.2.2.6: an echo request to a broadcast address MAY be silently
      // discarded; we do, as Linux does by default (icmp_echo_ignore_broadcasts).
      if (!this.ip.route.isLocal(dst)) {
        this.counters.broadcastEchoIgnored++;
        return;
      }
      this.counters.echoRequests++;
      // The reply carries the request's identifier, sequence number and data (RFC 792).
      const tx = this.ip.tx;
      const o = TX_PAYLOAD_OFFSET;
      tx.set(b.subarray(off, off + len), o);
      tx[o] = ICMP_ECHO_REPLY;
      tx[o + 1] = 0;
      writeU16(tx, o + 2, 0);
      writeU16(tx, o + 2, checksum(tx, o, len));
      if (this.ip.send(IP_PROTO_ICMP, dst, src, len, now) === null) this.counters.echoReplies++;
      return;
    }
    if (type === ICMP_DEST_UNREACHABLE || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM || type === ICMP_SOURCE_QUENCH) {
      this.counters.errorsReceived++;
      this.deliverError(p, now);
      return;
    }
    if (type === ICMP_ECHO_REPLY) {
      this.counters.echoRepliesReceived++;
      this.onEchoReply?.(src, p.ident(), p.seq(), b.subarray(p.dataOffset(), off + len), now);
      return;
    }
    this.counters.unhandledType++;
  }

  /** Sends an echo request (the ping client's half). */
  sendEchoRequest(dst: Ipv4Addr, ident: number, seq: number, data: Uint8Array, now: number): SendError | null {
    const tx = this.ip.tx;
    const o = TX_PAYLOAD_OFFSET;
    if (data.length > MAX_IP_PAYLOAD - ICMP_HEADER_LEN) return 'EMSGSIZE';
    tx[o] = ICMP_ECHO_REQUEST;
    tx[o + 1] = 0;
    writeU16(tx, o + 2, 0);
    writeU16(tx, o + 4, ident);
    writeU16(tx, o + 6, seq);
    tx.set(data, o + ICMP_HEADER_LEN);
    const len = ICMP_HEADER_LEN + data.length;
    writeU16(tx, o + 2, checksum(tx, o, len));
    const err = this.ip.send(IP_PROTO_ICMP, 0, dst, len, now);
    if (err === null) this.counters.echoRequestsSent++;
    return err;
  }

  /** Hands an ICMP error to the transport that sent the datagram it quotes. */
  private deliverError(p: IcmpPacket, now: number): void {
    const qo = p.dataOffset();
    const ql = p.dataLen();
    const b = p.b;
    if (ql < IPV4_HEADER_LEN + 8 || b[qo]! >> 4 !== 4) {
      this.counters.badQuote++;
      return;
    }
    const ihl = (b[qo]! & 15) * 4;
    if (ihl < IPV4_HEADER_LEN || ql < ihl + 8) {
      this.counters.badQuote++;
      return;
    }
    const protocol = b[qo + 9]!;
    const h = this.ip.handler(protocol);
    if (h?.icmpError === undefined) return;
    this.counters.errorsDelivered++;
    h.icmpError(
      {
        type: p.type(),
        code: p.code(),
        nextHopMtu: p.nextHopMtu(),
        src: readU32(b, qo + 12),
        dst: readU32(b, qo + 16),
        protocol,
        data: b.subarray(qo + ihl, qo + ql),
      },
      now,
    );
  }

  /**
   * Destination Unreachable about the datagram the IP layer is delivering right now
   * (UDP's port unreachable, IP's protocol unreachable).
   */
  sendUnreachableForCurrent(code: number, now: number): void {
    const ip = this.ip;
    this.sendError(
      ICMP_DEST_UNREACHABLE, code, 0, ip.curHeader, ip.curHeaderOff, ip.curHeaderLen,
      ip.curPayload, ip.curPayloadOff, ip.curPayloadLen, ip.curDst, now,
    );
  }

  /** Time Exceeded (fragment reassembly), quoting the first fragment (RFC 792). */
  sendReassemblyTimeout(head: Uint8Array, now: number): void {
    const hl = (head[0]! & 15) * 4;
    this.sendError(ICMP_TIME_EXCEEDED, TIME_EXCEEDED_REASSEMBLY, 0, head, 0, hl, head, hl, head.length - hl, readU32(head, 16), now);
  }

  private sendError(
    type: number, code: number, rest: number, hb: Uint8Array, ho: number, hl: number,
    pb: Uint8Array, po: number, pl: number, origDst: Ipv4Addr, now: number,
  ): void {
    const origSrc = readU32(hb, ho + 12);
    const origProto = hb[ho + 9]!;
    // RFC 1122 §3.2.2: never send an error about an ICMP error, about a datagram sent to
    // a broadcast or multicast address, or from an address that is not a unicast host.
    if (origProto === IP_PROTO_ICMP && pl > 0) {
      const t = pb[po]!;
      if (t !== ICMP_ECHO_REQUEST && t !== ICMP_ECHO_REPLY) return;
    }
    if (this.ip.route.isBroadcast(origDst) || isMulticast(origDst)) return;
    if (isMartianSource(origSrc) || this.ip.route.isBroadcast(origSrc)) return;
    if (!this.hostLimit.take(origSrc, now)) {
      this.counters.rateLimitedHost++;
      return;
    }
    if (!this.errorLimit.take(now)) {
      this.counters.rateLimited++;
      return;
    }
    const tx = this.ip.tx;
    const o = TX_PAYLOAD_OFFSET;
    const quoteHeader = Math.min(hl, MAX_ERROR_LEN);
    const quoteData = Math.min(pl, MAX_ERROR_LEN - quoteHeader);
    tx[o] = type;
    tx[o + 1] = code;
    writeU16(tx, o + 2, 0);
    writeU16(tx, o + 4, rest >>> 16);
    writeU16(tx, o + 6, rest & 0xffff);
    tx.set(hb.subarray(ho, ho + quoteHeader), o + ICMP_HEADER_LEN);
    tx.set(pb.subarray(po, po + quoteData), o + ICMP_HEADER_LEN + quoteHeader);
    const len = ICMP_HEADER_LEN + quoteHeader + quoteData;
    writeU16(tx, o + 2, checksum(tx, o, len));
    if (log.enabled) log(`> error type=${type} code=${code} to ${formatIpv4(origSrc)}`);
    if (this.ip.send(IP_PROTO_ICMP, 0, origSrc, len, now) === null) this.counters.errorsSent++;
  }
}
