#!/usr/bin/env node
// Load test: N concurrent TCP connections to the demo's echo service, held for a while
// with data flowing, in a private network namespace; prints what the stack's process
// used (memory, event-loop delay) as it went. Bounded in count and time; cleans up.
//   npm run load -- [--conns 10000] [--seconds 60] [--interval 10]
// --interval: each connection sends one small message every this many seconds.
// Two other modes:
//   npm run load -- --churn 20000 [--msl 10000]   short connections to daytime (the stack
//     closes first, so each leaves a TIME-WAIT on the stack): memory per TIME-WAIT
//     connection, and after they expire (2*MSL)
//   npm run load -- --fragments                   384,000 never-completing 8-byte IP
//     fragments (64 datagrams x 6,000) from a raw socket: the stack's memory and CPU
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    conns: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '60' }, interval: { type: 'string', default: '10' },
    churn: { type: 'string' }, msl: { type: 'string', default: '10000' }, fragments: { type: 'boolean', default: false },
  },
});
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
const churn = values.churn === undefined ? 0 : Number(values.churn);
const msl = Number(values.msl);
if (!(Number.isInteger(churn) && churn >= 0 && churn <= 100_000 && msl >= 1000 && msl <= 60_000)) {
  console.error('load: --churn 1..100000, --msl 1000..60000');
  process.exit(2);
}
const bin = fileURLToPath(new URL('../bin/tcpip.js', import.meta.url));
const ns = `tcpip-load-${process.pid}`;
const demoArgs = churn > 0 ? ['--msl', String(msl)] : [];
// For churn, the demo collects garbage before each report, so that memory per TIME-WAIT
// connection is what is retained.
const demo = spawn(process.execPath, [...(churn > 0 ? ['--expose-gc'] : []), bin, 'demo', '--netns', ns, ...demoArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, ...(churn > 0 ? { TCPIP_GC_BEFORE_REPORT: '1' } : {}) },
});
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (kib) => (kib / 1024).toFixed(1);
const stopDemo = async () => {
  demo.kill('SIGTERM');
  await new Promise((r) => demo.on('exit', r));
};
const inNs = (code) => spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', `ulimit -n $(ulimit -Hn); exec "$0" "$@"`, ...code], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });

if (churn > 0) {
  // Short connections to daytime (13): the stack sends its line and closes first, the
  // client closes on EOF, and the stack keeps TIME-WAIT for 2*MSL.
  const client = `
const net = require('node:net');
let done = 0, failed = 0;
function one() { return new Promise((resolve) => { const s = net.connect(13, '10.7.0.2'); s.resume(); s.on('end', () => { s.end(); done++; resolve(); }); s.on('error', () => { failed++; resolve(); }); s.setTimeout(5000, () => { s.destroy(); failed++; resolve(); }); }); }
(async () => { for (let i = 0; i < ${churn}; i += 200) await Promise.all(Array.from({ length: Math.min(200, ${churn} - i) }, one)); console.log(JSON.stringify({ done, failed })); })();
`;
  const t0 = Date.now();
  const r = inNs([process.execPath, '-e', client]);
  const result = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()) : { done: 0, failed: churn };
  const elapsed = (Date.now() - t0) / 1000;
  const peak = stat();
  const tw = peak.counters.tcp.currTimeWait;
  const base = baseline.counters.process;
  const p = peak.counters.process;
  const perTw = (k) => ((p[k] - base[k]) * 1024 / Math.max(1, tw)).toFixed(0);
  const reused = peak.counters.tcp.timeWaitReused;
  console.log(`churn: ${result.done} connections in ${elapsed.toFixed(1)} s (${result.failed} failed); the stack holds ${tw} in TIME-WAIT ` +
    `(${reused} more ended early by a new SYN for the same 4-tuple, as the client reuses its ports; overflow ${peak.counters.tcp.timeWaitOverflow})`);
  console.log(`churn: rss ${mib(base.rssKiB)} -> ${mib(p.rssKiB)} MiB, heap ${mib(base.heapUsedKiB)} -> ${mib(p.heapUsedKiB)} MiB: ${perTw('heapUsedKiB')} bytes of heap (${perTw('rssKiB')} of RSS) per TIME-WAIT connection`);
  await sleep(2 * msl + 3000);
  const after = stat();
  const a = after.counters.process;
  console.log(`churn: after 2*MSL: ${after.counters.tcp.currTimeWait} in TIME-WAIT, rss ${mib(a.rssKiB)} MiB, heap ${mib(a.heapUsedKiB)} MiB`);
  await stopDemo();
  const ok = result.done === churn && tw + reused >= churn * 0.95 && after.counters.tcp.currTimeWait === 0 && Number(perTw('heapUsedKiB')) <= 1024;
  console.log(`load: ${ok ? 'PASSED' : 'FAILED'}`);
  process.exit(ok ? 0 : 1);
}

if (values.fragments) {
  // 64 datagrams x 6,000 fragments of 8 bytes, MF set on every one: none ever completes.
  const sender = `
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src, dst = socket.inet_aton('10.7.0.1'), socket.inet_aton('10.7.0.2')
n = 0
for k in range(6000):
    for ident in range(64):
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 0x4000 + ident, 0x2000 | k, 64, 17, 0, src, dst)
        try:
            s.sendto(hdr + b'\\0' * 8, ('10.7.0.2', 0)); n += 1
        except OSError:
            pass
print(n)
`;
  const t0 = Date.now();
  const r = inNs(['python3', '-c', sender]);
  const sent = Number(r.stdout.trim());
  await sleep(1000);
  const after = stat();
  const b = baseline.counters.process;
  const a = after.counters.process;
  const ip = after.counters.ip;
  console.log(`fragments: ${sent} sent in ${((Date.now() - t0) / 1000).toFixed(1)} s; the stack received ${ip.fragmentsReceived} (the rest dropped in the TUN queue), ` +
    `discarded ${ip.fragEvicted ?? 0} by eviction, ${ip.fragTooMany ?? 0} for too many fragments`);
  console.log(`fragments: the stack's rss ${mib(b.rssKiB)} -> ${mib(a.rssKiB)} MiB (+${mib(a.rssKiB - b.rssKiB)} MiB), CPU ${((a.cpuMs - b.cpuMs) / 1000).toFixed(2)} s, event-loop delay max ${a.eventLoopDelayMaxMs} ms`);
  await stopDemo();
  const ok = r.status === 0 && a.rssKiB - b.rssKiB < 24 * 1024 && a.cpuMs - b.cpuMs < 2000;
  console.log(`load: ${ok ? 'PASSED' : 'FAILED'} (targets: under 24 MiB of RSS growth and 2 s of CPU)`);
  process.exit(ok ? 0 : 1);
}

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
