/**
 * A pcap writer (the classic libpcap format that `tcpdump -r` and Wireshark read):
 * a 24-byte global header, then per frame a 16-byte record header and the bytes.
 * LINKTYPE_RAW (101) for TUN's bare IPv4 packets, LINKTYPE_ETHERNET (1) for TAP.
 *
 * `PcapLink` wraps any LinkDevice and records every frame in and out. Records are
 * gathered in memory and written in chunks, with timestamps from an injected clock
 * (wall-clock for the demo, simulated time for tests).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import type { LinkDevice, LinkReceiver, Medium } from './link-device.js';

/** The pcap link type of Ethernet II frames (a TAP device). */
export const LINKTYPE_ETHERNET = 1;
/** The pcap link type of bare IP packets (a TUN device). */
export const LINKTYPE_RAW = 101;
const SNAPLEN = 262144;

/** Where a PcapWriter puts its bytes, chunk by chunk (a chunk is only valid during the call). */
export type PcapSink = (chunk: Uint8Array) => void;

/** What PcapLink records into: a PcapWriter (pcap) or a PcapngWriter (pcapng, with notes). */
export interface CaptureWriter {
  /** The capture's link type, LINKTYPE_RAW or LINKTYPE_ETHERNET. */
  readonly linkType: number;
  /** Frames recorded so far. */
  frames: number;
  /** Records one frame seen at `ms` milliseconds since the Unix epoch. */
  write(ms: number, b: Uint8Array, off: number, len: number): void;
  /** Hands everything buffered to the sink. */
  flush(): void;
  /** pcapng: a received frame is held (with the notes about it) until `rxEnd()`. */
  rxBegin?(ms: number, b: Uint8Array, off: number, len: number): void;
  /** pcapng: the stack has handled the received frame. */
  rxEnd?(): void;
}

/**
 * Writes a pcap capture to a sink: the global header first, then one record per frame.
 * Records are buffered (1 MiB) and handed to the sink when the buffer fills or on `flush()`.
 */
export class PcapWriter implements CaptureWriter {
  private buf = new Uint8Array(1 << 20);
  private used = 0;
  /** Frames recorded so far. */
  frames = 0;

  /** Starts the capture: the 24-byte global header (microsecond timestamps, snap length 256 KiB) is buffered at once. */
  constructor(
    private readonly sink: PcapSink,
    /** The capture's link type, LINKTYPE_RAW or LINKTYPE_ETHERNET. */
    readonly linkType: number,
  ) {
    const h = new DataView(this.buf.buffer);
    h.setUint32(0, 0xa1b2c3d4, true); // magic, microsecond timestamps, little-endian
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setInt32(8, 0, true); // thiszone
    h.setUint32(12, 0, true); // sigfigs
    h.setUint32(16, SNAPLEN, true);
    h.setUint32(20, linkType, true);
    this.used = 24;
  }

  /** A writer with the link type that fits a device's medium. */
  static forMedium(sink: PcapSink, medium: Medium): PcapWriter {
    return new PcapWriter(sink, medium === 'ethernet' ? LINKTYPE_ETHERNET : LINKTYPE_RAW);
  }

  /** Records one frame seen at `ms` milliseconds since the Unix epoch. */
  write(ms: number, b: Uint8Array, off: number, len: number): void {
    const cap = Math.min(len, SNAPLEN);
    if (this.used + 16 + cap > this.buf.length) {
      this.flush();
      if (16 + cap > this.buf.length) this.buf = new Uint8Array(16 + cap);
    }
    const sec = Math.floor(ms / 1000);
    const usec = Math.floor((ms - sec * 1000) * 1000);
    const v = new DataView(this.buf.buffer, this.used, 16);
    v.setUint32(0, sec >>> 0, true);
    v.setUint32(4, usec, true);
    v.setUint32(8, cap, true);
    v.setUint32(12, len, true);
    this.buf.set(b.subarray(off, off + cap), this.used + 16);
    this.used += 16 + cap;
    this.frames++;
  }

