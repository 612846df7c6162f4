/**
 * `tcpip demo`: the stack on a TUN (default) or TAP device, answering ping, with the
 * demo services of the transports registered on it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { formatIpv4 } from '../ip/address.js';
import { openHost } from './host.js';
import { IN_NETNS_ENV, runInNetns } from './netns.js';
import { DEVICE_OPTION_SPEC, deviceOptions } from './options.js';
import { udpDaytime, udpDiscard, udpEcho, type Service } from '../services/udp-services.js';
import { tcpChargen, tcpChat, tcpDaytime, tcpDiscard, tcpEcho } from '../services/tcp-services.js';
import { httpService } from '../services/http-service.js';
import { controlPath, serveControl } from './control.js';
import { stackReport } from '../observe/report.js';
import { TraceMemory } from '../observe/trace-memory.js';
import { iperf3Service } from '../services/iperf3.js';

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...DEVICE_OPTION_SPEC, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log('usage: tcpip demo [--netns NAME] [--mode tun|tap] [--dev tcpip0] [--addr 10.7.0.2/24] [--gateway 10.7.0.1] [--mtu 1500] [--pcap FILE.pcap|FILE.pcapng] [--trace FILE] [--fault loss=5%,seed=1] [--seed N] [--msl MS] [--offload on|off] [--configure on|off] [--txqueuelen 1000] [--busy-poll MICROSECONDS]');
    return 0;
  }
  const o = deviceOptions(values, { dev: 'tcpip0', addr: '10.7.0.2/24', gateway: '10.7.0.1', addr6: 'fd00:7::2/64', gateway6: 'fd00:7::1' });
  if (o.configure && typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error('tcpip demo: creating a TUN/TAP device needs root (CAP_NET_ADMIN); run it as root, e.g. `sudo npx tcpip demo`, or attach to a persistent device you own with --configure off.');
    return 1;
  }
  if (o.netns && process.env[IN_NETNS_ENV] !== o.netns) {
    return runInNetns(o.netns, [process.argv[1]!, 'demo', ...argv], () => console.log(`created network namespace ${o.netns} (removed on exit)`));
  }
  const host = await openHost(o);
  // With --trace, the recent trace is also kept in memory for the live page's pictures.
  const traces = o.trace ? new TraceMemory() : null;
  if (traces) {
    const prev = host.stack.tcp.tracer;
    host.stack.tcp.tracer = prev ? (r) => (prev(r), traces.tracer(r)) : traces.tracer;
  }
  const started = Date.now();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  // `npm run load -- --churn` measures memory per connection: it runs the demo with
  // --expose-gc and asks for a collection before each report, so garbage is not counted.
  const gcFirst = process.env.TCPIP_GC_BEFORE_REPORT === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
  const report = (countersOnly = false) => {
    gcFirst?.();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const proc = {
      rssKiB: Math.round(mem.rss / 1024),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      heapUsedKiB: Math.round(mem.heapUsed / 1024),
      externalKiB: Math.round(mem.external / 1024),
      eventLoopDelayP50Ms: Math.round(lag.percentile(50) / 1e4) / 100,
      eventLoopDelayP99Ms: Math.round(lag.percentile(99) / 1e4) / 100,
      eventLoopDelayMaxMs: Math.round(lag.max / 1e4) / 100,
    };
    lag.reset();
    return stackReport(host.stack, Date.now() - started, { device: { ...host.tun.counters }, process: proc }, host.socket.host.now(), { countersOnly });
  };
  const ctlPath = controlPath(o.netns, host.tun.name);
  const control = serveControl(ctlPath, report);
  const services: Service[] = [
    udpEcho(host.socket), udpDiscard(host.socket), udpDaytime(host.socket),
    tcpEcho(host.socket), tcpDiscard(host.socket), tcpDaytime(host.socket), tcpChargen(host.socket), tcpChat(host.socket),
    httpService(host.socket, report, 80, traces),
    iperf3Service(host.socket),
  ];
  const ns = o.netns ? `ip netns exec ${o.netns} ` : '';
  const a = formatIpv4(o.addr);
  console.log(`tcpip demo: a userspace TCP/IP stack on ${host.tun.name}`);
  for (const line of host.describe()) console.log(`  ${line}`);
  console.log('try:');
  console.log(`  ${ns}ping ${formatIpv4(o.addr)}`);
  console.log(`  ${ns}ping -s 65000 ${a}`);
  console.log(`  ${ns}nc ${a} 7             # TCP echo (9 discard, 13 daytime, 19 chargen)`);
  console.log(`  ${ns}nc ${a} 5000          # chat room: open several`);
  console.log(`  ${ns}curl http://${a}/     # live connections and counters`);
  console.log(`  ${ns}nc -u ${a} 7          # UDP echo`);
  console.log(`  echo | ${ns}nc -u -w1 ${a} 13   # UDP daytime`);
  const ip6 = host.stack.ip6;
  if (ip6 !== null && ip6.route.addr !== null) {
    const a6 = ip6.route.addr.toString();
    console.log(`  ${ns}ping -6 ${a6}            # every service answers over IPv6 too:`);
    console.log(`  ${ns}nc -6 ${a6} 7`);
    console.log(`  ${ns}curl -g 'http://[${a6}]/'`);
    if (ip6.route.linkLocal !== null) console.log(`  ${ns}ping -6 ${ip6.route.linkLocal.toString()}%${host.tun.name}   # link-local (TAP)`);
  }
  console.log(`  tcpip stat${o.netns ? ` --netns ${o.netns}` : ''}${host.tun.name !== 'tcpip0' ? ` --dev ${host.tun.name}` : ''}   # connections and counters (control socket ${ctlPath})`);
  console.log(`services: ${services.map((s) => `${s.name} ${s.port}`).join(', ')}`);
  console.log('stop with Ctrl-C');
  console.log('ready');

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // Close down within 2 s whatever happens.
  setTimeout(() => process.exit(0), 2000).unref();
  for (const s of services) s.stop();
  control.close();
  await host.close();
  const c = host.stack.snapshot();
  console.log(`stopped: ip received ${c.ip!.received}, sent ${c.ip!.sent}; icmp echo replies ${c.icmp!.echoReplies}`);
  return 0;
}
