/**
 * The interface on a TUN device: frames are bare IPv4 datagrams both ways.
 */
import { counters, type CounterSet } from '../core/counters.js';
import type { Ipv4Addr } from '../ip/address.js';
import type { LinkDevice } from './link-device.js';
import type { NetInterface } from './net-interface.js';

const KEYS = ['framesIn', 'framesOut', 'notIpv4'] as const;

export class IpInterface implements NetInterface {
  readonly counters: CounterSet<(typeof KEYS)[number]> = counters(KEYS);
  deliverIp: (b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean) => void = () => {};

  constructor(private readonly device: LinkDevice) {}

  receiveFrame(b: Uint8Array, off: number, len: number, now: number, checksumOk = false): void {
    this.counters.framesIn++;
    // A TUN device also carries IPv6; we speak IPv4 only, and count the rest.
    if (len === 0 || b[off]! >> 4 !== 4) {
      this.counters.notIpv4++;
      return;
    }
    this.deliverIp(b, off, len, now, checksumOk);
  }

  sendIp(b: Uint8Array, off: number, len: number, _nextHop: Ipv4Addr, _now: number, tso = 0): void {
    this.counters.framesOut++;
    this.device.send(b, off, len, tso);
  }

  /** Checksum and segmentation offload for TCP, when the device has it. */
  get tcpOffload(): boolean {
    return this.device.tcpOffload === true;
  }

  poll(_now: number): void {}

  pollAt(): number | undefined {
    return undefined;
  }
}
