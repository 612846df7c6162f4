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

/** What a FaultLink does to frames; `parseFaultSpec` builds one from `loss=5%,delay=20ms,...`. */
export interface FaultConfig {
  /** Probability in [0, 1] that a frame is dropped. */
  loss: number;
  /** Probability in [0, 1] that a frame is delivered twice. */
  duplicate: number;
  /** Probability in [0, 1] that a frame is held back an extra 1 to 2 ms (more with jitter) so later frames overtake it. */
  reorder: number;
  /** Probability in [0, 1] that one bit of a frame is flipped. */
  corrupt: number;
  /** Fixed one-way delay, ms. */
  delayMs: number;
  /** Uniform random delay added to `delayMs`, from 0 to this many ms. */
  jitterMs: number;
  /** Bits per second, 0 for unlimited. Frames beyond the queue are dropped. */
  rateBps: number;
  /** Which directions the faults apply to. */
  directions: 'both' | 'in' | 'out';
  /** Seed for the generator that makes the fault decisions (`openTun` and SimNetwork build their SeededRand from it). */
  seed: number;
}

/** A FaultConfig that passes every frame untouched; spread it and set what you want. */
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

/** What a FaultLink has done to frames, both directions together. */
export interface FaultCounters {
  /** Frames passed on, straight away or after being held (each copy of a duplicate counts). */
  passed: number;
  /** Frames dropped while `partitioned` was set. */
  partitioned: number;
  /** Frames dropped by `loss`. */
  lost: number;
  /** Frames delivered twice. */
  duplicated: number;
  /** Frames held back to be overtaken. */
  reordered: number;
  /** Frames with a bit flipped. */
  corrupted: number;
  /** Frames held by delay, jitter or the rate limit (and not reordered). */
  delayed: number;
  /** Frames dropped because the rate limit's queue was full (more than 100 ms behind). */
  rateDropped: number;
}

/** How long a reordered frame is held back (it lets later frames overtake it). */
const REORDER_HOLD_MS = 1;

/**
 * Wraps a LinkDevice and injects seeded faults (loss, duplication, reordering, delay
 * with jitter, corruption, a rate limit, partitions) into the frames it carries. Held
 * frames are released by `poll(now)`, so a run on a manual clock replays from its seed.
 */
export class FaultLink implements LinkDevice {
  /** What it has done to frames so far. */
  readonly counters: FaultCounters = { passed: 0, partitioned: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, delayed: 0, rateDropped: 0 };
  private readonly held: Held[] = [];
  private seq = 0;
  private receiver: LinkReceiver | null = null;
  /** When each direction's rate-limited "wire" is next free. */
  private busyUntil = { in: 0, out: 0 };

  /** Every decision comes from `rand`; `clock` (ms) times the held frames. */
  constructor(
    /** The device it wraps. */
    readonly inner: LinkDevice,
    /** The faults it applies (read on every frame, so changing a field takes effect at once). */
    readonly config: FaultConfig,
    private readonly rand: Rand,
    private readonly clock: Clock,
  ) {}

  /** The wrapped device's name. */
  get name(): string { return this.inner.name; }
  /** The wrapped device's medium. */
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

  /** Sets where received frames go, after the faults; installs its own receiver on the wrapped device. */
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

  /** Polls the wrapped device, releases the held frames due by `now` (ms) and flushes. */
  poll(now: number): void {
    this.inner.poll?.(now);
    this.releaseDue(now);
    this.inner.flush();
  }

  /** When the next held frame is due (or the wrapped device's next poll, if sooner), in ms; undefined if neither. */
  pollAt(): number | undefined {
    let t = this.inner.pollAt?.();
    for (const h of this.held) if (t === undefined || h.at < t) t = h.at;
    return t;
  }

  ref(keepAlive: boolean): void {
    this.inner.ref?.(keepAlive);
  }

  /** Closes the wrapped device. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
