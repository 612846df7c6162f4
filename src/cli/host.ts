/**
 * Puts a stack on a real device for the CLI: opens the TUN/TAP device, stacks the optional
 * fault injector and pcap recorder on it, and starts the runtime.
 */
import { formatIpv4 } from '../ip/address.js';
import { FaultLink } from '../link/fault-link.js';
import type { LinkDevice } from '../link/link-device.js';
import { PcapLink, PcapWriter, pcapFileSink } from '../link/pcap.js';
import { TunDevice } from '../link/tun-device.js';
import { formatMac } from '../link/ethernet-frame.js';
import { SeededRand } from '../core/rand.js';
import { Runtime, osSeededRand, realClock, wallClock } from '../runtime.js';
import { Stack } from '../stack.js';
import type { DeviceOptions } from './options.js';
import { traceFile } from '../observe/trace-file.js';
import { makeHost } from '../socket/host.js';
import { SocketApi } from '../socket/socket-api.js';

export interface Host {
  stack: Stack;
  runtime: Runtime;
  /** The socket facade on this stack. */
  api: SocketApi;
  tun: TunDevice;
  device: LinkDevice;
  describe(): string[];
  close(): Promise<void>;
}

export function openHost(o: DeviceOptions): Host {
  // Offload makes the kernel hand us 64 KiB TCP segments; a pcap or fault injector wants
  // the wire's own packets, so either turns it off.
  const offload = o.offload && !o.pcap && !o.fault;
  const tun = TunDevice.open({ name: o.dev, medium: o.medium, mtu: o.mtu, kernelAddr: o.gateway, prefixLen: o.prefixLen, offload });
  let device: LinkDevice = tun;
  if (o.fault) device = new FaultLink(device, o.fault, new SeededRand(o.fault.seed), realClock);
  let pcapClose: (() => void) | undefined;
  if (o.pcap) {
    const f = pcapFileSink(o.pcap);
    pcapClose = f.close;
    device = new PcapLink(device, PcapWriter.forMedium(f.sink, tun.medium), wallClock, f.close);
  }
  const stack = new Stack(
    device,
    { addr: o.addr, prefixLen: o.prefixLen, gateway: o.gateway, tcp: o.mslMs !== undefined ? { mslMs: o.mslMs } : {} },
    osSeededRand(o.seed),
  );
  let traceClose: (() => void) | undefined;
  if (o.trace) {
    const t = traceFile(o.trace);
    stack.tcp.tracer = t.tracer;
    traceClose = t.close;
  }
  const runtime = new Runtime(stack, device);
  const api = new SocketApi(makeHost(stack, () => runtime.clock.now(), () => runtime.wake()));
  runtime.start();
  return {
    stack,
    runtime,
    api,
    tun,
    device,
    describe: () => [
      `device   ${tun.name} (${o.medium === 'ip' ? 'TUN, IP packets' : 'TAP, Ethernet frames'}), MTU ${o.mtu}${tun.tcpOffload ? ', checksum + TCP segmentation offload' : ''}`,
      `kernel   ${formatIpv4(o.gateway)}/${o.prefixLen}${tun.kernelMac ? `  mac ${formatMac(tun.kernelMac)}` : ''}`,
      `stack    ${formatIpv4(o.addr)}/${o.prefixLen}${tun.mac ? `  mac ${formatMac(tun.mac)}` : ''}`,
      ...(o.fault ? [`faults   ${JSON.stringify(o.fault)}`] : []),
      ...(o.pcap ? [`pcap     ${o.pcap}`] : []),
      ...(o.trace ? [`trace    ${o.trace}`] : []),
    ],
    close: async () => {
      await runtime.close();
      if (!o.pcap) pcapClose?.();
      traceClose?.();
    },
  };
}
