/**
 * TCP against the Linux kernel, in a private network namespace: nc, curl and Node's
 * `net` reach every demo service through a TUN device; bulk data, half-close, many
 * connections, refusal, keep-alive HTTP, the chat room, `tcpip nc`, and 20% loss each
 * way (nftables) with nothing lost.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, integrationUnavailable, nsRun, startDemo, uniqueNetns, type Demo } from './harness.js';

const unavailable = integrationUnavailable();

/** Runs a Node program (kernel sockets) inside the namespace; resolves to its stdout lines. */
async function nodeIn(demo: Demo, src: string, timeoutMs = 30_000): Promise<string[]> {
  const r = await nsRun(demo.netns, [process.execPath, '-e', src], timeoutMs);
  if (r.status !== 0) throw new Error(`node exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split('\n');
}

const PRELUDE = `
const net = require('node:net');
const crypto = require('node:crypto');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
function talk(port, payload, { half = true } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const s = net.connect(port, '10.7.0.2', () => { if (payload !== null) { s.write(payload); if (half) s.end(); } });
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}
`;

for (const mode of ['tun', 'tap'] as const) {
  describe.skipIf(unavailable !== null)(`TCP services over ${mode.toUpperCase()}`, () => {
    let demo: Demo;
    beforeAll(async () => {
      demo = await startDemo(uniqueNetns(`tcp${mode}`), ['--mode', mode]);
    });
    afterAll(async () => {
      if (demo) expect((await demo.stop()).code).toBe(0);
    });

    it('nc reaches echo, daytime and chargen; discard closes after the client does', async () => {
      const echo = await nsRun(demo.netns, ['nc', '-N', '-w', '5', '10.7.0.2', '7'], 10_000, 'hello stack\n');
      expect(echo.stdout).toBe('hello stack\n');
      const day = await nsRun(demo.netns, ['nc', '-d', '-w', '5', '10.7.0.2', '13'], 10_000);
      expect(day.status).toBe(0);
      expect(day.stdout).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$/);
      const discard = await nsRun(demo.netns, ['nc', '-N', '-w', '5', '10.7.0.2', '9'], 10_000, 'x'.repeat(100_000));
      expect(discard.status).toBe(0);
      expect(discard.stdout).toBe('');
      const chargen = await nsRun(demo.netns, ['bash', '-c', 'nc -d 10.7.0.2 19 | head -c 7400'], 10_000);
      const lines = chargen.stdout.split('\r\n');
      expect(lines[0]).toBe(' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg');
      expect(lines[1]).toBe('!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh');
      expect(lines.length).toBeGreaterThan(90);
    });

    it('Node net: 8 MiB echoed intact, half-close returns all data, discard and daytime close', async () => {
      const out = await nodeIn(demo, `${PRELUDE}
        (async () => {
          const big = crypto.randomBytes(8 * 1024 * 1024);
          const back = await talk(7, big);
          console.log('echo', back.length, sha(back) === sha(big));
          const d = await talk(9, crypto.randomBytes(1 << 20));
          console.log('discard', d.length);
          const t = await talk(13, null);
          console.log('daytime', /\\d\\d:\\d\\d:\\d\\d/.test(t.toString()));
        })().catch((e) => { console.log('error', e.code); process.exit(1); });
      `, 60_000);
      expect(out).toEqual(['echo 8388608 true', 'discard 0', 'daytime true']);
    });

    it('300 concurrent connections each get their own echo', async () => {
      const out = await nodeIn(demo, `${PRELUDE}
        (async () => {
          const all = [];
          for (let i = 0; i < 300; i++) all.push(talk(7, Buffer.from('conn ' + i + ' says hi')));
          const res = await Promise.all(all);
          console.log(res.every((b, i) => b.toString() === 'conn ' + i + ' says hi') ? 'all 300 ok' : 'mismatch');
        })().catch((e) => { console.log('error', e.code); process.exit(1); });
      `, 60_000);
      expect(out).toEqual(['all 300 ok']);
    });

    it('a closed port is refused at once', async () => {
      const out = await nodeIn(demo, `
        const t0 = Date.now();
        require('node:net').connect(4444, '10.7.0.2').on('error', (e) => console.log(e.code, Date.now() - t0 < 1000));
      `);
      expect(out).toEqual(['ECONNREFUSED true']);
    });

    it('curl gets the HTTP page twice on one connection', async () => {
      const r = await nsRun(demo.netns, ['curl', '-sS', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\\n', 'http://10.7.0.2/', 'http://10.7.0.2/'], 15_000);
      expect(r.stdout).toBe('200 1\n200 0\n');
      const page = await nsRun(demo.netns, ['curl', '-sS', 'http://10.7.0.2/'], 15_000);
      expect(page.stdout).toMatch(/<h2>Connections \(\d+, and \d+ in TIME-WAIT\)<\/h2>/);
      expect(page.stdout).toMatch(/ESTABLISHED/);
      const json = await nsRun(demo.netns, ['curl', '-sS', 'http://10.7.0.2/stats.json'], 15_000);
      expect(JSON.parse(json.stdout).counters.tcp.passiveOpens).toBeGreaterThan(0);
    });

    it('the chat room relays between three clients', async () => {
      const out = await nodeIn(demo, `
        const net = require('node:net');
        const clients = [0, 1, 2].map(() => net.connect(5000, '10.7.0.2'));
        const got = clients.map(() => '');
        clients.forEach((c, i) => c.on('data', (d) => (got[i] += d)));
        setTimeout(() => clients[0].write('hello from zero\\n'), 300);
        setTimeout(() => clients[2].write('and from two\\n'), 500);
        setTimeout(() => {
          const says = (i, text) => got[i].includes(text);
          console.log(says(1, 'hello from zero') && says(2, 'hello from zero') && !says(0, '] hello from zero'));
          console.log(says(0, 'and from two') && says(1, 'and from two') && !says(2, '] and from two'));
          clients.forEach((c) => c.end());
          setTimeout(() => process.exit(0), 100);
        }, 900);
      `);
      expect(out).toEqual(['true', 'true']);
    });

    it('services survive a client that resets mid-stream', async () => {
      const out = await nodeIn(demo, `${PRELUDE}
        const s = net.connect(19, '10.7.0.2');
        s.once('data', () => {
          s.resetAndDestroy();
          setTimeout(async () => {
            const back = await talk(7, Buffer.from('still here'));
            console.log(back.toString());
          }, 200);
        });
      `);
      expect(out).toEqual(['still here']);
    });
  });
}

describe.skipIf(unavailable !== null)('TCP under 20% loss each way (nftables)', () => {
  it('echoes 256 KiB intact', async () => {
    // Offload off: nftables then drops MTU-sized packets, as a lossy wire would, rather
    // than the kernel's 64 KiB segments before they are cut.
    const demo = await startDemo(uniqueNetns('loss'), ['--offload', 'off']);
    try {
      const nft = `
        table inet tcpiploss {
          chain in { type filter hook input priority 0; iifname "tcpip0" tcp sport 7 numgen random mod 100 < 20 drop; }
          chain out { type filter hook output priority 0; oifname "tcpip0" tcp dport 7 numgen random mod 100 < 20 drop; }
        }`;
      const r = await nsRun(demo.netns, ['nft', '-f', '-'], 10_000, nft);
      expect(r.status, r.stderr).toBe(0);
      const out = await nodeIn(demo, `${PRELUDE}
        (async () => {
          const data = crypto.randomBytes(256 * 1024);
          const back = await talk(7, data);
          console.log(back.length, sha(back) === sha(data));
        })().catch((e) => { console.log('error', e.code); process.exit(1); });
      `, 120_000);
      expect(out).toEqual(['262144 true']);
      const stats = await nsRun(demo.netns, ['curl', '-sS', '--max-time', '20', '--retry', '5', 'http://10.7.0.2/stats.json'], 60_000);
      expect(JSON.parse(stats.stdout).counters.tcp.segsIn).toBeGreaterThan(100);
    } finally {
      expect((await demo.stop()).code).toBe(0);
    }
  }, 180_000);
});

describe.skipIf(unavailable !== null)('100 MiB through 1% loss each way (nftables)', () => {
  it('echoes 100 MiB intact', async () => {
    const demo = await startDemo(uniqueNetns('loss100'), []);
    try {
      const nft = `
        table inet tcpiploss {
          chain in { type filter hook input priority 0; iifname "tcpip0" numgen random mod 100 < 1 drop; }
          chain out { type filter hook output priority 0; oifname "tcpip0" numgen random mod 100 < 1 drop; }
        }`;
      expect((await nsRun(demo.netns, ['nft', '-f', '-'], 10_000, nft)).status).toBe(0);
      const out = await nodeIn(demo, `${PRELUDE}
        (async () => {
          // 100 MiB of a pattern, generated and hashed in chunks on both sides.
          const total = 100 * 1024 * 1024;
          const sentHash = crypto.createHash('sha256');
          const gotHash = crypto.createHash('sha256');
          let got = 0;
          await new Promise((resolve, reject) => {
            const s = net.connect(7, '10.7.0.2');
            s.on('data', (d) => { gotHash.update(d); got += d.length; });
            s.on('end', resolve);
            s.on('error', reject);
            let off = 0;
            const chunk = Buffer.alloc(1 << 20);
            const pump = () => {
              while (off < total) {
                for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(((off + i) * 2654435761) >>> 0, i);
                sentHash.update(chunk);
                off += chunk.length;
                if (!s.write(Buffer.from(chunk))) return s.once('drain', pump);
              }
              s.end();
            };
            s.on('connect', pump);
          });
          console.log(got, sentHash.digest('hex') === gotHash.digest('hex'));
        })().catch((e) => { console.log('error', e.code); process.exit(1); });
      `, 240_000);
      expect(out).toEqual(['104857600 true']);
    } finally {
      expect((await demo.stop()).code).toBe(0);
    }
  }, 300_000);
});

describe.skipIf(unavailable !== null)('tcpip nc over TCP', () => {
  it('sends 1 MiB to a kernel server and reads its reply', () => {
    const ns = uniqueNetns('nctcp');
    const script = `
      set -e
      head -c 1048576 /dev/urandom > "$TMP/in"
      node -e "
        const crypto = require('node:crypto');
        require('node:net').createServer((s) => {
          const h = crypto.createHash('sha256'); let n = 0;
          s.on('data', (d) => { h.update(d); n += d.length; });
          s.on('end', () => s.end('got ' + n + ' ' + h.digest('hex') + '\\\\n'));
        }).listen(9000);
        setTimeout(() => process.exit(0), 20000).unref();
      " &
      server=$!
      sleep 0.3
      node ${BIN} nc 10.8.0.1 9000 < "$TMP/in" > "$TMP/out"
      kill $server || true
      echo "want got 1048576 $(sha256sum < "$TMP/in" | cut -d' ' -f1)"
      echo "have $(cat "$TMP/out")"
    `;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const tmp = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
      const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', script], { encoding: 'utf8', timeout: 30_000, cwd: ROOT, env: { ...process.env, TMP: tmp } });
      spawnSync('rm', ['-rf', tmp]);
      expect(r.status, r.stderr).toBe(0);
      const [want, have] = r.stdout.trim().split('\n');
      expect(have!.replace('have ', '')).toBe(want!.replace('want ', ''));
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
