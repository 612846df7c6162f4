/**
 * Every script in test/packetdrill/scripts runs as its own test (STYLE.md §6 item 4).
 * A failure names the script, the line, and both segments in one-line form.
 *
 * The runner's own checks come first: scripts that are wrong on purpose must fail, with
 * the message a reader needs (a runner that passes everything would prove nothing).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LINUX_SCRIPTS, Runner, runScriptFile, runScriptText } from './runner.js';
import { parseScript } from './script.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
const scripts = readdirSync(dir).filter((f) => f.endsWith('.pkt')).sort();

const OPEN = `
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
`;
const ESTABLISHED = `${OPEN}+0    > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3>
+.1   < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
`;

describe('packetdrill runner', () => {
  it('passes a correct script', async () => {
    await runScriptText('ok.pkt', `${ESTABLISHED}+0 < P. 1:11(10) ack 1 win 257\n+.04 > . 1:1(0) ack 11\n+0 read(4, ..., 100) = 10\n`);
  });

  it('fails on an unexpected outbound packet, showing it', async () => {
    await expect(runScriptText('x.pkt', `${OPEN}+.1 < . 1:1(0) ack 1 win 257\n`)).rejects.toThrow(
      /^x\.pkt:6: unexpected outbound packet[\s\S]*actual: +> S\. 0:0\(0\) ack 1 win 65535 <mss 1460,nop,wscale 3>/,
    );
  });

  it('fails on a field mismatch, showing both segments', async () => {
    await expect(runScriptText('x.pkt', `${OPEN}+0 > S. 0:0(0) ack 2 <mss 1460,nop,wscale 3>\n`)).rejects.toThrow(
      /^x\.pkt:6: outbound packet does not match: ack 1, expected 2\n {2}expected: > S\. 0:0\(0\) ack 2 <mss 1460,nop,wscale 3>\n {2}actual: +> S\. 0:0\(0\) ack 1 /,
    );
    await expect(runScriptText('x.pkt', `${OPEN}+0 > S. 0:0(0) ack 1 <mss 1460>\n`)).rejects.toThrow(/options <mss 1460,nop,wscale 3>, expected <mss 1460>/);
    await expect(runScriptText('x.pkt', `${OPEN}+0 > S. 0:0(0) ack 1 win 1000 <...>\n`)).rejects.toThrow(/win 65535, expected 1000/);
  });

  it('fails on timing, early or late', async () => {
    const data = `${ESTABLISHED}+0 < P. 1:11(10) ack 1 win 257\n`;
    await expect(runScriptText('x.pkt', `${data}+.05 > . 1:1(0) ack 11\n`)).rejects.toThrow(/sent at 0\.14 s, expected at 0\.15 s/);
    await expect(runScriptText('x.pkt', `${data}+.03 > . 1:1(0) ack 11\n`)).rejects.toThrow(/expected outbound packet at 0\.13 s, none sent; the next one went out at 0\.14 s/);
  });

  it('checks return values, errno and blocking', async () => {
    await expect(runScriptText('x.pkt', `${ESTABLISHED.replace('= 4', '= 5')}`)).rejects.toThrow(/^x\.pkt:8: accept\(\) returned 4, expected 5/);
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 read(4, ..., 10) = 0\n`)).rejects.toThrow(/read\(\) blocked/);
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0...0.1 read(4, ..., 10) = 10\n`)).rejects.toThrow(/^x\.pkt:9: call still blocked at the end/);
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0...0.1 read(4, ..., 10) = 10\n+.5 tcp_state(4) = ESTABLISHED\n`)).rejects.toThrow(
      /^x\.pkt:9: call still blocked at 0\.2 s; expected it to return at 0\.2 s/,
    );
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0...0.1 read(4, ..., 10) = 10\n+.05 < P. 1:11(10) ack 1 win 257\n`)).rejects.toThrow(
      /^x\.pkt:9: read\(\) returned 10 at 0\.15 s, expected to return at 0\.2 s/,
    );
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 close(4) = -1 EBADF\n`)).rejects.toThrow(/close\(\) returned 0, expected -1 EBADF/);
  });

  it('fails on a stray line, naming the script and line', async () => {
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 < Q 1:1(0) win 1\n`)).rejects.toThrow(/^x\.pkt:9: unknown flag "Q"/);
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 frobnicate(4) = 0\n`)).rejects.toThrow(/^x\.pkt:9: unsupported call frobnicate\(\)/);
  });
});

describe('packetdrill notation (Linux scripts run unchanged)', () => {
  const DATA = `${ESTABLISHED}+0 write(4, ..., 2920) = 2920\n`;

  it('compares options by value unless --strict_segments', async () => {
    // Our SYN-ACK is <mss 1460,nop,wscale 3>: the same set in another order, without padding, matches.
    await runScriptText('x.pkt', `${OPEN}+0 > S. 0:0(0) ack 1 <wscale 3,mss 1460>\n`);
    await expect(runScriptText('x.pkt', `--strict_segments\n${OPEN}+0 > S. 0:0(0) ack 1 <wscale 3,mss 1460>\n`)).rejects.toThrow(
      /options <mss 1460,nop,wscale 3>, expected <wscale 3,mss 1460>/,
    );
    await expect(runScriptText('x.pkt', `${OPEN}+0 > S. 0:0(0) ack 1 <mss 1460,wscale 4>\n`)).rejects.toThrow(/\(compared by value\)/);
  });

  it('lets one > line cover segments sent together (TSO), unless --strict_segments', async () => {
    await runScriptText('x.pkt', `${DATA}+0 > P. 1:2921(2920) ack 1\n`);
    await runScriptText('x.pkt', `${DATA}+0 > . 1:1461(1460) ack 1\n+0 > P. 1461:2921(1460) ack 1\n`);
    await expect(runScriptText('x.pkt', `--strict_segments\n${DATA}+0 > P. 1:2921(2920) ack 1\n`)).rejects.toThrow(/flags ., expected P.; length 1460, expected 2920/);
    // Not a way around a wrong payload length or flags.
    await expect(runScriptText('x.pkt', `${DATA}+0 > P. 1:2001(2000) ack 1\n`)).rejects.toThrow(/length 2920, expected 2000/);
  });

  it('takes time ranges: A~B for a packet, and +A...B ending relative to the previous line', async () => {
    const data = `${ESTABLISHED}+0 < P. 1:11(10) ack 1 win 257\n`;
    await runScriptText('x.pkt', `${data}+.03~+.05 > . 1:1(0) ack 11\n`);
    await expect(runScriptText('x.pkt', `${data}+.01~+.03 > . 1:1(0) ack 11\n`)).rejects.toThrow(/expected outbound packet at 0\.11 s~0\.13 s, none sent; the next one went out at 0\.14 s/);
    // packetdrill: "+.1...0.2" starts 0.1 s after the previous line and returns 0.2 s after it.
    await runScriptText('x.pkt', `${ESTABLISHED}+.1...0.2 read(4, ..., 10) = 10\n+.1 < P. 1:11(10) ack 1 win 257\n`);
    await runScriptText('x.pkt', `${ESTABLISHED}+.1 ... 0.2 read(4, ..., 10) = 10\n+.1 < P. 1:11(10) ack 1 win 257\n`);
  });

  it('takes --tolerance_usecs and rejects command-line options it cannot honour', async () => {
    const data = `${ESTABLISHED}+0 < P. 1:11(10) ack 1 win 257\n`;
    await runScriptText('x.pkt', `--tolerance_usecs=10000\n${data}+.05 > . 1:1(0) ack 11\n`);
    await expect(runScriptText('x.pkt', `--ip_version=ipv7\n${OPEN}`)).rejects.toThrow(/^x\.pkt:1: --ip_version=ipv7 is not one of ipv4, ipv6, ipv4-mapped-ipv6/);
    await expect(runScriptText('x.pkt', `--frobnicate=1\n${OPEN}`)).rejects.toThrow(/packetdrill option --frobnicate is not supported/);
  });

  it('evaluates %{ }% TCP_INFO assertions, across lines, with names kept between blocks', async () => {
    await runScriptText('x.pkt', `${ESTABLISHED}+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n+0 %{\nLIMIT = 0x7fffffff\nassert tcpi_ca_state == TCP_CA_Open and tcpi_state == TCP_ESTABLISHED\nassert 200000 < tcpi_rto <= 300000; print(tcpi_rto)\n}%\n+0 %{ assert tcpi_snd_ssthresh == LIMIT == TCP_INFINITE_SSTHRESH }%\n`);
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 %{ assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd }%\n`)).rejects.toThrow(
      /^x\.pkt:9: assert tcpi_snd_cwnd == 11 failed \(tcpi_snd_cwnd = 10\)/,
    );
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 %{ assert tcpi_busy_time == 0 }%\n`)).rejects.toThrow(/tcpi_busy_time is not modelled/);
    await expect(runScriptText('x.pkt', `${ESTABLISHED}+0 %{ import os }%\n`)).rejects.toThrow(/only "assert EXPR\[, MESSAGE\]"/);
    await expect(runScriptText('x.pkt', `${OPEN.split('\n').slice(0, 4).join('\n')}\n+0 %{ assert tcpi_snd_cwnd == 10 }%\n`)).rejects.toThrow(/needs a connection/);
  });

  it('maps sysctl settings onto the stack config and reports the ones it cannot', async () => {
    const r = new Runner(parseScript('x.pkt', '`sysctl -q net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1`\n`sysctl -q net.ipv4.tcp_ecn=1 net.ipv4.tcp_frto=2`\n' + ESTABLISHED));
    expect(r.stack.tcp.config.timestamps).toBe(true);
    expect(r.stack.tcp.config.sack).toBe(true);
    expect(r.stack.tcp.config.ecn).toBe('on');
    expect(r.reports).toEqual(['net.ipv4.tcp_frto=2: ignored, no F-RTO (RFC 5682): a timeout always resends from SND.UNA']);
    // Later, as a sysctl on Linux: it changes the stack's settings from then on.
    const later = new Runner(parseScript('x.pkt', `${ESTABLISHED}+0 \`sysctl -q net.ipv4.tcp_sack=1 net.ipv4.tcp_fack=1\`\n`));
    expect(later.stack.tcp.config.sack).toBe(false);
    await later.run();
    expect(later.stack.tcp.config.sack).toBe(true);
    expect(later.reports).toEqual(['net.ipv4.tcp_fack=1: not adjustable here (no FACK (RACK replaces it))']);
  });

  it('maps inbound TSecr onto our clock and, with --tcp_ts_tick_usecs, checks our TSval', async () => {
    const open = `--tcp_ts_tick_usecs=1000\n// @tcp timestamps=true\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460,TS val 7 ecr 0>\n+0 > S. 0:0(0) ack 1 <mss 1460,TS val 500 ecr 7>\n`;
    // The peer echoes the script's 500; the runner sends our real TSval, so RTT = 100 ms.
    await runScriptText('x.pkt', `${open}+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 8 ecr 500>\n+0 accept(3, ..., ...) = 4\n+0 %{ assert tcpi_rtt == 100000 }%\n+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 <nop,nop,TS val 600 ecr 8>\n`);
    await expect(runScriptText('x.pkt', `${open}+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 8 ecr 500>\n+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 <nop,nop,TS val 601 ecr 8>\n`)).rejects.toThrow(
      /options <nop,nop,TS val \d+ ecr 8>, expected <nop,nop,TS val 601 ecr 8>/,
    );
  });

  it('follows packetdrill on packets no line expects when running Linux scripts', async () => {
    const script = `${ESTABLISHED}+0 < P. 1:11(10) ack 1 win 257\n+.1 tcp_state(4) = ESTABLISHED\n`;
    await expect(runScriptText('x.pkt', script)).rejects.toThrow(/unexpected outbound packet/);
    await new Runner(parseScript('x.pkt', script), null, LINUX_SCRIPTS).run();
  });
});

describe('packetdrill scripts', () => {
  for (const name of scripts) {
    it(name, async () => {
      await runScriptFile(join(dir, name));
    });
  }
});

// As packetdrill's run_all.py: every script again over IPv6 (MTU 1520, so the MSS is
// 1460 as over IPv4) and over IPv4 through AF_INET6 sockets (IPv4-mapped addresses).
describe.each(['ipv6', 'ipv4-mapped-ipv6'] as const)('packetdrill scripts, --ip_version=%s', (version) => {
  it('really runs over that version', async () => {
    const r = new Runner(parseScript('x.pkt', `--ip_version=${version}\n${ESTABLISHED}`));
    await r.run();
    const sent6 = r.stack.ip6?.counters.sent ?? 0;
    expect(version === 'ipv6' ? sent6 : r.stack.ip.counters.sent).toBeGreaterThan(0);
    expect(version === 'ipv6' ? r.stack.ip.counters.sent : sent6).toBe(0);
    expect(r.api.list().every((s) => s.family === 10)).toBe(true); // AF_INET6 sockets
  });
  for (const name of scripts) {
    it(name, async () => {
      await runScriptFile(join(dir, name), version);
    });
  }
});
