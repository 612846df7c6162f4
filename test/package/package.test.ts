/**
 * The package as a stranger gets it: `npm pack`, then the tarball installed in a fresh
 * folder. A strict TypeScript consumer (NodeNext, no skipLibCheck) and a plain `.mjs`
 * one import it by name; the README's examples run as written (the property test under
 * vitest, and, as root, the five-line HTTP server reached by curl); an install with no C
 * compiler and no prebuilt binary still succeeds. publint and attw check the tarball.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationUnavailable, nsRun, uniqueNetns, ROOT } from '../integration/harness.js';

const work = mkdtempSync(join(tmpdir(), 'tcpip-pkg-'));
let tarball = '';
const consumer = join(work, 'consumer');

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = 180_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.status, `${what} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The versions this repository tests with, so that the consumer's install hits npm's cache. */
function devVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  return `${name}@${lock.packages[`node_modules/${name}`].version}`;
}

/** The README's examples: the code block after each `<!-- example: NAME -->`. */
function readmeExamples(): Map<string, string> {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of md.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!);
  return out;
}

function npmInstall(dir: string, specs: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', ...specs], dir, env);
}

/** The newest modification time under `dir` of files ending in `ext`. */
function newest(dir: string, ext: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext)) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

beforeAll(() => {
  // Pack what `npm test` built, without the lifecycle scripts: they would rebuild dist/
  // and the addon under the integration tests running beside this file. prepack's own
  // work (the prebuilt addon, copied from the build) is done here by hand.
  const built = join(ROOT, 'dist/src/index.js');
  expect(newest(join(ROOT, 'dist/src'), '.js'), 'dist/ is older than src/: run `npm run build`').toBeGreaterThanOrEqual(newest(join(ROOT, 'src'), '.ts'));
  expect(statSync(built).isFile()).toBe(true);
  ok(sh(process.execPath, ['scripts/install-addon.mjs', '--prebuild'], ROOT), 'prebuild');
  const pack = ok(sh('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], ROOT), 'npm pack');
  tarball = join(work, pack.trim().split('\n').pop()!);
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  ok(npmInstall(consumer, [tarball, devVersion('typescript'), devVersion('@types/node'), devVersion('vitest'), devVersion('fast-check')]), 'npm install');
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds built JavaScript, declarations with maps, the addon (source, build script, prebuilt), README and LICENSE, and no tests', () => {
    const files = ok(sh('tar', ['tzf', tarball], work), 'tar').split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.d.ts.map', 'dist/src/sim/index.js', 'dist/src/sim/index.d.ts',
      'bin/tcpip.js', 'native/tuntap.c', 'binding.gyp', 'scripts/install-addon.mjs', 'README.md', 'LICENSE', 'package.json',
      `prebuilds/${process.platform}-${process.arch}/tcpip-ts.napi.node`,
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.includes('.test.') || f.startsWith('.ci/'))).toEqual([]);
  });

  it('every export and public member has TSDoc (typedoc, warnings as errors)', () => {
    ok(sh(join(ROOT, 'node_modules/.bin/typedoc'), ['--validation.notDocumented', '--treatWarningsAsErrors', '--emit', 'none'], ROOT), 'typedoc');
  });

  it('publint and attw find nothing wrong', () => {
    ok(sh(join(ROOT, 'node_modules/.bin/publint'), ['run', tarball, '--strict'], ROOT), 'publint');
    ok(sh(join(ROOT, 'node_modules/.bin/attw'), [tarball, '--profile', 'esm-only'], ROOT), 'attw');
  });

  it('a strict TypeScript consumer (NodeNext, no skipLibCheck) imports it by name, type-checks with no casts, and runs', () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
        include: ['app.ts', 'echo.property.test.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'app.ts'),
      `import http from 'node:http';
import type * as net from 'node:net';
import { openTun, createStack, SocketError, AF_INET, SOCK_STREAM, type StackHost, type TcpStream } from 'tcpip-ts';
import { SimNetwork, ManualClock, SeededRand, FaultLink, MemoryLink } from 'tcpip-ts/sim';

const { net: sim, a, b } = SimNetwork.pair({ faults: 'loss=2%' });
const app = http.createServer((req, res) => res.end('over ' + req.url));
b.net.createServer({ noDelay: true }, (s) => app.emit('connection', s)).listen(80);
const sock: net.Socket = a.net.connect({ port: 80, host: '10.7.0.2' });   // a net.Socket, no cast
let text = '';
sock.on('data', (d: Buffer) => (text += d));
sock.end('GET /typed HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
await sim.until(new Promise((r) => sock.on('end', r)));
// Node's onread: every read into one buffer of ours, no 'data' events.
let viaOnread = '';
const sink = Buffer.alloc(512);
const r2 = a.net.connect({ port: 80, host: '10.7.0.2', onread: { buffer: sink, callback: (n: number, buf: Uint8Array) => ((viaOnread += Buffer.from(buf.subarray(0, n)).toString()), true) } });
r2.end('GET /onread HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
await sim.until(new Promise((r) => r2.on('end', r)));
const server: net.Server = b.net.createServer();
const s = a.api.socket(AF_INET, SOCK_STREAM);
const unused: [typeof openTun, typeof createStack, typeof SocketError, StackHost | null, TcpStream | null] = [openTun, createStack, SocketError, null, null];
void [server, s, unused, ManualClock, SeededRand, FaultLink, MemoryLink];
console.log(text.split('\\r\\n').pop(), viaOnread.split('\\r\\n').pop());
`,
    );
    ok(sh(join(consumer, 'node_modules/.bin/tsc'), ['-p', '.'], consumer), 'tsc');
    expect(ok(sh(process.execPath, ['out/app.js'], consumer), 'node out/app.js')).toBe('over /typed over /onread\n');
  });

  it('a plain .mjs consumer imports it by name and runs two simulated stacks', () => {
    writeFileSync(
      join(consumer, 'plain.mjs'),
      `import { SimNetwork } from 'tcpip-ts/sim';
import { dgramFace } from 'tcpip-ts';
const { net, a, b } = SimNetwork.pair();
b.dgram.createSocket('udp4', function (m, r) { this.send(m, r.port, r.address); }).bind(7);
const u = a.dgram.createSocket('udp4');
const got = new Promise((r) => u.on('message', (m) => r(m.toString())));
u.send('ping over udp', 7, '10.7.0.2');
console.log(await net.until(got), typeof dgramFace);
`,
    );
    expect(ok(sh(process.execPath, ['plain.mjs'], consumer), 'node plain.mjs')).toBe('ping over udp function\n');
  });

  it("the README's property test runs under the consumer's own vitest and fast-check", () => {
    const ex = readmeExamples().get('echo.property.test.ts');
    expect(ex, 'README has the property-test example').toBeDefined();
    writeFileSync(join(consumer, 'echo.property.test.ts'), ex!);
    ok(sh(join(consumer, 'node_modules/.bin/tsc'), ['-p', '.', '--noEmit'], consumer), 'tsc of the README example');
    const r = sh(join(consumer, 'node_modules/.bin/vitest'), ['run', '--root', consumer, 'echo.property.test.ts'], consumer, { ...process.env, CI: 'true' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 passed/);
  });

  const rootless = integrationUnavailable();
  it.skipIf(rootless !== null)("as root: the README's five-line server on a TUN device answers curl, and an echo server answers the kernel's nc", async () => {
    const ex = readmeExamples().get('server.mjs');
    expect(ex).toBeDefined();
    writeFileSync(join(consumer, 'server.mjs'), `${ex}console.log('ready');\n`);
    writeFileSync(
      join(consumer, 'echo.mjs'),
      `import { openTun } from 'tcpip-ts';
const host = await openTun({ dev: 'tcpippkg1', addr: '10.8.0.2/24' });
host.net.createServer((s) => s.pipe(s)).listen(7, () => console.log('ready'));
`,
    );
    const ns = uniqueNetns('pkg');
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    const procs: import('node:child_process').ChildProcess[] = [];
    try {
      const { spawn } = await import('node:child_process');
      const startIn = (script: string): Promise<void> =>
        new Promise((resolve, reject) => {
          const p = spawn('ip', ['netns', 'exec', ns, process.execPath, script], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });
          procs.push(p);
          let out = '';
          const t = setTimeout(() => reject(new Error(`${script} not ready:\n${out}`)), 10_000);
          p.stdout!.on('data', (d) => ((out += d), /ready/.test(out) && (clearTimeout(t), resolve())));
          p.stderr!.on('data', (d) => (out += d));
          p.on('exit', (c) => (clearTimeout(t), reject(new Error(`${script} exited ${c}:\n${out}`))));
        });
      await startIn('server.mjs');
      const curl = await nsRun(ns, ['curl', '-sS', '--max-time', '10', 'http://10.7.0.2/']);
      expect(curl.stdout + curl.stderr).toBe('hello from tcpip-ts\n');
      await startIn('echo.mjs');
      const nc = await nsRun(ns, ['nc', '-N', '-w', '2', '10.8.0.2', '7'], 10_000, 'echo from the tarball\n');
      expect(nc.stdout).toBe('echo from the tarball\n');
    } finally {
      for (const p of procs) p.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }, 60_000);
});

