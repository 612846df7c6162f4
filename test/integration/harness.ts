/**
 * Helpers for integration tests against the Linux kernel. Every test creates its own
 * network namespace (through `tcpip demo --netns`, which removes it on exit), puts the
 * TUN/TAP device and the kernel-side tools in it, and leaves nothing behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}bin/tcpip.js`;

/** Why integration tests cannot run here, or null when they can. */
export function integrationUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (TUN/TAP and network namespaces need CAP_NET_ADMIN)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (spawnSync('ip', ['-V']).status !== 0) return 'ip(8) from iproute2 is not installed';
  if (!existsSync(`${ROOT}dist/src/cli/main.js`)) return 'not built: run `npm run build`';
  if (!existsSync(`${ROOT}build/Release/tuntap.node`)) return 'the native addon is not built: run `npm install`';
  return null;
}

let counter = 0;
/** A namespace name unique to this process and call. */
export function uniqueNetns(tag: string): string {
  return `tcpip-t${process.pid}-${tag}-${counter++}`.slice(0, 40);
}

export interface Demo {
  proc: ChildProcess;
  netns: string;
  output(): string;
  /** SIGTERM, then resolves with the exit code and how long it took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** Starts `tcpip demo --netns NS ...args` and resolves once it prints `ready`. */
export async function startDemo(netns: string, args: string[] = []): Promise<Demo> {
  const proc = spawn(process.execPath, [BIN, 'demo', '--netns', netns, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBUG: '' },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`demo did not print "ready" within 10 s:\n${out}`)), 10_000);
    const check = (): void => {
      if (/^ready$/m.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`demo exited with ${code} before "ready":\n${out}`));
    });
  });
  return {
    proc,
    netns,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        const t0 = Date.now();
        if (proc.exitCode !== null) return resolve({ code: proc.exitCode, ms: 0 });
        proc.once('exit', (code) => resolve({ code, ms: Date.now() - t0 }));
        proc.kill('SIGTERM');
      }),
  };
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command inside the namespace (bounded by `timeoutMs`). */
export function nsRun(netns: string, cmd: string[], timeoutMs = 20_000, input?: string | Buffer): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** Parses "N packets transmitted, M received" from ping's summary. */
export function pingCounts(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in:\n${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}
