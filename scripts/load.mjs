#!/usr/bin/env node
// Load test: N concurrent TCP connections to the demo's echo service, held for a while
// with data flowing, in a private network namespace; prints what the stack's process
// used (memory, event-loop delay) as it went. Bounded in count and time; cleans up.
//   npm run load -- [--conns 10000] [--seconds 60] [--interval 10]
// --interval: each connection sends one small message every this many seconds.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { conns: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '60' }, interval: { type: 'string', default: '10' } } });
const conns = Number(values.conns);
const seconds = Number(values.seconds);
const interval = Number(values.interval);
if (!(conns > 0 && conns <= 50000 && seconds > 0 && seconds <= 600 && interval > 0)) {
  console.error('load: --conns 1..50000, --seconds 1..600, --interval > 0');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('load: needs root (it creates a network namespace and a TUN device)');
  process.exit(1);
}
const bin = fileURLToPath(new URL('../bin/tcpip.js', import.meta.url));
const ns = `tcpip-load-${process.pid}`;
const demo = spawn(process.execPath, [bin, 'demo', '--netns', ns], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  let out = '';
  demo.stdout.on('data', (d) => {
    out += d;
    if (/^ready$/m.test(out)) resolve();
  });
  demo.on('exit', (c) => reject(new Error(`demo exited ${c}`)));
  setTimeout(() => reject(new Error('demo not ready in 10 s')), 10_000).unref();
});

const stat = () => {
  const r = spawnSync(process.execPath, [bin, 'stat', '--netns', ns, '--json'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return r.status === 0 ? JSON.parse(r.stdout) : null;
};
const baseline = stat();

// The client: kernel sockets in the namespace, ramping up in batches.
const client = `
const net = require('node:net');
const N = ${conns}, SECONDS = ${seconds}, INTERVAL = ${interval};
const socks = []; let established = 0, failed = 0, echoed = 0, bad = 0, errors = 0;
const t0 = Date.now();
function open(i) {
  return new Promise((resolve) => {
    const s = net.connect(7, '10.7.0.2');
    s.setNoDelay(true);
    let pending = '';
    s.on('connect', () => { established++; socks.push(s); resolve(); });
    s.on('data', (d) => { pending += d; let k; while ((k = pending.indexOf('\\n')) >= 0) { const line = pending.slice(0, k); pending = pending.slice(k + 1); if (line.startsWith('conn ')) echoed++; else bad++; } });
    s.on('error', () => { errors++; resolve(); });
  });
}
(async () => {
  for (let i = 0; i < N; i += 200) { await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, k) => open(i + k))); }
  const rampMs = Date.now() - t0;
  console.log(JSON.stringify({ phase: 'ramped', established, errors, rampMs }));
  const end = Date.now() + SECONDS * 1000;
  let sent = 0;
  const perTick = Math.max(1, Math.round(socks.length / (INTERVAL * 10)));
  let next = 0;
  while (Date.now() < end) {
    for (let k = 0; k < perTick; k++) { const s = socks[next++ % socks.length]; if (s && !s.destroyed) { s.write('conn ' + next + ' hello\\n'); sent++; } }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000));
  console.log(JSON.stringify({ phase: 'done', established, errors, sent, echoed, bad, open: socks.filter((s) => !s.destroyed).length }));
  for (const s of socks) s.destroy();
  process.exit(0);
})();
`;
const t0 = Date.now();
const cl = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', `ulimit -n $(ulimit -Hn); exec ${process.execPath} -e "$0"`, client], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = [];
cl.stdout.on('data', (d) => {
  for (const l of String(d).trim().split('\n')) {
    lines.push(JSON.parse(l));
    console.log(`client: ${l}`);
  }
});
const samples = [];
const sampler = setInterval(() => {
  const r = stat();
  if (!r) return;
  const p = r.counters.process;
  const s = { t: Math.round((Date.now() - t0) / 1000), connections: r.connections.length, estab: r.counters.tcp.currEstab, rssMiB: (p.rssKiB / 1024).toFixed(1), heapMiB: (p.heapUsedKiB / 1024).toFixed(1), lagP99Ms: p.eventLoopDelayP99Ms, lagMaxMs: p.eventLoopDelayMaxMs };
  samples.push(s);
  console.log(`stack: ${JSON.stringify(s)}`);
}, Math.min(5000, Math.max(1000, seconds * 200)));
const code = await new Promise((r) => cl.on('exit', r));
clearInterval(sampler);
const done = lines.find((l) => l.phase === 'done');
demo.kill('SIGTERM');
await new Promise((r) => demo.on('exit', r));
const peak = samples.reduce((m, s) => (s.connections > (m?.connections ?? -1) ? s : m), null);
const perConn = peak && baseline ? ((Number(peak.rssMiB) * 1024 - baseline.counters.process.rssKiB) / Math.max(1, peak.connections)).toFixed(1) : '?';
console.log('');
console.log(`load: ${conns} connections for ${seconds} s: established ${done?.established ?? '?'}, errors ${done?.errors ?? '?'}, messages ${done?.sent ?? '?'} sent / ${done?.echoed ?? '?'} echoed / ${done?.bad ?? '?'} bad`);
if (peak) console.log(`load: peak ${peak.connections} connections, rss ${peak.rssMiB} MiB (${perConn} KiB per connection over the idle demo, buffers included: they grow on demand), event-loop delay p99 ${Math.max(...samples.map((s) => s.lagP99Ms))} ms, max ${Math.max(...samples.map((s) => s.lagMaxMs))} ms`);
const ok = code === 0 && done && done.established === conns && done.errors === 0 && done.bad === 0 && done.echoed === done.sent;
console.log(`load: ${ok ? 'PASSED' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
