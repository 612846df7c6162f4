#!/usr/bin/env node
// npm run bench: this stack next to the Linux kernel, measured in the same run on the
// same machine. Everything happens in network namespaces the benchmark creates and
// removes: the stack behind a TUN device (`tcpip demo --netns`), and for comparison two
// namespaces joined by a veth pair with Node servers and clients on the kernel's own
// sockets. Each row runs for a bounded time. Prints a table; writes bench-results.json.
// Request/response and connection rate run twice: with a Node client, and with a small C
// client (scripts/loadgen.c, compiled here with cc) so that the client is not the bound.
// The loopback rows put a Node server and client on 127.0.0.1 in one process: the
// stack's loopback interface against the kernel's (scripts/loopback-bench.mjs). Other
// rows: iperf3 against the demo's iperf3 service and against iperf3 -s; wrk against one
// Node http program on the stack (through the package API) and on kernel sockets; the
// same rows over IPv6; a second demo on TAP; a third with --busy-poll (each beside the
// plain figure). Then the row furthest below Linux is profiled in the process that runs
// its stack, allocation is counted per MiB and per request, and the bare TUN device's
// bounds are measured: ping through a responder that only swaps addresses, and with
// --offload off bulk frames each way (scripts/tunbound.c).
//   npm run bench [-- --seconds 3 --repeat 3 --mtu 1500 --offload on|off --json FILE --rows REGEX]
// (--rows runs only the rows whose name matches, e.g. --rows 'bulk|request'.)
// Figures on a shared machine drift by a factor of two between minutes, so each row is
// measured --repeat times, stack and Linux alternately, and the medians are compared.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { offload: { type: 'string', default: 'on' }, repeat: { type: 'string', default: '3' }, seconds: { type: 'string', default: '3' }, mtu: { type: 'string', default: '1500' }, json: { type: 'string', default: 'bench-results.json' }, idle: { type: 'string', default: '10000' }, rows: { type: 'string' } } });
const SECONDS = Number(values.seconds);
const REPEAT = Math.max(1, Number(values.repeat));
const MTU = Number(values.mtu);
const IDLE = Number(values.idle);
if (process.getuid?.() !== 0) {
  console.error('bench: needs root (network namespaces, TUN and veth devices)');
  process.exit(1);
}
const bin = fileURLToPath(new URL('../bin/tcpip.js', import.meta.url));
const node = process.execPath;
const tag = `${process.pid}`;
const sh = (cmd) => spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });

// ---------------------------------------------------------------- the two setups
const stackNs = `tcpip-bench-s${tag}`;
const linuxA = `tcpip-bench-a${tag}`;
const linuxB = `tcpip-bench-b${tag}`;

function cleanup() {
  sh(`ip netns del ${linuxA} 2>/dev/null; ip netns del ${linuxB} 2>/dev/null`);
}
process.on('exit', cleanup);

// The kernel pair: A (client, 10.9.0.1, fd00:9::1) -- veth -- B (servers, 10.9.0.2, fd00:9::2).
sh(`ip netns add ${linuxA} && ip netns add ${linuxB} && ip link add bva${tag} type veth peer name bvb${tag} && ip link set bva${tag} netns ${linuxA} && ip link set bvb${tag} netns ${linuxB}`);
sh(`ip -n ${linuxA} addr add 10.9.0.1/24 dev bva${tag} && ip -n ${linuxA} link set bva${tag} mtu ${MTU} up && ip -n ${linuxA} link set lo up`);
sh(`ip -n ${linuxB} addr add 10.9.0.2/24 dev bvb${tag} && ip -n ${linuxB} link set bvb${tag} mtu ${MTU} up && ip -n ${linuxB} link set lo up`);
sh(`ip -n ${linuxA} -6 addr add fd00:9::1/64 dev bva${tag} nodad && ip -n ${linuxB} -6 addr add fd00:9::2/64 dev bvb${tag} nodad`);

// Node servers on the kernel's sockets in B: echo 7, discard 9, chargen 19.
const SERVERS = `
const net = require('node:net');
const block = Buffer.alloc(1 << 16, 65);
net.createServer((s) => { s.setNoDelay(true); s.pipe(s); s.on('error', () => {}); }).listen(7, '::');
net.createServer((s) => { s.resume(); s.on('end', () => s.end()); s.on('error', () => {}); }).listen(9, '::');
net.createServer((s) => { let on = true; s.on('error', () => { on = false; }); s.on('close', () => { on = false; }); s.resume(); s.on('end', () => s.end());
  const pump = () => { while (on && s.write(block)); if (on) s.once('drain', pump); }; pump(); }).listen(19, '::');
console.log('ready');
`;
const servers = spawn('ip', ['netns', 'exec', linuxB, 'bash', '-c', `ulimit -n $(ulimit -Hn); exec ${node} -e "$0"`, SERVERS], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => servers.stdout.once('data', r));
// iperf3 -s on the kernel side, for the iperf3 rows (the stack's demo serves port 5201 too).
const haveIperf = sh('iperf3 --version').status === 0;
const iperfServer = haveIperf ? spawn('ip', ['netns', 'exec', linuxB, 'iperf3', '-s'], { stdio: 'ignore' }) : null;
if (!haveIperf) console.error('bench: no iperf3 (Debian package iperf3); its rows are skipped');
process.on('exit', () => iperfServer?.kill('SIGKILL')); // even when a row throws

