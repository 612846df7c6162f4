/**
 * Runs an example program on a real TUN/TAP device, the way `tcpip demo` does:
 *   node dist/examples/udp-server.js [--netns NAME] [--dev tcpip1 --addr 10.8.0.2/24 --gateway 10.8.0.1]
 * The example itself only sees the socket facade (`SocketApi`), so a test can run the
 * very same code over an in-memory network.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openHost } from '../src/cli/host.js';
import { IN_NETNS_ENV, runInNetns } from '../src/cli/netns.js';
import { DEVICE_OPTION_SPEC, deviceOptions } from '../src/cli/options.js';
import type { SocketApi } from '../src/socket/socket-api.js';

export async function runOnDevice(main: (net: SocketApi, args: string[]) => Promise<void>): Promise<void> {
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), options: DEVICE_OPTION_SPEC, allowPositionals: true });
  const o = deviceOptions(values, { dev: 'tcpip1', addr: '10.8.0.2/24', gateway: '10.8.0.1' });
  if (o.netns && process.env[IN_NETNS_ENV] !== o.netns) {
    process.exitCode = await runInNetns(o.netns, process.argv.slice(1));
    return;
  }
  const host = await openHost(o);
  const stop = (): void => void host.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await main(host.socket, positionals);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  } finally {
    // Give queued frames (an ARP resolution on TAP) a moment to leave before closing.
    await new Promise((r) => setTimeout(r, 200));
    await host.close();
  }
}

/** True when this module is the program being run (not imported by a test). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === resolve(process.argv[1]);
}
