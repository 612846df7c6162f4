/**
 * The recent TCP trace kept in memory (the demo with `--trace`), so that its live page can
 * draw each connection's ladder and time-sequence graph while the connection runs. Bounded:
 * the most recent MAX_CONNECTIONS connections, the first MAX_RECORDS records of each (the
 * handshake and what follows; a long transfer's ladder folds anyway).
 */
import type { TraceRecord, Tracer } from '../tcp/trace.js';

const MAX_CONNECTIONS = 64;
const MAX_RECORDS = 5000;

export class TraceMemory {
  private readonly byConn = new Map<number, TraceRecord[]>();
  /** Records not kept because a connection reached MAX_RECORDS. */
  dropped = 0;

  /** The tracer to chain with the stack's. */
  readonly tracer: Tracer = (r) => {
    let list = this.byConn.get(r.c);
    if (!list) {
      if (this.byConn.size >= MAX_CONNECTIONS) this.byConn.delete(this.byConn.keys().next().value!);
      this.byConn.set(r.c, (list = []));
    }
    if (list.length < MAX_RECORDS) list.push(r);
    else this.dropped++;
  };

  /** A connection's records (empty if unknown or forgotten). */
  records(id: number): TraceRecord[] {
    return this.byConn.get(id) ?? [];
  }

  has(id: number): boolean {
    return this.byConn.has(id);
  }
}
