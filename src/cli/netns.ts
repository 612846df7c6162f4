/**
 * Network namespaces for the CLI: `--netns NAME` re-runs the command inside namespace
 * NAME (created if missing and then removed on exit), so the TUN/TAP device and the
 * kernel side of it live there and nothing is configured in the caller's namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const IN_NETNS_ENV = 'TCPIP_IN_NETNS';

function ip(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) return { ok: false, err: `cannot run ip(8): ${r.error.message} (install iproute2)` };
  return { ok: r.status === 0, err: (r.stderr || '').trim() };
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/**
 * Runs `argv` (a node script and its arguments) inside namespace `name` and resolves to
 * its exit code. SIGINT and SIGTERM are passed on to it.
 */
export async function runInNetns(name: string, argv: string[], onCreated?: () => void): Promise<number> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error(`--netns: "${name}" is not a valid namespace name`);
  let created = false;
  if (!netnsExists(name)) {
    const r = ip(['netns', 'add', name]);
    if (!r.ok) throw new Error(`could not create network namespace ${name}: ${r.err}`);
    created = true;
    onCreated?.();
  }
  ip(['-n', name, 'link', 'set', 'lo', 'up']);
  try {
    const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...process.execArgv, ...argv], {
      stdio: 'inherit',
      env: { ...process.env, [IN_NETNS_ENV]: name },
    });
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const code = await new Promise<number>((resolve) => {
      child.on('error', (e) => {
        console.error(`tcpip: could not enter namespace ${name}: ${e.message}`);
        resolve(1);
      });
      child.on('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' || sig === 'SIGTERM' ? 0 : 1)));
    });
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    return code;
  } finally {
    if (created) {
      const r = ip(['netns', 'del', name]);
      if (!r.ok) console.error(`tcpip: could not remove network namespace ${name}: ${r.err}`);
    }
  }
}
