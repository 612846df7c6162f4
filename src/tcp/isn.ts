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
 * §3 asks for the whole connection-id), then the ports.
 */
export function tupleWords(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number): number[] {
  const ports = ((localPort << 16) | remotePort) >>> 0;
  if (typeof localAddr === 'number' && typeof remoteAddr === 'number') return [localAddr, remoteAddr, ports];
  const w: number[] = [];
  for (const a of [localAddr, remoteAddr]) {
    if (typeof a === 'number') w.push(a);
    else w.push(a.w0, a.w1, a.w2, a.w3);
  }
  w.push(ports);
  return w;
}

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

/** HalfSipHash-2-4 of four 32-bit words under a 64-bit key, giving 32 bits. */
export function halfSipHash(k0: number, k1: number, words: readonly number[]): number {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (0x6c796765 ^ k0) >>> 0;
  let v3 = (0x74656462 ^ k1) >>> 0;
  const round = (): void => {
    v0 = (v0 + v1) >>> 0; v1 = rotl(v1, 5); v1 = (v1 ^ v0) >>> 0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0; v3 = rotl(v3, 8); v3 = (v3 ^ v2) >>> 0;
    v0 = (v0 + v3) >>> 0; v3 = rotl(v3, 7); v3 = (v3 ^ v0) >>> 0;
    v2 = (v2 + v1) >>> 0; v1 = rotl(v1, 13); v1 = (v1 ^ v2) >>> 0; v2 = rotl(v2, 16);
  };
  for (const m of words) {
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  }
  const last = ((words.length * 4) << 24) >>> 0;
  v3 = (v3 ^ last) >>> 0;
  round();
  round();
  v0 = (v0 ^ last) >>> 0;
  v2 = (v2 ^ 0xff) >>> 0;
  round(); round(); round(); round();
  return (v1 ^ v3) >>> 0;
}

export class IsnGenerator {
  private readonly k0: number;
  private readonly k1: number;

  constructor(rand: Rand) {
    this.k0 = rand.u32();
    this.k1 = rand.u32();
  }

  /** `now` in milliseconds: M advances 250 per millisecond (one per 4 µs). */
  isn(localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number, now: number): number {
    const w = tupleWords(localAddr, localPort, remoteAddr, remotePort);
    w.push(0);
    const f = halfSipHash(this.k0, this.k1, w);
    const m = Math.floor(now * 250) >>> 0;
    return (m + f) >>> 0;
  }
}
