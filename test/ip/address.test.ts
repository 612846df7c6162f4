import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  formatIpv4, isLoopback, isMartianSource, isMulticast, netmask, parseCidr, parseIpv4, sameSubnet,
} from '../../src/ip/address.js';

describe('parseIpv4 / formatIpv4', () => {
  it('parses dotted quads to unsigned 32-bit numbers', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('10.7.0.2')).toBe(0x0a070002);
    expect(parseIpv4('192.168.0.199')).toBe(0xc0a800c7);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('128.0.0.1')).toBeGreaterThan(0); // never a negative int32
  });

  it('formats numbers as dotted quads', () => {
    expect(formatIpv4(0)).toBe('0.0.0.0');
    expect(formatIpv4(0xc0a800c7)).toBe('192.168.0.199');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
  });

  it.each([
    '', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-4', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', 'a.b.c.d',
    '1.2.3.4/24', '1.2.3.0x4', '1234.1.1.1', '1.2.3.4\n', '+1.2.3.4', '1.2.3.1e1',
  ])('rejects %j with a TypeError naming the input', (s) => {
    expect(() => parseIpv4(s)).toThrow(TypeError);
    expect(() => parseIpv4(s)).toThrow(JSON.stringify(s));
  });

  it('round trips every 32-bit number through format and parse', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (a) => {
        expect(parseIpv4(formatIpv4(a))).toBe(a);
      }),
      { numRuns: 500 },
    );
  });

  it('round trips canonical dotted quads through parse and format', () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), (q) => {
        const s = q.join('.');
        expect(formatIpv4(parseIpv4(s))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but TypeError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        try {
          const a = parseIpv4(s);
          expect(Number.isInteger(a) && a >= 0 && a <= 0xffffffff).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseCidr', () => {
  it('parses address and prefix length', () => {
    expect(parseCidr('10.7.0.2/24')).toEqual({ addr: 0x0a070002, prefixLen: 24 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ addr: 0, prefixLen: 0 });
    expect(parseCidr('1.2.3.4/32')).toEqual({ addr: 0x01020304, prefixLen: 32 });
  });

  it('a bare address is a /32', () => {
    expect(parseCidr('10.0.0.1')).toEqual({ addr: 0x0a000001, prefixLen: 32 });
  });

  it.each(['10.0.0.1/', '10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/2.5', '10.0.0.1/ 24', '10.0.0.1/x', '/24', '300.0.0.1/8', '10.0.0.1/1e1'])(
    'rejects %j with a TypeError',
    (s) => {
      expect(() => parseCidr(s)).toThrow(TypeError);
    },
  );

  it('rejects a second slash instead of ignoring what follows it', () => {
    // "10.0.0.1/24/8" is not a prefix; silently reading it as /24 hides a typo.
    expect(() => parseCidr('10.0.0.1/24/8')).toThrow(TypeError);
  });

  it('round trips address/prefix pairs', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat(32), (a, p) => {
        expect(parseCidr(`${formatIpv4(a)}/${p}`)).toEqual({ addr: a, prefixLen: p });
      }),
      { numRuns: 300 },
    );
  });
});

describe('netmask, sameSubnet and address classes', () => {
  it('netmask for /0, /8, /24, /31, /32', () => {
    expect(netmask(0)).toBe(0);
    expect(netmask(8)).toBe(0xff000000);
    expect(netmask(24)).toBe(0xffffff00);
    expect(netmask(31)).toBe(0xfffffffe);
    expect(netmask(32)).toBe(0xffffffff);
  });

  it('sameSubnet compares the network parts', () => {
    expect(sameSubnet(parseIpv4('10.0.0.1'), parseIpv4('10.0.0.254'), 24)).toBe(true);
    expect(sameSubnet(parseIpv4('10.0.0.1'), parseIpv4('10.0.1.1'), 24)).toBe(false);
    expect(sameSubnet(parseIpv4('200.0.0.1'), parseIpv4('200.0.0.2'), 31)).toBe(false);
    expect(sameSubnet(parseIpv4('200.0.0.1'), parseIpv4('1.2.3.4'), 0)).toBe(true);
  });

  it('netmask has exactly prefixLen leading ones', () => {
    fc.assert(
      fc.property(fc.nat(32), (p) => {
        const m = netmask(p);
        expect(m.toString(2).replace(/0+$/, '').length === p || (p === 0 && m === 0)).toBe(true);
        expect(m >= 0).toBe(true);
      }),
    );
  });

  it('classifies multicast, loopback and martian sources', () => {
    expect(isMulticast(parseIpv4('224.0.0.1'))).toBe(true);
    expect(isMulticast(parseIpv4('239.255.255.255'))).toBe(true);
    expect(isMulticast(parseIpv4('240.0.0.1'))).toBe(false);
    expect(isLoopback(parseIpv4('127.0.0.1'))).toBe(true);
    expect(isLoopback(parseIpv4('128.0.0.1'))).toBe(false);
    for (const m of ['0.0.0.0', '0.1.2.3', '127.0.0.1', '224.0.0.5', '240.0.0.1', '255.255.255.255']) {
      expect(isMartianSource(parseIpv4(m)), m).toBe(true);
    }
    for (const ok of ['1.0.0.0', '10.0.0.1', '126.255.255.255', '128.0.0.0', '223.255.255.255']) {
      expect(isMartianSource(parseIpv4(ok)), ok).toBe(false);
    }
  });
});
