/**
 * A pcapng writer (the IETF's PCAP Next Generation format, draft-ietf-opsawg-pcapng, which
 * Wireshark, tshark and tcpdump read) that can say why each packet was sent or dropped: a
 * Section Header Block, one Interface Description Block, then an Enhanced Packet Block per
 * frame, with an `opt_comment` when the stack had something to say about it. Wireshark shows
 * the comments in the packet list; `tshark -Y frame.comment -T fields -e frame.comment`
 * prints them.
 *
 * Notes reach a frame in two ways (see PcapLink and src/observe/capture-notes.ts):
 *   - about a frame the stack is about to send (an RTO retransmission, a window probe): the
 *     note waits for the next frame sent, and is forgotten at the end of the batch if none
 *     goes out;
 *   - about a frame just received (dropped, and why; the state change it caused): frames
 *     received are held until the stack has handled them (`rxBegin`/`rxEnd`), and so are
 *     the frames it sent in reply, which a note can address too (a challenge ACK).
 */
import type { CaptureWriter, PcapSink } from './pcap.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const SNAPLEN = 262144;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

interface Held {
  ms: number;
  data: Uint8Array;
  notes: string[];
}

const utf8 = new TextEncoder();

export class PcapngWriter implements CaptureWriter {
  private buf = new Uint8Array(1 << 20);
  private used = 0;
  /** Frames recorded so far. */
  frames = 0;
  /** Notes for the next frame sent. */
  private pendingOut: string[] = [];
  /** While a received frame is being handled: it, and the frames sent meanwhile. */
  private rx: Held | null = null;
  private rxReplies: Held[] = [];

  constructor(
    private readonly sink: PcapSink,
    /** The capture's link type, LINKTYPE_RAW or LINKTYPE_ETHERNET. */
    readonly linkType: number,
    /** The interface's name, as Wireshark shows it. */
    interfaceName = 'tcpip0',
  ) {
    this.block(SHB, (w) => {
      w.u32(0x1a2b3c4d); // byte-order magic: little-endian
      w.u16(1);
      w.u16(0);
      w.u32(0xffffffff); // section length unknown (-1 as 64 bits)
      w.u32(0xffffffff);
      w.option(SHB_USERAPPL, utf8.encode('tcpip-ts'));
    });
    this.block(IDB, (w) => {
      w.u16(linkType);
      w.u16(0);
      w.u32(SNAPLEN);
      w.option(IF_NAME, utf8.encode(interfaceName));
      w.option(IF_TSRESOL, Uint8Array.of(6)); // microseconds
    });
  }

  /** Records a frame the stack sent (or one that crossed its loopback interface), with the notes waiting for it. */
  write(ms: number, b: Uint8Array, off: number, len: number): void {
    const notes = this.pendingOut;
    this.pendingOut = [];
    if (this.rx) {
      this.rxReplies.push({ ms, data: b.slice(off, off + len), notes });
      return;
    }
    this.packet(ms, b, off, len, notes);
  }

  /** A received frame: held, with the notes about it, until `rxEnd()`. */
  rxBegin(ms: number, b: Uint8Array, off: number, len: number): void {
    this.rxEnd();
    this.rx = { ms, data: b.slice(off, off + len), notes: [] };
  }

  /** The stack has handled the received frame: it and its replies are written. */
  rxEnd(): void {
    const rx = this.rx;
    if (!rx) return;
    this.rx = null;
    this.packet(rx.ms, rx.data, 0, rx.data.length, rx.notes);
    for (const r of this.rxReplies) this.packet(r.ms, r.data, 0, r.data.length, r.notes);
    this.rxReplies = [];
  }

  /** A note for the next frame the stack sends. */
  noteNextOut(text: string): void {
    this.pendingOut.push(text);
  }

  /** A note about the frame being received (outside a receive: about the next frame sent). */
  noteReceived(text: string): void {
    if (this.rx) this.rx.notes.push(text);
    else this.pendingOut.push(text);
  }

