/**
 * Linux's own packetdrill scripts (github.com/google/packetdrill, gtests/net/tcp) through
 * our interpreter, unchanged: `npm run packetdrill:linux -- /path/to/packetdrill`.
 * Not part of `npm test` (the scripts are not ours and are not in this repository); it
 * prints one line per script and a summary, and fails only if the interpreter itself
 * throws something that is not a script failure (a runner bug).
 *
 * The runner follows packetdrill's own rules here (LINUX_SCRIPTS in runner.ts): 4 ms of
 * timing slack unless a script sets --tolerance_usecs, and packets no `>` line expects are
 * noticed only by the next `>` line.
 *
 * Each script ends as one of:
 *   pass         ran to the end, every packet, call and assertion as Linux's
 *   fail         a difference, with the first one (Linux's behaviour is not ours there)
 *   unsupported  notation or a call the runner does not take (named)
 *   not ours     a feature this stack does not have (the directory says: fastopen, md5, ...)
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { LINUX_SCRIPTS, Runner, ScriptFailure } from './runner.js';
import { ScriptError, parseScript } from './script.js';

/** Directories of gtests/net/tcp about features we do not have. */
const NOT_OURS: Record<string, string> = {
  fastopen: 'TCP Fast Open (RFC 7413)',
  md5: 'TCP MD5 signatures (RFC 2385)',
  zerocopy: 'MSG_ZEROCOPY',
  splice: 'splice()',
  sendfile: 'sendfile()',
  timestamping: 'SO_TIMESTAMPING',
  epoll: 'epoll',
  eor: 'MSG_EOR',
  notsent_lowat: 'TCP_NOTSENT_LOWAT',
  mtu_probe: 'PLPMTUD (RFC 4821)',
  gro: 'GRO',
  inq: 'TCP_INQ control messages',
  syscall_bad_arg: 'bad-pointer system calls',
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.pkt')) out.push(p);
  }
  return out;
}

it('Linux packetdrill scripts', async () => {
  const root = process.env.PACKETDRILL_DIR;
  if (!root) throw new Error('set PACKETDRILL_DIR to a checkout of github.com/google/packetdrill (npm run packetdrill:linux -- DIR)');
  const tcpDir = join(root, 'gtests/net/tcp');
  // packetdrill's run_all.py runs every script as ipv4, ipv4-mapped-ipv6 and ipv6 (MTU 1520).
  const v = process.env.PACKETDRILL_IP_VERSION;
  const ipVersion = v === 'ipv6' || v === 'ipv4-mapped-ipv6' || v === 'ipv4' ? v : undefined;
  const results: { name: string; outcome: string; why: string; reports: string[] }[] = [];
  for (const path of walk(tcpDir)) {
    const name = relative(tcpDir, path);
    const top = name.split('/')[0]!;
    const text = readFileSync(path, 'utf8');
    if (NOT_OURS[top]) {
      results.push({ name, outcome: 'not ours', why: NOT_OURS[top]!, reports: [] });
      continue;
    }
    if (/--ip_version=ipv6|ipv6|::/.test(text) && /ipv6/.test(name + text.slice(0, 400))) {
      results.push({ name, outcome: 'not ours', why: 'IPv6', reports: [] });
      continue;
    }
    let runner: Runner;
    try {
      runner = new Runner(parseScript(name, text), dirname(path), ipVersion ? { ...LINUX_SCRIPTS, ipVersion } : LINUX_SCRIPTS);
    } catch (e) {
      if (!(e instanceof ScriptError)) throw e;
      results.push({ name, outcome: 'unsupported', why: e.message.replace(/^[^:]*:\d+: /, ''), reports: [] });
      continue;
    }
    try {
      await runner.run();
      results.push({ name, outcome: 'pass', why: '', reports: runner.reports });
    } catch (e) {
      if (!(e instanceof ScriptFailure)) throw e;
      const first = e.message.split('\n').slice(0, 4).join('\n      ');
      const unsupported = /unsupported call|unsupported ioctl|only SOCK_STREAM|only fcntl|is not modelled|not supported|only "assert|unknown option/.test(e.message);
      results.push({ name, outcome: unsupported ? 'unsupported' : 'fail', why: first, reports: runner.reports });
    }
  }
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.outcome.padEnd(11)} ${r.name}${r.why ? `\n      ${r.why}` : ''}`);
  }
  const settings = new Map<string, number>();
  for (const r of results) for (const s of r.reports) settings.set(s, (settings.get(s) ?? 0) + 1);
  lines.push('', 'settings the scripts asked for that have no equivalent here:');
  for (const [s, n] of [...settings].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(3)} x ${s}`);
  lines.push('', `summary${ipVersion ? ` (--ip_version=${ipVersion})` : ''}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')} (of ${results.length})`);
  console.log(lines.join('\n'));
  expect(results.length).toBeGreaterThan(0);
}, 600_000);
