/**
 * iperf3 against the stack (#17's first item): the demo serves the iperf3 protocol on port
 * 5201, and Debian's own iperf3 client runs unmodified from the kernel side: client to
 * stack, reverse (-R, the stack sends), and four parallel streams (-P 4). Each run's JSON
 * report must show data both ends agree on.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, integrationUnavailable, nsRun, startDemo, uniqueNetns, type Demo } from './harness.js';

const unavailable = integrationUnavailable() ?? (spawnSync('iperf3', ['--version']).status === 0 ? null : 'iperf3 is not installed (Debian package iperf3)');

interface Report {
  start: { test_start: { num_streams: number; reverse: number } };
  end: { sum_sent: { bytes: number; seconds: number }; sum_received: { bytes: number; seconds: number }; streams: unknown[] };
  error?: string;
}

describe.skipIf(unavailable !== null)('iperf3 -c against the stack', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo(uniqueNetns('iperf'));
  });
  afterAll(async () => {
    if (demo) expect((await demo.stop()).code).toBe(0);
  });

  const run = async (args: string[]): Promise<Report> => {
    const r = await nsRun(demo.netns, ['iperf3', '-c', '10.7.0.2', '-t', '2', '-J', ...args], 30_000);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.error, r.stdout).toBeUndefined();
    expect(r.status).toBe(0);
    return report;
  };

  for (const [what, args, streams] of [['client to stack', [], 1], ['stack to client (-R)', ['-R'], 1], ['four streams (-P 4)', ['-P', '4'], 4]] as const) {
    it(`${what}: the report shows the data both ends agree on`, async () => {
      const r = await run([...args]);
      expect(r.start.test_start.num_streams).toBe(streams);
      expect(r.end.streams).toHaveLength(streams);
      const { sum_sent: sent, sum_received: got } = r.end;
      // Gigabits in two seconds, and what was received is what was sent, but for what was in
      // flight when the test ended.
      expect(got.bytes).toBeGreaterThan(100e6);
      expect(got.bytes).toBeLessThanOrEqual(sent.bytes);
      expect(got.bytes).toBeGreaterThan(sent.bytes * 0.9);
      expect(got.seconds).toBeGreaterThan(1.5);
    }, 40_000);
  }

  it('refuses a second client while a test runs, as iperf3 -s does', async () => {
    const first = nsRun(demo.netns, ['iperf3', '-c', '10.7.0.2', '-t', '3', '-J'], 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await nsRun(demo.netns, ['iperf3', '-c', '10.7.0.2', '-t', '1'], 30_000);
    expect(second.status).not.toBe(0);
    expect(second.stdout + second.stderr).toMatch(/busy/);
    expect((await first).status).toBe(0);
  }, 40_000);
});

describe.skipIf(unavailable !== null)('tcpip iperf3 -c against the kernel\'s iperf3 -s', () => {
  const ns = uniqueNetns('iperfc');
  beforeAll(() => {
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  for (const [what, args] of [['the stack sends', []], ['the stack receives (-R)', ['-R']], ['two streams (-P 2)', ['-P', '2']]] as const) {
    it(`${what}: both ends count the same bytes`, async () => {
      // One test per server (-1); the stack's device and the kernel's 10.8.0.1 come up with the client.
      const r = await nsRun(ns, ['bash', '-c', `iperf3 -s -1 >/dev/null 2>&1 & sleep 0.3; exec ${process.execPath} ${BIN} iperf3 -c 10.8.0.1 -t 2 --json ${args.join(' ')}`], 30_000);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { weSent: boolean; streams: number; seconds: number; sentBytes: number; receivedBytes: number };
      const flags: readonly string[] = args;
      expect(j.weSent).toBe(!flags.includes('-R'));
      expect(j.streams).toBe(flags.includes('-P') ? 2 : 1);
      expect(j.seconds).toBeGreaterThan(1.9);
      expect(j.receivedBytes).toBeGreaterThan(100e6);
      // The two counts agree but for what was in flight at the end (and iperf3's own
      // accounting at the edges: a few blocks at most).
      expect(Math.abs(j.receivedBytes - j.sentBytes)).toBeLessThan(Math.max(0.1 * j.sentBytes, 1 << 20));
    }, 40_000);
  }
});
