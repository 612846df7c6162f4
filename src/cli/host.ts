/**
 * Puts a stack on a real device for the CLI commands: `openTun` with the parsed command
 * line. The commands close the host themselves, so it keeps the process alive until then.
 */
import { formatIpv4 } from '../ip/address.js';
import { openTun, type TunHost } from '../host.js';
import type { DeviceOptions } from './options.js';

export type Host = TunHost;

export async function openHost(o: DeviceOptions): Promise<TunHost> {
  const host = await openTun({
    dev: o.dev,
    mode: o.medium === 'ip' ? 'tun' : 'tap',
    addr: `${formatIpv4(o.addr)}/${o.prefixLen}`,
    gateway: formatIpv4(o.gateway),
    addr6: o.addr6,
    gateway6: o.gateway6,
    mtu: o.mtu,
    configure: o.configure,
    txQueueLen: o.txQueueLen,
    busyPollUs: o.busyPollUs,
    offload: o.offload,
    pcap: o.pcap,
    trace: o.trace,
    fault: o.fault,
    seed: o.seed,
    tcp: o.mslMs !== undefined ? { mslMs: o.mslMs } : {},
    hostName: o.hostName,
    nameservers: o.nameservers,
  });
  host.ref();
  return host;
}

/**
 * Resolves once the stack's IPv6 addresses are usable: at once on TUN, after duplicate
 * address detection on TAP (RFC 4862 §5.4, a second), at most `maxMs` later.
 */
export async function ipv6Ready(host: TunHost, maxMs = 3000): Promise<void> {
  const ip6 = host.stack.ip6;
  if (ip6 === null) return;
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline && ip6.route.addresses().some((a) => ip6.route.isTentative(a))) await new Promise((r) => setTimeout(r, 20));
}