// The same small Node http program for wrk, once on the kernel's sockets (in B) and once on
// the stack through the package's public API, on its own TUN device in the stack's
// namespace (10.11.0.2; the kernel side 10.11.0.1): /small answers 100 bytes, /big 16 KiB.
const haveWrk = sh('wrk --version').status === 0 || /wrk /.test(sh('wrk --version 2>&1').stdout);
const HTTP_APP = `
const small = Buffer.alloc(100, 97), big = Buffer.alloc(16384, 98);
const app = require('node:http').createServer((req, res) => { const b = req.url === '/big' ? big : small; res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length }); res.end(b); });
app.keepAliveTimeout = 60000;`;
const httpLinux = haveWrk ? spawn('ip', ['netns', 'exec', linuxB, node, '-e', `${HTTP_APP}\napp.listen(8080, '10.9.0.2', () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] }) : null;
let httpStack = null;
let httpBusy = null;
process.on('exit', () => { httpLinux?.kill('SIGKILL'); httpStack?.kill('SIGKILL'); httpBusy?.kill('SIGKILL'); });
if (!haveWrk) console.error('bench: no wrk (Debian package wrk); its rows are skipped');

const demo = spawn(node, [bin, 'demo', '--netns', stackNs, '--mtu', String(MTU), '--offload', values.offload], { stdio: ['ignore', 'pipe', 'inherit'] });
// A second demo on a TAP device (Ethernet, ARP; offload as asked), in a namespace of its own, for the TAP rows.
const tapNs = `tcpip-bench-t${tag}`;
const demoTap = spawn(node, [bin, 'demo', '--netns', tapNs, '--mode', 'tap', '--dev', 'tcpipt', '--mtu', String(MTU), '--offload', values.offload, '--addr6', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
// A third demo on TUN with --busy-poll, for the busy-poll rows (each beside the plain demo's figure).
const busyNs = `tcpip-bench-p${tag}`;
const BUSY_US = 50;
const demoBusy = spawn(node, [bin, 'demo', '--netns', busyNs, '--dev', 'tcpipb', '--mtu', String(MTU), '--offload', values.offload, '--addr6', 'off', '--busy-poll', String(BUSY_US)], { stdio: ['ignore', 'pipe', 'inherit'] });
for (const d of [demo, demoTap, demoBusy]) {
  await new Promise((resolve, reject) => {
    let out = '';
    d.stdout.on('data', (x) => { out += x; if (/^ready$/m.test(out)) resolve(); });
    d.on('exit', (c) => reject(new Error(`demo exited ${c}`)));
  });
}

const targets = {
  stack: { ns: stackNs, addr: '10.7.0.2' },
  linux: { ns: linuxA, addr: '10.9.0.2' },
};
// The same rows over IPv6: the demo's fd00:7::2, the kernel pair's fd00:9::2.
const targets6 = {
  stack: { ns: stackNs, addr: 'fd00:7::2' },
  linux: { ns: linuxA, addr: 'fd00:9::2' },
};
const targetsTap = { stack: { ns: tapNs, addr: '10.7.0.2' }, linux: targets.linux };
const targetsBusy = { stack: { ns: busyNs, addr: '10.7.0.2' }, linux: targets.linux };
const httpTargets = { stack: { ns: stackNs, addr: '10.11.0.2' }, linux: { ns: linuxA, addr: '10.9.0.2' } };
const httpTargetsBusy = { stack: { ns: stackNs, addr: '10.12.0.2' }, linux: httpTargets.linux };
// (In the stack's namespace, which the demo has made by now.)
const pkg = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));
// It profiles itself on SIGUSR2 (the stack runs in its process, not in the demo's) and
// prints the summary as a PROFILE line.
const profileOnSignal = `import { profileSelf } from '${fileURLToPath(new URL('../dist/src/observe/cpu-profile.js', import.meta.url))}';\nprocess.on('SIGUSR2', () => profileSelf(${SECONDS}).then((top) => console.log('PROFILE ' + JSON.stringify(top))));`;
httpStack = haveWrk ? spawn('ip', ['netns', 'exec', stackNs, node, '--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\nimport { openTun } from '${pkg}';\n${profileOnSignal}\n${HTTP_APP}\nconst host = await openTun({ dev: 'tcpipw', addr: '10.11.0.2/24', mtu: ${MTU} });\nhost.net.createServer({ noDelay: true }, (s) => app.emit('connection', s)).listen(8080, () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] }) : null;
if (haveWrk) {
  // The same program again on a stack that busy-polls its device.
  httpBusy = spawn('ip', ['netns', 'exec', stackNs, node, '--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\nimport { openTun } from '${pkg}';\n${HTTP_APP}\nconst host = await openTun({ dev: 'tcpipx', addr: '10.12.0.2/24', mtu: ${MTU}, busyPollUs: ${BUSY_US} });\nhost.net.createServer({ noDelay: true }, (s) => app.emit('connection', s)).listen(8080, () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  for (const p of [httpLinux, httpStack, httpBusy]) {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('bench: an http server for wrk did not start')), 20_000);
      p.stdout.once('data', () => { clearTimeout(t); resolve(); });
      p.once('exit', (c) => { clearTimeout(t); reject(new Error(`bench: an http server for wrk exited ${c}`)); });
    });
  }
}
// The client namespaces may open many connections a second: all ports, and TIME-WAIT
// reuse for outgoing connections (both per-namespace settings).
for (const t of [...Object.values(targets), targetsBusy.stack]) sh(`ip netns exec ${t.ns} sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1`);

// The C client.
const tmp = mkdtempSync(join(os.tmpdir(), 'tcpip-bench-'));
const loadgen = join(tmp, 'loadgen');
const cc = sh(`cc -O2 -pthread -o ${loadgen} ${fileURLToPath(new URL('./loadgen.c', import.meta.url))}`);
const haveC = cc.status === 0;
// The bare device's bound on bulk without offload (scripts/tunbound.c).
const tunbound = join(tmp, 'tunbound');
const haveBound = haveC && sh(`cc -O2 -pthread -o ${tunbound} ${fileURLToPath(new URL('./tunbound.c', import.meta.url))}`).status === 0;
if (!haveC) console.error(`bench: no C client (${cc.stderr.trim() || 'cc failed'}); its rows are skipped`);

/** Runs the C client in a namespace; returns its JSON output. */
function cClient(target, args) {
  if (!haveC) return { error: 'no C compiler' };
  const r = spawnSync('ip', ['netns', 'exec', target.ns, loadgen, ...args.map((a) => (a === 'ADDR' ? target.addr : String(a)))], { encoding: 'utf8', timeout: (SECONDS * 3 + 30) * 1000 });
  try {
    return JSON.parse((r.stdout || '').trim().split('\n').pop());
  } catch {
    return { error: (r.stderr || r.stdout || 'no output').trim().slice(0, 300) };
  }
}

/** Runs a Node client program in a namespace with the given target address; returns its JSON output. */
function client(target, program, timeoutSec = SECONDS * 3 + 30) {
  const src = `const ADDR = '${target.addr}', SECONDS = ${SECONDS}; const net = require('node:net');\n${program}`;
  const r = spawnSync('ip', ['netns', 'exec', target.ns, 'bash', '-c', `ulimit -n $(ulimit -Hn); exec ${node} -e "$0"`, src], { encoding: 'utf8', timeout: timeoutSec * 1000, maxBuffer: 64 << 20 });
  const line = (r.stdout || '').trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return { error: (r.stderr || r.stdout || 'no output').trim().slice(0, 300) };
  }
}

/** iperf3's own report of a test against `target` (the receiver's figure, Gbit/s). */
function iperf3(target, args) {
  if (!haveIperf) return { error: 'no iperf3' };
  const r = spawnSync('ip', ['netns', 'exec', target.ns, 'iperf3', '-c', target.addr, '-t', String(SECONDS), '-J', ...args], { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
  try {
    const j = JSON.parse(r.stdout);
    if (j.error) return { error: j.error };
    return { value: j.end.sum_received.bits_per_second / 1e9, unit: 'Gbit/s' };
  } catch {
    return { error: (r.stderr || r.stdout || 'no output').trim().slice(0, 300) };
  }
}

/** wrk against the Node http program: requests/s, with the latency percentiles wrk reports. */
// Each http server (stack, Linux, busy-poll) serves 6 s of unmeasured load on a path
// before its first measured wrk run there, as benchmarks of a JIT-compiled server do: in
// 3 s runs back to back against a fresh process, the stack's first two gave p99 2-4 ms
// and the later ones 0.4-0.9 ms (each body size alike). Every server gets the same warm-up.
const warmedHttp = new Set();

function wrk(target, path, keepAlive) {
  if (!haveWrk) return { error: 'no wrk' };
  const key = `${target.ns} ${target.addr}${path}`;
  if (!warmedHttp.has(key)) {
    warmedHttp.add(key);
    spawnSync('ip', ['netns', 'exec', target.ns, 'wrk', '-t', '1', '-c', '16', '-d', '6s', `http://${target.addr}:8080${path}`], { encoding: 'utf8', timeout: 36_000 });
  }
  const args = ['-t', '1', '-c', '16', '-d', `${SECONDS}s`, '--latency', ...(keepAlive ? [] : ['-H', 'Connection: close']), `http://${target.addr}:8080${path}`];
  const r = spawnSync('ip', ['netns', 'exec', target.ns, 'wrk', ...args], { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!rps) return { error: (r.stderr || r.stdout || 'no output').trim().slice(0, 300) };
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(r.stdout);
    return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : null;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(r.stdout);
  return { value: Number(rps[1]), unit: 'requests/s', p50Ms: pct(50), p99Ms: pct(99), ...(errors ? { errors: errors[0] } : {}) };
}

// ---------------------------------------------------------------- the rows
const BULK_IN = `
const buf = Buffer.alloc(1 << 20, 7); let sent = 0, t0, stop = false;
const s = net.connect(9, ADDR, () => { t0 = process.hrtime.bigint(); setTimeout(() => { stop = true; }, SECONDS * 1000);
  const pump = () => { while (!stop) { sent += buf.length; if (!s.write(buf)) return s.once('drain', pump); } s.end(); }; pump(); });
s.on('close', () => { const ms = Number(process.hrtime.bigint() - t0) / 1e6; console.log(JSON.stringify({ value: sent * 8 / ms / 1e6, unit: 'Gbit/s' })); });`;
const BULK_OUT = `
let got = 0; let t0;
const s = net.connect(19, ADDR, () => { t0 = process.hrtime.bigint(); setTimeout(() => { const ms = Number(process.hrtime.bigint() - t0) / 1e6; console.log(JSON.stringify({ value: got * 8 / ms / 1e6, unit: 'Gbit/s' })); s.destroy(); process.exit(0); }, SECONDS * 1000); });
s.on('data', (d) => { got += d.length; });`;
const PINGPONG = `
let n = 0; const one = Buffer.from('x'); let t0;
const s = net.connect(7, ADDR, () => { s.setNoDelay(true); t0 = process.hrtime.bigint(); s.write(one); });
s.on('data', (d) => { n += d.length; const ms = Number(process.hrtime.bigint() - t0) / 1e6; if (ms >= SECONDS * 1000) { console.log(JSON.stringify({ value: n / ms * 1000, unit: 'transactions/s' })); process.exit(0); } s.write(one); });`;
const CONNRATE = `
let done = 0, errors = 0; const t0 = Date.now(); const end = t0 + SECONDS * 1000;
function one() { if (Date.now() >= end) return Promise.resolve(); return new Promise((res) => { const s = net.connect(9, ADDR, () => s.end()); s.on('close', () => { done++; res(); }); s.on('error', () => { errors++; }); s.resume(); }).then(one); }
Promise.all(Array.from({ length: 16 }, one)).then(() => { console.log(JSON.stringify({ value: done / ((Date.now() - t0) / 1000), unit: 'connections/s', errors })); process.exit(0); });`;
const IDLE_CONNS = `
const N = ${IDLE}; const socks = []; let errors = 0;
(async () => { for (let i = 0; i < N; i += 250) await Promise.all(Array.from({ length: Math.min(250, N - i) }, () => new Promise((res) => { const s = net.connect(9, ADDR, () => { socks.push(s); res(); }); s.on('error', () => { errors++; res(); }); })));
  console.log('OPEN'); process.stdin.once('data', () => { for (const s of socks) s.destroy(); console.log(JSON.stringify({ open: socks.length, errors })); process.exit(0); }); })();`;

function idleMemory(which) {
  // Memory is measured where the connections live: the demo process for the stack; for
  // the kernel, the kernel's slab memory plus the Node server process.
  const t = targets[which];
  const before = which === 'stack' ? stackRssKiB() : linuxKiB();
  const p = spawn('ip', ['netns', 'exec', t.ns, 'bash', '-c', `ulimit -n $(ulimit -Hn); exec ${node} -e "$0"`, `const ADDR='${t.addr}'; const net=require('node:net');\n${IDLE_CONNS}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('OPEN') && !out.includes('MEASURED')) {
        out += 'MEASURED';
        setTimeout(() => {
          const after = which === 'stack' ? stackRssKiB() : linuxKiB();
          p.stdin.write('x');
          p.on('exit', () => resolve({ value: (after - before) / IDLE, unit: 'KiB/connection' }));
        }, 1500);
      }
    });
  });
}
function stackRssKiB() {
  const r = spawnSync(node, [bin, 'stat', '--netns', stackNs, '--json'], { encoding: 'utf8', maxBuffer: 512 << 20 });
  return JSON.parse(r.stdout).counters.process.rssKiB;
}
// The kernel's side of a connection: its socket objects (slab caches TCP, sock_inode_cache)
// for the server's half (the pair holds both halves, so the slab delta is halved), plus
// what the Node server process holds for it.
function linuxKiB() {
  const slab = sh('cat /proc/slabinfo').stdout;
  let bytes = 0;
  for (const line of slab.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'TCP' || f[0] === 'sock_inode_cache') bytes += Number(f[1]) * Number(f[3]);
  }
  const pid = spawnSync('pgrep', ['-f', 'listen\\(7'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  const rss = Number(/VmRSS:\s+(\d+)/.exec(sh(`cat /proc/${pid}/status 2>/dev/null`).stdout)?.[1] ?? 0);
  return bytes / 1024 / 2 + rss;
}

/** The bound a TUN hop puts on ping: a responder that only swaps addresses, in this run. */
function tunBound() {
  const ns = `tcpip-bench-m${tag}`;
  sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  const addon = fileURLToPath(new URL('../build/Release/tuntap.node', import.meta.url));
  const src = `const a = require('${addon}'); const [fd, name] = a.open('tcpipb0', false); a.configure(name, (10 << 24) | (11 << 16) | 1, 24, 1500, true);
const buf = new Uint8Array(1600 * 64), meta = new Int32Array(3 * 64), tm = new Int32Array(2);
a.startPolling(fd, buf, meta, 1500, (n) => { for (let i = 0; i < n; i++) { const o = meta[3 * i], l = meta[3 * i + 1];
  if (buf[o] >> 4 !== 4 || buf[o + 9] !== 1 || buf[o + 20] !== 8) continue;
  for (let k = 0; k < 4; k++) { const t = buf[o + 12 + k]; buf[o + 12 + k] = buf[o + 16 + k]; buf[o + 16 + k] = t; }
  buf[o + 20] = 0; let c = ((buf[o + 22] << 8) | buf[o + 23]) + 0x0800; c = (c & 0xffff) + (c >> 16); buf[o + 22] = c >> 8; buf[o + 23] = c & 255;
  tm[0] = o; tm[1] = l; a.writeBatch(fd, buf, tm, 1); } }); console.log('ready');`;
  const p = spawn('ip', ['netns', 'exec', ns, node, '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    p.stdout.once('data', () => {
      const r = pingOnce(ns, '10.11.0.2');
      p.kill();
      p.on('exit', () => {
        sh(`ip netns del ${ns}`);
        resolve(r);
      });
    });
  });
}

function pingOnce(ns, addr) {
  const count = 20000;
  const r = sh(`ip netns exec ${ns} ping -f -c ${count} -W 1 ${addr}`);
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/s.exec(r.stdout);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  if (!m) return { error: r.stdout + r.stderr };
  return { value: Number(m[2]) / (Number(m[3]) / 1000), unit: 'round trips/s', rttMs: rtt ? Number(rtt[1]) : null, lost: Number(m[1]) - Number(m[2]) };
}

function pingRate(which) {
  const t = targets[which];
  const count = 20000;
  const r = sh(`ip netns exec ${t.ns} ping -f -c ${count} -W 1 ${t.addr}`);
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/s.exec(r.stdout);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  if (!m) return { error: r.stdout + r.stderr };
  return { value: Number(m[2]) / (Number(m[3]) / 1000), unit: 'round trips/s', rttMs: rtt ? Number(rtt[1]) : null, lost: Number(m[1]) - Number(m[2]) };
}

/**
 * A loopback row: a server and a client in one Node process over 127.0.0.1, through the
 * stack's own loopback interface, or through the kernel's (in the Linux client namespace).
 */
const LOOPBACK = fileURLToPath(new URL('./loopback-bench.mjs', import.meta.url));
function loopback(which, test) {
  const args = [LOOPBACK, '--on', which === 'stack' ? 'stack' : 'kernel', '--test', test, '--seconds', String(SECONDS)];
  const r = which === 'stack' ? spawnSync(node, args, { encoding: 'utf8' }) : spawnSync('ip', ['netns', 'exec', linuxA, node, ...args], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: (r.stderr || r.stdout || 'no output').trim().slice(0, 300) };
  }
}

const rows = [
  { name: 'bulk kernel -> stack (discard)', run: (w) => client(targets[w], BULK_IN), target: '>= 2 Gbit/s' },
  { name: 'bulk stack -> kernel (chargen)', run: (w) => client(targets[w], BULK_OUT), target: '>= 2 Gbit/s' },
  { name: '1-byte request/response (Node)', run: (w) => client(targets[w], PINGPONG), target: '>= 0.8 x Linux' },
  { name: '1-byte request/response (C)', run: (w) => cClient(targets[w], ['rr', 'ADDR', 7, SECONDS]), target: '>= 0.8 x Linux' },
  { name: 'conn set-up + tear-down (Node)', run: (w) => client(targets[w], CONNRATE), target: '>= 5,000/s' },
  { name: 'conn set-up + tear-down (C)', run: (w) => cClient(targets[w], ['conn', 'ADDR', 9, SECONDS, 4]), target: '>= 5,000/s' },
  { name: 'iperf3 -c (kernel -> stack)', run: (w) => iperf3(targets[w], []), target: '>= 0.8 x Linux' },
  { name: 'iperf3 -c -R (stack -> kernel)', run: (w) => iperf3(targets[w], ['-R']), target: '>= 0.8 x Linux' },
  { name: 'iperf3 -c -P 4', run: (w) => iperf3(targets[w], ['-P', '4']), target: '>= 0.8 x Linux' },
  { http: true, name: 'wrk keep-alive, 100 B (Node http)', run: (w) => wrk(httpTargets[w], '/small', true), target: '>= 0.8 x Linux, p99 <= 1.5x' },
  { http: true, name: 'wrk keep-alive, 16 KiB (Node http)', run: (w) => wrk(httpTargets[w], '/big', true), target: '>= 0.8 x Linux, p99 <= 1.5x' },
  { http: true, name: 'wrk Connection: close, 100 B', run: (w) => wrk(httpTargets[w], '/small', false), target: '>= 0.8 x Linux' },
  { name: 'IPv6: bulk kernel -> stack', run: (w) => client(targets6[w], BULK_IN), target: '>= 0.9 x IPv4', v4: 'bulk kernel -> stack (discard)' },
  { name: 'IPv6: bulk stack -> kernel', run: (w) => client(targets6[w], BULK_OUT), target: '>= 0.9 x IPv4', v4: 'bulk stack -> kernel (chargen)' },
  { name: 'IPv6: 1-byte request/response (C)', run: (w) => cClient(targets6[w], ['rr', 'ADDR', 7, SECONDS]), target: '>= 0.9 x IPv4', v4: '1-byte request/response (C)' },
  { name: 'IPv6: conn set-up + tear-down (C)', run: (w) => cClient(targets6[w], ['conn', 'ADDR', 9, SECONDS, 4]), target: '>= 0.9 x IPv4', v4: 'conn set-up + tear-down (C)' },
  { name: 'IPv6: iperf3 -c (kernel -> stack)', run: (w) => iperf3(targets6[w], []), target: '>= 0.9 x IPv4', v4: 'iperf3 -c (kernel -> stack)' },
  { name: 'IPv6: iperf3 -c -R (stack -> kernel)', run: (w) => iperf3(targets6[w], ['-R']), target: '>= 0.9 x IPv4', v4: 'iperf3 -c -R (stack -> kernel)' },
  { name: 'TAP: iperf3 -c (kernel -> stack)', run: (w) => iperf3(targetsTap[w], []), target: '>= 0.9 x TUN', tun: 'iperf3 -c (kernel -> stack)' },
  { name: 'TAP: iperf3 -c -R (stack -> kernel)', run: (w) => iperf3(targetsTap[w], ['-R']), target: '>= 0.9 x TUN', tun: 'iperf3 -c -R (stack -> kernel)' },
  { name: 'TAP: 1-byte request/response (C)', run: (w) => cClient(targetsTap[w], ['rr', 'ADDR', 7, SECONDS]), target: '>= 0.9 x TUN', tun: '1-byte request/response (C)' },
  { name: `busy-poll ${BUSY_US} us: 1-byte req/resp (C)`, run: (w) => cClient(targetsBusy[w], ['rr', 'ADDR', 7, SECONDS]), target: 'evaluation', plain: '1-byte request/response (C)' },
  { name: `busy-poll ${BUSY_US} us: iperf3 -c`, run: (w) => iperf3(targetsBusy[w], []), target: 'evaluation', plain: 'iperf3 -c (kernel -> stack)' },
  { name: `busy-poll ${BUSY_US} us: wrk keep-alive, 100 B`, run: (w) => wrk(httpTargetsBusy[w], '/small', true), target: 'evaluation', plain: 'wrk keep-alive, 100 B (Node http)' },
  { name: `busy-poll ${BUSY_US} us: conn/s (C)`, run: (w) => cClient(targetsBusy[w], ['conn', 'ADDR', 9, SECONDS, 4]), target: 'evaluation', plain: 'conn set-up + tear-down (C)' },
  { name: `${IDLE} idle connections: memory`, run: (w) => idleMemory(w), target: '<= 20 KiB beyond buffers', once: true },
  { name: 'ping -f (one in flight)', run: (w) => pingRate(w), target: '>= 15,000/s, or the TUN bound' },
  { name: 'loopback bulk, 127.0.0.1 (Node)', run: (w) => loopback(w, 'bulk'), target: '>= 0.8 x Linux' },
  { name: 'loopback 1-byte req/resp (Node)', run: (w) => loopback(w, 'rr'), target: '>= 0.8 x Linux' },
];

console.log(`bench: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, MTU ${MTU}, offload ${values.offload}, ${SECONDS} s per measurement, median of ${REPEAT} (stack and Linux alternately)\n`);

/** The run whose value is the median of `runs` (errors only if every run failed); `runs` lists every value. */
function median(runs) {
  const ok = runs.filter((r) => typeof r.value === 'number').sort((a, b) => a.value - b.value);
  if (ok.length === 0) return runs[0];
  return { ...ok[Math.floor((ok.length - 1) / 2)], runs: runs.map((r) => (typeof r.value === 'number' ? Math.round(r.value * 100) / 100 : null)) };
}

const results = [];
const only = values.rows ? new RegExp(values.rows) : null;
for (const row of rows) {
  if (only && !only.test(row.name)) continue;
  const s = [];
  const l = [];
  for (let i = 0; i < (row.once ? 1 : REPEAT); i++) {
    s.push(await row.run('stack'));
    l.push(await row.run('linux'));
  }
  const stack = median(s);
  const linux = median(l);
  const ratio = stack.value && linux.value ? stack.value / linux.value : null;
  // IPv6 and TAP rows also say how the stack's figure compares with its IPv4 / TUN one in this run.
  const base = row.v4 ?? row.tun ?? row.plain;
  const baseLabel = row.v4 ? 'IPv6/IPv4' : row.tun ? 'TAP/TUN' : 'busy-poll/off';
  const baseRow = base ? results.find((x) => x.row === base) : undefined;
  const ofBase = baseRow?.stack.value && stack.value ? stack.value / baseRow.stack.value : null;
  results.push({ row: row.name, stack, linux, ratio, target: row.target, ...(ofBase !== null ? { [row.v4 ? 'ipv6OfIpv4' : row.tun ? 'tapOfTun' : 'busyOfPlain']: ofBase } : {}) });
  const f = (x) => (x?.value === undefined ? `error: ${x?.error ?? '?'}` : `${x.value >= 100 ? Math.round(x.value).toLocaleString('en') : x.value.toFixed(2)} ${x.unit}`);
  const lat = stack.p99Ms != null && linux.p99Ms != null ? `   p50/p99 ${stack.p50Ms?.toFixed(2)}/${stack.p99Ms.toFixed(2)} ms vs ${linux.p50Ms?.toFixed(2)}/${linux.p99Ms.toFixed(2)} ms` : '';
  const six = ofBase !== null ? `   ${baseLabel} (stack) ${ofBase.toFixed(2)}` : '';
  console.log(`${row.name.padEnd(34)} stack ${f(stack).padEnd(26)} linux ${f(linux).padEnd(26)} ratio ${ratio === null ? '-' : ratio.toFixed(2)}   (target ${row.target})${lat}${six}`);
}

// Where the time goes for the row furthest below Linux (ping aside: its bound is the TUN
// hop, measured below): that row once more on the stack,
// while the demo profiles itself (tcpip stat --profile, V8's sampling profiler).
{
  const worst = results.filter((x) => x.ratio !== null && rows.find((rw) => rw.name === x.row && !rw.once && !rw.tun && !rw.plain && !rw.target.includes('TUN bound'))).sort((x, y) => x.ratio - y.ratio)[0];
  const row = worst && rows.find((rw) => rw.name === worst.row);
  if (row) {
    let text = '';
    let exited;
    if (row.http) {
      // The wrk rows' stack lives in the http program's process: it profiles itself.
      const onData = (d) => {
        const m = /^PROFILE (.*)$/m.exec(String(d));
        if (m) text = JSON.stringify({ top: JSON.parse(m[1]) });
      };
      httpStack.stdout.on('data', onData);
      httpStack.kill('SIGUSR2');
      exited = new Promise((res) => {
        const t = setInterval(() => { if (text) { clearInterval(t); httpStack.stdout.off('data', onData); res(); } }, 100);
        setTimeout(() => { clearInterval(t); res(); }, (SECONDS + 10) * 1000);
      });
    } else {
      const prof = spawn(node, [bin, 'stat', '--netns', stackNs, '--profile', String(SECONDS), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      prof.stdout.on('data', (d) => (text += d));
      exited = new Promise((res) => prof.on('exit', res));
    }
    await new Promise((res) => setTimeout(res, 200)); // the profiler is on before the load starts
    await row.run('stack');
    await exited;
    try {
      const { top } = JSON.parse(text);
      console.log(`\nwhere the stack's time goes in the row furthest below Linux, "${row.name}" (ratio ${worst.ratio.toFixed(2)}; self time, ${SECONDS} s):`);
      for (const e of top.slice(0, 12)) console.log(`  ${e.pct.toFixed(1).padStart(5)}%  ${e.fn}`);
      worst.profile = top;
    } catch {
      console.log(`\nbench: no profile (${text.trim().slice(0, 200) || 'no output'})`);
    }
  }
}

// What the stack allocates (the garbage collector's work), per MiB moved and per
// request/response: these rows once more on the stack while it samples its allocations.
{
  const allocRows = [
    { name: 'bulk kernel -> stack (discard)', per: 'MiB' },
    { name: 'bulk stack -> kernel (chargen)', per: 'MiB' },
    { name: '1-byte request/response (C)', per: 'request/response' },
  ].filter((a) => !only || only.test(a.name));
  const lines = [];
  for (const a of allocRows) {
    const row = rows.find((rw) => rw.name === a.name);
    const st = spawn(node, [bin, 'stat', '--netns', stackNs, '--alloc', String(SECONDS), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    st.stdout.on('data', (d) => (text += d));
    const exited = new Promise((res) => st.on('exit', res));
    await new Promise((res) => setTimeout(res, 200));
    const r = await row.run('stack');
    await exited;
    try {
      const { bytes, top } = JSON.parse(text);
      const units = a.per === 'MiB' ? (r.value * 1e9 * SECONDS) / 8 / 2 ** 20 : r.value * SECONDS;
      const per = bytes / units;
      results.push({ row: `allocated per ${a.per}: ${a.name}`, stack: { value: per, unit: `bytes/${a.per}`, top: top.slice(0, 5) }, linux: null, ratio: null, target: '-' });
      lines.push(`  ${a.name.padEnd(34)} ${Math.round(per).toLocaleString('en')} bytes per ${a.per}   (top: ${top.slice(0, 3).map((t) => `${t.fn} ${Math.round((100 * t.bytes) / bytes)}%`).join(', ')})`);
    } catch {
      lines.push(`  ${a.name}: no allocation sample (${text.trim().slice(0, 100) || 'no output'})`);
    }
  }
  if (lines.length) console.log(`\nallocated by the stack's process (V8's sampling heap profiler, freed objects included):\n${lines.join('\n')}`);
}

// Without offload, what the bare TUN device moves in MTU-sized frames each way (a C loop,
// scripts/tunbound.c), beside the stack's bulk rows: the bound those rows are held to.
if (values.offload === 'off' && haveBound) {
  for (const [mode, name] of [['in', 'bulk kernel -> stack (discard)'], ['out', 'bulk stack -> kernel (chargen)']]) {
    const row = results.find((r) => r.row === name);
    if (!row) continue;
    const runs = [];
    for (let i = 0; i < REPEAT; i++) runs.push(await tunBulkBound(mode));
    const bound = median(runs);
    results.push({ row: `bare TUN device, ${MTU}-byte frames ${mode} (the bound without offload)`, stack: bound, linux: null, ratio: null, target: '-' });
    const r = row.stack.value && bound.value ? (row.stack.value / bound.value).toFixed(2) : '-';
    console.log(`${`bare TUN device, frames ${mode}`.padEnd(34)} ${bound.value ? `${bound.value.toFixed(2)} Gbit/s` : `error: ${bound.error}`}   (${name}: stack/bound ${r}; target >= 0.8)`);
  }
}

/** One run of tunbound in a namespace of its own: MTU-sized frames through a bare TUN device. */
function tunBulkBound(mode) {
  const ns = `tcpip-bench-d${tag}`;
  sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  const p = spawn('ip', ['netns', 'exec', ns, tunbound, 'tcpipd0', mode, String(SECONDS), String(MTU)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), (SECONDS + 20) * 1000);
    p.stdout.on('data', (d) => {
      const first = out === '';
      out += d;
      if (first && /^ready/.test(out)) {
        sh(`ip -n ${ns} addr add 10.13.0.1/24 dev tcpipd0 && ip -n ${ns} link set tcpipd0 mtu ${MTU} up`);
        p.stdin.end('go\n');
      }
    });
    p.on('exit', () => {
      clearTimeout(t);
      sh(`ip netns del ${ns}`);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        resolve({ error: out.trim().slice(0, 200) || 'no output' });
      }
    });
  });
}