describe('the tarball without a prebuilt addon, on a machine with no C compiler', () => {
  it('installs all the same; the simulator runs; opening a device says what to install', () => {
    // The same package less its prebuilds/, so the install must build and cannot.
    const unpack = join(work, 'bare');
    mkdirSync(unpack);
    ok(sh('tar', ['xzf', tarball, '-C', unpack], work), 'tar x');
    rmSync(join(unpack, 'package', 'prebuilds'), { recursive: true, force: true });
    const bare = join(work, 'tcpip-ts-bare.tgz');
    ok(sh('tar', ['czf', bare, '-C', unpack, 'package'], work), 'tar c');
    const dir = join(work, 'nocc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'nocc', private: true, type: 'module' }));
    const env = { ...process.env, CC: '/bin/false', CXX: '/bin/false', LINK: '/bin/false' };
    const install = npmInstall(dir, [bare], env);
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout + install.stderr).toMatch(/the TUN\/TAP addon could not be built .*\n.*simulator and in-memory links work/);
    expect(readdirSync(join(dir, 'node_modules', 'tcpip-ts'))).not.toContain('prebuilds');
    writeFileSync(
      join(dir, 'try.mjs'),
      `import { openTun } from 'tcpip-ts';
import { SimNetwork } from 'tcpip-ts/sim';
const { net, a, b } = SimNetwork.pair();
b.net.createServer((s) => s.pipe(s)).listen(7);
const c = a.net.connect(7, '10.7.0.2');
let got = '';
c.on('data', (d) => (got += d));
c.end('simulated');
await net.until(new Promise((r) => c.on('end', r)));
console.log('sim:', got);
try {
  await openTun({ dev: 'tcpipx0', addr: '10.9.0.2/24' });
} catch (e) {
  console.log('openTun:', e.code, e.message);
}
`,
    );
    const out = ok(sh(process.execPath, ['try.mjs'], dir), 'node try.mjs');
    expect(out).toMatch(/^sim: simulated$/m);
    expect(out).toMatch(/^openTun: ENOADDON the TUN\/TAP addon is not available: no build and no prebuilt binary .*apt-get install python3 make g\+\+.*npm rebuild tcpip-ts/m);
  });
});
