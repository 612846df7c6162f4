/**
 * UDP against the Linux kernel, in a private network namespace: Node's dgram and
 * OpenBSD nc in the kernel reach the demo's echo, discard and daytime services; a
 * closed port is refused; `tcpip nc -u` reaches a kernel UDP server.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, integrationUnavailable, nsRun, startDemo, uniqueNetns, type Demo } from './harness.js';

const unavailable = integrationUnavailable();

/** A Node program run inside the namespace with the kernel's own UDP sockets. */
function nodeScript(src: string): string[] {
  return [process.execPath, '-e', src];
}

for (const mode of ['tun', 'tap'] as const) {
  describe.skipIf(unavailable !== null)(`UDP services over ${mode.toUpperCase()}`, () => {
    let demo: Demo;
    beforeAll(async () => {
      demo = await startDemo(uniqueNetns(`udp${mode}`), ['--mode', mode]);
    });
    afterAll(async () => {
      if (demo) expect((await demo.stop()).code).toBe(0);
    });

    it('echoes datagrams of 0, 1, 1472, 1473, 8000 and 65507 bytes intact (kernel dgram)', async () => {
      const r = await nsRun(demo.netns, nodeScript(`
        const dgram = require('node:dgram');
        const s = dgram.createSocket('udp4');
        const sizes = [0, 1, 1472, 1473, 8000, 65507];
        let i = 0;
        const make = (n) => { const b = Buffer.alloc(n); for (let k = 0; k < n; k++) b[k] = (k * 7 + n) & 255; return b; };
        s.on('message', (m) => {
          const ok = Buffer.compare(m, make(sizes[i])) === 0;
          console.log(sizes[i] + ':' + (ok ? 'ok' : 'bad(' + m.length + ')'));
          if (++i < sizes.length) s.send(make(sizes[i]), 7, '10.7.0.2'); else s.close();
        });
        s.send(make(sizes[0]), 7, '10.7.0.2');
        setTimeout(() => { console.log('timeout at ' + sizes[i]); process.exit(1); }, 5000).unref();
      `));
      expect(r.stdout.trim().split('\n')).toEqual(['0:ok', '1:ok', '1472:ok', '1473:ok', '8000:ok', '65507:ok']);
    });

    it('nc -u reaches echo and daytime; discard answers nothing', async () => {
      const echo = await nsRun(demo.netns, ['nc', '-u', '-w1', '10.7.0.2', '7'], 10_000, 'hello stack\n');
      expect(echo.stdout).toBe('hello stack\n');
      const day = await nsRun(demo.netns, ['nc', '-u', '-w1', '10.7.0.2', '13'], 10_000, '\n');
      expect(day.stdout).toMatch(/^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
      const discard = await nsRun(demo.netns, ['nc', '-u', '-w1', '10.7.0.2', '9'], 10_000, 'into the void\n');
      expect(discard.stdout).toBe('');
    });

    it('a closed port yields ECONNREFUSED on a connected kernel socket', async () => {
      const r = await nsRun(demo.netns, nodeScript(`
        const s = require('node:dgram').createSocket('udp4');
        s.on('error', (e) => { console.log(e.code); process.exit(0); });
        s.connect(4444, '10.7.0.2', () => { s.send('x'); setTimeout(() => s.send('y'), 200); });
        setTimeout(() => { console.log('no error'); process.exit(1); }, 3000);
      `));
      expect(r.stdout.trim()).toBe('ECONNREFUSED');
    });
  });
}

describe.skipIf(unavailable !== null)('tcpip nc -u', () => {
  it('sends stdin lines to a kernel UDP server and prints its replies', async () => {
    const ns = uniqueNetns('ncu');
    // The kernel side: an echo server in the namespace that tcpip nc creates, started
    // from inside the same `ip netns exec` so that it exists for exactly this run.
    const script = `
      set -e
      node -e "
        const s = require('node:dgram').createSocket('udp4');
        s.on('message', (m, r) => s.send(Buffer.from('echo:' + m), r.port, r.address));
        s.bind(9999, '0.0.0.0');
        setTimeout(() => process.exit(0), 8000).unref();
      " &
      server=$!
      sleep 0.3
      printf 'one\\ntwo\\n' | node ${BIN} nc -u -w 1 10.8.0.1 9999
      kill $server
    `;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', script], { encoding: 'utf8', timeout: 15_000, cwd: ROOT });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('echo:one\necho:two\n');
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
