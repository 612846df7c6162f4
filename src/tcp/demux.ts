/**
 * Finding a connection (or a TIME-WAIT record) by its 4-tuple: a map from a small-integer
 * key to the few endpoints that share it, compared field by field.
 */
import { ipEqual, type IpAddr } from '../ip/ip-address.js';

/** What a 4-tuple lookup compares. */
export interface Endpoint {
  readonly localAddr: IpAddr;
  readonly localPort: number;
  readonly remoteAddr: IpAddr;
  readonly remotePort: number;
}

/**
 * The demultiplexing key: 14 bits of the local port and the remote port, so that it stays
 * a small integer (V8 boxes larger ones, an allocation per lookup); lookups compare the
 * full ports.
 */
export function demuxKey(localPort: number, remotePort: number): number {
  return ((localPort & 0x3fff) << 16) | remotePort;
}

/** The endpoint of `byKey` with exactly this 4-tuple, if any. */
export function findEndpoint<T extends Endpoint>(
  byKey: Map<number, T[]>, localAddr: IpAddr, localPort: number, remoteAddr: IpAddr, remotePort: number,
): T | undefined {
  const list = byKey.get(demuxKey(localPort, remotePort));
  if (!list) return undefined;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (e.remotePort === remotePort && e.localPort === localPort && ipEqual(e.remoteAddr, remoteAddr) && ipEqual(e.localAddr, localAddr)) return e;
  }
  return undefined;
}
