/**
 * The foundation against the real kernel: `ping` of every interesting size, and a flood,
 * through a TUN and a TAP device in a private network namespace; the pcap of that run
 * reads back with tcpdump; the demo stops cleanly and removes what it created.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, integrationUnavailable, netnsExists, nsRun, pingCounts, startDemo, uniqueNetns, type Demo } from './harness.js';

const unavailable = integrationUnavailable();
if (unavailable) console.warn(`integration tests skipped: ${unavailable}`);

for (const mode of ['tun', 'tap'] as const) {
  describe.skipIf(unavailable !== null)(`ping over ${mode.toUpperCase()}`, () => {
    let demo: Demo;
    let dir: string;
    // TUN records pcap; TAP records pcapng, with a comment on each frame saying why.
    const pcap = (): string => join(dir, mode === 'tap' ? 'tap.pcapng' : 'tun.pcap');

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tcpip-ping-'));
      demo = await startDemo(uniqueNetns(`ping${mode}`), ['--mode', mode, '--pcap', pcap()]);
    });

    afterAll(async () => {
      if (demo) {
        const { code, ms } = await demo.stop();
        expect(code).toBe(0);
        expect(ms).toBeLessThan(2000);
        expect(netnsExists(demo.netns)).toBe(false);
      }
      rmSync(dir, { recursive: true, force: true });
    });

    // 1472 fills a 1500-byte MTU exactly; 1473 is the first size that fragments.
    for (const size of [56, 1472, 1473, 4000, 65000]) {
      it(`answers ping -s ${size}`, async () => {
        const r = await nsRun(demo.netns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-s', String(size), '10.7.0.2']);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(pingCounts(r.stdout)).toEqual({ sent: 3, received: 3 });
      });
    }

    it('answers a flood ping of 3000 packets with no loss', async () => {
      const r = await nsRun(demo.netns, ['ping', '-f', '-c', '3000', '-W', '2', '10.7.0.2'], 30_000);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(pingCounts(r.stdout)).toEqual({ sent: 3000, received: 3000 });
    });

    it(`writes a ${mode === 'tap' ? 'pcapng' : 'pcap'} file that tcpdump reads back`, async () => {
      await nsRun(demo.netns, ['ping', '-c', '1', '-W', '2', '10.7.0.2']);
      if (mode === 'tap') await nsRun(demo.netns, ['nc', '-N', '-w', '2', '10.7.0.2', '7'], 10_000, 'explain yourself\n');
      const { code } = await demo.stop();
      expect(code).toBe(0);
      expect(existsSync(pcap())).toBe(true);
      const r = spawnSync('tcpdump', ['-n', '-r', pcap()], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/10\.7\.0\.1 > 10\.7\.0\.2: ICMP echo request/);
      expect(r.stdout).toMatch(/10\.7\.0\.2 > 10\.7\.0\.1: ICMP echo reply/);
      if (mode === 'tap') expect(r.stdout).toMatch(/ARP, Reply 10\.7\.0\.2 is-at/);
      // pcapng: tshark (when installed) shows why the stack sent what it sent.
      const ts = spawnSync('tshark', ['-r', pcap(), '-Y', 'frame.comment', '-T', 'fields', '-e', 'frame.comment'], { encoding: 'utf8' });
      if (mode === 'tap' && ts.error === undefined) {
        expect(ts.status, ts.stderr).toBe(0);
        expect(ts.stdout).toMatch(/state SYN-RECEIVED → ESTABLISHED/);
        expect(ts.stdout).toMatch(/state (ESTABLISHED → CLOSE-WAIT|FIN-WAIT-\d → \S+)/);
      }
    });
  });
}

describe.skipIf(unavailable !== null)('demo CLI', () => {
  it('refuses to run without root, in one clear sentence', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'demo'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/needs root/);
  });

  it('rejects bad options with a message naming the option', () => {
    const r = spawnSync(process.execPath, [BIN, 'demo', '--mode', 'ppp'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--mode must be tun or tap/);
  });
});

describe.skipIf(unavailable !== null)('tcpip ping (the stack pings the kernel)', () => {
  for (const mode of ['tun', 'tap']) {
    for (const size of [56, 1473, 65000]) {
      it(`gets replies to -s ${size} over ${mode.toUpperCase()}`, () => {
        const ns = uniqueNetns(`tping${mode}${size}`);
        const r = spawnSync(process.execPath, [BIN, 'ping', '--netns', ns, '--mode', mode, '-c', '3', '-i', '0.1', '-s', String(size), '10.8.0.1'], {
          encoding: 'utf8',
          timeout: 15_000,
        });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(pingCounts(r.stdout)).toEqual({ sent: 3, received: 3 });
        expect(r.stdout).not.toMatch(/MISMATCH/);
        expect(netnsExists(ns)).toBe(false);
      });
    }
  }
});
