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
import { runScriptFile, runScriptText } from './runner.js';

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

describe('packetdrill scripts', () => {
  for (const name of scripts) {
    it(name, async () => {
      await runScriptFile(join(dir, name));
    });
  }
});
