/**
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's ISS
 * carries everything needed to build the connection later, and no state is kept. The
 * final ACK's acknowledgment number minus one is checked and decoded.
 *
 * Our layout of the 32-bit cookie (Linux's differs; the idea is the same):
 *
 *    31..27  t: a 64-second counter, mod 32 (the cookie is valid for two periods)
 *    26..24  MSS class (an index into MSS_TABLE; the peer's MSS rounded down)
 *    23..20  window scale the peer offered (15: none)
 *    19..0   HalfSipHash(secret; addresses, ports, peer's ISN, t) & 0xfffff
 *
 * A blind attacker who guesses the 4-tuple must still guess 20 bits of keyed hash per
 * try. SACK-permitted and timestamps are not encoded: a connection made from a cookie
 * goes without them (and without PAWS), as Linux's do when timestamps are off.
 */
import type { Rand } from '../core/rand.js';
import { halfSipHash, tupleWords } from './isn.js';
import type { IpAddr } from '../ip/ip-address.js';

export const MSS_TABLE = [536, 1024, 1220, 1360, 1440, 1452, 1460, 8960] as const;
const PERIOD_MS = 64_000;
/** A cookie is valid for two periods: an ACK later than this after the last cookie sent cannot carry one. */
export const COOKIE_VALID_MS = 2 * PERIOD_MS;

export interface CookieContents {
  mss: number;
  /** -1: the peer offered no window scale. */
  wscale: number;
}

export class SynCookies {
  private readonly k0: number;
  private readonly k1: number;

  /** The words hashed, reused per cookie. */
  private readonly words: number[] = [];

  constructor(rand: Rand) {
    this.k0 = rand.u32();
    this.k1 = rand.u32();
  }

  private counter(now: number): number {
    return Math.floor(now / PERIOD_MS) & 31;
  }

  private mac(la: IpAddr, lp: number, ra: IpAddr, rp: number, irs: number, t: number): number {
    const w = tupleWords(la, lp, ra, rp, this.words);
    w.push(irs >>> 0, t);
    return halfSipHash(this.k0, this.k1, w) & 0xfffff;
  }

  /** The ISS for a SYN-ACK answering a SYN with sequence number `irs`. */
  make(la: IpAddr, lp: number, ra: IpAddr, rp: number, irs: number, peerMss: number, peerWscale: number, now: number): number {
    const t = this.counter(now);
    let m = 0;
    for (let i = 0; i < MSS_TABLE.length; i++) if (MSS_TABLE[i]! <= peerMss) m = i;
    const ws = peerWscale < 0 ? 15 : Math.min(peerWscale, 14);
    return ((t << 27) | (m << 24) | (ws << 20) | this.mac(la, lp, ra, rp, irs, t)) >>> 0;
  }

  /** Checks the cookie the final ACK returns (`ack - 1`); null if it is not ours or too old. */
  check(la: IpAddr, lp: number, ra: IpAddr, rp: number, irs: number, cookie: number, now: number): CookieContents | null {
    const t = cookie >>> 27;
    const cur = this.counter(now);
    if (t !== cur && t !== ((cur + 31) & 31)) return null;
    if ((cookie & 0xfffff) !== this.mac(la, lp, ra, rp, irs, t)) return null;
    const ws = (cookie >>> 20) & 15;
    return { mss: MSS_TABLE[(cookie >>> 24) & 7]!, wscale: ws === 15 ? -1 : ws };
  }
}
