/**
 * TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): parsed into one reused struct so
 * that reading a segment's options allocates nothing.
 *
 *   kind 0 EOL, 1 NOP, 2 MSS(4), 3 window scale(3), 4 SACK-permitted(2),
 *   5 SACK(2+8n), 8 timestamps(10); unknown kinds are skipped by their length.
 * A malformed list (a length below 2, or running past the header) is rejected.
 */
import { readU16, readU32, writeU16, writeU32 } from '../core/bytes.js';

export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WSCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMPS = 8;
/** RFC 7323 §2.3: a shift above 14 is treated as 14. */
export const MAX_WSCALE = 14;

export class TcpOptions {
  /** -1 when absent. */
  mss = -1;
  wscale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks as [left0, right0, left1, right1, ...]; `sackCount` pairs are valid. */
  readonly sack = new Array<number>(8).fill(0);
  sackCount = 0;

  clear(): void {
    this.mss = -1;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }

  /** Parses the options in b[off, off+len); false if the list is malformed. */
  parse(b: Uint8Array, off: number, len: number): boolean {
    this.clear();
    let i = off;
    const end = off + len;
    while (i < end) {
      const kind = b[i]!;
      if (kind === OPT_EOL) return true;
      if (kind === OPT_NOP) {
        i++;
        continue;
      }
      if (i + 1 >= end) return false;
      const olen = b[i + 1]!;
      if (olen < 2 || i + olen > end) return false;
      switch (kind) {
        case OPT_MSS:
          if (olen !== 4) return false;
          this.mss = readU16(b, i + 2);
          break;
        case OPT_WSCALE:
          if (olen !== 3) return false;
          this.wscale = Math.min(b[i + 2]!, MAX_WSCALE);
          break;
        case OPT_SACK_PERMITTED:
          if (olen !== 2) return false;
          this.sackPermitted = true;
          break;
        case OPT_SACK: {
          if ((olen - 2) % 8 !== 0) return false;
          const n = Math.min((olen - 2) / 8, 4);
          for (let k = 0; k < n; k++) {
            this.sack[2 * k] = readU32(b, i + 2 + 8 * k);
            this.sack[2 * k + 1] = readU32(b, i + 6 + 8 * k);
          }
          this.sackCount = n;
          break;
        }
        case OPT_TIMESTAMPS:
          if (olen !== 10) return false;
          this.hasTimestamps = true;
          this.tsVal = readU32(b, i + 2);
          this.tsEcr = readU32(b, i + 6);
          break;
        default:
          break; // unknown: skipped by its length (RFC 9293 §3.1)
      }
      i += olen;
    }
    return true;
  }

  /** The bytes these options take when written (padded to a multiple of 4). */
  length(): number {
    const sack = this.sackCount > 0 ? 4 + 8 * this.sackCount : 0;
    return (this.mss >= 0 ? 4 : 0) + (this.wscale >= 0 ? 4 : 0) + (this.sackPermitted ? 4 : 0) + (this.hasTimestamps ? 12 : 0) + sack;
  }

  /**
   * Writes the options at b[off], each padded with NOPs to 4 bytes as Linux lays them
   * out (MSS, window scale, SACK-permitted, timestamps, SACK blocks); returns the length.
   */
  write(b: Uint8Array, off: number): number {
    let i = off;
    if (this.mss >= 0) {
      b[i] = OPT_MSS;
      b[i + 1] = 4;
      writeU16(b, i + 2, this.mss);
      i += 4;
    }
    if (this.wscale >= 0) {
      b[i] = OPT_NOP;
      b[i + 1] = OPT_WSCALE;
      b[i + 2] = 3;
      b[i + 3] = this.wscale;
      i += 4;
    }
    if (this.sackPermitted) {
      b[i] = OPT_NOP;
      b[i + 1] = OPT_NOP;
      b[i + 2] = OPT_SACK_PERMITTED;
      b[i + 3] = 2;
      i += 4;
    }
    if (this.hasTimestamps) {
      b[i] = OPT_NOP;
      b[i + 1] = OPT_NOP;
      b[i + 2] = OPT_TIMESTAMPS;
      b[i + 3] = 10;
      writeU32(b, i + 4, this.tsVal);
      writeU32(b, i + 8, this.tsEcr);
      i += 12;
    }
    const n = this.sackCount;
    if (n > 0) {
      b[i] = OPT_NOP;
      b[i + 1] = OPT_NOP;
      b[i + 2] = OPT_SACK;
      b[i + 3] = 2 + 8 * n;
      for (let k = 0; k < n; k++) {
        writeU32(b, i + 4 + 8 * k, this.sack[2 * k]!);
        writeU32(b, i + 8 + 8 * k, this.sack[2 * k + 1]!);
      }
      i += 4 + 8 * n;
    }
    return i - off;
  }

  /** Sets the options from the plain form (tests and tools build segments with it). */
  setFrom(o: OptionsToSend | null): this {
    this.clear();
    if (!o) return this;
    if (o.mss !== undefined) this.mss = o.mss;
    if (o.wscale !== undefined) this.wscale = o.wscale;
    if (o.sackPermitted) this.sackPermitted = true;
    if (o.timestamps) {
      this.hasTimestamps = true;
      this.tsVal = o.timestamps.tsVal;
      this.tsEcr = o.timestamps.tsEcr;
    }
    if (o.sack) {
      const n = Math.min(o.sack.length, 4);
      for (let k = 0; k < n; k++) {
        this.sack[2 * k] = o.sack[k]![0];
        this.sack[2 * k + 1] = o.sack[k]![1];
      }
      this.sackCount = n;
    }
    return this;
  }

  /** The plain form (a fresh object: for tests and tools, not the stack's hot path). */
  toPlain(): OptionsToSend {
    const o: OptionsToSend = {};
    if (this.mss >= 0) o.mss = this.mss;
    if (this.wscale >= 0) o.wscale = this.wscale;
    if (this.sackPermitted) o.sackPermitted = true;
    if (this.hasTimestamps) o.timestamps = { tsVal: this.tsVal, tsEcr: this.tsEcr };
    if (this.sackCount > 0) {
      o.sack = [];
      for (let k = 0; k < this.sackCount; k++) o.sack.push([this.sack[2 * k]!, this.sack[2 * k + 1]!]);
    }
    return o;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.mss >= 0) parts.push(`mss ${this.mss}`);
    if (this.wscale >= 0) parts.push(`wscale ${this.wscale}`);
    if (this.sackPermitted) parts.push('sackOK');
    if (this.hasTimestamps) parts.push(`TS val ${this.tsVal} ecr ${this.tsEcr}`);
    if (this.sackCount > 0) {
      const blocks: string[] = [];
      for (let k = 0; k < this.sackCount; k++) blocks.push(`${this.sack[2 * k]}:${this.sack[2 * k + 1]}`);
      parts.push(`sack ${blocks.join(' ')}`);
    }
    return parts.join(',');
  }
}

/** Options in a plain form, for tests and tools that build segments (the stack itself uses TcpOptions both ways). */
export interface OptionsToSend {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: { tsVal: number; tsEcr: number };
  /** SACK blocks (RFC 2018), at most 4 (3 with timestamps, to fit 40 bytes). */
  sack?: [number, number][];
}

/** Writes options in the plain form; returns the length written (tests and tools). */
export function writeOptions(o: OptionsToSend, b: Uint8Array, off: number): number {
  return new TcpOptions().setFrom(o).write(b, off);
}

export function optionsLength(o: OptionsToSend): number {
  return new TcpOptions().setFrom(o).length();
}
