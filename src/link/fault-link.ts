/**
 * A seeded fault-injecting wrapper for any LinkDevice: loss, duplication, reordering,
 * delay with jitter, corruption and a rate limit, applied to frames in both directions.
 * Every decision comes from the injected Rand, and held frames are released by `poll(now)`
 * on the injected clock, so a run is reproducible from its seed.
 *
 *   --fault loss=5%,dup=1%,reorder=2%,corrupt=0.1%,delay=20ms,jitter=5ms,rate=10mbit,seed=1
 */
import { randFloat, type Rand } from '../core/rand.js';
import type { Clock } from '../core/clock.js';
import type { LinkDevice, LinkReceiver, Medium } from './link-device.js';

export interface FaultConfig {
  /** Probabilities in [0, 1]. */
  loss: number;
  duplicate: number;
  reorder: number;
  corrupt: number;
  /** Fixed one-way delay and uniform jitter, ms. */
  delayMs: number;
  jitterMs: number;
  /** Bits per second, 0 for unlimited. Frames beyond the queue are dropped. */
  rateBps: number;
  /** Which directions the faults apply to. */
  directions: 'both' | 'in' | 'out';
  seed: number;
}

export const NO_FAULTS: FaultConfig = {
  loss: 0, duplicate: 0, reorder: 0, corrupt: 0, delayMs: 0, jitterMs: 0, rateBps: 0, directions: 'both', seed: 1,
};

