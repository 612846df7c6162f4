/**
 * UDP (RFC 768, host requirements in RFC 1122 §4.1): endpoints, demultiplexing, the
 * receive queues, ICMP port unreachable for closed ports and ICMP errors handed back
 * to the endpoint whose datagram caused them.
 *
 * Demultiplexing (most specific first): an endpoint connected to exactly this
 * (local addr, local port, remote addr, remote port); then one bound to (our addr, port);
 * then one bound to (0.0.0.0, port). Endpoints are kept in lists per local port, so
 * a lookup is one Map read and a scan of a short list, with no allocation.
 */
import { counters, type CounterSet } from '../core/counters.js';
import { logger } from '../core/log.js';
import { pickEphemeralPort } from '../core/ports.js';
import type { Rand } from '../core/rand.js';
import { readU16 } from '../core/bytes.js';
import { isMulticast } from '../ip/address.js';
import { formatEndpoint, ipEqual, isAnyAddr, type IpAddr } from '../ip/ip-address.js';
import { isMulticast6 } from '../ip/ipv6-address.js';
import { ICMP_DEST_UNREACHABLE, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM, UNREACH_PORT, UNREACH_HOST, UNREACH_NET, UNREACH_PROTOCOL, UNREACH_FRAG_NEEDED } from '../ip/icmp-packet.js';
import { IP_PROTO_UDP } from '../ip/ipv4-packet.js';
import { TX_PAYLOAD_OFFSET, type IcmpErrorReport, type TransportHandler } from '../ip/ipv4-layer.js';
import type { IpLayer } from '../ip/ip-layer.js';
import { UDP_HEADER_LEN, UDP_MAX_PAYLOAD, UdpPacket, writeUdpHeader } from './udp-packet.js';

const log = logger('udp');

/** Linux net.core.rmem_default / wmem_default. */
export const DEFAULT_UDP_RCVBUF = 212_992;
export const DEFAULT_UDP_SNDBUF = 212_992;

export type UdpErrno = 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINVAL' | 'EMSGSIZE' | 'EACCES' | 'ENETUNREACH' | 'EHOSTUNREACH' | 'ECONNREFUSED' | 'EDESTADDRREQ' | 'EAGAIN' | 'EPROTO';

export interface UdpDatagram {
  data: Uint8Array;
  addr: IpAddr;
  port: number;
}

/** One UDP socket's protocol state (the facade in src/socket holds the rest). */
export class UdpEndpoint {
  localAddr: IpAddr = 0;
  localPort = 0;
  remoteAddr: IpAddr = 0;
  remotePort = 0;
  reuseAddr = false;
  broadcast = false;
  /** IPV6_V6ONLY: an endpoint bound to `::` then takes IPv6 datagrams only (RFC 3493 §5.3). */
  v6only = false;
  rcvBuf = DEFAULT_UDP_RCVBUF;
  sndBuf = DEFAULT_UDP_SNDBUF;
  readonly queue: UdpDatagram[] = [];
  queuedBytes = 0;
  /** An asynchronous error (from ICMP) reported by the next call, as Linux's sk_err. */
  pendingError: UdpErrno | null = null;
  /** Called when a datagram was queued or an error became pending. */
  onEvent: () => void = () => {};

  get connected(): boolean {
    return this.remotePort !== 0;
  }

  take(): UdpDatagram | undefined {
    const d = this.queue.shift();
    if (d) this.queuedBytes -= d.data.length;
    return d;
  }
}

const KEYS = [
  'received', 'delivered', 'sent', 'truncated', 'badLength', 'badChecksum', 'zeroChecksum6', 'noPort',
  'rcvbufErrors', 'icmpErrors', 'sendErrors',
] as const;
export type UdpCounter = (typeof KEYS)[number];

export class UdpLayer implements TransportHandler {
  readonly counters: CounterSet<UdpCounter> = counters(KEYS);
  private readonly byPort = new Map<number, UdpEndpoint[]>();
  private readonly pkt = new UdpPacket();

  constructor(
    private readonly ip: IpLayer,
    private readonly rand: Rand,
  ) {
    ip.register(IP_PROTO_UDP, this);
  }

  /** Binds to (addr, port); port 0 picks an ephemeral port (RFC 6056). */
  bind(ep: UdpEndpoint, addr: IpAddr, port: number): UdpErrno | null {
    if (ep.localPort !== 0) return 'EINVAL';
    if (!isAnyAddr(addr) && !this.ip.isBindable(addr) && !this.ip.isBroadcast(addr)) return 'EADDRNOTAVAIL';
    if (port === 0) {
      port = pickEphemeralPort(this.rand, (p) => this.byPort.has(p));
      if (port === -1) return 'EADDRINUSE';
    } else if (this.conflicts(ep, addr, port)) {
      return 'EADDRINUSE';
    }
    ep.localAddr = addr;
    ep.localPort = port;
    let list = this.byPort.get(port);
    if (!list) this.byPort.set(port, (list = []));
    list.push(ep);
    return null;
  }

