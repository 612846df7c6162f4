/**
 * ECN (RFC 3168) against the Linux kernel, in a private network namespace: the kernel side
 * has net.ipv4.tcp_ecn=1 (ask and accept), nftables marks a share of the ECN-capable
 * packets Congestion Experienced on their way, and both directions must show the signal
 * working: the stack echoes CE to the kernel with ECE, and reduces its own window for the
 * kernel's ECE while its data goes out ECT(0).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, integrationUnavailable, nsRun, startDemo, uniqueNetns, type Demo } from './harness.js';

const unavailable = integrationUnavailable() ?? (spawnSync('nft', ['--version']).status === 0 ? null : 'nft (nftables) is not installed');

/** The stack's connections, from the demo's control socket. */
function connections(netns: string): { ecn: boolean; ecnCeReceived: number; ecnReductions: number; remote: string }[] {
  const r = spawnSync(process.execPath, [BIN, 'stat', '--netns', netns, '--json'], { encoding: 'utf8' });
  return JSON.parse(r.stdout).connections;
}

describe.skipIf(unavailable !== null)('ECN with the kernel (tcp_ecn=1, CE marks from nftables)', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo(uniqueNetns('ecn'));
    const ns = demo.netns;
    spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_ecn=1']);
    // A quarter of the ECN-capable packets each way get CE: towards the stack in the
    // kernel's output hook, towards the kernel in its input hook.
    const rules = `
      table ip ecnmark {
        chain out { type filter hook output priority 0; oifname "tcpip0" ip ecn ect0 numgen random mod 4 == 0 ip ecn set ce counter; }
        chain in  { type filter hook input priority 0; iifname "tcpip0" ip ecn ect0 counter numgen random mod 4 == 0 ip ecn set ce counter; }
      }`;
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(async () => {
    if (demo) expect((await demo.stop()).code).toBe(0);
  });

  it("kernel -> stack: CE marks on the kernel's data are echoed with ECE; the kernel counts them delivered", async () => {
    // 3 s of data to the discard service, from a kernel socket that negotiates ECN.
    const sender = nsRun(demo.netns, [process.execPath, '-e', `
      const s = require('node:net').connect(9, '10.7.0.2', () => {
        const buf = Buffer.alloc(65536, 1); const end = Date.now() + 3000;
        const pump = () => { while (Date.now() < end) if (!s.write(buf)) return s.once('drain', pump); s.end(); };
        pump();
      });
      s.on('close', () => process.exit(0));
    `], 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    const mid = connections(demo.netns).filter((c) => c.ecn);
    const ss = spawnSync('ip', ['netns', 'exec', demo.netns, 'ss', '-tni', 'dst', '10.7.0.2'], { encoding: 'utf8' }).stdout;
    expect((await sender).status).toBe(0);
    expect(mid.length).toBeGreaterThan(0); // negotiated
    expect(mid.some((c) => c.ecnCeReceived > 0)).toBe(true); // the marks arrived
    // The kernel counts the segments our ECE reported as CE-marked (tcp_info delivered_ce).
    expect(Number(/delivered_ce:(\d+)/.exec(ss)?.[1] ?? 0)).toBeGreaterThan(0);
  });

  it('stack -> kernel: our data goes ECT(0); the kernel\'s ECE makes the stack reduce its window', async () => {
    // The chargen service streams to the kernel for 3 s.
    const receiver = nsRun(demo.netns, [process.execPath, '-e', `
      const s = require('node:net').connect(19, '10.7.0.2'); s.resume();
      setTimeout(() => { s.destroy(); process.exit(0); }, 3000);
    `], 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    const mid = connections(demo.netns).filter((c) => c.ecn);
    expect((await receiver).status).toBe(0);
    expect(mid.some((c) => c.ecnReductions > 0)).toBe(true);
    const counters = spawnSync('ip', ['netns', 'exec', demo.netns, 'nft', 'list', 'chain', 'ip', 'ecnmark', 'in'], { encoding: 'utf8' }).stdout;
    const packets = [...counters.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    expect(packets[0]).toBeGreaterThan(100); // ECT(0) data from the stack
    expect(packets[1]).toBeGreaterThan(10); // some of it marked CE
  });
});
