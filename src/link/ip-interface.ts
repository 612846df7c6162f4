/**
 * The interface on a TUN device: frames are bare IP packets both ways, IPv4 or IPv6 by
 * their version nibble.
 */
import { counters, type CounterSet } from '../core/counters.js';
import type { IpAddr } from '../ip/ip-address.js';
import type { LinkDevice } from './link-device.js';
import type { NetInterface } from './net-interface.js';

const KEYS = ['framesIn', 'framesOut', 'notIp', 'ipv6Off'] as const;

export class IpInterface implements NetInterface {
  readonly counters: CounterSet<(typeof KEYS)[number]> = counters(KEYS);
  deliverIp: (b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean) => void = () => {};
  deliverIp6: ((b: Uint8Array, off: number, len: number, now: number, checksumOk: boolean) => void) | null = null;

  constructor(private readonly device: LinkDevice) {}

  receiveFrame(b: Uint8Array, off: number, len: number, now: number, checksumOk = false): void {
    this.counters.framesIn++;
    const version = len === 0 ? 0 : b[off]! >> 4;
    if (version === 4) {
      this.deliverIp(b, off, len, now, checksumOk);
    } else if (version === 6) {
      if (this.deliverIp6 === null) this.counters.ipv6Off++;
      else this.deliverIp6(b, off, len, now, checksumOk);
    } else {
      this.counters.notIp++;
    }
  }

  sendIp(b: Uint8Array, off: number, len: number, _nextHop: IpAddr, _now: number, tso = 0): void {
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
