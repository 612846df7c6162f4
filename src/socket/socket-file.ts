/**
 * `socket.makefile()`: a file-like object over a TCP socket, as Python's (a buffered
 * reader and writer, with a text layer unless the mode has 'b'):
 *
 *   f = conn.makefile('rw')
 *   line = await f.readline()        // up to and including '\n'; '' at end of stream
 *   await f.write('hello\n')         // buffered...
 *   await f.flush()                  // ...sent
 *   for await (const line of f) ...  // lines until end of stream
 *
 * `read(n)` waits for `n` bytes (or characters) or the end of the stream, as Python's
 * buffered `read` does; `read()` reads to the end. Writes are buffered and sent by
 * `flush()`, by `close()`, or once 8 KiB are waiting.
 */
import { TextDecoder, TextEncoder } from 'node:util';
import type { StreamSocket } from './stream-socket.js';
import { SocketError } from './errors.js';

const CHUNK = 16 * 1024;
const WRITE_BUFFER = 8 * 1024;

/** The file object `StreamSocket.makefile()` returns (Python's socket file): see above. */
export class SocketFile {
  /** Text (str in Python) or bytes, as the mode said. */
  readonly binary: boolean;
  /** Opened for reading ('r' in the mode). */
  readonly readable: boolean;
  /** Opened for writing ('w' in the mode). */
  readonly writable: boolean;
  private closed = false;
  private eof = false;
  /** Bytes read from the socket and not yet handed out. */
  private rbuf: Uint8Array = new Uint8Array(0);
  private wbuf: Uint8Array[] = [];
  private wlen = 0;
  private readonly decoder: TextDecoder;
  private readonly encoder = new TextEncoder();

  /** @internal Use `StreamSocket.makefile()`. */
  constructor(
    private readonly sock: StreamSocket,
    /** The mode it was opened with: 'r', 'w', 'rw', with 'b' for bytes. */
    readonly mode: string,
    /** The text encoding (text mode). */
    readonly encoding: string,
  ) {
    const m = mode.replace('b', '');
    if (!['r', 'w', 'rw', 'wr'].includes(m) || mode.split('b').length > 2) {
      throw new SocketError('EINVAL', 'makefile', `mode ${JSON.stringify(mode)}`, "mode must be 'r', 'w' or 'rw', with 'b' for bytes");
    }
    this.binary = mode.includes('b');
    this.readable = m.includes('r');
    this.writable = m.includes('w');
    this.decoder = new TextDecoder(encoding);
  }

  private check(what: 'read' | 'write'): void {
    if (this.closed) throw new SocketError('EBADF', what, `file over fd ${this.sock.fd}`, 'I/O on a closed file');
    if (what === 'read' && !this.readable) throw new SocketError('EBADF', what, `file over fd ${this.sock.fd}`, `the file was opened with mode ${JSON.stringify(this.mode)}, not for reading`);
    if (what === 'write' && !this.writable) throw new SocketError('EBADF', what, `file over fd ${this.sock.fd}`, `the file was opened with mode ${JSON.stringify(this.mode)}, not for writing`);
  }

  /** Reads more from the socket into `rbuf`; false at end of stream. */
  private async fill(): Promise<boolean> {
    if (this.eof) return false;
    const got = await this.sock.recv(CHUNK);
    if (got.length === 0) {
      this.eof = true;
      return false;
    }
    const b = new Uint8Array(this.rbuf.length + got.length);
    b.set(this.rbuf, 0);
    b.set(got, this.rbuf.length);
    this.rbuf = b;
    return true;
  }

  private take(n: number): Uint8Array {
    const out = this.rbuf.subarray(0, n);
    this.rbuf = this.rbuf.subarray(n);
    return out;
  }

  private out(b: Uint8Array): string | Uint8Array {
    return this.binary ? b.slice() : this.decoder.decode(b);
  }

  /** One line, up to and including '\n' (at most `limit` bytes if given); empty at end of stream. */
  async readline(limit = -1): Promise<string | Uint8Array> {
    this.check('read');
    for (;;) {
      const nl = this.rbuf.indexOf(0x0a);
      if (nl >= 0 && (limit < 0 || nl < limit)) return this.out(this.take(nl + 1));
      if (limit >= 0 && this.rbuf.length >= limit) return this.out(this.take(limit));
      if (!(await this.fill())) return this.out(this.take(this.rbuf.length));
    }
  }

  /** Every line to the end of the stream. */
  async readlines(): Promise<(string | Uint8Array)[]> {
    const lines: (string | Uint8Array)[] = [];
    for await (const l of this) lines.push(l);
    return lines;
  }

  /**
   * `n` bytes (in text mode, `n` characters), fewer only at end of stream; `read()` or a
   * negative `n` reads to the end of the stream.
   */
  async read(n = -1): Promise<string | Uint8Array> {
    this.check('read');
    if (n < 0) {
      while (await this.fill());
      return this.out(this.take(this.rbuf.length));
    }
    if (this.binary) {
      while (this.rbuf.length < n && (await this.fill()));
      return this.out(this.take(Math.min(n, this.rbuf.length)));
    }
    // Text: n characters, never splitting a UTF-8 sequence.
    let text = '';
    while (text.length < n) {
      if (this.rbuf.length === 0 && !(await this.fill())) break;
      const want = n - text.length;
      let cut = Math.min(this.rbuf.length, want);
      while (cut < this.rbuf.length && (this.rbuf[cut]! & 0xc0) === 0x80) cut++; // finish a sequence
      const s = this.decoder.decode(this.take(cut), { stream: true });
      if (s.length > want) {
        // More characters than asked (multi-byte input): give the extra bytes back.
        const keep = this.encoder.encode(s.slice(want));
        const b = new Uint8Array(keep.length + this.rbuf.length);
        b.set(keep, 0);
        b.set(this.rbuf, keep.length);
        this.rbuf = b;
        text += s.slice(0, want);
      } else {
        text += s;
      }
    }
    return text;
  }

  /** Queues `data` (text is encoded); sends once 8 KiB wait. Resolves to its length (characters or bytes). */
  async write(data: string | Uint8Array): Promise<number> {
    this.check('write');
    const b = typeof data === 'string' ? this.encoder.encode(data) : data;
    this.wbuf.push(b.slice());
    this.wlen += b.length;
    if (this.wlen >= WRITE_BUFFER) await this.flush();
    return data.length;
  }

  /** Sends what `write` queued (Python's `flush`). */
  async flush(): Promise<void> {
    if (this.closed) throw new SocketError('EBADF', 'flush', `file over fd ${this.sock.fd}`, 'I/O on a closed file');
    if (this.wlen === 0) return;
    const all = new Uint8Array(this.wlen);
    let at = 0;
    for (const b of this.wbuf) {
      all.set(b, at);
      at += b.length;
    }
    this.wbuf = [];
    this.wlen = 0;
    await this.sock.sendall(all);
  }

  /** Flushes and closes the file; the socket stays open (close it with its own `close()`). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.writable) await this.flush();
    this.closed = true;
  }

  /** Lines until the end of the stream (`for await (const line of f)`). */
  async *[Symbol.asyncIterator](): AsyncIterator<string | Uint8Array> {
    for (;;) {
      const l = await this.readline();
      if (l.length === 0) return;
      yield l;
    }
  }
}
