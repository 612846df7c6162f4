/**
 * The IP layer as the transports see it: IPv4 and IPv6 are siblings (ipv4-layer.ts,
 * ipv6-layer.ts) behind this one face. A transport registers once, receives from both
 * with `IpAddr` source and destination, and sends to an `IpAddr`; the family of the
 * destination picks the sibling. Both build outgoing packets in `tx` (TxBuffer: the
 * device's transmit slot when it lends one), where transports write their payload at
 * TX_PAYLOAD_OFFSET.
 */
import type { Ipv4Addr } from './address.js';
import { isLoopback } from './address.js';
import { ICMPV6_DEST_UNREACHABLE, UNREACH6_PORT } from './icmpv6-packet.js';
import { UNREACH_PORT } from './icmp-packet.js';
import type { IpAddr } from './ip-address.js';
import { IPV4_HEADER_LEN } from './ipv4-packet.js';
import { IPV6_HEADER_LEN } from './ipv6-packet.js';
import type { Ipv4Layer, SendError, SendOptions, TransportHandler } from './ipv4-layer.js';
import type { Ipv6Layer } from './ipv6-layer.js';
import { isLoopback6 } from './ipv6-address.js';

export class IpLayer {

  constructor(
    readonly v4: Ipv4Layer,
    /** The IPv6 sibling; null when the stack has no IPv6 address. */
    readonly v6: Ipv6Layer | null,
  ) {}

  /** Transports write an outgoing payload here, at TX_PAYLOAD_OFFSET: read it afresh for each packet (it may be the device's next transmit slot). */
  get tx(): Uint8Array {
    return this.v4.tx;
  }

  /** Registers a transport with both families. */
  register(protocol: number, h: TransportHandler): void {
    this.v4.register(protocol, h);
    this.v6?.register(protocol, h);
  }

  /**
   * Sends the `payloadLen` bytes at `tx[TX_PAYLOAD_OFFSET]` to `dst`, from `src` (0 or ::
   * for the best source). Returns null, or why it could not be sent.
   */
  send(protocol: number, src: IpAddr, dst: IpAddr, payloadLen: number, now: number, opts?: SendOptions): SendError | null {
    if (typeof dst === 'number') return this.v4.send(protocol, typeof src === 'number' ? src : 0, dst, payloadLen, now, opts);
    if (this.v6 === null) return 'ENETUNREACH';
    return this.v6.send(protocol, typeof src === 'number' ? null : src, dst, payloadLen, now, opts);
  }

  /** The device vouched for the transport checksum of the datagram being delivered. */
  get rxChecksumOk(): boolean {
    return this.v4.rxChecksumOk || (this.v6 !== null && this.v6.rxChecksumOk);
  }

  /** The ECN field of the datagram from `src` being delivered (RFC 3168 §5; IPv6's traffic class, RFC 8200 §7). */
  ecnOf(src: IpAddr): number {
    return (typeof src === 'number' ? this.v4.curTos : this.v6 !== null ? this.v6.curTc : 0) & 3;
  }

  /** The IP header's length towards `dst` (what MSS and PMTU arithmetic subtract). */
  headerLen(dst: IpAddr): number {
    return typeof dst === 'number' ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
  }

  /** The MTU towards `dst` (loopback, path MTU for IPv6, else the link's). */
  mtuTo(dst: IpAddr, now = 0): number {
    if (typeof dst === 'number') return this.v4.mtuTo(dst);
    return this.v6 !== null ? this.v6.mtuTo(dst, now) : this.v4.mtu;
  }

  /** The link's MTU for a family (what MSS is announced from). */
  linkMtu(family: 4 | 6): number {
    return family === 4 || this.v6 === null ? this.v4.mtu : this.v6.mtu;
  }

  tcpOffloadTo(dst: IpAddr): boolean {
    return typeof dst === 'number' ? this.v4.tcpOffloadTo(dst) : this.v6 !== null && this.v6.tcpOffloadTo(dst);
  }

  /** Is `a` this host's own address (through the loopback interface)? */
  isLocal(a: IpAddr): boolean {
    return typeof a === 'number' ? this.v4.route.isLocal(a) : this.v6 !== null && this.v6.route.isLocal(a);
  }

  /** Is `a` one of ours or a loopback address (what a socket may bind)? */
  isBindable(a: IpAddr): boolean {
    return typeof a === 'number' ? this.v4.route.isLocal(a) : isLoopback6(a) || (this.v6 !== null && this.v6.route.isAssigned(a));
  }

  /** The source address for a datagram to `dst`, or null when this host has none of that family. */
  sourceFor(dst: IpAddr): IpAddr | null {
    if (typeof dst === 'number') return this.v4.route.sourceFor(dst);
    return this.v6 !== null ? this.v6.route.sourceFor(dst) : null;
  }

  /** A broadcast address (IPv4 only: IPv6 has none). */
  isBroadcast(a: IpAddr): boolean {
    return typeof a === 'number' && this.v4.route.isBroadcast(a);
  }

  isLoopbackAddr(a: IpAddr): boolean {
    return typeof a === 'number' ? isLoopback(a as Ipv4Addr) : isLoopback6(a);
  }

  /** Port Unreachable about the datagram being delivered from `src` (UDP, RFC 1122 §4.1.3.1, RFC 4443 §3.1). */
  sendPortUnreachable(src: IpAddr, now: number): void {
    if (typeof src === 'number') {
      this.v4.icmp.sendUnreachableForCurrent(UNREACH_PORT, now);
    } else if (this.v6 !== null) {
      const v6 = this.v6;
      v6.icmp.sendError(ICMPV6_DEST_UNREACHABLE, UNREACH6_PORT, 0, v6.curPacket, v6.curPacketOff, v6.curPacketLen, now);
    }
  }
}
