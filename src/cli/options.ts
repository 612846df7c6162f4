/**
 * Options shared by the commands that put a stack on a device (demo, nc).
 */
import { formatIpv4, parseCidr, parseIpv4, sameSubnet, type Ipv4Addr } from '../ip/address.js';
import { parseFaultSpec, type FaultConfig } from '../link/fault-link.js';
import { addressing6 } from '../host-addressing.js';
import type { Medium } from '../link/link-device.js';

export interface DeviceOptions {
  netns?: string;
  medium: Medium;
  dev: string;
  addr: Ipv4Addr;
  prefixLen: number;
  gateway: Ipv4Addr;
  /** The stack's IPv6 address and prefix (`fd00:7::2/64`); absent with `--addr6 off`. */
  addr6?: string;
  /** The kernel side's IPv6 address (the stack's IPv6 default router). */
  gateway6?: string;
  mtu: number;
  pcap?: string;
  /** JSON-lines trace of every TCP connection's events. */
  trace?: string;
  fault?: FaultConfig;
  seed?: number;
  /** The stack's host name (gethostname()); default the device's name. */
  hostName?: string;
  /** DNS servers for names (RFC 1035 stub resolver). */
  nameservers?: string[];
  /** TCP maximum segment lifetime in ms (TIME-WAIT lasts twice this). */
  mslMs?: number;
  /** Checksum and TCP segmentation offload (virtio-net headers, TUN and TAP); off under --pcap/--fault, which see every packet. */
  offload: boolean;
  /** Configure the device (needs CAP_NET_ADMIN), or attach to a persistent one as it is. */
  configure: boolean;
  /** The device's txqueuelen (the kernel's queue of packets waiting for the stack). */
  txQueueLen?: number;
  /** Busy-poll the device this many microseconds after traffic (0: off). */
  busyPollUs?: number;
}

export const DEVICE_OPTION_SPEC = {
  netns: { type: 'string' },
  mode: { type: 'string', default: 'tun' },
  dev: { type: 'string' },
  addr: { type: 'string' },
  gateway: { type: 'string' },
  addr6: { type: 'string' },
  gateway6: { type: 'string' },
  mtu: { type: 'string', default: '1500' },
  pcap: { type: 'string' },
  trace: { type: 'string' },
  fault: { type: 'string' },
  seed: { type: 'string' },
  msl: { type: 'string' },
  offload: { type: 'string', default: 'on' },
  configure: { type: 'string', default: 'on' },
  txqueuelen: { type: 'string' },
  'busy-poll': { type: 'string' },
  hostname: { type: 'string' },
  nameserver: { type: 'string', multiple: true },
} as const;

export function deviceOptions(
  v: { [K in keyof typeof DEVICE_OPTION_SPEC]?: (typeof DEVICE_OPTION_SPEC)[K] extends { multiple: true } ? string[] | undefined : string | undefined },
  defaults: { dev: string; addr: string; gateway: string; addr6?: string; gateway6?: string },
): DeviceOptions {
  const mode = v.mode ?? 'tun';
  if (mode !== 'tun' && mode !== 'tap') throw new Error(`--mode must be tun or tap, not "${mode}"`);
  const { addr, prefixLen } = parseCidr(v.addr ?? defaults.addr);
  const gateway = parseIpv4(v.gateway ?? defaults.gateway);
  if (!sameSubnet(addr, gateway, prefixLen) || addr === gateway) {
    throw new Error(`--gateway ${formatIpv4(gateway)} must be another address on ${formatIpv4(addr)}/${prefixLen}`);
  }
  // IPv6 beside IPv4 unless `--addr6 off`; checked as openTun checks it (clear errors).
  const addr6 = v.addr6 === 'off' ? undefined : (v.addr6 ?? defaults.addr6);
  const gateway6 = addr6 === undefined ? undefined : (v.gateway6 ?? (v.addr6 === undefined ? defaults.gateway6 : undefined));
  if (addr6 !== undefined) addressing6(addr6, gateway6, '--addr6', '--gateway6');
  else if (v.gateway6 !== undefined) throw new Error('--gateway6 needs an IPv6 address (--addr6)');
  const mtu = Number(v.mtu ?? 1500);
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new Error(`--mtu must be an integer from 576 to 65535`);
  const dev = v.dev ?? defaults.dev;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw new Error(`--dev "${dev}" is not a valid interface name (1-15 characters)`);
  let seed: number | undefined;
  if (v.seed !== undefined) {
    seed = Number(v.seed);
    if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer`);
  }
  let mslMs: number | undefined;
  if (v.msl !== undefined) {
    mslMs = Number(v.msl);
    if (!Number.isInteger(mslMs) || mslMs < 0) throw new Error('--msl must be a whole number of milliseconds');
  }
  const offload = v.offload ?? 'on';
  if (offload !== 'on' && offload !== 'off') throw new Error(`--offload must be on or off, not "${offload}"`);
  let txQueueLen: number | undefined;
  if (v.txqueuelen !== undefined) {
    txQueueLen = Number(v.txqueuelen);
    if (!Number.isInteger(txQueueLen) || txQueueLen < 1 || txQueueLen > 1_000_000) throw new Error('--txqueuelen must be an integer from 1 to 1000000');
  }
  let busyPollUs: number | undefined;
  if (v['busy-poll'] !== undefined) {
    busyPollUs = Number(v['busy-poll']);
    if (!Number.isInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > 1000) throw new Error('--busy-poll must be a whole number of microseconds from 0 to 1000');
  }
  const configure = v.configure ?? 'on';
  if (configure !== 'on' && configure !== 'off') throw new Error(`--configure must be on or off, not "${configure}"`);
  return {
    configure: configure === 'on',
    txQueueLen,
    busyPollUs,
    offload: offload === 'on',
    mslMs,
    netns: v.netns,
    medium: mode === 'tap' ? 'ethernet' : 'ip',
    dev,
    addr,
    prefixLen,
    gateway,
    addr6,
    gateway6,
    mtu,
    pcap: v.pcap,
    trace: v.trace,
    fault: v.fault !== undefined ? parseFaultSpec(v.fault) : undefined,
    seed,
    hostName: v.hostname,
    nameservers: v.nameserver,
  };
}
