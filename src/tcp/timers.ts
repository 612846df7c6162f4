/**
 * A connection's timers, as data (STYLE.md §3): one deadline per named slot, -1 when the
 * slot is idle. The connection's owner pieces arm their own slots (the sender the RTO and
 * persist timers, the receiver the delayed ACK, loss recovery RACK and TLP, the
 * connection keepalive, TIME-WAIT and FIN-WAIT-2); the TCP layer asks `next()` for the
 * earliest deadline to keep its heap, and the connection asks `due(now)` which to run.
 *
 * RFC 9293 §3.8.6.1 and RFC 6298 make the retransmission and persist timers exclusive:
 * the persist timer runs only when nothing is in flight. Here that is the object's rule,
 * not a caller's check: arming one stops the other (smoltcp's `enum Timer` makes the same
 * promise with a type).
 */

/** The slots, in the order `due()` runs them when several are due at once. */
export const Timer = {
  /** 2*MSL in TIME-WAIT (RFC 9293 §3.4.2): the connection closes. */
  TimeWait: 0,
  /** An orphan's FIN-WAIT-2 limit (Linux tcp_fin_timeout). */
  FinWait2: 1,
  /** RACK-TLP's tail loss probe (RFC 8985 §7.2); it goes before an RTO due at the same time. */
  Tlp: 2,
  /** Retransmission timeout (RFC 6298). */
  Rto: 3,
  /** RACK's reordering timer (RFC 8985 §6.2 step 5). */
  Rack: 4,
  /** Zero-window probes (RFC 9293 §3.8.6.1). */
  Persist: 5,
  /** Delayed ACK (RFC 1122 §4.2.3.2). */
  Delack: 6,
  /** Keepalive probes (RFC 1122 §4.2.3.6). */
  Keepalive: 7,
} as const;
export type Timer = (typeof Timer)[keyof typeof Timer];

/** Slot names as traces and `tcpip stat` print them (index: Timer). */
export const TIMER_NAMES = ['time-wait', 'fin-wait-2', 'tlp', 'rto', 'rack', 'persist', 'delack', 'keepalive'] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

const SLOTS = TIMER_NAMES.length;

export class TcpTimers {
  private readonly at = new Float64Array(SLOTS).fill(-1);

  /** Arms `t` to fire at `when` (absolute ms); the RTO and persist timers exclude each other. */
  arm(t: Timer, when: number): void {
    this.at[t] = when;
    if (t === Timer.Rto) this.at[Timer.Persist] = -1;
    else if (t === Timer.Persist) this.at[Timer.Rto] = -1;
  }

  /** Arms `t` unless it is armed already. */
  armIfIdle(t: Timer, when: number): void {
    if (this.at[t]! < 0) this.arm(t, when);
  }

  stop(t: Timer): void {
    this.at[t] = -1;
  }

  armed(t: Timer): boolean {
    return this.at[t]! >= 0;
  }

  /** When `t` fires (-1: idle). */
  deadline(t: Timer): number {
    return this.at[t]!;
  }

  /** Is `t` armed and its time reached? */
  isDue(t: Timer, now: number): boolean {
    const a = this.at[t]!;
    return a >= 0 && now >= a;
  }

  /** The earliest deadline of any slot, or -1 when all are idle. */
  next(): number {
    let best = -1;
    for (let i = 0; i < SLOTS; i++) {
      const a = this.at[i]!;
      if (a >= 0 && (best < 0 || a < best)) best = a;
    }
    return best;
  }

  /** The first slot (in Timer order) due at `now`, or -1. */
  due(now: number): Timer | -1 {
    for (let i = 0; i < SLOTS; i++) {
      const a = this.at[i]!;
      if (a >= 0 && now >= a) return i as Timer;
    }
    return -1;
  }

  /** Stops every slot (the connection closed, or left for a TIME-WAIT record). */
  clearAll(): void {
    this.at.fill(-1);
  }

  /** Stops every slot but `keep`. */
  clearAllBut(keep: Timer): void {
    const k = this.at[keep]!;
    this.at.fill(-1);
    this.at[keep] = k;
  }

  /** `rto 180ms, keepalive 7199s` for `tcpip stat` (like `ss -o`): the armed slots and the time left. */
  describe(now: number): string {
    const parts: string[] = [];
    for (let i = 0; i < SLOTS; i++) {
      const a = this.at[i]!;
      if (a < 0) continue;
      const left = Math.max(0, a - now);
      parts.push(`${TIMER_NAMES[i]} ${left >= 10_000 ? `${Math.round(left / 1000)}s` : `${Math.round(left)}ms`}`);
    }
    return parts.join(', ');
  }
}
