/**
 * IPv6 against the Linux kernel, on TUN and TAP, each in its own network namespace: the
 * kernel's `ping -6` (every interesting size, and a flood), `nc -6`, `curl -g`, Node's own
 * `net` and `dgram` over IPv6, an IPv4 and an IPv6 user in one chat room, `ip -6 neigh`
 * on TAP, the pcap read back by tcpdump, and a hostile IPv6 battery written straight onto
 * the device (a packet socket in the namespace) after which the stack still serves and
 * every packet is a counted drop.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpv6, writeIpv6, type Ipv6Addr } from '../../src/ip/ipv6-address.js';
import { BIN, integrationUnavailable, netnsExists, nsRun, pingCounts, startDemo, uniqueNetns, type Demo } from './harness.js';
import { concat, echo6, fragmentHeader, icmp6, ipv6, optionsHeader, udp6 } from '../helpers/packets6.js';
import { pattern } from '../helpers/packets.js';

const unavailable = integrationUnavailable() ?? (spawnSync('python3', ['-c', 'import socket']).status === 0 ? null : 'python3 is missing (the hostile battery writes raw packets with it)');
if (unavailable) console.warn(`integration tests skipped: ${unavailable}`);

const STACK = 'fd00:7::2';
const KERNEL = parseIpv6('fd00:7::1');
const US = parseIpv6(STACK);

/** Counters from `tcpip stat --json`, flattened to `layer.name`. */
function counters(demo: Demo, dev: string): Record<string, number> {
  const r = spawnSync(process.execPath, [BIN, 'stat', '--netns', demo.netns, '--dev', dev, '--json'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const rep = JSON.parse(r.stdout) as { counters: Record<string, Record<string, number>> };
  const out: Record<string, number> = {};
  for (const [layer, cs] of Object.entries(rep.counters)) for (const [k, v] of Object.entries(cs)) out[`${layer}.${k}`] = v;
  return out;
}

/** Writes raw packets onto the device from the kernel side (AF_PACKET: no kernel processing on the way). */
async function writeRaw(demo: Demo, dev: string, frames: Uint8Array[], ethernet: boolean): Promise<void> {
  const script = [
    'import socket, sys',
    `s = socket.socket(socket.AF_PACKET, socket.${ethernet ? 'SOCK_RAW' : 'SOCK_DGRAM'}, socket.htons(0x86dd))`,
    `s.bind(("${dev}", 0x86dd))`,
    'for line in sys.stdin:',
    '    line = line.strip()',
    '    if line:',
    ethernet ? '        s.send(bytes.fromhex(line))' : '        s.sendto(bytes.fromhex(line), ("' + dev + '", 0x86dd))',
  ].join('\n');
  const input = frames.map((f) => Buffer.from(f).toString('hex')).join('\n') + '\n';
  const r = await nsRun(demo.netns, ['python3', '-c', script], 20_000, input);
  expect(r.status, r.stderr).toBe(0);
}

for (const mode of ['tun', 'tap'] as const) {
  describe.skipIf(unavailable !== null)(`IPv6 over ${mode.toUpperCase()}`, () => {
    let demo: Demo;
    let dir: string;
    const dev = mode === 'tun' ? 'tcpip6u' : 'tcpip6a';
    const pcap = (): string => join(dir, 'v6.pcap');

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tcpip-v6-'));
      demo = await startDemo(uniqueNetns(`v6${mode}`), ['--mode', mode, '--dev', dev, '--pcap', pcap()]);
      // On TAP the stack's addresses are usable once duplicate address detection is done (1 s).
      for (let i = 0; i < 30; i++) {
        const r = await nsRun(demo.netns, ['ping', '-6', '-c', '1', '-W', '1', STACK]);
        if (r.status === 0) break;
      }
    }, 40_000);

    afterAll(async () => {
      if (demo) {
        const { code } = await demo.stop();
        expect(code).toBe(0);
        expect(netnsExists(demo.netns)).toBe(false);
      }
      rmSync(dir, { recursive: true, force: true });
    });

    // 1232 fills the IPv6 minimum MTU; 1452 fills 1500 exactly; 1500 and 65000 are fragmented both ways.
    for (const size of [0, 1232, 1452, 1500, 65000]) {
      it(`answers ping -6 -s ${size}`, async () => {
        const r = await nsRun(demo.netns, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '-s', String(size), STACK]);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(pingCounts(r.stdout)).toEqual({ sent: 3, received: 3 });
      });
    }

    it('answers a flood ping -6 of 3000 packets with no loss', async () => {
      const r = await nsRun(demo.netns, ['ping', '-6', '-f', '-c', '3000', '-W', '2', STACK], 30_000);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(pingCounts(r.stdout)).toEqual({ sent: 3000, received: 3000 });
    });

    it('echoes over nc -6 (TCP) and nc -6 -u (UDP)', async () => {
      const t = await nsRun(demo.netns, ['nc', '-6', '-N', '-w', '3', STACK, '7'], 10_000, 'over six\n');
      expect(t.stdout).toBe('over six\n');
      const u = await nsRun(demo.netns, ['nc', '-6', '-u', '-w', '1', STACK, '7'], 10_000, 'datagram six\n');
      expect(u.stdout).toBe('datagram six\n');
    });

    it("serves curl -g 'http://[fd00:7::2]/', which lists the connection in RFC 5952 form", async () => {
      const r = await nsRun(demo.netns, ['curl', '-sS', '-g', '--max-time', '5', `http://[${STACK}]/`]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('tcpip-ts');
      expect(r.stdout).toContain('[fd00:7::2]:80');
    });

    it("Node's own net and dgram reach the stack over IPv6", async () => {
      const program = `
        const net = require('node:net'), dgram = require('node:dgram');
        let family;
        const c = net.connect({ host: '${STACK}', port: 7 }, () => { family = c.remoteFamily; c.end('node six'); });
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('close', () => {
          const u = dgram.createSocket('udp6');
          u.on('message', (m, r) => { console.log(JSON.stringify({ tcp: got, udp: String(m), from: r.address, family })); u.close(); });
          u.send('dgram six', 7, '${STACK}');
        });`;
      const r = await nsRun(demo.netns, [process.execPath, '-e', program], 10_000);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ tcp: 'node six', udp: 'dgram six', from: STACK, family: 'IPv6' });
    });

    it('an IPv4 and an IPv6 user share one chat room', async () => {
      const program = `
        const net = require('node:net');
        const a = net.connect({ host: '10.7.0.2', port: 5000 });
        const b = net.connect({ host: '${STACK}', port: 5000 });
        let atA = '', atB = '';
        a.on('data', (d) => (atA += d));
        b.on('data', (d) => (atB += d));
        setTimeout(() => { a.write('hello from four\\n'); b.write('hello from six\\n'); }, 300);
        setTimeout(() => { console.log(JSON.stringify({ atA, atB })); a.destroy(); b.destroy(); }, 1200);`;
      const r = await nsRun(demo.netns, [process.execPath, '-e', program], 10_000);
      expect(r.status, r.stderr).toBe(0);
      const { atA, atB } = JSON.parse(r.stdout) as { atA: string; atB: string };
      expect(atA).toContain('hello from six');
      expect(atB).toContain('hello from four');
      expect(atA).toContain('[::ffff:10.7.0.1]:'); // the IPv4 user seen through the room's IPv6 socket
    });

    if (mode === 'tap') {
      it('ip -6 neigh shows the stack REACHABLE, and its link-local address answers', async () => {
        const n = await nsRun(demo.netns, ['ip', '-6', 'neigh', 'show', 'dev', dev]);
        expect(n.stdout).toMatch(/fd00:7::2 lladdr \S+ (REACHABLE|STALE|DELAY)/);
        const ll = /fe80::[0-9a-f:]+/.exec(demo.output())![0];
        const r = await nsRun(demo.netns, ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', `${ll}%${dev}`]);
        expect(pingCounts(r.stdout)).toEqual({ sent: 2, received: 2 });
        const after = await nsRun(demo.netns, ['ip', '-6', 'neigh', 'show', 'dev', dev]);
        expect(after.stdout).toMatch(new RegExp(`${ll} lladdr \\S+ REACHABLE`));
      });
    }

    it('a hostile IPv6 battery: every packet a counted drop (or a rate-limited error), and the stack still serves', async () => {
      const macs = mode === 'tap' ? { dst: parseMac(/stack .* mac (\S+)/.exec(demo.output())![1]!), src: parseMac(/kernel .* mac (\S+)/.exec(demo.output())![1]!) } : null;
      const wrap = (p: Uint8Array): Uint8Array => (macs ? concat(macs.dst, macs.src, Uint8Array.of(0x86, 0xdd), p) : p);
      const echo = (): Uint8Array => echo6(1, 1, pattern(16), KERNEL, US);
      const frag = (off: number, more: boolean, data: Uint8Array, ident: number): Uint8Array => ipv6({ nh: 44, src: KERNEL, dst: US }, concat(fragmentHeader(58, off, more, ident), data));
      const cut = optionsHeader(58, [1, 4, 0, 0, 0, 0]);
      cut[1] = 9;
      const packets: [string, Uint8Array][] = [
        ['hop-by-hop after another header', ipv6({ nh: 60, src: KERNEL, dst: US }, concat(optionsHeader(0, [1, 4, 0, 0, 0, 0]), optionsHeader(58, [1, 4, 0, 0, 0, 0]), echo()))],
        ['an option that says discard', ipv6({ nh: 60, src: KERNEL, dst: US }, concat(optionsHeader(58, [0x5e, 2, 0, 0]), echo()))],
        ['a header longer than the packet', ipv6({ nh: 60, src: KERNEL, dst: US }, cut)],
        ['routing type 0 with segments left', ipv6({ nh: 43, src: KERNEL, dst: US }, concat(Uint8Array.of(58, 2, 0, 1, 0, 0, 0, 0), new Uint8Array(16), echo()))],
        ['nine extension headers', ipv6({ nh: 60, src: KERNEL, dst: US }, concat(...Array.from({ length: 9 }, (_, i) => optionsHeader(i === 8 ? 58 : 60, [1, 4, 0, 0, 0, 0])), echo()))],
        ['an unknown next header', ipv6({ nh: 253, src: KERNEL, dst: US }, pattern(8))],
        ['a tiny first fragment without the upper header', ipv6({ nh: 44, src: KERNEL, dst: US }, concat(fragmentHeader(60, 0, true, 7), optionsHeader(58, [1, 4, 0, 0, 0, 0])))],
        ['overlapping fragments (1)', frag(0, true, echo6(2, 2, pattern(40), KERNEL, US).subarray(0, 32), 8)],
        ['overlapping fragments (2)', frag(24, false, pattern(40), 8)],
        ['a fragment not a multiple of 8', frag(0, true, pattern(13), 9)],
        ['NDP with hop limit 64', ipv6({ nh: 58, hop: 64, src: KERNEL, dst: US }, icmp6(135, 0, concat(new Uint8Array(4), addrBytes(US)), KERNEL, US))],
        ['a packet too big with MTU 68', ipv6({ nh: 58, src: KERNEL, dst: US }, icmp6(2, 0, concat(Uint8Array.of(0, 0, 0, 68), ipv6({ nh: 58, src: US, dst: KERNEL }, echo6(1, 1, pattern(8), US, KERNEL))), KERNEL, US))],
        ['a packet too big with MTU 4 GiB', ipv6({ nh: 58, src: KERNEL, dst: US }, icmp6(2, 0, concat(Uint8Array.of(255, 255, 255, 255), ipv6({ nh: 58, src: US, dst: KERNEL }, echo6(1, 1, pattern(8), US, KERNEL))), KERNEL, US))],
        ['a zero UDP checksum', ipv6({ nh: 17, src: KERNEL, dst: US }, udp6(4000, 7, pattern(8), KERNEL, US, true))],
        ['a bad ICMPv6 checksum', (() => { const e = echo(); e[3] ^= 0xff; return ipv6({ nh: 58, src: KERNEL, dst: US }, e); })()],
        ['from a multicast source', ipv6({ nh: 58, src: parseIpv6('ff02::1'), dst: US }, echo6(1, 1, pattern(8), parseIpv6('ff02::1'), US))],
      ];
      const before = counters(demo, dev);
      await writeRaw(demo, dev, packets.map(([, p]) => wrap(p)), mode === 'tap');
      // An ICMPv6 error flood: 500 unknown next headers, answered at most at the rate limit.
      await writeRaw(demo, dev, Array.from({ length: 500 }, () => wrap(ipv6({ nh: 253, src: KERNEL, dst: US }, pattern(8)))), mode === 'tap');
      await new Promise((r) => setTimeout(r, 300));
      const after = counters(demo, dev);
      const d = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
      expect(d('stack.internalErrors')).toBe(0);
      expect(d('ip6.hopByHopNotFirst')).toBe(1);
      expect(d('ip6.unknownOption')).toBe(1);
      expect(d('ip6.badExtHeader')).toBe(1);
      expect(d('ip6.routingHeader')).toBe(1);
      expect(d('ip6.tooManyExtHeaders')).toBe(1);
      expect(d('ip6.unknownNextHeader')).toBe(501);
      expect(d('ip6.incompleteChain')).toBe(1);
      expect(d('ip6.fragOverlap')).toBe(1);
      expect(d('ip6.fragBadLength')).toBe(1);
      expect(d('ip6.martianSource')).toBe(1);
      expect(d('udp.zeroChecksum6')).toBe(1);
      expect(d('icmp6.badChecksum')).toBe(1);
      expect(d('icmp6.packetTooBig')).toBe(2);
      if (mode === 'tap') expect(d('ndp.invalid') + d('icmp6.ndp')).toBeGreaterThanOrEqual(1);
      // Errors went out under the rate limit (a burst of 6 for this peer), not one per packet.
      expect(d('icmp6.errorsSent')).toBeLessThanOrEqual(10);
      expect(d('icmp6.rateLimitedHost') + d('icmp6.rateLimited')).toBeGreaterThan(490);
      // Still serving, with the path MTU never below 1280.
      const r = await nsRun(demo.netns, ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '-s', '1400', STACK]);
      expect(pingCounts(r.stdout)).toEqual({ sent: 2, received: 2 });
      const t = await nsRun(demo.netns, ['nc', '-6', '-N', '-w', '3', STACK, '7'], 10_000, 'still here\n');
      expect(t.stdout).toBe('still here\n');
    }, 60_000);

    it('the pcap reads back with tcpdump, IPv6 and all', async () => {
      await nsRun(demo.netns, ['ping', '-6', '-c', '1', '-W', '2', STACK]);
      const { code } = await demo.stop();
      expect(code).toBe(0);
      expect(existsSync(pcap())).toBe(true);
      const r = spawnSync('tcpdump', ['-n', '-r', pcap(), 'ip6'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/fd00:7::1 > fd00:7::2: ICMP6, echo request/);
      expect(r.stdout).toMatch(/fd00:7::2 > fd00:7::1: ICMP6, echo reply/);
    });
  });
}

