/**
 * The stack's DNS stub resolver against a real DNS server (dnsmasq) on the kernel side of
 * a TUN device, in a private network namespace: `tcpip nc` and `tcpip ping` take a name.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, integrationUnavailable, uniqueNetns } from './harness.js';

const unavailable = integrationUnavailable() ?? (existsSync('/usr/sbin/dnsmasq') ? null : 'dnsmasq is not installed (Debian: dnsmasq-base)');

describe.skipIf(unavailable !== null)('names over DNS (dnsmasq in the namespace)', () => {
  it('tcpip nc connects to a name dnsmasq answers; ping resolves it too; an unknown name fails clearly', () => {
    const ns = uniqueNetns('dns');
    const script = `
      set -e
      cd ${ROOT}
      ip link set lo up
      # The name server listens on every address, so it answers on 10.8.0.1 once the device has it;
      # example.test is its own (--local): other names there are NXDOMAIN, not REFUSED.
      dnsmasq --keep-in-foreground --log-queries --no-resolv --no-hosts --port=53 --address=/srv.example.test/10.8.0.1 --local=/example.test/ --pid-file=/tmp/$$.dnsmasq.pid --log-facility=/tmp/$$.dnsmasq.log &
      DNS=$!
      (printf 'hello from the kernel\\n'; sleep 2) | nc -l 7777 > /tmp/$$.got &
      L=$!
      sleep 0.3
      printf 'hello from the stack\\n' | node ${BIN} nc -w 1 --nameserver 10.8.0.1 srv.example.test 7777
      echo '--'
      node ${BIN} ping -c 1 --nameserver 10.8.0.1 srv.example.test | head -1
      echo '--'
      node ${BIN} nc -w 1 --nameserver 10.8.0.1 nowhere.example.test 7777 < /dev/null 2>&1 || true
      echo '--'
      wait $L || true
      cat /tmp/$$.got
      echo '--'
      grep -c 'query\\[A\\] srv.example.test' /tmp/$$.dnsmasq.log || true
      kill $DNS; rm -f /tmp/$$.*
    `;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', script], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      const [nc, ping, unknown, got, queries] = r.stdout.split('--\n');
      expect(nc).toBe('hello from the kernel\n');
      expect(ping).toMatch(/^PING 10\.8\.0\.1 /);
      expect(unknown).toMatch(/EAI_NONAME/);
      expect(got).toBe('hello from the stack\n');
      expect(Number(queries)).toBeGreaterThanOrEqual(2);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
