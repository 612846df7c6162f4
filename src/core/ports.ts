/**
 * Ephemeral port selection, shared by UDP and TCP: RFC 6056 §3.3.1 ("Algorithm 1:
 * Simple Port Randomization"): start at a random point of the range and probe upward
 * until a free port is found. The range is Linux's net.ipv4.ip_local_port_range.
 */
import type { Rand } from './rand.js';

export const EPHEMERAL_MIN = 32768;
export const EPHEMERAL_MAX = 60999;

/** A free port for which `inUse(port)` is false, or -1 when every one is taken. */
export function pickEphemeralPort(rand: Rand, inUse: (port: number) => boolean): number {
  const count = EPHEMERAL_MAX - EPHEMERAL_MIN + 1;
  const start = rand.u32() % count;
  for (let i = 0; i < count; i++) {
    const port = EPHEMERAL_MIN + ((start + i) % count);
    if (!inUse(port)) return port;
  }
  return -1;
}
