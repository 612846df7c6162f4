/**
 * A network interface joins a LinkDevice to the IP layers: it unwraps received frames
 * into IP datagrams and wraps outgoing datagrams into frames. On a TUN device that is
 * nothing at all (`IpInterface`); on TAP it is Ethernet and ARP (`EthernetInterface`).
 */
import type { IpOutput } from '../ip/ipv4-layer.js';
import type { Ipv6Layer } from '../ip/ipv6-layer.js';

export interface NetInterface extends IpOutput {
  /** Where received IPv4 datagrams go (set by the stack once the IP layer exists). */
  deliverIp: (b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean) => void;
  /**
   * Where received IPv6 packets go (set by the stack when it has IPv6; else they are
   * counted). `linkMulticast`: the frame came to a multicast or broadcast link address.
   */
  deliverIp6: ((b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean, linkMulticast?: boolean) => void) | null;
  receiveFrame(b: Uint8Array, off: number, len: number, now: number, checksumOk?: boolean): void;
  /** The IPv6 layer exists (Ethernet: neighbour discovery starts, duplicate address detection runs). */
  attachIpv6?(ip6: Ipv6Layer): void;
  poll(now: number): void;
  pollAt(): number | undefined;
  readonly counters: Record<string, number>;
}
