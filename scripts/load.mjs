#!/usr/bin/env node
// Load test: N concurrent TCP connections to the demo's echo service, held for a while
// with data flowing, in a private network namespace; prints what the stack's process
// used (memory, event-loop delay) as it went. Bounded in count and time; cleans up.
//   npm run load -- [--conns 10000] [--seconds 60] [--interval 10] [--txqueuelen N]
// --interval: each connection sends one small message every this many seconds. The
// clients are kernel sockets in the namespace, in several processes of at most 15,000
// connections each (a process may hold 20,000 files here), from source addresses
// 10.7.0.101, .102, ... with at most 5,000 connections each: a connect from a chosen
// address binds a port first, and the kernel's search for a free one slows down as an
// address's ports fill up.
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
    txqueuelen: { type: 'string' },
  },
});
const conns = Number(values.conns);
const seconds = Number(values.seconds);
const interval = Number(values.interval);
if (!(conns > 0 && conns <= 150_000 && seconds > 0 && seconds <= 600 && interval > 0)) {
  console.error('load: --conns 1..150000, --seconds 1..600, --interval > 0');
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
const demoArgs = [...(churn > 0 ? ['--msl', String(msl)] : []), ...(values.txqueuelen ? ['--txqueuelen', values.txqueuelen] : [])];
// For churn, the demo collects garbage before each report, so that memory per TIME-WAIT
// connection is what is retained.
const demo = spawn(process.execPath, [...(churn > 0 ? ['--expose-gc'] : []), bin, 'demo', '--netns', ns, ...demoArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, ...(churn > 0 ? { TCPIP_GC_BEFORE_REPORT: '1' } : {}) },
});
// Interrupted: the demo (which removes its namespace) and the clients go too.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    demo.kill('SIGTERM');
    for (const c of clients) c.kill('SIGKILL');
    demo.on('exit', () => process.exit(130));
  });
}
const clients = [];
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
  const r = spawnSync(process.execPath, [bin, 'stat', '--netns', ns, '--json', '--counters'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
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

// The clients: kernel sockets in the namespace, ramping up in batches, PER_PROCESS per
// process, each process from its own source address.
const PER_PROCESS = 15_000;
const PER_ADDRESS = 5_000;
const clientCode = (n, from) => `
const net = require('node:net');
const N = ${n}, SECONDS = ${seconds}, INTERVAL = ${interval}, FROM = ${JSON.stringify(from)};
const socks = []; let established = 0, failed = 0, echoed = 0, bad = 0, errors = 0; const codes = {};
const t0 = Date.now();
function open(i) {
  return new Promise((resolve) => {
    const s = net.connect({ port: 7, host: '10.7.0.2', localAddress: FROM[i % FROM.length] });
    s.setNoDelay(true);
    let pending = '';
    s.on('connect', () => { established++; socks.push(s); resolve(); });
    s.on('data', (d) => { pending += d; let k; while ((k = pending.indexOf('\\n')) >= 0) { const line = pending.slice(0, k); pending = pending.slice(k + 1); if (line.startsWith('conn ')) echoed++; else bad++; } });
    s.on('error', (e) => { errors++; codes[e.code] = (codes[e.code] ?? 0) + 1; resolve(); });
  });
}
(async () => {
  for (let i = 0; i < N; i += 200) { await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, k) => open(i + k))); }
  const rampMs = Date.now() - t0;
  console.log(JSON.stringify({ phase: 'ramped', from: FROM[0], established, errors, codes, rampMs }));
  // Held until every client process has ramped up, so that all the connections are open at once.
  await new Promise((r) => process.stdin.once('data', r));
  process.stdin.pause();
  const end = Date.now() + SECONDS * 1000;
  let sent = 0;
  const perTick = Math.max(1, Math.round(socks.length / (INTERVAL * 10)));
  let next = 0;
  while (Date.now() < end) {
    for (let k = 0; k < perTick; k++) { const s = socks[next++ % socks.length]; if (s && !s.destroyed) { s.write('conn ' + next + ' hello\\n'); sent++; } }
    await new Promise((r) => setTimeout(r, 100));
  }
  // The last echoes: up to 60 s for them (none may be lost; a late one is not lost: a
  // segment the kernel dropped at the full device queue comes again after the client's
  // retransmission timeout, which doubles with each loss).
  for (let k = 0; k < 600 && echoed + bad < sent; k++) await new Promise((r) => setTimeout(r, 100));
  console.log(JSON.stringify({ phase: 'done', from: FROM[0], established, errors, codes, sent, echoed, bad, open: socks.filter((s) => !s.destroyed).length }));
  for (const s of socks) s.destroy();
  process.exit(0);
})();
`;
const processes = Math.ceil(conns / PER_PROCESS);
const sources = Array.from({ length: Math.ceil(conns / PER_ADDRESS) }, (_, k) => `10.7.0.${101 + k}`);
for (const a of sources) spawnSync('ip', ['-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'tcpip0'], { stdio: 'inherit' });
// The namespace's own ephemeral range, widened (Linux's default gives 28,000 ports per address).
spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=10000 65000'], { stdio: 'inherit' });
const t0 = Date.now();
const lines = [];
let rampedAt = 0;
/** The kernel side's counters for the device: packets sent to the stack, and those dropped at its full queue. */
function kernelSide() {
  try {
    const tx = JSON.parse(spawnSync('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'tcpip0'], { encoding: 'utf8' }).stdout)[0].stats64.tx;
    return { packets: tx.packets, dropped: tx.dropped };
  } catch {
    return null;
  }
}
const dropsAt = { ramped: null, holdEnd: null };
const exits = Array.from({ length: processes }, (_, k) => {
  const n = Math.min(PER_PROCESS, conns - k * PER_PROCESS);
  const from = sources.slice((k * PER_PROCESS) / PER_ADDRESS, ((k + 1) * PER_PROCESS) / PER_ADDRESS);
  const cl = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', `ulimit -n $(ulimit -Hn); exec ${process.execPath} -e "$0"`, clientCode(n, from)], { stdio: ['pipe', 'pipe', 'inherit'] });
  clients.push(cl);
  let buf = '';
  cl.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!l) continue;
      lines.push(JSON.parse(l));
      console.log(`client: ${l}`);
      if (l.includes('"done"') && !dropsAt.holdEnd) dropsAt.holdEnd = kernelSide();
      if (rampedAt === 0 && lines.filter((x) => x.phase === 'ramped').length === processes) {
        rampedAt = Date.now();
        dropsAt.ramped = kernelSide();
        for (const c of clients) c.stdin.end('go\n');
      }
    }
  });
  return new Promise((r) => cl.on('exit', r));
});
const samples = [];
const sampler = setInterval(() => {
  const r = stat();
  if (!r) return;
  const p = r.counters.process;
  const s = { t: Math.round((Date.now() - t0) / 1000), held: rampedAt > 0, connections: r.connectionCount, estab: r.counters.tcp.currEstab, rssMiB: (p.rssKiB / 1024).toFixed(1), heapMiB: (p.heapUsedKiB / 1024).toFixed(1), lagP99Ms: p.eventLoopDelayP99Ms, lagMaxMs: p.eventLoopDelayMaxMs };
  samples.push(s);
  console.log(`stack: ${JSON.stringify(s)}`);
}, Math.min(5000, Math.max(1000, seconds * 200)));
const codes = await Promise.all(exits);
clearInterval(sampler);
const final = stat();
if (final) {
  // What the stack counted (non-zero counters of TCP and the device), to explain a failure.
  const nz = (o) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== 0));
  console.log(`stack counters: tcp ${JSON.stringify(nz(final.counters.tcp))}`);
  console.log(`stack counters: device ${JSON.stringify(nz(final.counters.device))}`);
}
// The kernel's side of the device: what it dropped because the stack's queue was full,
// while ramping up, while holding, and once the clients closed everything at once.
const end = kernelSide();
if (end && dropsAt.ramped && dropsAt.holdEnd) {
  console.log(`kernel side of tcpip0: ${end.packets} packets to the stack; dropped at the full queue: ${dropsAt.ramped.dropped} while ramping up, ` +
    `${dropsAt.holdEnd.dropped - dropsAt.ramped.dropped} while holding, ${end.dropped - dropsAt.holdEnd.dropped} when the clients closed their connections at once`);
}
const dones = lines.filter((l) => l.phase === 'done');
const sum = (k) => dones.reduce((a, l) => a + l[k], 0);
const done = dones.length === processes ? { established: sum('established'), errors: sum('errors'), sent: sum('sent'), echoed: sum('echoed'), bad: sum('bad') } : null;
const codesSeen = {};
for (const l of dones) for (const [c, n] of Object.entries(l.codes)) codesSeen[c] = (codesSeen[c] ?? 0) + n;
demo.kill('SIGTERM');
await new Promise((r) => demo.on('exit', r));
// Memory: the largest RSS while every connection was held (the heap is collected lazily,
// so this is an upper bound on what the connections keep).
const peak = samples.filter((s) => s.held).reduce((m, s) => (m === null || s.connections > m.connections || (s.connections === m.connections && Number(s.rssMiB) > Number(m.rssMiB)) ? s : m), null);
const perConn = peak && baseline ? ((Number(peak.rssMiB) * 1024 - baseline.counters.process.rssKiB) / Math.max(1, peak.connections)).toFixed(1) : '?';
const rampMs = rampedAt - t0;
const held = samples.filter((s) => s.held);
const ramp = samples.filter((s) => !s.held);
console.log('');
console.log(`load: ${conns} connections (${processes} client processes, sources ${sources[0]}..${sources.at(-1)}), ramped in ${(rampMs / 1000).toFixed(1)} s, held ${seconds} s: established ${done?.established ?? '?'}, errors ${done?.errors ?? '?'}${Object.keys(codesSeen).length ? ` ${JSON.stringify(codesSeen)}` : ''}, messages ${done?.sent ?? '?'} sent / ${done?.echoed ?? '?'} echoed / ${done?.bad ?? '?'} bad`);
if (peak) console.log(`load: peak ${peak.connections} connections, rss up to ${peak.rssMiB} MiB, heap ${peak.heapMiB} MiB (${perConn} KiB of RSS per connection over the idle demo, buffers included: they grow on demand), event-loop delay while held p99 ${held.reduce((m, s) => Math.max(m, s.lagP99Ms), 0)} ms, max ${held.reduce((m, s) => Math.max(m, s.lagMaxMs), 0)} ms (ramping up: p99 ${ramp.reduce((m, s) => Math.max(m, s.lagP99Ms), 0)}, max ${ramp.reduce((m, s) => Math.max(m, s.lagMaxMs), 0)} ms)`);
const ok = codes.every((c) => c === 0) && done && done.established === conns && done.errors === 0 && done.bad === 0 && done.echoed === done.sent;
console.log(`load: ${ok ? 'PASSED' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
