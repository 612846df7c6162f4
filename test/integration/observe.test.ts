/**
 * Seeing inside a running demo: `tcpip stat` over the control socket, `--trace` written
 * by the demo and drawn by `tcpip plot`, for a real `nc` conversation with the kernel.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, integrationUnavailable, nsRun, startDemo, uniqueNetns } from './harness.js';

const unavailable = integrationUnavailable();

describe.skipIf(unavailable !== null)('stat, trace and plot', () => {
  it('tcpip stat shows listeners, a live connection and counters; --trace feeds tcpip plot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpip-observe-'));
    const trace = join(dir, 'demo.jsonl');
    const demo = await startDemo(uniqueNetns('observe'), ['--trace', trace]);
    try {
      // A connection that stays open while we look.
      const held = nsRun(demo.netns, ['bash', '-c', 'sleep 2 | nc -N 10.7.0.2 7'], 10_000);
      await new Promise((r) => setTimeout(r, 500));
      const stat = spawnSync(process.execPath, [BIN, 'stat', '--netns', demo.netns], { encoding: 'utf8' });
      expect(stat.status, stat.stderr).toBe(0);
      expect(stat.stdout).toMatch(/^LISTEN\s+0\s+512 \[::\]:7\s/m); // both families
      expect(stat.stdout).toMatch(/^ESTABLISHED\s+0\s+0 10\.7\.0\.2:7\s+10\.7\.0\.1:\d+\s+#\d+ rtt:/m);
      expect(stat.stdout).toMatch(/^tcp:\n(\s+\d+ \w+\n)*\s+\d+ passiveOpens/m);
      const json = JSON.parse(spawnSync(process.execPath, [BIN, 'stat', '--netns', demo.netns, '--json'], { encoding: 'utf8' }).stdout);
      expect(json.counters.stack.internalErrors).toBe(0);
      expect(json.counters.process.rssKiB).toBeGreaterThan(0);
      // The live page (the demo keeps the trace in memory with --trace) links each
      // connection to its ladder and graphs, which refresh while it runs.
      const page = await nsRun(demo.netns, ['curl', '-sS', '--max-time', '5', 'http://10.7.0.2/']);
      const link = /href="\/conn\/(\d+)\/ladder"/.exec(page.stdout);
      expect(link, page.stdout).not.toBeNull();
      const lad = await nsRun(demo.netns, ['curl', '-sS', '--max-time', '5', `http://10.7.0.2/conn/${link![1]}/ladder`]);
      expect(lad.stdout).toContain('<meta http-equiv="refresh" content="2">');
      expect(lad.stdout).toContain('SYN,ACK seq=0 ack=1');
      const graph = await nsRun(demo.netns, ['curl', '-sS', '--max-time', '5', `http://10.7.0.2/conn/${link![1]}/graph`]);
      expect(graph.stdout).toMatch(/<svg[\s\S]*ESTABLISHED/);
      await held;
      await nsRun(demo.netns, ['nc', '-N', '10.7.0.2', '7'], 10_000, 'traced line\n');
      // Where the demo's time goes: a profile of the next second, under a little load.
      const load = nsRun(demo.netns, ['bash', '-c', 'timeout 2 cat /dev/zero | nc -N 10.7.0.2 9 >/dev/null; true'], 10_000);
      await new Promise((r) => setTimeout(r, 200));
      const prof = spawnSync(process.execPath, [BIN, 'stat', '--netns', demo.netns, '--profile', '1', '--json'], { encoding: 'utf8' });
      await load;
      expect(prof.status, prof.stderr).toBe(0);
      const { top } = JSON.parse(prof.stdout) as { top: { fn: string; pct: number }[] };
      expect(top.length).toBeGreaterThanOrEqual(2);
      expect(top.reduce((a, e) => a + e.pct, 0)).toBeLessThanOrEqual(100.5);
      expect(top.some((e) => /\.js:\d+$/.test(e.fn))).toBe(true);
      // And what it allocates meanwhile, by function.
      const load2 = nsRun(demo.netns, ['bash', '-c', 'timeout 2 cat /dev/zero | nc -N 10.7.0.2 9 >/dev/null; true'], 10_000);
      await new Promise((r) => setTimeout(r, 200));
      const alloc = spawnSync(process.execPath, [BIN, 'stat', '--netns', demo.netns, '--alloc', '1', '--json'], { encoding: 'utf8' });
      await load2;
      expect(alloc.status, alloc.stderr).toBe(0);
      const al = JSON.parse(alloc.stdout) as { bytes: number; top: { fn: string; bytes: number }[] };
      expect(al.bytes).toBeGreaterThan(0);
      expect(al.top.length).toBeGreaterThan(0);
      expect(al.top.reduce((x, e) => x + e.bytes, 0)).toBeLessThanOrEqual(al.bytes);
    } finally {
      expect((await demo.stop()).code).toBe(0);
    }
    const records = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.some((r) => r.ev === 'state' && r.to === 'ESTABLISHED')).toBe(true);
    const svg = join(dir, 'conn.svg');
    const plot = spawnSync(process.execPath, [BIN, 'plot', trace, '-o', svg], { encoding: 'utf8' });
    expect(plot.status, plot.stderr).toBe(0);
    expect(existsSync(svg)).toBe(true);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg [\s\S]*ESTABLISHED[\s\S]*<\/svg>$/);
    const list = spawnSync(process.execPath, [BIN, 'plot', trace, '--list'], { encoding: 'utf8' });
    expect(list.stdout).toMatch(/^1\t10\.7\.0\.2:7 <-> 10\.7\.0\.1:\d+\t\d+ events$/m);
    // The ladder of the second connection, from the stack's own trace: the tutorials'
    // handshake, the echoed line, and the close the kernel's nc started (the stack goes
    // CLOSE-WAIT, then LAST-ACK with its own FIN).
    const ladder = join(dir, 'close.html');
    const echoConns = [...list.stdout.matchAll(/^(\d+)\t10\.7\.0\.2:7 <-> /gm)].map((m) => m[1]!);
    const lp = spawnSync(process.execPath, [BIN, 'plot', trace, '--conn', echoConns.at(-1)!, '--chart', 'ladder', '-o', ladder], { encoding: 'utf8' });
    expect(lp.status, lp.stderr).toBe(0);
    const page = readFileSync(ladder, 'utf8');
    for (const text of ['SYN seq=0 win=', 'SYN,ACK seq=0 ack=1', 'len=12', 'CLOSE-WAIT', 'LAST-ACK', 'FIN,ACK']) expect(page).toContain(text);
    // The kernel's side, inferred from its segments: it closed first and ends in TIME-WAIT.
    for (const state of ['FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT']) expect(page).toMatch(new RegExp(`font-style="italic">${state}<`));
    // A picture to look at: the page in headless Chromium (when installed), in test-results/.
    if (existsSync('/usr/bin/chromium')) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const p = await browser.newPage({ viewport: { width: 1500, height: 900 } });
        await p.goto(`file://${ladder}`);
        mkdirSync(join(ROOT, 'test-results'), { recursive: true });
        await p.screenshot({ path: join(ROOT, 'test-results', 'ladder-nc-echo.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('tcpip stat says clearly when no demo is running', () => {
    const r = spawnSync(process.execPath, [BIN, 'stat', '--netns', 'no-such-demo'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no tcpip demo is running at \/run\/tcpip\/no-such-demo-tcpip0\.sock/);
  });
});
