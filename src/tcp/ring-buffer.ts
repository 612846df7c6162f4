/**
 * A fixed-capacity byte ring: the send and receive buffers of a connection.
 * The receive side also writes out-of-order data at an offset past the readable bytes
 * (`writeAt`), and the Assembler records which of those bytes are valid, so no separate
 * copy of out-of-order segments is ever kept (smoltcp's RingBuffer + Assembler).
 */
export class RingBuffer {
  private buf: Uint8Array;
  private head = 0;
  /** Readable bytes from head. */
  length = 0;

  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  get free(): number {
    return this.capacity - this.length;
  }

  /** Appends as much of src[off, off+len) as fits; returns how much. */
  push(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.free);
    this.writeAt(this.length, src, off, n);
    this.length += n;
    return n;
  }

  /** Writes at `offset` past the head without making it readable; returns bytes written. */
  writeAt(offset: number, src: Uint8Array, off: number, len: number): number {
    const n = Math.max(0, Math.min(len, this.capacity - offset));
    if (n === 0) return 0;
    const cap = this.capacity;
    let at = (this.head + offset) % cap;
    const first = Math.min(n, cap - at);
    this.buf.set(src.subarray(off, off + first), at);
    if (first < n) this.buf.set(src.subarray(off + first, off + n), 0);
    return n;
  }

  /** Makes `n` more bytes (already written with writeAt) readable. */
  commit(n: number): void {
    this.length = Math.min(this.capacity, this.length + n);
  }

  /** Copies `len` bytes starting `offset` past the head into dst[dstOff]. */
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const cap = this.capacity;
    const at = (this.head + offset) % cap;
    const first = Math.min(len, cap - at);
    dst.set(this.buf.subarray(at, at + first), dstOff);
    if (first < len) dst.set(this.buf.subarray(0, len - first), dstOff + first);
  }

  /** Drops `n` bytes from the head. */
  consume(n: number): void {
    const k = Math.min(n, this.length);
    this.head = (this.head + k) % this.capacity;
    this.length -= k;
    // (head is not reset when the buffer empties: out-of-order bytes may lie beyond it)
  }

  /** Reads (copies out and consumes) up to `max` bytes. */
  read(max: number): Uint8Array {
    const n = Math.min(max, this.length);
    const out = new Uint8Array(n);
    this.peek(0, out, 0, n);
    this.consume(n);
    return out;
  }
}
