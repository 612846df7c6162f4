/**
 * `tcpip <command>`: the command-line face of the stack.
 */
import { runDemo } from './demo.js';
import { runPing } from './ping.js';
import { runNc } from './nc.js';
import { runStat } from './stat.js';
import { runPlot } from './plot.js';
import { runLesson } from './lesson.js';
import { runIperf3 } from './iperf3.js';

const USAGE = `usage: tcpip <command> [options]

commands:
  demo     run the stack on a TUN/TAP device with demo services (needs root)
           tcpip demo [--netns NAME] [--mode tun|tap] [--dev tcpip0] [--addr 10.7.0.2/24]
                      [--gateway 10.7.0.1] [--mtu 1500] [--pcap FILE] [--trace FILE]
                      [--fault loss=5%,seed=1] [--msl MS] [--offload on|off]
                      [--hostname NAME] [--nameserver ADDR ...]
  ping     ping a host from this stack, on its own device
           tcpip ping [-c 4] [-s 56] [--netns NAME] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1] HOST
  nc       netcat through this stack, on its own device
           tcpip nc [-u] [-l] [--netns NAME] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1] HOST PORT
  stat     the connection table and counters of a running demo (like ss -tani and netstat -s)
           tcpip stat [--netns NAME] [--dev tcpip0] [--watch 1] [--json] [--counters]
  plot     draw a connection from a --trace file: time-sequence graph, cwnd/RTT, ladder, HTML page
           tcpip plot TRACE [--conn N] [--dir out|in] [--chart seq|cwnd|ladder] [--absolute] -o out.svg|out.html
  iperf3   an iperf3 client through this stack, on its own device, against any iperf3 -s
           tcpip iperf3 -c HOST [-R] [-t 10] [-P 1] [-l 131072] [--json] [--netns NAME] [--dev tcpip1 ...]
  lesson   RFC 9293's scenarios played by two stacks on the simulator, as ladder diagrams
           tcpip lesson [NAME] [-o out.html|out.svg] [--text]
  help     this text

DEBUG=tcpip:* prints one line per packet per layer (tcpip:link, tcpip:ip, tcpip:icmp, tcpip:arp).`;

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'demo':
        return await runDemo(rest);
      case 'ping':
        return await runPing(rest);
      case 'nc':
        return await runNc(rest);
      case 'stat':
        return await runStat(rest);
      case 'plot':
        return await runPlot(rest);
      case 'lesson':
        return await runLesson(rest);
      case 'iperf3':
        return await runIperf3(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        console.error(`tcpip: unknown command "${cmd}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    console.error(`tcpip ${cmd}: ${e.message}`);
    if (process.env.DEBUG) console.error(e.stack);
    return 1;
  }
}
