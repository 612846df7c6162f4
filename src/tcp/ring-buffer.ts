/**
 * A byte ring with a fixed capacity: the send and receive buffers of a connection.
 * The receive side also writes out-of-order data at an offset past the readable bytes
 * (`writeAt`), and the Assembler records which of those bytes are valid, so no separate
 * copy of out-of-order segments is ever kept (smoltcp's RingBuffer + Assembler).
 *
 * Storage is allocated lazily and grows by doubling up to the capacity, so an idle
 * connection costs no buffer memory and a quiet one only what it has used (the
 * capacity is what the window advertises; the storage is what is actually held).
 */
const INITIAL_STORAGE = 4096;
const NO_STORAGE = new Uint8Array(0);

/**
 * Spare initial-size storages: a ring that empties gives its first 4 KiB back here and
 * the next ring to need one takes it, so that a quiet connection holds no buffer memory
 * (100,000 idle connections held 800 MB of emptied 4 KiB rings) while a request/response
 * exchange allocates none. Bounded: beyond MAX_SPARE the garbage collector takes them.
 * (Only ring storage lives here, and a ring exposes only bytes written since it took it.)
 */
const spare: Uint8Array[] = [];
const MAX_SPARE = 1024;

export class RingBuffer {
  private buf: Uint8Array = NO_STORAGE;
  private head = 0;
  /** Readable bytes from head. */
  length = 0;
  /** Bytes from head that hold data (readable, or written ahead by writeAt). */
  private extent = 0;

  constructor(readonly capacity: number) {}

  get free(): number {
    return this.capacity - this.length;
  }

  /** Bytes of storage allocated now. */
  get allocated(): number {
    return this.buf.length;
  }

  /** Gives the storage back when nothing is held (it is allocated again on use). */
  release(): void {
    if (this.extent > 0 || this.buf === NO_STORAGE) return;
    if (this.buf.length === INITIAL_STORAGE && spare.length < MAX_SPARE) spare.push(this.buf);
    this.buf = NO_STORAGE;
    this.head = 0;
  }

  /** Makes room for `end` bytes from head, keeping what is there. */
  private ensure(end: number): void {
    const size = this.buf.length;
    if (end <= size) return;
    let n = Math.max(size * 2, INITIAL_STORAGE);
    while (n < end) n *= 2;
    n = Math.min(n, this.capacity);
    const next = n === INITIAL_STORAGE && spare.length > 0 ? spare.pop()! : new Uint8Array(n);
    if (this.extent > 0) this.copyOut(0, next, 0, this.extent);
    this.buf = next;
    this.head = 0;
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
    this.ensure(offset + n);
    const size = this.buf.length;
    const at = (this.head + offset) % size;
    const first = Math.min(n, size - at);
    this.buf.set(src.subarray(off, off + first), at);
    if (first < n) this.buf.set(src.subarray(off + first, off + n), 0);
    if (offset + n > this.extent) this.extent = offset + n;
    return n;
  }

  /** Makes `n` more bytes (already written with writeAt) readable. */
  commit(n: number): void {
    this.length = Math.min(this.capacity, this.length + n);
    if (this.length > this.extent) this.extent = this.length;
  }

  private copyOut(offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const size = this.buf.length;
    const at = (this.head + offset) % size;
    const first = Math.min(len, size - at);
    dst.set(this.buf.subarray(at, at + first), dstOff);
    if (first < len) dst.set(this.buf.subarray(0, len - first), dstOff + first);
  }

  /** Copies `len` bytes starting `offset` past the head into dst[dstOff]. */
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (len > 0) this.copyOut(offset, dst, dstOff, len);
  }

  /** Drops `n` bytes from the head. */
  consume(n: number): void {
    const k = Math.min(n, this.length);
    if (k === 0) return;
    this.head = (this.head + k) % this.buf.length;
    this.length -= k;
    this.extent -= k;
    // (head is not reset when the buffer empties: out-of-order bytes may lie beyond it)
    // Emptied, and still at its first size: the storage goes back to the spares.
    if (this.extent === 0 && this.buf.length === INITIAL_STORAGE) this.release();
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
