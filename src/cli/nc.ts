/**
 * `tcpip nc`: netcat whose traffic goes through this stack, on its own device.
 *   tcpip nc HOST PORT      TCP: stdin to the connection, the connection to stdout,
 *                           SHUT_WR when stdin ends, exit when the peer closes.
 *   tcpip nc -l [HOST] PORT TCP: listen on the stack for one connection, then as above.
 *   tcpip nc -u HOST PORT   UDP: stdin lines go out as datagrams; replies go to stdout.
 */
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { AF_INET, AF_INET6, SHUT_WR, SOCK_DGRAM, SOCK_STREAM } from '../socket/constants.js';

/** AF_INET6 for an IPv6 address (`tcpip nc fd00:8::1 7`), else AF_INET. */
function familyOf(host: string): typeof AF_INET | typeof AF_INET6 {
  return host.includes(':') ? AF_INET6 : AF_INET;
}
import type { StreamSocket } from '../socket/stream-socket.js';
import type { Host } from './host.js';
import { ipv6Ready, openHost } from './host.js';
import { IN_NETNS_ENV, runInNetns } from './netns.js';
import { DEVICE_OPTION_SPEC, deviceOptions } from './options.js';

const USAGE = 'usage: tcpip nc [-u] [-l] [-w SECONDS] [--netns NAME] [--mode tun|tap] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1] HOST PORT\n       tcpip nc -l [options] PORT';

export async function runNc(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...DEVICE_OPTION_SPEC,
      udp: { type: 'boolean', short: 'u' },
      listen: { type: 'boolean', short: 'l' },
      wait: { type: 'string', short: 'w', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const listen = values.listen === true;
  if (values.help || positionals.length < (listen ? 1 : 2) || positionals.length > 2) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (listen && values.udp) {
    console.error('tcpip nc: -l is for TCP only');
    return 2;
  }
  if (listen && positionals.length === 1) positionals.unshift('0.0.0.0');
  const o = deviceOptions(values, { dev: 'tcpip1', addr: '10.8.0.2/24', gateway: '10.8.0.1', addr6: 'fd00:8::2/64', gateway6: 'fd00:8::1' });
  const port = Number(positionals[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port "${positionals[1]}" is not 1..65535`);
  const waitMs = Number(values.wait) * 1000;
  if (!(waitMs >= 0)) throw new Error('-w must be a number of seconds');
  if (o.configure && typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error('tcpip nc: creating a TUN/TAP device needs root (CAP_NET_ADMIN); as another user, attach to a persistent device you own with --configure off.');
    return 1;
  }
  if (o.netns && process.env[IN_NETNS_ENV] !== o.netns) return runInNetns(o.netns, [process.argv[1]!, 'nc', ...argv]);

  const host = await openHost(o);
  if (positionals.some((p) => p.includes(':'))) await ipv6Ready(host);
  if (!values.udp) {
    try {
      return await tcpNc(host, positionals[0]!, port, listen);
    } finally {
      await host.close();
    }
  }
  const s = host.socket.socket(familyOf(positionals[0]!), SOCK_DGRAM);
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

/** TCP netcat over the stack: stdin -> connection -> stdout. */
async function tcpNc(host: Host, addr: string, port: number, listen: boolean): Promise<number> {
  let conn: StreamSocket;
  if (listen) {
    const l = host.socket.socket(familyOf(addr), SOCK_STREAM);
    l.bind([addr, port]);
    l.listen(1);
    const [h, p] = l.getsockname();
    console.error(`listening on ${h.includes(':') ? `[${h}]` : h}:${p}`);
    [conn] = await l.accept();
    l.close();
  } else {
    conn = host.socket.socket(familyOf(addr), SOCK_STREAM);
    await conn.connect([addr, port]);
  }
  let status = 0;
  const writer = (async () => {
    try {
      for await (const chunk of process.stdin) await conn.sendall(chunk as Buffer);
      conn.shutdown(SHUT_WR);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code !== 'EBADF') {
        console.error(`tcpip nc: ${err.message}`);
        status = 1;
      }
    }
  })();
  try {
    for (;;) {
      const data = await conn.recv(65536);
      if (data.length === 0) break;
      if (!process.stdout.write(data)) await new Promise((r) => process.stdout.once('drain', r));
    }
  } catch (e) {
    console.error(`tcpip nc: ${(e as Error).message}`);
    status = 1;
  }
  // The peer has closed: we are done, whether or not stdin has ended.
  process.stdin.pause();
  conn.close();
  // Let the FIN (and any last data) leave before the device goes away.
  await Promise.race([writer, new Promise((r) => setTimeout(r, 200))]);
  await new Promise((r) => setTimeout(r, 100));
  return status;
}
