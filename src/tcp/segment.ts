/**
 * One arriving segment, as the state machine reads it: the header fields, the options,
 * and a view of the payload. A single Segment is reused for every arrival.
 */
import { TcpOptions } from './options.js';
import { FIN, SYN } from './tcp-packet.js';

export class Segment {
  seq = 0;
  ack = 0;
  flags = 0;
  /** The raw 16-bit window field. */
  wnd = 0;
  b: Uint8Array = new Uint8Array(0);
  /** Payload offset and length in `b` (trimming to the window adjusts both, and seq). */
  off = 0;
  len = 0;
  readonly opts = new TcpOptions();

  /** Sequence space: payload plus SYN and FIN. */
  segLen(): number {
    return this.len + (this.flags & SYN ? 1 : 0) + (this.flags & FIN ? 1 : 0);
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}
