/**
 * TUN offload against the Linux kernel, in a private network namespace: the demo says
 * when it offloads; and offload settings, which belong to the device rather than the
 * fd, do not outlive a run on a persistent device (a later run without offload would
 * otherwise get partial checksums and 64 KiB segments it cannot tell apart).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { integrationUnavailable, nsRun, startDemo, uniqueNetns } from './harness.js';

const unavailable = integrationUnavailable();

describe.skipIf(unavailable !== null)('TUN offload', () => {
  it('a persistent device opened with offload, then without: the second run still gets valid packets', async () => {
    const ns = uniqueNetns('persist');
    const sh = (cmd: string): void => {
      const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(0);
    };
    sh(`ip netns add ${ns} && ip -n ${ns} link set lo up && ip -n ${ns} tuntap add mode tun name tcpipp0`);
    try {
      const first = await startDemo(ns, ['--dev', 'tcpipp0', '--offload', 'on']);
      expect(first.output()).toContain('checksum + TCP segmentation offload');
      const big = await nsRun(ns, ['bash', '-c', 'head -c 2000000 /dev/zero | nc -N 10.7.0.2 7 | wc -c'], 30_000);
      expect(big.stdout.trim()).toBe('2000000');
      expect((await first.stop()).code).toBe(0);

      const second = await startDemo(ns, ['--dev', 'tcpipp0', '--offload', 'off']);
      try {
        expect(second.output()).not.toContain("segmentation offload");
        // UDP and TCP from the kernel: with offload left on, their checksums would be
        // partial and every packet dropped as corrupt.
        const udp = await nsRun(ns, ['nc', '-u', '-w1', '10.7.0.2', '7'], 10_000, 'hello again\n');
        expect(udp.stdout).toBe('hello again\n');
        const tcp = await nsRun(ns, ['bash', '-c', 'head -c 2000000 /dev/zero | nc -N 10.7.0.2 7 | wc -c'], 30_000);
        expect(tcp.stdout.trim()).toBe('2000000');
      } finally {
        expect((await second.stop()).code).toBe(0);
      }
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }, 120_000);
});

describe.skipIf(unavailable !== null)('offload on TAP and for IPv6', () => {
  for (const mode of ['tap', 'tun'] as const) {
    it(`${mode.toUpperCase()}: the demo offloads, and 8 MB echo intact over IPv4 and IPv6`, async () => {
      const ns = uniqueNetns(`off${mode}`);
      const demo = await startDemo(ns, ['--mode', mode, '--dev', `tcpipo${mode === 'tap' ? 'a' : 'u'}`]);
      try {
        expect(demo.output()).toContain('checksum + TCP segmentation offload');
        // (On TAP the IPv6 address is usable after duplicate address detection, a second.)
        for (let i = 0; i < 30; i++) if ((await nsRun(ns, ['ping', '-6', '-c', '1', '-W', '1', 'fd00:7::2'])).status === 0) break;
        const script = 'head -c 8000000 /dev/urandom > $T; for h in 10.7.0.2 fd00:7::2; do nc -N -w 10 $h 7 < $T | cmp - $T && echo "ok $h"; done; rm -f $T';
        const r = await nsRun(ns, ['bash', '-c', script.replaceAll('$T', `/tmp/offload-${process.pid}-${mode}`)], 60_000);
        expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['ok 10.7.0.2', 'ok fd00:7::2']);
      } finally {
        expect((await demo.stop()).code).toBe(0);
      }
    }, 90_000);
  }
});