  /** Hands everything buffered to the sink. */
  flush(): void {
    if (this.used === 0) return;
    this.sink(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

/** A sink that appends to a file (synchronously, in large chunks). */
export function pcapFileSink(path: string): { sink: PcapSink; close: () => void } {
  const fd = openSync(path, 'w');
  return {
    sink: (chunk) => {
      let at = 0;
      while (at < chunk.length) at += writeSync(fd, chunk, at, chunk.length - at);
    },
    close: () => closeSync(fd),
  };
}

/** Wraps a device and records every frame it sends and receives. */
export class PcapLink implements LinkDevice {
  /** `onClose` runs after the wrapped device has closed and the writer is flushed (e.g. to close the file). */
  constructor(
    /** The device it wraps. */
    readonly inner: LinkDevice,
    /** Where the frames are recorded. */
    readonly writer: CaptureWriter,
    /** Milliseconds since the Unix epoch. */
    private readonly wallClock: Clock,
    private readonly onClose: () => void = () => {},
  ) {}

  /** The wrapped device's name. */
  get name(): string { return this.inner.name; }
  /** The wrapped device's medium. */
  get medium(): Medium { return this.inner.medium; }
  get mtu(): number { return this.inner.mtu; }
  get mac(): Uint8Array | null { return this.inner.mac; }

  send(b: Uint8Array, off: number, len: number): void {
    this.writer.write(this.wallClock.now(), b, off, len);
    this.inner.send(b, off, len);
  }

  flush(): void {
    this.inner.flush();
    this.writer.flush();
  }

  /**
   * Records a datagram that went through the stack's loopback interface (it never reaches
   * the device). In an IP capture it is written as it is; in an Ethernet capture behind a
   * header with all-zero addresses, as Linux's `lo` frames look, which marks it.
   */
  recordLoopback(b: Uint8Array, off: number, len: number): void {
    if (this.writer.linkType === LINKTYPE_ETHERNET) {
      const f = this.loFrame.length >= len + 14 ? this.loFrame : (this.loFrame = new Uint8Array(len + 14));
      f.fill(0, 0, 12);
      f[12] = 0x08;
      f[13] = 0x00;
      f.set(b.subarray(off, off + len), 14);
      this.writer.write(this.wallClock.now(), f, 0, len + 14);
    } else {
      this.writer.write(this.wallClock.now(), b, off, len);
    }
  }

  private loFrame = new Uint8Array(0);

  /**
   * Around each received frame (pcapng's notes, src/observe/capture-notes.ts): `before`
   * runs before the stack handles it, `after` once it has, while the writer still holds
   * the frame and the replies it caused.
   */
  receiveHooks: {
    /** Runs before the stack handles a received frame. */
    before(): void;
    /** Runs once it has, while the writer still holds the frame and its replies. */
    after(): void;
  } | null = null;

  /** Sets where received frames go, recording each on the way. */
  setReceiver(rx: LinkReceiver): void {
    this.inner.setReceiver({
      frame: (b, off, len, checksumOk) => {
        const w = this.writer;
        if (!w.rxBegin) {
          w.write(this.wallClock.now(), b, off, len);
          rx.frame(b, off, len, checksumOk);
          return;
        }
        w.rxBegin(this.wallClock.now(), b, off, len);
        this.receiveHooks?.before();
        rx.frame(b, off, len, checksumOk);
        this.receiveHooks?.after();
        w.rxEnd!();
      },
      batchEnd: () => rx.batchEnd(),
    });
  }

  /** Polls the wrapped device. */
  poll(now: number): void { this.inner.poll?.(now); }
  /** The wrapped device's next poll time (ms), if any. */
  pollAt(): number | undefined { return this.inner.pollAt?.(); }

  ref(keepAlive: boolean): void {
    this.inner.ref?.(keepAlive);
  }

  /** Closes the wrapped device, flushes the writer, then calls `onClose`. */
  async close(): Promise<void> {
    await this.inner.close();
    this.writer.flush();
    this.onClose();
  }
}
