/**
 * `tcpip ping`: ping from this stack, on its own device, to a host (the kernel side of
 * that device by default). Prints lines like ping(8) and its summary.
 */
import { parseArgs } from 'node:util';
import { formatIpv4, parseIpv4 } from '../ip/address.js';
import { formatIp, ipEqual, type IpAddr } from '../ip/ip-address.js';
import { tryParseIpv6 } from '../ip/ipv6-address.js';
import { ipv6Ready, openHost } from './host.js';
import { IN_NETNS_ENV, runInNetns } from './netns.js';
import { DEVICE_OPTION_SPEC, deviceOptions } from './options.js';

const USAGE = 'usage: tcpip ping [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1] [--netns NAME] HOST';

export async function runPing(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...DEVICE_OPTION_SPEC,
      count: { type: 'string', short: 'c', default: '4' },
      size: { type: 'string', short: 's', default: '56' },
      interval: { type: 'string', short: 'i', default: '1' },
      timeout: { type: 'string', short: 'W', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const o = deviceOptions(values, { dev: 'tcpip1', addr: '10.8.0.2/24', gateway: '10.8.0.1', addr6: 'fd00:8::2/64', gateway6: 'fd00:8::1' });
  const target = positionals[0]!;
  const count = Number(values.count);
  const size = Number(values.size);
  const intervalMs = Number(values.interval) * 1000;
  const waitMs = Number(values.timeout) * 1000;
  if (!Number.isInteger(count) || count < 1) throw new Error('-c must be a positive integer');
  if (!Number.isInteger(size) || size < 0 || size > 65507) throw new Error('-s must be 0..65507');
  if (!(intervalMs >= 0) || !(waitMs > 0)) throw new Error('-i and -W must be positive');
  if (o.configure && typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error('tcpip ping: creating a TUN/TAP device needs root (CAP_NET_ADMIN); as another user, attach to a persistent device you own with --configure off.');
    return 1;
  }
  if (o.netns && process.env[IN_NETNS_ENV] !== o.netns) return runInNetns(o.netns, [process.argv[1]!, 'ping', ...argv]);

  const host = await openHost(o);
  // A name (the host name, localhost, the hosts table, or DNS with --nameserver) or an address.
  // An IPv6 address is pinged with ICMPv6 (ping -6); a zone (`%tcpip1`) names our one link.
  let dst: IpAddr;
  try {
    const v6 = tryParseIpv6(target.split('%')[0]!);
    if (v6 !== null && host.stack.ip6 === null) throw new Error('this stack has no IPv6 address (--addr6)');
    dst = v6 ?? parseIpv4(await host.socket.gethostbyname(target));
    if (v6 !== null) await ipv6Ready(host);
  } catch (e) {
    console.error(`tcpip ping: ${target}: ${(e as Error).message}`);
    await host.close();
    return 2;
  }
  const v4 = typeof dst === 'number';
  const send = (seq: number): string | null =>
    typeof dst === 'number' ? host.stack.ip.icmp.sendEchoRequest(dst, ident, seq, data, clock.now()) : host.stack.ip6!.icmp.sendEchoRequest(dst, ident, seq, data, clock.now());
  const ident = process.pid & 0xffff;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i + 0x10) & 0xff;
  const sentAt = new Map<number, number>();
  let received = 0;
  const rtts: number[] = [];
  const clock = host.runtime.clock;
  const onReply = (src: IpAddr, id: number, seq: number, reply: Uint8Array): void => {
    const t0 = sentAt.get(seq);
    if (id !== ident || !ipEqual(src, dst) || t0 === undefined) return;
    sentAt.delete(seq);
    const intact = reply.length === data.length && reply.every((v, i) => v === data[i]);
    const rtt = clock.now() - t0;
    rtts.push(rtt);
    received++;
    console.log(`${reply.length + 8} bytes from ${formatIp(src)}: icmp_seq=${seq} time=${rtt.toFixed(3)} ms${intact ? '' : ' (DATA MISMATCH)'}`);
  };
  if (v4) host.stack.ip.icmp.onEchoReply = onReply;
  else host.stack.ip6!.icmp.onEchoReply = onReply;
  const from = typeof dst === 'number' ? formatIpv4(o.addr) : formatIp(host.stack.ipLayer.sourceFor(dst) ?? 0);
  console.log(`PING ${formatIp(dst)} from ${from} ${host.tun.name}: ${size}(${size + (v4 ? 28 : 48)}) bytes of data.`);
  try {
    for (let seq = 1; seq <= count; seq++) {
      sentAt.set(seq, clock.now());
      const err = send(seq);
      if (err) console.log(`icmp_seq=${seq}: ${err}`);
      host.runtime.wake();
      await new Promise((r) => setTimeout(r, seq < count ? intervalMs : 0));
    }
    const deadline = Date.now() + waitMs;
    while (sentAt.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await host.close();
  }
  const loss = Math.round(((count - received) / count) * 100);
  console.log(`--- ${formatIp(dst)} ping statistics ---`);
  console.log(`${count} packets transmitted, ${received} received, ${loss}% packet loss`);
  if (rtts.length) {
    // (Folds, not Math.min(...rtts): `-c` may ask for more replies than a call takes arguments.)
    const min = rtts.reduce((a, b) => Math.min(a, b), Infinity), max = rtts.reduce((a, b) => Math.max(a, b), -Infinity), avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    console.log(`rtt min/avg/max = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)} ms`);
  }
  return received > 0 ? 0 : 1;
}
