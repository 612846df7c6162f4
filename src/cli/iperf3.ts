/**
 * `tcpip iperf3 -c HOST [-R] [-t SECONDS] [-P N] [-l LEN]`: an iperf3 client whose traffic
 * goes through this stack, on its own device, against any `iperf3 -s` (the kernel's, or
 * another stack's demo). Prints the sender's and the receiver's figures as iperf3 does.
 */
import { parseArgs } from 'node:util';
import { iperf3Client } from '../services/iperf3.js';
import { openHost } from './host.js';
import { IN_NETNS_ENV, runInNetns } from './netns.js';
import { DEVICE_OPTION_SPEC, deviceOptions } from './options.js';

const USAGE = 'usage: tcpip iperf3 -c HOST [-p 5201] [-R] [-t 10] [-P 1] [-l 131072] [--json] [--netns NAME] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1]';

function rate(bytes: number, seconds: number): string {
  const bits = (bytes * 8) / Math.max(seconds, 1e-9);
  return bits >= 1e9 ? `${(bits / 1e9).toFixed(2)} Gbits/sec` : `${(bits / 1e6).toFixed(1)} Mbits/sec`;
}

function size(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GBytes` : `${(bytes / 2 ** 20).toFixed(1)} MBytes`;
}

export async function runIperf3(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...DEVICE_OPTION_SPEC,
      client: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p', default: '5201' },
      reverse: { type: 'boolean', short: 'R' },
      time: { type: 'string', short: 't', default: '10' },
      parallel: { type: 'string', short: 'P', default: '1' },
      length: { type: 'string', short: 'l', default: '131072' },
      json: { type: 'boolean', short: 'J' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.client) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const num = (name: string, v: string, lo: number, hi: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`${name} must be a number from ${lo} to ${hi}, not "${v}"`);
    return n;
  };
  const seconds = num('-t', values.time!, 0.1, 3600);
  const parallel = Math.round(num('-P', values.parallel!, 1, 128));
  const len = Math.round(num('-l', values.length!, 1, 1 << 20));
  const port = Math.round(num('-p', values.port!, 1, 65535));
  const o = deviceOptions(values, { dev: 'tcpip1', addr: '10.8.0.2/24', gateway: '10.8.0.1', addr6: 'fd00:8::2/64', gateway6: 'fd00:8::1' });
  if (o.configure && typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error('tcpip iperf3: creating a TUN/TAP device needs root (CAP_NET_ADMIN); as another user, attach to a persistent device you own with --configure off.');
    return 1;
  }
  if (o.netns && process.env[IN_NETNS_ENV] !== o.netns) return runInNetns(o.netns, [process.argv[1]!, 'iperf3', ...argv]);
  const host = await openHost(o);
  try {
    const r = await iperf3Client(host.socket, values.client, { port, seconds, reverse: values.reverse === true, parallel, len });
    if (values.json) {
      console.log(JSON.stringify(r));
    } else {
      console.log(`[ ID] Interval           Transfer     Bitrate         Retr`);
      const span = `0.00-${r.seconds.toFixed(2)}`;
      console.log(`[SUM] ${span.padEnd(11)} sec  ${size(r.sentBytes).padEnd(12)} ${rate(r.sentBytes, r.seconds).padEnd(16)}${String(r.retransmits ?? '').padStart(4)}  sender`);
      console.log(`[SUM] ${span.padEnd(11)} sec  ${size(r.receivedBytes).padEnd(12)} ${rate(r.receivedBytes, r.seconds).padEnd(16)}      receiver`);
      console.log(`\n(the stack ${r.weSent ? 'sent' : 'received'}; ${r.streams} stream${r.streams > 1 ? 's' : ''})`);
    }
    return 0;
  } finally {
    await host.close();
  }
}
