/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip,
 * remoteport, secretkey), where M is a timer ticking every 4 microseconds (RFC 9293
 * §3.4.1) and F a keyed pseudorandom function. F is HalfSipHash-2-4 (32-bit words, so
 * it is cheap in JavaScript; Linux uses SipHash for secure_tcp_seq). The key comes from
 * the injected Rand, so a simulation replays exactly from its seed.
 */
import type { Rand } from '../core/rand.js';
import type { IpAddr } from '../ip/ip-address.js';

/**
 * The words F hashes for a 4-tuple: one per IPv4 address, four per IPv6 address (RFC 6528
 * §3 asks for the whole connection-id), then the ports. Written into `out` (emptied
 * first), so that a caller hashing per SYN reuses one array.
 */
export function tupleWords(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number, out: number[] = []): number[] {
  out.length = 0;
  pushAddr(out, localAddr);
  pushAddr(out, remoteAddr);
  out.push(((localPort << 16) | remotePort) >>> 0);
  return out;
}

function pushAddr(out: number[], a: IpAddr): void {
  if (typeof a === 'number') out.push(a);
  else out.push(a.w0, a.w1, a.w2, a.w3);
}

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

/**
 * HalfSipHash-2-4 of 32-bit words under a 64-bit key, giving 32 bits: two rounds per
 * message word, two for the length word, four to finish. The state lives in locals (a
 * closure over it would box each value in a heap number: kilobytes per SYN).
 */
export function halfSipHash(k0: number, k1: number, words: readonly number[]): number {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (0x6c796765 ^ k0) >>> 0;
  let v3 = (0x74656462 ^ k1) >>> 0;
  const n = words.length;
  // Steps 0..n-1: the words; step n: the length word; step n+1: the finalisation.
  for (let step = 0; step <= n + 1; step++) {
    const last = step === n + 1;
    const m = step < n ? words[step]! >>> 0 : ((n * 4) << 24) >>> 0;
    if (last) v2 = (v2 ^ 0xff) >>> 0;
    else v3 = (v3 ^ m) >>> 0;
    for (let r = last ? 4 : 2; r > 0; r--) {
      v0 = (v0 + v1) >>> 0; v1 = rotl(v1, 5); v1 = (v1 ^ v0) >>> 0; v0 = rotl(v0, 16);
      v2 = (v2 + v3) >>> 0; v3 = rotl(v3, 8); v3 = (v3 ^ v2) >>> 0;
      v0 = (v0 + v3) >>> 0; v3 = rotl(v3, 7); v3 = (v3 ^ v0) >>> 0;
      v2 = (v2 + v1) >>> 0; v1 = rotl(v1, 13); v1 = (v1 ^ v2) >>> 0; v2 = rotl(v2, 16);
    }
    if (!last) v0 = (v0 ^ m) >>> 0;
  }
  return (v1 ^ v3) >>> 0;
}

export class IsnGenerator {
  private readonly k0: number;
  private readonly k1: number;
  /** The words hashed, reused per ISN. */
  private readonly words: number[] = [];

  constructor(rand: Rand) {
    this.k0 = rand.u32();
    this.k1 = rand.u32();
  }

  /** `now` in milliseconds: M advances 250 per millisecond (one per 4 µs). */
  isn(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number, now: number): number {
    const w = tupleWords(localAddr, localPort, remoteAddr, remotePort, this.words);
    w.push(0);
    const f = halfSipHash(this.k0, this.k1, w);
    const m = Math.floor(now * 250) >>> 0;
    return (m + f) >>> 0;
  }
}
