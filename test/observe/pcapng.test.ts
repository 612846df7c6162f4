/**
 * pcapng that explains itself (#18): the writer's blocks are well formed (read back here
 * block by block), and a simulated transfer with loss, a zero window and a forged RST gives
 * frames whose comments say why they were sent or dropped. tcpdump and tshark read the
 * file when installed (CI installs tcpdump; tshark prints the comments).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINKTYPE_RAW } from '../../src/link/pcap.js';
import { PcapngWriter } from '../../src/link/pcapng.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { connectedPair } from '../helpers/sim-connection.js';

interface Block { type: number; body: DataView }

function blocks(file: Uint8Array): Block[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: Block[] = [];
  let at = 0;
  while (at < file.length) {
    const type = v.getUint32(at, true);
    const len = v.getUint32(at + 4, true);
    expect(len % 4).toBe(0);
    expect(v.getUint32(at + len - 4, true)).toBe(len); // the length again at the end
    out.push({ type, body: new DataView(file.buffer, file.byteOffset + at + 8, len - 12) });
    at += len;
  }
  expect(at).toBe(file.length);
  return out;
}

/** The frames of a capture: timestamp (us), length, and comments. */
function packets(file: Uint8Array): { us: number; len: number; comments: string[] }[] {
  const dec = new TextDecoder();
  return blocks(file).filter((b) => b.type === 6).map(({ body }) => {
    const us = body.getUint32(4, true) * 2 ** 32 + body.getUint32(8, true);
    const cap = body.getUint32(12, true);
    const comments: string[] = [];
    let o = 20 + ((cap + 3) & ~3);
    while (o < body.byteLength) {
      const code = body.getUint16(o, true);
      const n = body.getUint16(o + 2, true);
      if (code === 0) break;
      if (code === 1) comments.push(dec.decode(new Uint8Array(body.buffer, body.byteOffset + o + 4, n)));
      o += 4 + ((n + 3) & ~3);
    }
    return { us, len: body.getUint32(16, true), comments };
  });
}

describe('pcapng with comments', () => {
  it('writes a section header, an interface and one enhanced packet block per frame', () => {
    const chunks: Uint8Array[] = [];
    const w = new PcapngWriter((c) => chunks.push(c.slice()), LINKTYPE_RAW, 'tcpip0');
    w.noteNextOut('first');
    w.write(1500.25, Uint8Array.of(0x45, 1, 2), 0, 3);
    w.rxBegin(1501, Uint8Array.of(0x45, 9, 9, 9, 9), 0, 5);
    w.noteReceived('dropped: for a reason');
    w.write(1501, Uint8Array.of(0x45, 7), 0, 2); // a reply while receiving: written after it
    w.noteReply('the reply');
    w.rxEnd();
    w.noteNextOut('never sent'); // no frame takes it before the flush: dropped
    w.flush();
    const file = Buffer.concat(chunks);
    const b = blocks(file);
    expect(b.map((x) => x.type)).toEqual([0x0a0d0d0a, 1, 6, 6, 6]);
    expect(b[0]!.body.getUint32(0, true)).toBe(0x1a2b3c4d);
    expect(b[1]!.body.getUint16(0, true)).toBe(LINKTYPE_RAW);
    expect(packets(file)).toEqual([
      { us: 1_500_250, len: 3, comments: ['first'] },
      { us: 1_501_000, len: 5, comments: ['dropped: for a reason'] },
      { us: 1_501_000, len: 2, comments: ['the reply'] },
    ]);
  });

  it('says why the stack sent each frame, and why it dropped what it dropped', async () => {
    const { net, a, b } = SimNetwork.pair({ pcap: 'pcapng' });
    const { cli, conn } = await connectedPair(net, a, b, 9);
    await net.until(cli.send(new Uint8Array(100)));
    await net.until(conn.recv(100));
    // The peer goes silent: RTO retransmissions, numbered.
    b.link.peer = null;
    const lost = a.link.peer;
    a.link.peer = null;
    await net.until(cli.send(new Uint8Array(50)));
    await net.runFor(1500);
    a.link.peer = lost;
    b.link.peer = a.link;
    await net.runFor(3000);
    // A forged RST that is in the window but not exact: a challenge ACK (RFC 5961).
    const c = a.stack.tcp.connections.values().next().value!;
    const forged = new Uint8Array(40);
    forged.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 7, 0, 2, 10, 7, 0, 1]);
    const v = new DataView(forged.buffer);
    v.setUint16(20, c.remotePort);
    v.setUint16(22, c.localPort);
    v.setUint32(24, (c.rcv.nxt + 10) >>> 0);
    forged[32] = 0x50;
    forged[33] = 0x04; // RST
    v.setUint16(34, 1000);
    const sum = (bytes: Uint8Array, off: number, len: number, init: number): number => {
      let s = init;
      for (let i = 0; i < len; i += 2) s += (bytes[off + i]! << 8) | (bytes[off + i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    v.setUint16(10, ~sum(forged, 0, 20, 0) & 0xffff);
    v.setUint16(36, ~sum(forged, 20, 20, 0x0a07 + 0x0002 + 0x0a07 + 0x0001 + 6 + 20) & 0xffff);
    a.link.inbox.push(forged);
    await net.runFor(10);
    const file = net.pcap();
    const notes = packets(file).flatMap((p) => p.comments);
    expect(notes[0]).toBe('state CLOSED → SYN-SENT (active open)');
    expect(notes.some((n) => n.startsWith('state SYN-SENT → ESTABLISHED'))).toBe(true);
    expect(notes).toContain('tail loss probe (RFC 8985 §7)');
    // Each RTO retransmission numbered, with no second note for the same frame.
    expect(notes.filter((n) => /retransm/i.test(n))).toEqual(['RTO retransmission #1 (RFC 6298 §5)', 'RTO retransmission #2 (RFC 6298 §5)', 'RTO retransmission #3 (RFC 6298 §5)']);
    expect(notes).toContain('RST not at RCV.NXT: ignored, challenge ACK instead (RFC 5961 §3.2)');
    expect(notes).toContain('challenge ACK (RFC 5961)');
    // tcpdump reads it (the Debian package CI installs).
    const dir = mkdtempSync(join(tmpdir(), 'pcapng-'));
    writeFileSync(join(dir, 'x.pcapng'), file);
    const td = spawnSync('tcpdump', ['-nr', join(dir, 'x.pcapng')], { encoding: 'utf8' });
    if (td.error === undefined) {
      expect(td.status, td.stderr).toBe(0);
      expect(td.stdout).toMatch(/10\.7\.0\.1\.\d+ > 10\.7\.0\.2\.9: Flags \[S\]/);
    }
    const ts = spawnSync('tshark', ['-r', join(dir, 'x.pcapng'), '-Y', 'frame.comment', '-T', 'fields', '-e', 'frame.comment'], { encoding: 'utf8' });
    if (ts.error === undefined) {
      expect(ts.status, ts.stderr).toBe(0);
      expect(ts.stdout).toMatch(/RTO retransmission #2/);
      expect(ts.stdout).toMatch(/challenge ACK \(RFC 5961\)/);
    }
  });
});
