/**
 * TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): hex fixtures of what Linux sends,
 * round trips through writeOptions, and malformed lists that must be refused without
 * throwing or reading outside the option area.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_WSCALE, TcpOptions, optionsLength, writeOptions, type OptionsToSend } from '../../../src/tcp/options.js';
import { hex, toHex } from '../../helpers/packets.js';

/** Everything parse() produced, as plain data (only the valid SACK pairs). */
function snapshot(o: TcpOptions) {
  return {
    mss: o.mss, wscale: o.wscale, sackPermitted: o.sackPermitted, hasTimestamps: o.hasTimestamps,
    tsVal: o.tsVal, tsEcr: o.tsEcr, sack: o.sack.slice(0, 2 * o.sackCount), sackCount: o.sackCount,
  };
}

const NONE = { mss: -1, wscale: -1, sackPermitted: false, hasTimestamps: false, tsVal: 0, tsEcr: 0, sack: [], sackCount: 0 };

function parseHex(s: string): { ok: boolean; o: TcpOptions } {
  const b = hex(s);
  const o = new TcpOptions();
  const ok = o.parse(b, 0, b.length);
  return { ok, o };
}

// A Linux SYN (tcpdump: <mss 1460,sackOK,TS val 2586524749 ecr 0,nop,wscale 7>).
const LINUX_SYN = '020405b4 0402 080a 9a2b3c4d 00000000 01 030307';
// A Linux SYN-ACK without timestamps: <mss 1460,nop,nop,sackOK,nop,wscale 7>.
const LINUX_SYNACK_NO_TS = '020405b4 0101 0402 01 030307';
// A Linux data segment: <nop,nop,TS val 1 ecr 4294967295>.
const LINUX_DATA_TS = '0101 080a 00000001 ffffffff';
// A Linux duplicate ACK with timestamps and three SACK blocks (28 + 12 = 40 bytes, the maximum).
const LINUX_DUPACK_SACK =
  '0101 080a 00000010 00000020 0101 051a ' +
  'fffffff0 00000010 ' + // a block straddling 2^32
  '00000100 00000200 ' +
  '00001000 00002000';