  /**
   * Linux: two sockets may share a port if both set SO_REUSEADDR, or the addresses they
   * take do not overlap (a wildcard covers its family, and `::` without IPV6_V6ONLY IPv4 too).
   */
  private conflicts(ep: UdpEndpoint, addr: IpAddr, port: number): boolean {
    const list = this.byPort.get(port);
    if (!list) return false;
    for (const other of list) {
      if (ep.reuseAddr && other.reuseAddr) continue;
      if (overlaps(addr, ep.v6only, other.localAddr, other.v6only)) return true;
    }
    return false;
  }

  /** Sets the default peer (and auto-binds); remote port 0 with AF_UNSPEC semantics dissolves it. */
  connect(ep: UdpEndpoint, addr: IpAddr, port: number): UdpErrno | null {
    if (port === 0 && isAnyAddr(addr)) {
      ep.remoteAddr = 0;
      ep.remotePort = 0;
      return null;
    }
    if (port === 0) return 'EINVAL';
    if (this.ip.isBroadcast(addr) && !ep.broadcast) return 'EACCES';
    if (!this.familyFits(ep, addr)) return 'EINVAL';
    if (this.ip.sourceFor(addr) === null) return 'ENETUNREACH';
    if (ep.localPort === 0) {
      const err = this.bind(ep, ep.localAddr, 0); // (0.0.0.0, or :: for an AF_INET6 socket)
      if (err) return err;
    }
    ep.remoteAddr = addr;
    ep.remotePort = port;
    ep.pendingError = null;
    return null;
  }

  /** Sends one datagram; to the connected peer when `port` is 0. */
  sendTo(ep: UdpEndpoint, data: Uint8Array, addr: IpAddr, port: number, now: number): UdpErrno | null {
    if (port === 0) {
      if (!ep.connected) return 'EDESTADDRREQ';
      addr = ep.remoteAddr;
      port = ep.remotePort;
    }
    if (data.length > UDP_MAX_PAYLOAD) return 'EMSGSIZE';
    if ((this.ip.isBroadcast(addr) || (typeof addr === 'number' ? isMulticast(addr) : isMulticast6(addr))) && !ep.broadcast) return 'EACCES';
    if (!this.familyFits(ep, addr)) return 'EINVAL';
    if (ep.localPort === 0) {
      const err = this.bind(ep, ep.localAddr, 0); // (0.0.0.0, or :: for an AF_INET6 socket)
      if (err) return err;
    }
    const src = !isAnyAddr(ep.localAddr) && !this.ip.isBroadcast(ep.localAddr) ? ep.localAddr : this.ip.sourceFor(addr);
    if (src === null) {
      this.counters.sendErrors++;
      return 'ENETUNREACH';
    }
    const tx = this.ip.tx;
    const o = TX_PAYLOAD_OFFSET;
    tx.set(data, o + UDP_HEADER_LEN);
    const len = writeUdpHeader(tx, o, src, addr, ep.localPort, port, data.length);
    const err = this.ip.send(IP_PROTO_UDP, src, addr, len, now);
    if (err) {
      this.counters.sendErrors++;
      return err;
    }
    this.counters.sent++;
    return null;
  }

  /** An endpoint bound to one family's address cannot send to the other's. */
  private familyFits(ep: UdpEndpoint, addr: IpAddr): boolean {
    const la = ep.localAddr;
    if (typeof la === 'number') return la === 0 || typeof addr === 'number';
    if (isAnyAddr(la)) return typeof addr !== 'number' || !ep.v6only;
    return typeof addr !== 'number';
  }

  /** Every bound endpoint (for `tcpip stat`). */
  endpoints(): UdpEndpoint[] {
    return [...this.byPort.values()].flat();
  }

  close(ep: UdpEndpoint): void {
    const list = this.byPort.get(ep.localPort);
    if (list) {
      const i = list.indexOf(ep);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byPort.delete(ep.localPort);
    }
    ep.queue.length = 0;
    ep.queuedBytes = 0;
  }

