/**
 * The package as a user's program runs it: Node's own http, https and ws servers on the
 * stack, reached by curl and a kernel-side ws client; undici fetch, https.get, a
 * keep-alive http.Agent and a ws client going out through the stack; ref/unref deciding
 * whether the process stays; and attaching to a persistent device without CAP_NET_ADMIN.
 * Each program is a fixture in ./fixtures that imports the built package's entry point.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationUnavailable, nsRun, uniqueNetns, ROOT } from './harness.js';

const unavailable = integrationUnavailable() ?? (spawnSync('openssl', ['version']).status !== 0 ? 'openssl is not installed' : null);
if (unavailable) console.log(`library integration tests skipped: ${unavailable}`);

const FIX = `${ROOT}test/integration/fixtures`;

interface Proc {
  proc: ChildProcess;
  output(): string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  exited(ms: number): Promise<number | null | 'running'>;
  stop(): Promise<void>;
}

/** Starts `cmd` inside the namespace (optionally without any capability). */
function start(netns: string, cmd: string[], opts: { noCaps?: boolean } = {}): Proc {
  const wrap = opts.noCaps ? ['setpriv', '--bounding-set', '-all', '--inh-caps', '-all'] : [];
  const proc = spawn('ip', ['netns', 'exec', netns, ...wrap, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return {
    proc,
    output: () => out,
    waitFor: (re, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${out}`)), ms);
        const check = (): void => {
          if (re.test(out)) {
            clearTimeout(t);
            resolve();
          }
        };
        proc.stdout!.on('data', check);
        proc.stderr!.on('data', check);
        void exit.then((c) => {
          clearTimeout(t);
          if (re.test(out)) resolve();
          else reject(new Error(`exited with ${c} before ${re}:\n${out}`));
        });
        check();
      }),
    exited: (ms) => Promise.race([exit, new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const c = await Promise.race([exit, new Promise<'late'>((r) => setTimeout(() => r('late'), 3000))]);
        if (c === 'late') proc.kill('SIGKILL');
      }
    },
  };
}

describe.skipIf(unavailable !== null)('the package in a user program, on a real TUN device', () => {
  const ns = uniqueNetns('lib');
  const certs = mkdtempSync(join(tmpdir(), 'tcpip-lib-'));
  const running: Proc[] = [];
  const run = (cmd: string[], opts?: { noCaps?: boolean }): Proc => {
    const p = start(ns, cmd, opts);
    running.push(p);
    return p;
  };

  beforeAll(() => {
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tcpip-ts test',
      '-addext', 'subjectAltName=IP:10.7.0.1,IP:10.7.0.2', '-keyout', `${certs}/key.pem`, '-out', `${certs}/cert.pem`,
    ]);
    expect(r.status, String(r.stderr)).toBe(0);
  });

  afterAll(async () => {
    for (const p of running) await p.stop();
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(certs, { recursive: true, force: true });
  });

  it('serves http (GET, a 1 MiB POST), https and ws over the stack to curl and a kernel-side ws client', async () => {
    const app = run([process.execPath, `${FIX}/stack-servers.mjs`, 'tcplib0', '10.7.0.2/24', certs]);
    await app.waitFor(/^ready$/m);
    const get = await nsRun(ns, ['curl', '-sS', '--max-time', '10', 'http://10.7.0.2/']);
    expect(get.stdout + get.stderr).toBe('hello from 10.7.0.2\n');
    const body = join(certs, 'body.bin');
    writeFileSync(body, Buffer.alloc(1 << 20, 0x61));
    const post = await nsRun(ns, ['curl', '-sS', '--max-time', '10', '--data-binary', `@${body}`, 'http://10.7.0.2/']);
    expect(post.stdout + post.stderr).toBe(`got ${1 << 20} bytes\n`);
    const tls = await nsRun(ns, ['curl', '-sS', '--max-time', '10', '--cacert', `${certs}/cert.pem`, 'https://10.7.0.2/']);
    expect(tls.stdout + tls.stderr).toBe('secure hello\n');
    const ws = await nsRun(ns, [process.execPath, `${FIX}/kernel-peer.mjs`, 'ws-client', 'ws://10.7.0.2:8080/']);
    expect(JSON.parse(ws.stdout), ws.stderr).toEqual({ got: ['hello stack', 'binary 200000 intact=true'], code: 1000 });
    await app.stop();
  }, 60_000);

  it('fetch (undici), https.get, a keep-alive http.Agent and a ws client go out through the stack, and the program exits by itself', async () => {
    const peer = run([process.execPath, `${FIX}/kernel-peer.mjs`, 'servers', '0.0.0.0', certs]);
    await peer.waitFor(/^ready$/m);
    const app = run([process.execPath, `${FIX}/stack-clients.mjs`, 'tcplib1', '10.7.0.2/24', '10.7.0.1', certs]);
    const code = await app.exited(30_000);
    expect(code, app.output()).toBe(0);
    const out = JSON.parse(app.output().trim().split('\n').pop()!);
    expect(out.fetch).toMatch(/^kernel says \/fetched/);
    expect(out.fetchTls).toBe('kernel tls /fetched');
    expect(out.httpsGet).toBe('kernel tls /agent');
    // Three requests, one connection: the agent kept the socket (and unref'ed it while idle).
    const n = (s: string): number => Number(/connections so far: (\d+)/.exec(s)![1]);
    expect(out.keepAlive.map((s: string) => s.replace(/ \(.*/, ''))).toEqual(['kernel says /a', 'kernel says /b', 'kernel says /c']);
    expect(n(out.keepAlive[2]) - n(out.keepAlive[0])).toBe(0);
    expect(out.ws).toEqual({ got: ['text over the stack', 'binary 200000 intact=true'], code: 1000 });
    await peer.stop();
  }, 60_000);

  it("an unref'ed server lets the process exit by itself; a ref'ed one keeps it running", async () => {
    const unref = run([process.execPath, `${FIX}/keep-alive.mjs`, 'tcplib2', '10.7.0.2/24', 'unref']);
    expect(await unref.exited(10_000), unref.output()).toBe(0);
    expect(unref.output()).toMatch(/listening\nexiting/);
    const ref = run([process.execPath, `${FIX}/keep-alive.mjs`, 'tcplib3', '10.7.0.2/24', 'ref']);
    await ref.waitFor(/^listening$/m);
    expect(await ref.exited(1500)).toBe('running');
    const echo = await nsRun(ns, ['nc', '-N', '-w', '2', '10.7.0.2', '7'], 10_000, 'still here\n');
    expect(echo.stdout).toBe('still here\n');
    await ref.stop();
  }, 30_000);

  it('attaches to a persistent device its user owns without CAP_NET_ADMIN; configuring it without the capability says what to do', async () => {
    const dev = 'tcplibp0';
    expect(spawnSync('ip', ['-n', ns, 'tuntap', 'add', 'dev', dev, 'mode', 'tun', 'user', '0']).status).toBe(0);
    spawnSync('ip', ['-n', ns, 'addr', 'add', '10.7.9.1/24', 'dev', dev]);
    spawnSync('ip', ['-n', ns, 'link', 'set', dev, 'mtu', '1400', 'up']);
    try {
      const refused = run([process.execPath, `${FIX}/attach-echo.mjs`, dev, '10.7.9.2/24', 'configure'], { noCaps: true });
      expect(await refused.exited(10_000)).toBe(2);
      expect(refused.output()).toMatch(/^error EPERM: set MTU of tcplibp0: Operation not permitted .*CAP_NET_ADMIN.*configure: false/m);
      const app = run([process.execPath, `${FIX}/attach-echo.mjs`, dev, '10.7.9.2/24'], { noCaps: true });
      await app.waitFor(/^ready mtu=1400$/m);
      const echo = await nsRun(ns, ['nc', '-N', '-w', '2', '10.7.9.2', '7'], 10_000, 'no root needed\n');
      expect(echo.stdout).toBe('no root needed\n');
      await app.stop();
    } finally {
      spawnSync('ip', ['-n', ns, 'link', 'del', dev]);
    }
  }, 30_000);
});
