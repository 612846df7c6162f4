/**
 * The base of every packet view (STYLE.md §2): a window of `n` bytes at offset `o` of a
 * buffer `b`, re-pointed with `reset()` so that one view object serves every packet of a
 * layer without allocation. Each header's view adds `checkLen()` and its accessors.
 */
export abstract class PacketView {
  b: Uint8Array = new Uint8Array(0);
  o = 0;
  n = 0;

  /** Re-points this view at `n` bytes of `b` from `o`. */
  reset(b: Uint8Array, o: number, n: number): this {
    this.b = b;
    this.o = o;
    this.n = n;
    return this;
  }
}
