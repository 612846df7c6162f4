import { describe, it, expect } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapLink, PcapWriter } from '../../src/link/pcap.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { hex, toHex } from '../helpers/packets.js';

// The classic libpcap global header, little-endian: magic a1b2c3d4, version 2.4, thiszone 0,
// sigfigs 0, snaplen 262144, then the link type.
const GLOBAL_RAW = 'd4c3b2a1 0200 0400 00000000 00000000 00000400 65000000';
const GLOBAL_ETH = 'd4c3b2a1 0200 0400 00000000 00000000 00000400 01000000';
// The Wikipedia IPv4 header as a 20-byte "frame".
const FRAME = '45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7';

/** A sink that keeps a copy of every chunk it is handed. */
function collector(): { sink: (c: Uint8Array) => void; all: () => Uint8Array; bytes: () => string; chunks: number } {
  const parts: Uint8Array[] = [];
  const out = {
    chunks: 0,
    sink: (c: Uint8Array) => {
      parts.push(c.slice());
      out.chunks++;
    },
    all: () => new Uint8Array(Buffer.concat(parts)),
    bytes: () => toHex(out.all()),
  };
  return out;
}

const h = (s: string): string => toHex(hex(s));

describe('PcapWriter', () => {
  it('writes the global header for LINKTYPE_RAW (101) and a record for a known frame', () => {
    const c = collector();
    const w = new PcapWriter(c.sink, LINKTYPE_RAW);
    w.write(1500.25, hex(FRAME), 0, 20); // 1 s + 500250 µs
    expect(c.chunks).toBe(0); // buffered until flush
    w.flush();
    expect(c.bytes()).toBe(h(GLOBAL_RAW + ' 01000000 1aa20700 14000000 14000000' + FRAME));
    expect(w.frames).toBe(1);
  });

  it('writes LINKTYPE_ETHERNET (1) for an ethernet medium, and LINKTYPE_RAW for ip', () => {
    const c = collector();
    PcapWriter.forMedium(c.sink, 'ethernet').flush();
    expect(c.bytes()).toBe(h(GLOBAL_ETH));
    expect(LINKTYPE_ETHERNET).toBe(1);
    const d = collector();
    PcapWriter.forMedium(d.sink, 'ip').flush();
    expect(d.bytes()).toBe(h(GLOBAL_RAW));
  });

  it('records the frame at an offset, and a timestamp past 2^31 seconds', () => {
    const c = collector();
    const w = new PcapWriter(c.sink, LINKTYPE_RAW);
    const b = new Uint8Array(26).fill(0xee);
    b.set(hex(FRAME), 3);
    w.write(3_000_000_000_000.5, b, 3, 20); // year 2065: sec 0xb2d05e00, usec 500
    w.flush();
    expect(c.bytes()).toBe(h(GLOBAL_RAW + ' 005ed0b2 f4010000 14000000 14000000' + FRAME));
  });

  it('caps a record at the snap length but keeps the original length', () => {
    const c = collector();
    const w = new PcapWriter(c.sink, LINKTYPE_RAW);
    const big = new Uint8Array(300_000).fill(7);
    w.write(0, big, 0, big.length);
    w.flush();
    const all = c.all();
    expect(all.length).toBe(24 + 16 + 262_144);
    expect(toHex(all.subarray(24, 40))).toBe(h('00000000 00000000 00000400 e0930400'));
  });

  it('many records across internal buffer flushes come out whole and in order', () => {
    const c = collector();
    const w = new PcapWriter(c.sink, LINKTYPE_RAW);
    const frame = new Uint8Array(1500);
    for (let i = 0; i < 1000; i++) {
      frame.fill(i & 255);
      w.write(i, frame, 0, 1500);
    }
    w.flush();
    expect(c.chunks).toBeGreaterThan(1);
    const all = c.all();
    expect(all.length).toBe(24 + 1000 * (16 + 1500));
    for (const i of [0, 1, 698, 699, 700, 999]) {
      const at = 24 + i * 1516;
      expect(all[at + 4] | (all[at + 5]! << 8) | (all[at + 6]! << 16)).toBe((i % 1000) * 1000); // usec
      expect(all[at + 16]).toBe(i & 255);
      expect(all[at + 1515]).toBe(i & 255);
    }
  });

  it('flush with nothing new writes nothing', () => {
    const c = collector();
    const w = new PcapWriter(c.sink, LINKTYPE_RAW);
    w.flush();
    w.flush();
    expect(c.chunks).toBe(1);
  });
});

describe('PcapLink', () => {
  it('records frames sent and received, stamped by its clock', () => {
    const c = collector();
    const [a, b] = MemoryLink.pair('ip', 1500);
    const clock = new ManualClock(2000);
    const link = new PcapLink(a, new PcapWriter(c.sink, LINKTYPE_RAW), clock);
    const got: string[] = [];
    link.setReceiver({ frame: (buf, o, n) => got.push(toHex(buf.subarray(o, n + o))), batchEnd: () => {} });
    link.send(hex('45 00'), 0, 2);
    clock.advance(500);
    b.send(hex('45 01 02'), 0, 3);
    a.deliver();
    link.flush();
    expect(got).toEqual(['450102']);
    expect(toHex(b.inbox[0]!)).toBe('4500');
    expect(c.bytes()).toBe(h(GLOBAL_RAW + ' 02000000 00000000 02000000 02000000 4500' + ' 02000000 20a10700 03000000 03000000 450102'));
  });
});

describe('PcapLink.recordLoopback', () => {
  it('an IP capture takes the datagram as it is; an Ethernet one behind all-zero addresses (as Linux lo)', () => {
    const dgram = hex('45 00 00 14 00 00 40 00 40 06 00 00 7f 00 00 01 7f 00 00 01');
    for (const [type, expectHead] of [[LINKTYPE_RAW, '45 00'], [LINKTYPE_ETHERNET, '00 00 00 00 00 00 00 00 00 00 00 00 08 00 45 00']] as const) {
      const chunks: Uint8Array[] = [];
      const w = new PcapWriter((c) => chunks.push(c.slice()), type);
      const [link] = MemoryLink.pair(type === LINKTYPE_RAW ? 'ip' : 'ethernet', 1500);
      const p = new PcapLink(link, w, new ManualClock(0));
      p.recordLoopback(dgram, 0, dgram.length);
      w.flush();
      const file = Buffer.concat(chunks);
      const rec = file.subarray(24 + 16);
      expect(toHex(rec.subarray(0, expectHead.split(' ').length))).toBe(expectHead.replace(/ /g, ''));
      expect(rec.length).toBe(dgram.length + (type === LINKTYPE_ETHERNET ? 14 : 0));
    }
  });
});