  receive(src: IpAddr, dst: IpAddr, b: Uint8Array, off: number, len: number, _now: number): void {
    this.counters.received++;
    const p = this.pkt.reset(b, off, len);
    const bad = p.checkLen();
    if (bad !== null) {
      this.counters[bad]++;
      return;
    }
    if (typeof src !== 'number' && p.checksumField() === 0) {
      // RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum".
      this.counters.zeroChecksum6++;
      return;
    }
    if (!this.ip.rxChecksumOk && !p.verifyChecksum(src, dst)) {
      this.counters.badChecksum++;
      return;
    }
    const sport = p.srcPort();
    const dport = p.dstPort();
    if (log.enabled) log(`< ${formatEndpoint(src, sport)} > ${formatEndpoint(dst, dport)} len=${p.payloadLen()}`);
    const ep = this.lookup(dst, dport, src, sport);
    if (ep === null) {
      this.counters.noPort++;
      // RFC 1122 §4.1.3.1, RFC 4443 §3.1: port unreachable; never for broadcast or
      // multicast (the ICMP layers check).
      this.ip.sendPortUnreachable(src, _now);
      return;
    }
    const plen = p.payloadLen();
    // Linux counts queued bytes against SO_RCVBUF and drops what does not fit.
    if (ep.queuedBytes + plen > ep.rcvBuf && ep.queue.length > 0) {
      this.counters.rcvbufErrors++;
      return;
    }
    // The one copy of the payload: out of the device's buffer, into the socket's queue.
    const data = b.slice(p.payloadOffset(), p.payloadOffset() + plen);
    ep.queue.push({ data, addr: src, port: sport });
    ep.queuedBytes += plen;
    this.counters.delivered++;
    ep.onEvent();
  }

  private lookup(dst: IpAddr, dport: number, src: IpAddr, sport: number): UdpEndpoint | null {
    const list = this.byPort.get(dport);
    if (list === undefined) return null;
    let bound: UdpEndpoint | null = null;
    let wildcard: UdpEndpoint | null = null;
    for (let i = 0; i < list.length; i++) {
      const ep = list[i]!;
      if (ep.connected) {
        if (ep.remotePort === sport && ipEqual(ep.remoteAddr, src) && takes(ep, dst)) return ep;
        continue;
      }
      if (isAnyAddr(ep.localAddr)) {
        if (takes(ep, dst)) wildcard ??= ep;
      } else if (ipEqual(ep.localAddr, dst)) bound ??= ep;
    }
    return bound ?? wildcard;
  }

  /** RFC 1122 §4.1.3.3: pass ICMP errors to the application; Linux does so for connected sockets. */
  icmpError(e: IcmpErrorReport, _now: number): void {
    if (e.data.length < 4) return;
    const sport = readU16(e.data, 0);
    const dport = readU16(e.data, 2);
    const list = this.byPort.get(sport);
    if (!list) return;
    for (const ep of list) {
      if (!ep.connected || ep.remotePort !== dport || !ipEqual(ep.remoteAddr, e.dst)) continue;
      const err = icmpToErrno(e.type, e.code);
      if (err === null) return;
      this.counters.icmpErrors++;
      ep.pendingError = err;
      ep.onEvent();
      return;
    }
  }
}

/** The errno Linux reports for an ICMP error (net/ipv4/icmp.c icmp_err_convert). */
export function icmpToErrno(type: number, code: number): UdpErrno | null {
  if (type === ICMP_DEST_UNREACHABLE) {
    switch (code) {
      case UNREACH_NET: return 'ENETUNREACH';
      case UNREACH_HOST: return 'EHOSTUNREACH';
      case UNREACH_PROTOCOL: return 'EPROTO';
      case UNREACH_PORT: return 'ECONNREFUSED';
      case UNREACH_FRAG_NEEDED: return 'EMSGSIZE';
      default: return 'EHOSTUNREACH';
    }
  }
  if (type === ICMP_TIME_EXCEEDED) return 'EHOSTUNREACH';
  if (type === ICMP_PARAMETER_PROBLEM) return 'EPROTO';
  return null;
}

/** Does the endpoint's local address take a datagram to `dst` (a wildcard its family; `::` IPv4 too unless v6only)? */
function takes(ep: UdpEndpoint, dst: IpAddr): boolean {
  const la = ep.localAddr;
  if (typeof la === 'number') return typeof dst === 'number' && (la === 0 || la === dst);
  if (isAnyAddr(la)) return typeof dst !== 'number' || !ep.v6only;
  return ipEqual(la, dst);
}

/** Do two bindings take some address in common? */
function overlaps(a: IpAddr, aV6only: boolean, b: IpAddr, bV6only: boolean): boolean {
  const covers4 = (x: IpAddr, v6only: boolean): boolean => typeof x === 'number' || (isAnyAddr(x) && !v6only);
  if (isAnyAddr(a) || isAnyAddr(b)) {
    const fam = (x: IpAddr, v6only: boolean): [boolean, boolean] => [covers4(x, v6only), typeof x !== 'number'];
    const [a4, a6] = fam(a, aV6only);
    const [b4, b6] = fam(b, bV6only);
    return (a4 && b4) || (a6 && b6);
  }
  return ipEqual(a, b);
}
