/**
 * A network interface joins a LinkDevice to the IPv4 layer: it unwraps received frames
 * into IP datagrams and wraps outgoing datagrams into frames. On a TUN device that is
 * nothing at all (`IpInterface`); on TAP it is Ethernet and ARP (`EthernetInterface`).
 */
import type { IpOutput } from '../ip/ipv4-layer.js';

export interface NetInterface extends IpOutput {
  /** Where received IP datagrams go (set by the stack once the IP layer exists). */
  deliverIp: (b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean) => void;
  receiveFrame(b: Uint8Array, off: number, len: number, now: number, checksumOk?: boolean): void;
  poll(now: number): void;
  pollAt(): number | undefined;
  readonly counters: Record<string, number>;
}