/** Parses `loss=5%,dup=1%,delay=20ms,seed=7` (percentages or fractions). */
export function parseFaultSpec(spec: string): FaultConfig {
  const c: FaultConfig = { ...NO_FAULTS };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(.+)$/.exec(part);
    if (!m) throw new TypeError(`--fault: "${part}" is not key=value`);
    const [, key, raw] = m as unknown as [string, string, string];
    const num = (t: string): number => (/^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN);
    const prob = (): number => {
      const v = raw.endsWith('%') ? num(raw.slice(0, -1)) / 100 : num(raw);
      if (!(v >= 0 && v <= 1)) throw new RangeError(`--fault: ${key}=${raw} is not a probability (0..100%)`);
      return v;
    };
    const ms = (): number => {
      const v = num(raw.replace(/ms$/, ''));
      if (!(v >= 0)) throw new RangeError(`--fault: ${key}=${raw} is not a duration in ms`);
      return v;
    };
    switch (key) {
      case 'loss': c.loss = prob(); break;
      case 'dup': case 'duplicate': c.duplicate = prob(); break;
      case 'reorder': c.reorder = prob(); break;
      case 'corrupt': c.corrupt = prob(); break;
      case 'delay': c.delayMs = ms(); break;
      case 'jitter': c.jitterMs = ms(); break;
      case 'rate': {
        const r = /^(\d+(?:\.\d+)?)(k|m|g)?(bit|bps)?$/i.exec(raw);
        if (!r) throw new RangeError(`--fault: rate=${raw} is not like 10mbit`);
        const mult = { k: 1e3, m: 1e6, g: 1e9 }[(r[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
        c.rateBps = Number(r[1]) * mult;
        break;
      }
      case 'dir': {
        if (raw !== 'both' && raw !== 'in' && raw !== 'out') throw new RangeError(`--fault: dir=${raw} is not both|in|out`);
        c.directions = raw;
        break;
      }
      case 'seed': {
        const v = Number(raw);
        if (!Number.isInteger(v)) throw new RangeError(`--fault: seed=${raw} is not an integer`);
        c.seed = v >>> 0;
        break;
      }
      default:
        throw new TypeError(`--fault: unknown key "${key}" (loss, dup, reorder, corrupt, delay, jitter, rate, dir, seed)`);
    }
  }
  return c;
}

interface Held {
  at: number;
  seq: number;
  frame: Uint8Array;
  out: boolean;
  /** The device's word on the checksum (receive offload), kept unless this copy was corrupted. */
  checksumOk: boolean;
}

export interface FaultCounters {
  passed: number;
  partitioned: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  delayed: number;
  rateDropped: number;
}

/** How long a reordered frame is held back (it lets later frames overtake it). */
const REORDER_HOLD_MS = 1;

export class FaultLink implements LinkDevice {
  readonly counters: FaultCounters = { passed: 0, partitioned: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, delayed: 0, rateDropped: 0 };
  private readonly held: Held[] = [];
  private seq = 0;
  private receiver: LinkReceiver | null = null;
  /** When each direction's rate-limited "wire" is next free. */
  private busyUntil = { in: 0, out: 0 };

  constructor(
    readonly inner: LinkDevice,
    readonly config: FaultConfig,
    private readonly rand: Rand,
    private readonly clock: Clock,
  ) {}

  get name(): string { return this.inner.name; }
  get medium(): Medium { return this.inner.medium; }
  get mtu(): number { return this.inner.mtu; }
  get mac(): Uint8Array | null { return this.inner.mac; }

  private applies(out: boolean): boolean {
    const d = this.config.directions;
    return d === 'both' || (out ? d === 'out' : d === 'in');
  }

  /** While set, every frame in both directions is dropped (a partition; clear it to heal). */
  partitioned = false;

  /** Decides one frame's fate; returns true if it was taken (held or dropped). */
  private route(frame: Uint8Array, off: number, len: number, out: boolean, checksumOk = false): boolean {
    if (this.partitioned) {
      this.counters.partitioned++;
      return true;
    }
    if (!this.applies(out)) return false;
    const c = this.config;
    const r = this.rand;
    if (c.loss > 0 && randFloat(r) < c.loss) {
      this.counters.lost++;
      return true;
    }
    const now = this.clock.now();
    let at = now;
    if (c.rateBps > 0) {
      const dir = out ? 'out' : 'in';
      const start = Math.max(now, this.busyUntil[dir]);
      // A queue of at most 100 ms at the configured rate, then tail drop.
      if (start - now > 100) {
        this.counters.rateDropped++;
        return true;
      }
      this.busyUntil[dir] = start + (len * 8 * 1000) / c.rateBps;
      at = this.busyUntil[dir];
    }
    if (c.delayMs > 0 || c.jitterMs > 0) at += c.delayMs + randFloat(r) * c.jitterMs;
    let reordered = false;
    if (c.reorder > 0 && randFloat(r) < c.reorder) {
      at += REORDER_HOLD_MS + randFloat(r) * Math.max(REORDER_HOLD_MS, c.jitterMs);
      reordered = true;
    }
    const copies = c.duplicate > 0 && randFloat(r) < c.duplicate ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    const corrupt = c.corrupt > 0 && randFloat(r) < c.corrupt;
    if (at === now && copies === 1 && !corrupt) return false; // pass straight through
    for (let i = 0; i < copies; i++) {
      const f = frame.slice(off, off + len);
      const damaged = corrupt && i === 0 && len > 0;
      if (damaged) {
        // Flip one bit anywhere: header or payload, the checksums must catch it.
        const bit = Math.floor(randFloat(r) * len * 8);
        f[bit >> 3]! ^= 1 << (bit & 7);
        this.counters.corrupted++;
      }
      this.held.push({ at, seq: this.seq++, frame: f, out, checksumOk: checksumOk && !damaged });
    }
    if (reordered) this.counters.reordered++;
    else if (at > now) this.counters.delayed++;
    // Held frames leave from poll() (pollAt() says now), never from inside send() or a
    // receive: releasing here would re-enter the stack in the middle of its own work.
    return true;
  }

  send(b: Uint8Array, off: number, len: number): void {
    if (!this.route(b, off, len, true)) {
      this.counters.passed++;
      this.inner.send(b, off, len);
    }
  }

  flush(): void {
    this.inner.flush();
  }

  setReceiver(rx: LinkReceiver): void {
    this.receiver = rx;
    this.inner.setReceiver({
      frame: (b, off, len, checksumOk) => {
        if (!this.route(b, off, len, false, checksumOk === true)) {
          this.counters.passed++;
          rx.frame(b, off, len, checksumOk); // untouched: the device's word still holds
        }
      },
      batchEnd: () => rx.batchEnd(),
    });
  }

  private releaseDue(now: number): void {
    if (this.held.length === 0) return;
    this.held.sort((x, y) => x.at - y.at || x.seq - y.seq);
    let delivered = false;
    while (this.held.length > 0 && this.held[0]!.at <= now) {
      const h = this.held.shift()!;
      this.counters.passed++;
      if (h.out) this.inner.send(h.frame, 0, h.frame.length);
      else if (this.receiver) {
        this.receiver.frame(h.frame, 0, h.frame.length, h.checksumOk);
        delivered = true;
      }
    }
    if (delivered) this.receiver!.batchEnd();
  }

  poll(now: number): void {
    this.inner.poll?.(now);
    this.releaseDue(now);
    this.inner.flush();
  }

  pollAt(): number | undefined {
    let t = this.inner.pollAt?.();
    for (const h of this.held) if (t === undefined || h.at < t) t = h.at;
    return t;
  }

  ref(keepAlive: boolean): void {
    this.inner.ref?.(keepAlive);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
