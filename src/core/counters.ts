/**
 * Per-layer counters, like `netstat -s`: what was received, delivered, sent, and every
 * drop by its reason. A counter set is a plain object with every key present from the
 * start, so incrementing one is a monomorphic property write on the hot path.
 */
export type CounterSet<K extends string> = { [key in K]: number };

export function counters<K extends string>(keys: readonly K[]): CounterSet<K> {
  const c = {} as CounterSet<K>;
  for (const k of keys) c[k] = 0;
  return c;
}

/** The non-zero counters, for printing. */
export function nonZero(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) if (v !== 0) out[k] = v;
  return out;
}