describe.skipIf(unavailable !== null)('the stack as an IPv6 client: tcpip ping and tcpip nc', () => {
  for (const mode of ['tun', 'tap']) {
    it(`tcpip ping fd00:8::1 (-s 56 and 3000) over ${mode.toUpperCase()}`, () => {
      for (const size of [56, 3000]) {
        const ns = uniqueNetns(`tping6${mode}${size}`);
        const r = spawnSync(process.execPath, [BIN, 'ping', '--netns', ns, '--mode', mode, '-c', '3', '-i', '0.1', '-s', String(size), 'fd00:8::1'], { encoding: 'utf8', timeout: 20_000 });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(pingCounts(r.stdout)).toEqual({ sent: 3, received: 3 });
        expect(r.stdout).toMatch(/bytes from fd00:8::1/);
        expect(netnsExists(ns)).toBe(false);
      }
    });
  }

  it('tcpip nc fd00:8::1 talks to a kernel server over IPv6', () => {
    const ns = uniqueNetns('nc6');
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const script = `
        set -e
        ${process.execPath} -e "require('node:net').createServer((s) => { let n = ''; s.on('data', (d) => (n += d)); s.on('end', () => s.end('kernel got ' + n.trim() + ' from ' + s.remoteAddress + '\\n')); }).listen(9000, '::'); setTimeout(() => process.exit(0), 20000).unref();" &
        server=$!
        sleep 0.3
        echo over-six | ${process.execPath} ${BIN} nc fd00:8::1 9000
        kill $server || true
      `;
      const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', script], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('kernel got over-six from fd00:8::2');
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});

function parseMac(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));
}

function addrBytes(a: Ipv6Addr): Uint8Array {
  const b = new Uint8Array(16);
  writeIpv6(b, 0, a);
  return b;
}
