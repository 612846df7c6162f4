/**
 * A LinkDevice wrapper that plays the kernel's (or a NIC's) part of TCP checksum and
 * segmentation offload, for tests: it declares `tcpOffload`, and for every frame sent
 * with `tso` > 0 it completes the partial TCP checksum and, when the payload is longer
 * than `tso` bytes, cuts the segment into `tso`-byte segments as Linux's tcp_gso_segment
 * does (IP and TCP headers copied; IP total length, ident and header checksum fixed;
 * sequence numbers advanced; PSH and FIN only on the last piece, CWR only on the first;
 * every TCP checksum computed afresh). The pieces go to the inner link. With
 * `{ segment: false }` it only completes checksums and passes big segments on whole.
 *
 * The checksum arithmetic here is its own (RFC 1071, the slow way), not src's. What the
 * stack hands over is checked as it goes and anything odd is recorded in `problems`
 * (a test asserts it stays empty) rather than thrown into the stack.
 */
import type { LinkDevice, LinkReceiver, Medium } from '../../src/link/link-device.js';

const FIN = 0x01;
const PSH = 0x08;
const CWR = 0x80;

/** One segment the stack handed over that was longer than one `tso` piece. */
export interface BigSegment {
  /** TCP payload bytes, before cutting. */
  payload: number;
  /** The piece size the stack asked for. */
  tso: number;
  /** TCP flags of the big segment. */
  flags: number;
  /** Its sequence number. */
  seq: number;
}

export interface OffloadCounters {
  /** Frames handed over with tso > 0 / with tso 0. */
  tsoFrames: number;
  plainFrames: number;
  /** Frames passed to the inner link (pieces counted one by one). */
  framesOut: number;
  /** The longest frame passed to the inner link. */
  maxFrameOut: number;
}

/** The unfolded big-endian 16-bit word sum of `b[off, off+len)`, an odd last byte padded with zero. */
function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  let s = acc;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** The pseudo-header sum (source, destination, zero+protocol 6, TCP length) of the IPv4 packet at p[0]. */
function pseudoSum(p: Uint8Array, tcpLen: number): number {
  return sum16(p, 12, 8) + 6 + tcpLen;
}

export class OffloadLink implements LinkDevice {
  readonly tcpOffload = true;
  readonly bigSegments: BigSegment[] = [];
  readonly counters: OffloadCounters = { tsoFrames: 0, plainFrames: 0, framesOut: 0, maxFrameOut: 0 };
  /** What the stack handed over that a device would not take or that looks wrong. */
  readonly problems: string[] = [];

  /**
   * `segment: false` completes checksums but passes big segments on whole, as the kernel
   * hands a virtio peer (or a TUN reader) the large segments GRO made: the receiving
   * stack then gets segments of many MSSes.
   */
  constructor(readonly inner: LinkDevice, readonly opts: { segment?: boolean } = {}) {}

  get name(): string { return this.inner.name; }
  get medium(): Medium { return this.inner.medium; }
  get mtu(): number { return this.inner.mtu; }
  get mac(): Uint8Array | null { return this.inner.mac; }

  private problem(what: string): void {
    if (this.problems.length < 20) this.problems.push(what);
  }

  private out(p: Uint8Array): void {
    this.counters.framesOut++;
    if (p.length > this.counters.maxFrameOut) this.counters.maxFrameOut = p.length;
    this.inner.send(p, 0, p.length);
  }

  send(b: Uint8Array, off: number, len: number, tso = 0): void {
    if (tso === 0) {
      this.counters.plainFrames++;
      if (len > this.mtu) this.problem(`a ${len}-byte frame without tso on a ${this.mtu}-byte MTU`);
      this.out(b.slice(off, off + len));
      return;
    }
    this.counters.tsoFrames++;
    const p = b.slice(off, off + len); // our own copy, as a device copies the frame
    const ihl = (p[0]! & 0x0f) * 4;
    if (len < 40 || p[0]! >> 4 !== 4 || p[9] !== 6 || u16(p, 2) !== len || ihl < 20) {
      this.problem(`tso ${tso} on a frame that is not one whole IPv4 TCP segment (${len} bytes)`);
      this.out(p);
      return;
    }
    const thl = (p[ihl + 12]! >> 4) * 4;
    const headers = ihl + thl;
    const tcpLen = len - ihl;
    const payload = len - headers;
    // The stack must have left exactly the folded pseudo-header sum in the field.
    const partial = u16(p, ihl + 16);
    const expected = fold(pseudoSum(p, tcpLen));
    if (partial !== expected) this.problem(`partial checksum 0x${partial.toString(16)}, expected 0x${expected.toString(16)} (pseudo-header sum)`);
    if (fold(sum16(p, 0, ihl)) !== 0xffff) this.problem('IPv4 header checksum does not verify');

    if (payload <= tso || this.opts.segment === false) {
      if (payload > tso) this.bigSegments.push({ payload, tso, flags: p[ihl + 13]!, seq: u32(p, ihl + 4) });
      // Checksum offload only: sum from the TCP header on, the field included, complement.
      put16(p, ihl + 16, ~fold(sum16(p, ihl, tcpLen)) & 0xffff);
      this.out(p);
      return;
    }
    const flags = p[ihl + 13]!;
    const seq = u32(p, ihl + 4);
    this.bigSegments.push({ payload, tso, flags, seq });
    const ident = u16(p, 4);
    const pieces = Math.ceil(payload / tso);
    for (let i = 0; i < pieces; i++) {
      const at = i * tso;
      const n = Math.min(tso, payload - at);
      const q = new Uint8Array(headers + n);
      q.set(p.subarray(0, headers));
      q.set(p.subarray(headers + at, headers + at + n), headers);
      // IPv4: total length, ident (one per piece, as Linux does), header checksum.
      put16(q, 2, headers + n);
      put16(q, 4, (ident + i) & 0xffff);
      put16(q, 10, 0);
      put16(q, 10, ~fold(sum16(q, 0, ihl)) & 0xffff);
      // TCP: sequence number, flags, checksum.
      put32(q, ihl + 4, (seq + at) >>> 0);
      let f = flags;
      if (i < pieces - 1) f &= ~(PSH | FIN);
      if (i > 0) f &= ~CWR;
      q[ihl + 13] = f;
      put16(q, ihl + 16, 0);
      put16(q, ihl + 16, ~fold(sum16(q, ihl, thl + n, pseudoSum(q, thl + n))) & 0xffff);
      this.out(q);
    }
  }

  flush(): void {
    this.inner.flush();
  }

  setReceiver(rx: LinkReceiver): void {
    this.inner.setReceiver(rx);
  }

  poll(now: number): void {
    this.inner.poll?.(now);
  }

  pollAt(): number | undefined {
    return this.inner.pollAt?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
