/**
 * The loopback interface inside the stack (Linux's `lo` and local route): datagrams to
 * 127.0.0.0/8 (RFC 1122 §3.2.1.3 (g): "Internal host loopback address", never sent on a
 * wire) and to the stack's own address never reach the device. They go into this queue
 * and come back up through the whole IP path on the next poll, so that a client and a
 * server on one stack talk through checksums, segmentation, timers and the state machine.
 *
 * The queue is one preallocated byte ring with a bounded number of records: looping a
 * datagram back copies it once and allocates nothing. When it is full a datagram is
 * dropped (counted ip.loopbackDrops), as Linux drops past netdev_max_backlog.
 */
import type { Ipv4Addr } from './address.js';

/** 127.0.0.1, the loopback interface's own address. */
export const LOOPBACK_ADDR: Ipv4Addr = 0x7f000001;
/** The loopback MTU: the largest IPv4 datagram (Linux's lo has 65536, IPv4 carries at most 65535). */
export const LOOPBACK_MTU = 65535;

/** Is `a` in 127.0.0.0/8? */
export function isLoopback(a: Ipv4Addr): boolean {
  return a >>> 24 === 127;
}

export class LoopbackQueue {
  private readonly buf: Uint8Array;
  /** Records: byte offset and length each, in a ring of `maxRecords`. */
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private head = 0;
  private count = 0;
  /** Where the next datagram's bytes go. */
  private w = 0;

  constructor(
    bytes = 4 * 1024 * 1024,
    private readonly maxRecords = 4096,
  ) {
    this.buf = new Uint8Array(bytes);
    this.off = new Int32Array(maxRecords);
    this.len = new Int32Array(maxRecords);
  }

  get length(): number {
    return this.count;
  }

  /** Copies `b[o, o+n)` in; false (nothing queued) when the queue is full. */
  push(b: Uint8Array, o: number, n: number): boolean {
    if (this.count === this.maxRecords || n > this.buf.length) return false;
    let at: number;
    if (this.count === 0) {
      at = 0;
    } else {
      const first = this.off[this.head]!;
      if (this.w > first) {
        // Live bytes are [first, w): room after them, or else at the start before `first`.
        if (this.w + n <= this.buf.length) at = this.w;
        else if (n <= first) at = 0;
        else return false;
      } else {
        // Wrapped: live bytes are [first, end) and [0, w): room only between w and first.
        if (this.w + n <= first) at = this.w;
        else return false;
      }
    }
    this.buf.set(b.subarray(o, o + n), at);
    const slot = (this.head + this.count) % this.maxRecords;
    this.off[slot] = at;
    this.len[slot] = n;
    this.count++;
    this.w = at + n;
    return true;
  }

  /**
   * Hands each queued datagram to `deliver` (its bytes are valid during the call), up to
   * `max` of them, including any that delivering queues; returns how many went. A record
   * leaves the ring only after its call, so what the call queues cannot overwrite it.
   */
  drain(deliver: (b: Uint8Array, off: number, len: number) => void, max: number): number {
    let n = 0;
    while (this.count > 0 && n < max) {
      const h = this.head;
      try {
        deliver(this.buf, this.off[h]!, this.len[h]!);
      } finally {
        this.head = (h + 1) % this.maxRecords;
        this.count--;
        n++;
      }
    }
    return n;
  }
}
