/**
 * `tcpip nc`: netcat whose traffic goes through this stack, on its own device.
 *   tcpip nc -u HOST PORT   stdin lines go out as datagrams; replies go to stdout.
 */
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { AF_INET, SOCK_DGRAM } from '../socket/constants.js';
import { openHost } from './host.js';
import { IN_NETNS_ENV, runInNetns } from './netns.js';
import { DEVICE_OPTION_SPEC, deviceOptions } from './options.js';

const USAGE = 'usage: tcpip nc -u [-w SECONDS] [--netns NAME] [--mode tun|tap] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1] HOST PORT';

export async function runNc(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...DEVICE_OPTION_SPEC,
      udp: { type: 'boolean', short: 'u' },
      wait: { type: 'string', short: 'w', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 2) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.udp) {
    console.error('tcpip nc: only UDP (-u) is available until the TCP layer lands');
    return 2;
  }
  const o = deviceOptions(values, { dev: 'tcpip1', addr: '10.8.0.2/24', gateway: '10.8.0.1' });
  const port = Number(positionals[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port "${positionals[1]}" is not 1..65535`);
  const waitMs = Number(values.wait) * 1000;
  if (!(waitMs >= 0)) throw new Error('-w must be a number of seconds');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error('tcpip nc: creating a TUN/TAP device needs root (CAP_NET_ADMIN).');
    return 1;
  }
  if (o.netns && process.env[IN_NETNS_ENV] !== o.netns) return runInNetns(o.netns, [process.argv[1]!, 'nc', ...argv]);

  const host = openHost(o);
  const s = host.api.socket(AF_INET, SOCK_DGRAM);
  let status = 0;
  try {
    await s.connect([positionals[0]!, port]);
    let lastActivity = Date.now();
    let inputDone = false;
    const reader = (async () => {
      for (;;) {
        try {
          const data = await s.recv(65535);
          lastActivity = Date.now();
          process.stdout.write(data);
        } catch (e) {
          const err = e as Error & { code?: string };
          if (err.code === 'EBADF') return;
          console.error(`tcpip nc: ${err.message}`);
          status = 1;
        }
      }
    })();
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      await s.send(`${line}\n`);
      lastActivity = Date.now();
    }
    inputDone = true;
    // After stdin ends, wait for replies until -w seconds pass without any.
    while (inputDone && Date.now() - lastActivity < waitMs) await new Promise((r) => setTimeout(r, 20));
    s.close();
    await reader;
  } finally {
    s.close();
    await host.close();
  }
  return status;
}
