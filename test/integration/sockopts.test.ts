/**
 * Socket options the kernel can see (#15): IP_TOS (RFC 9293 MUST-48: the DSCP a connection
 * asks for is on every segment it sends), TCP_MAXSEG before connect() (the MSS our SYN
 * announces bounds the kernel's segments), and TCP_USER_TIMEOUT (RFC 5482: with the path
 * cut, the connection fails after the user timeout rather than after 15 retransmissions).
 * A program on the package talks to a kernel echo server in a private namespace; nftables
 * counts DSCP marks and later cuts the path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, integrationUnavailable, uniqueNetns } from './harness.js';

const FIX = `${ROOT}test/integration/fixtures`;
const unavailable = integrationUnavailable() ?? (spawnSync('nft', ['--version']).status === 0 ? null : 'nft (nftables) is not installed');
const DEV = 'tcpopt0';
const PORT = 5007;

describe.skipIf(unavailable !== null)('socket options seen by the kernel', () => {
  const ns = uniqueNetns('opt');
  let server: ReturnType<typeof spawn> | null = null;
  const nsExec = (cmd: string[], input?: string) => spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', input });

  beforeAll(() => {
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Count, on the kernel's side of the device, our segments to the echo port by DSCP.
    const rules = `table ip opt {
      chain in { type filter hook input priority 0; iifname "${DEV}" tcp dport ${PORT} ip dscp af11 counter; iifname "${DEV}" tcp dport ${PORT} ip dscp != af11 counter; }
      chain out { type filter hook output priority 0; }
    }`;
    const r = nsExec(['nft', '-f', '-'], rules);
    expect(r.status, r.stderr).toBe(0);
    // The kernel's echo server on the device's kernel-side address.
    server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', `
      require('node:net').createServer((c) => c.pipe(c).on('error', () => {})).listen(${PORT});
    `], { stdio: 'ignore' });
  });
  afterAll(() => {
    server?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('IP_TOS marks every segment; TCP_MAXSEG bounds the kernel\'s segments; TCP_USER_TIMEOUT ends a cut connection on time', async () => {
    const app = spawn('ip', ['netns', 'exec', ns, process.execPath, `${FIX}/stack-sockopts.mjs`, DEV, '10.7.0.2/24', '10.7.0.1', String(PORT)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    app.stdout!.on('data', (d) => (out += d));
    app.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => app.on('exit', (c) => r(c)));
    const waitFor = async (re: RegExp, ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end || app.exitCode !== null) throw new Error(`no ${re} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor(/"echo"/, 20_000);
    const first = JSON.parse(/^\{"echo".*$/m.exec(out)![0]);
    expect(first).toMatchObject({ echo: 200_000, intact: true, rcvMss: 1000 });
    const counts = (chain: string): number[] =>
      [...nsExec(['nft', 'list', 'chain', 'ip', 'opt', chain]).stdout.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    const [marked, unmarked] = counts('in');
    expect(marked).toBeGreaterThan(3); // the SYN, ACKs and data (in offload-sized segments)
    expect(unmarked).toBe(0);

    // The second connection: the kernel sends at most the 1000 bytes our SYN announced.
    await waitFor(/cut me/, 10_000);
    const ss = nsExec(['ss', '-tni', 'dst', '10.7.0.2']).stdout;
    expect(ss, ss).toMatch(/\bmss:988\b/); // 1000 less the 12 bytes of the timestamp option every segment carries

    // TCP_USER_TIMEOUT: cut the path both ways, then the program sends and waits.
    expect(nsExec(['nft', 'add', 'rule', 'ip', 'opt', 'in', `iifname "${DEV}" drop`]).status).toBe(0);
    expect(nsExec(['nft', 'add', 'rule', 'ip', 'opt', 'out', `oifname "${DEV}" drop`]).status).toBe(0);
    app.stdin!.write('go\n');
    await waitFor(/"error"/, 20_000);
    const second = JSON.parse(/^\{"error".*$/m.exec(out)![0]);
    expect(second.error).toBe('ETIMEDOUT');
    // 1.5 s after the data was sent (the RTO is clamped to it), give or take the event loop.
    expect(second.ms).toBeGreaterThanOrEqual(1400);
    expect(second.ms).toBeLessThan(3000);
    expect(await exited).toBe(0);
  }, 60_000);
});