describe('TcpOptions.parse: fixtures', () => {
  it('a real Linux SYN option block', () => {
    const { ok, o } = parseHex(LINUX_SYN);
    expect(hex(LINUX_SYN).length).toBe(20);
    expect(ok).toBe(true);
    expect(snapshot(o)).toEqual({ ...NONE, mss: 1460, sackPermitted: true, hasTimestamps: true, tsVal: 0x9a2b3c4d, tsEcr: 0, wscale: 7 });
    expect(o.toString()).toBe('mss 1460,wscale 7,sackOK,TS val 2586524749 ecr 0');
  });

  it('the same block in the middle of a bigger buffer, at an offset', () => {
    const opts = hex(LINUX_SYN);
    const b = new Uint8Array(7 + opts.length + 9).fill(0x02); // garbage on both sides
    b.set(opts, 7);
    const o = new TcpOptions();
    expect(o.parse(b, 7, opts.length)).toBe(true);
    expect(o.mss).toBe(1460);
    expect(o.wscale).toBe(7);
    expect(o.tsVal).toBe(0x9a2b3c4d);
  });

  it('a Linux SYN-ACK without timestamps', () => {
    const { ok, o } = parseHex(LINUX_SYNACK_NO_TS);
    expect(ok).toBe(true);
    expect(snapshot(o)).toEqual({ ...NONE, mss: 1460, sackPermitted: true, wscale: 7 });
  });

  it('a Linux data segment: timestamps only, full 32-bit values', () => {
    const { ok, o } = parseHex(LINUX_DATA_TS);
    expect(ok).toBe(true);
    expect(snapshot(o)).toEqual({ ...NONE, hasTimestamps: true, tsVal: 1, tsEcr: 0xffffffff });
    expect(o.toString()).toBe('TS val 1 ecr 4294967295');
  });

  it('timestamps plus three SACK blocks (40 bytes)', () => {
    const { ok, o } = parseHex(LINUX_DUPACK_SACK);
    expect(hex(LINUX_DUPACK_SACK).length).toBe(40);
    expect(ok).toBe(true);
    expect(o.sackCount).toBe(3);
    expect(o.sack.slice(0, 6)).toEqual([0xfffffff0, 0x10, 0x100, 0x200, 0x1000, 0x2000]);
    expect(o.tsVal).toBe(0x10);
    expect(o.tsEcr).toBe(0x20);
    expect(o.toString()).toBe('TS val 16 ecr 32,sack 4294967280:16 256:512 4096:8192');
  });

  it('four SACK blocks (34 bytes) are all kept', () => {
    const blocks = [1, 2, 3, 4, 5, 6, 7, 8];
    const body = blocks.map((v) => v.toString(16).padStart(8, '0')).join('');
    const { ok, o } = parseHex(`0101 0522 ${body}`);
    expect(ok).toBe(true);
    expect(o.sackCount).toBe(4);
    expect(o.sack.slice(0, 8)).toEqual(blocks);
  });

  it('more than four SACK blocks: at most four are kept, nothing throws', () => {
    const body = Array.from({ length: 10 }, (_, i) => (i + 1).toString(16).padStart(8, '0')).join('');
    const { ok, o } = parseHex(`052a ${body}`); // length 42 = 5 blocks
    expect(ok).toBe(true);
    expect(o.sackCount).toBe(4);
    expect(o.sack).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('an empty list and a list of NOPs parse to nothing', () => {
    expect(parseHex('')).toMatchObject({ ok: true });
    expect(snapshot(parseHex('').o)).toEqual(NONE);
    expect(snapshot(parseHex('01010101').o)).toEqual(NONE);
    expect(parseHex('01010101').ok).toBe(true);
  });

  it('unknown kinds are skipped by their length', () => {
    // kind 30 (MPTCP, len 4), kind 34 (TFO cookie request, len 2), kind 254 (experimental, len 6),
    // kind 19 (MD5, len 18) then an MSS
    const { ok, o } = parseHex('1e04 aabb  2202  fe06 f989 0102  1312 ' + '00'.repeat(16) + ' 020405b4');
    expect(ok).toBe(true);
    expect(o.mss).toBe(1460);
  });

  it('EOL ends the list: what follows is ignored, even garbage', () => {
    const { ok, o } = parseHex('01 00 020405b4');
    expect(ok).toBe(true);
    expect(o.mss).toBe(-1);
    expect(parseHex('020405b4 00 ff00 01').ok).toBe(true); // a malformed option after EOL
    expect(parseHex('020405b4 00 ff00 01').o.mss).toBe(1460);
  });

  it('window scale above 14 is treated as 14 (RFC 7323 §2.3)', () => {
    expect(MAX_WSCALE).toBe(14);
    for (const [shift, expected] of [[0, 0], [7, 7], [14, 14], [15, 14], [16, 14], [255, 14]] as const) {
      const { ok, o } = parseHex(`0303${shift.toString(16).padStart(2, '0')}`);
      expect(ok).toBe(true);
      expect(o.wscale).toBe(expected);
    }
  });

  it('a second parse starts from nothing (the struct is reused)', () => {
    const o = new TcpOptions();
    const a = hex(LINUX_DUPACK_SACK);
    expect(o.parse(a, 0, a.length)).toBe(true);
    const b = hex('020405b4');
    expect(o.parse(b, 0, b.length)).toBe(true);
    expect(snapshot(o)).toEqual({ ...NONE, mss: 1460 });
  });
});

describe('TcpOptions.parse: malformed lists return false, never throw', () => {
  const cases: [string, string][] = [
    ['MSS with length 0', '0200 0000'],
    ['MSS with length 1', '0201 0000'],
    ['unknown kind with length 0', '1e00 0000'],
    ['unknown kind with length 1', 'fe01'],
    ['a kind byte with no length byte at the end', '0101 02'],
    ['unknown kind with no length byte at the end', '01 1e'],
    ['MSS running past the end', '0204 05'],
    ['timestamps running past the end', '080a 00000001 000000'],
    ['unknown option running past the end', '1e08 000000'],
    ['MSS length 3', '0203 05'],
    ['MSS length 5', '0205 05b4 00 0000'],
    ['window scale length 2', '0302 0101'],
    ['window scale length 4', '0304 0700'],
    ['SACK-permitted length 3', '0403 00 01'],
    ['timestamps length 8', '0808 00000001 0000'],
    ['timestamps length 12', '080c 00000001 00000002 0000'],
    ['SACK length 2 + 7', '0509 00000001 000002'],
    ['SACK length 11', '050b 00000001 00000002 00'],
  ];
  for (const [name, bytes] of cases) {
    it(name, () => {
      let r: { ok: boolean } | undefined;
      expect(() => { r = parseHex(bytes); }).not.toThrow();
      expect(r!.ok).toBe(false);
    });
  }

  it('respects len, not the end of the buffer', () => {
    const b = hex('020405b4 01010101');
    const o = new TcpOptions();
    expect(o.parse(b, 0, 3)).toBe(false); // the MSS would run past len
    expect(o.parse(b, 0, 4)).toBe(true);
    expect(o.parse(b, 4, 4)).toBe(true);
    expect(o.mss).toBe(-1);
  });
});

const optsArb: fc.Arbitrary<OptionsToSend> = fc.record(
  {
    mss: fc.integer({ min: 0, max: 0xffff }),
    wscale: fc.integer({ min: 0, max: MAX_WSCALE }),
    sackPermitted: fc.boolean(),
    timestamps: fc.record({ tsVal: fc.integer({ min: 0, max: 0xffffffff }), tsEcr: fc.integer({ min: 0, max: 0xffffffff }) }),
  },
  { requiredKeys: [] },
);

describe('writeOptions', () => {
  it('writes our SYN layout: mss, nop+wscale, nop nop sackOK, nop nop TS', () => {
    const b = new Uint8Array(24);
    const n = writeOptions({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: { tsVal: 0x01020304, tsEcr: 0x9a2b3c4d } }, b, 0);
    expect(n).toBe(24);
    expect(toHex(b)).toBe('020405b4' + '01030307' + '01010402' + '0101080a' + '01020304' + '9a2b3c4d');
  });

  it('writes nothing for no options', () => {
    const b = new Uint8Array(4).fill(0xee);
    expect(writeOptions({}, b, 0)).toBe(0);
    expect(optionsLength({})).toBe(0);
    expect(toHex(b)).toBe('eeeeeeee');
    expect(optionsLength({ sackPermitted: false })).toBe(0);
  });

  it('round trip: parse(writeOptions(o)) gives o back, at any offset, padded to 4, inside its bytes', () => {
    fc.assert(fc.property(optsArb, fc.nat(16), fc.nat(255), (opts, at, guard) => {
      const b = new Uint8Array(at + 40 + 8).fill(guard);
      const n = writeOptions(opts, b, at);
      expect(n).toBe(optionsLength(opts));
      expect(n % 4).toBe(0);
      expect(n).toBeLessThanOrEqual(40);
      // nothing written outside [at, at + n)
      for (let i = 0; i < at; i++) expect(b[i]).toBe(guard);
      for (let i = at + n; i < b.length; i++) expect(b[i]).toBe(guard);
      const o = new TcpOptions();
      expect(o.parse(b, at, n)).toBe(true);
      expect(snapshot(o)).toEqual({
        ...NONE,
        mss: opts.mss ?? -1,
        wscale: opts.wscale ?? -1,
        sackPermitted: opts.sackPermitted === true,
        hasTimestamps: opts.timestamps !== undefined,
        tsVal: opts.timestamps?.tsVal ?? 0,
        tsEcr: opts.timestamps?.tsEcr ?? 0,
      });
    }));
  });
});

describe('TcpOptions.parse on arbitrary bytes', () => {
  /** Option-shaped pieces, so random lists get past the first byte often. */
  const pieceArb = fc.oneof(
    fc.constantFrom(hex('00'), hex('01'), hex('020405b4'), hex('030307'), hex('0402'), hex('080a0000000100000002')),
    fc.tuple(fc.nat(255), fc.nat(12), fc.uint8Array({ maxLength: 12 })).map(([k, l, body]) => Uint8Array.from([k, l, ...body])),
    fc.uint8Array({ maxLength: 6 }),
  );
  const listArb = fc.oneof(
    fc.uint8Array({ maxLength: 44 }),
    fc.array(pieceArb, { maxLength: 8 }).map((ps) => Uint8Array.from(ps.flatMap((p) => [...p]))),
  );

  it('never throws, and reads nothing outside [off, off+len)', () => {
    fc.assert(fc.property(listArb, fc.nat(8), fc.nat(8), (list, before, after) => {
      const results = [0x00, 0xff, 0x02].map((fill) => {
        const b = new Uint8Array(before + list.length + after).fill(fill);
        b.set(list, before);
        const o = new TcpOptions();
        const ok = o.parse(b, before, list.length);
        o.toString();
        return { ok, s: snapshot(o) };
      });
      // the bytes around the list must not change the outcome
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
      expect(results[0]!.s.sackCount).toBeLessThanOrEqual(4);
      expect(results[0]!.s.wscale).toBeLessThanOrEqual(MAX_WSCALE);
    }));
  });
});
