/**
 * An in-memory link for tests and simulations: two ends of a wire. A frame sent on one
 * end is copied into the other end's inbox and delivered, as one batch, when that end's
 * `deliver()` is called (by the test or the simulator, never by a timer).
 */
import type { LinkDevice, LinkReceiver, Medium } from './link-device.js';

/**
 * One end of an in-memory wire: what it sends lands in its peer's inbox, and frames are
 * delivered only when `deliver()` is called. `MemoryLink.pair()` makes two connected ends.
 */
export class MemoryLink implements LinkDevice {
  /** The other end of the wire (null: frames sent go nowhere). */
  peer: MemoryLink | null = null;
  /** Frames waiting for `deliver()`, oldest first. */
  readonly inbox: Uint8Array[] = [];
  /** Every frame this end sent, in order (tests read it; `takeSent()` empties it). */
  readonly sent: Uint8Array[] = [];
  /** Whether sent frames are kept in `sent` (turn it off for long runs). */
  recordSent = true;
  private receiver: LinkReceiver | null = null;

  /** An unconnected end; set `peer` on both ends, or use `MemoryLink.pair()`. */
  constructor(
    readonly name: string,
    readonly medium: Medium,
    readonly mtu: number,
    readonly mac: Uint8Array | null = null,
  ) {}

  /** Two connected ends. */
  static pair(medium: Medium = 'ip', mtu = 1500, macs?: [Uint8Array, Uint8Array]): [MemoryLink, MemoryLink] {
    const a = new MemoryLink('mem0', medium, mtu, macs?.[0] ?? null);
    const b = new MemoryLink('mem1', medium, mtu, macs?.[1] ?? null);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  /** Copies the frame into the peer's inbox (and into `sent` while `recordSent` is on). */
  send(b: Uint8Array, off: number, len: number): void {
    const copy = b.slice(off, off + len);
    if (this.recordSent) this.sent.push(copy);
    this.peer?.inbox.push(copy);
  }

  /** Does nothing: frames are in the peer's inbox as soon as they are sent. */
  flush(): void {}

  /** Sets where `deliver()` hands the inbox's frames. */
  setReceiver(rx: LinkReceiver): void {
    this.receiver = rx;
  }

  /** Puts a frame into this end's inbox as if it came from the wire. */
  inject(frame: Uint8Array): void {
    this.inbox.push(frame);
  }

  /** Delivers everything in the inbox as one batch; returns how many frames. */
  deliver(): number {
    const n = this.inbox.length;
    if (n === 0 || this.receiver === null) return 0;
    const frames = this.inbox.splice(0, n);
    for (const f of frames) this.receiver.frame(f, 0, f.length);
    this.receiver.batchEnd();
    return n;
  }

  /** Returns the frames in `sent` and empties it. */
  takeSent(): Uint8Array[] {
    return this.sent.splice(0, this.sent.length);
  }

  /** Drops the receiver: later `deliver()` calls deliver nothing. */
  async close(): Promise<void> {
    this.receiver = null;
  }
}