// The TUN hop's own bound on ping, for the last row's comparison.
if (!only || only.test('ping -f')) {
  const bounds = [];
  for (let i = 0; i < REPEAT; i++) bounds.push(await tunBound());
  const bound = median(bounds);
  results.push({ row: 'ping -f through a bare TUN responder (the bound)', stack: bound, linux: null, ratio: null, target: '-' });
  console.log(`${'ping -f, bare TUN responder (bound)'.padEnd(34)} ${bound.value ? Math.round(bound.value).toLocaleString('en') + ' round trips/s' : 'error'}   (stack/bound ${(results.find((r) => r.row.startsWith('ping'))?.stack.value / bound.value).toFixed(2)})`);
}

demo.kill('SIGTERM');
demoTap.kill('SIGTERM');
demoBusy.kill('SIGTERM');
servers.kill('SIGTERM');
iperfServer?.kill('SIGTERM');
httpLinux?.kill('SIGTERM');
httpStack?.kill('SIGTERM');
httpBusy?.kill('SIGTERM');
await new Promise((r) => demo.on('exit', r));
await new Promise((r) => (demoTap.exitCode !== null ? r() : demoTap.on('exit', r)));
await new Promise((r) => (demoBusy.exitCode !== null ? r() : demoBusy.on('exit', r)));
cleanup();
rmSync(tmp, { recursive: true, force: true });
writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version }, mtu: MTU, offload: values.offload, seconds: SECONDS, repeat: REPEAT, results }, null, 2));
console.log(`\nbench: wrote ${values.json}`);
process.exit(0);