  /** A note for the reply to the frame being received: the frames sent meanwhile, or if none yet, the next frame sent. */
  noteReply(text: string): void {
    if (this.rxReplies.length > 0) for (const r of this.rxReplies) r.notes.push(text);
    else this.pendingOut.push(text);
  }

  /** The end of a batch: notes no frame took are dropped, and the buffer goes to the sink. */
  flush(): void {
    this.rxEnd();
    this.pendingOut = [];
    if (this.used === 0) return;
    this.sink(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  /** An Enhanced Packet Block, written straight into the buffer (no copy but the frame's). */
  private packet(ms: number, b: Uint8Array, off: number, len: number, notes: string[]): void {
    const cap = Math.min(len, SNAPLEN);
    const encoded = notes.length > 0 ? notes.map((n) => utf8.encode(n)) : null;
    let total = 12 + 20 + pad4(cap);
    if (encoded) {
      for (const e of encoded) total += 4 + pad4(e.length);
      total += 4; // opt_endofopt
    }
    if (this.used + total > this.buf.length) {
      this.flushBuffer();
      if (total > this.buf.length) this.buf = new Uint8Array(total);
    }
    const at = this.used;
    const v = new DataView(this.buf.buffer, at, total);
    const us = Math.round(ms * 1000);
    v.setUint32(0, EPB, true);
    v.setUint32(4, total, true);
    v.setUint32(8, 0, true); // interface 0
    v.setUint32(12, Math.floor(us / 2 ** 32), true);
    v.setUint32(16, us % 2 ** 32, true);
    v.setUint32(20, cap, true);
    v.setUint32(24, len, true);
    this.buf.set(b.subarray(off, off + cap), at + 28);
    this.buf.fill(0, at + 28 + cap, at + 28 + pad4(cap));
    let o = 28 + pad4(cap);
    if (encoded) {
      for (const e of encoded) {
        v.setUint16(o, OPT_COMMENT, true);
        v.setUint16(o + 2, e.length, true);
        this.buf.set(e, at + o + 4);
        this.buf.fill(0, at + o + 4 + e.length, at + o + 4 + pad4(e.length));
        o += 4 + pad4(e.length);
      }
      v.setUint32(o, 0, true); // opt_endofopt
      o += 4;
    }
    v.setUint32(o, total, true);
    this.used += total;
    this.frames++;
  }

  /** One block: type, total length, body (the callback writes it), options' end, total length again. */
  private block(type: number, body: (w: BlockWriter) => void): void {
    const w = new BlockWriter();
    body(w);
    const inner = w.finish();
    const total = 12 + inner.length;
    if (this.used + total > this.buf.length) {
      this.flushBuffer();
      if (total > this.buf.length) this.buf = new Uint8Array(total);
    }
    const v = new DataView(this.buf.buffer, this.used, total);
    v.setUint32(0, type, true);
    v.setUint32(4, total, true);
    this.buf.set(inner, this.used + 8);
    v.setUint32(total - 4, total, true);
    this.used += total;
  }

  private flushBuffer(): void {
    if (this.used === 0) return;
    this.sink(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

/** Builds a block's body: fields, padded data, then options (each padded to 32 bits) and opt_endofopt. */
class BlockWriter {
  private parts: number[] = [];
  private hasOptions = false;

  u16(v: number): void {
    this.parts.push(v & 255, (v >>> 8) & 255);
  }

  u32(v: number): void {
    this.parts.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  }

  bytes(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
    while (this.parts.length % 4 !== 0) this.parts.push(0);
  }

  option(code: number, value: Uint8Array): void {
    this.hasOptions = true;
    this.u16(code);
    this.u16(value.length);
    this.bytes(value);
  }

  finish(): Uint8Array {
    if (this.hasOptions) {
      this.u16(OPT_ENDOFOPT);
      this.u16(0);
    }
    return Uint8Array.from(this.parts);
  }
}
