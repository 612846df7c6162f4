import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Ipv6Addr, formatIpv6, ipv6Equal, isLinkLocal6, isMulticast6, isV4Mapped, linkLocalFromMac, parseCidr6, parseIpv6, readIpv6,
  samePrefix6, solicitedNode, tryParseIpv6, writeIpv6,
} from '../../src/ip/ipv6-address.js';
import { formatEndpoint, ipEqual, parseIp, tryParseIp } from '../../src/ip/ip-address.js';

describe('IPv6 text form (RFC 4291 §2.2 in, RFC 5952 out)', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // §4.2.1: the longest run of zeros
    ['2001:DB8::1', '2001:db8::1'], // §4.3: lower case
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // §4.2.3: the first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group is not "::"
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::0200:00ff:fe00:000a', 'fe80::200:ff:fe00:a'], // §4.1: no leading zeros
    ['::ffff:10.7.0.1', '::ffff:10.7.0.1'], // §5: IPv4-mapped keeps the dotted form
    ['::ffff:0a07:0001', '::ffff:10.7.0.1'],
    ['fd00:7::2', 'fd00:7::2'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
  ])('%s prints as %s', (input, out) => {
    expect(formatIpv6(parseIpv6(input))).toBe(out);
  });

  it.each(['', ':', ':::', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::1.2.3', '::256.1.1.1', '1.2.3.4', 'fe80::1%eth0'])('refuses %j', (s) => {
    expect(tryParseIpv6(s)).toBeNull();
    expect(() => parseIpv6(s)).toThrow(/not an IPv6 address/);
  });

  it('every address prints in a form that parses back to it, and printing is canonical', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }), (w, zero) => {
      // Zero groups are common in real addresses: force some.
      const ws = w.map((x, i) => (zero[i] === 0 ? 0 : zero[i] === 1 ? x & 0xffff : x >>> 0));
      const a = new Ipv6Addr(ws[0]!, ws[1]!, ws[2]!, ws[3]!);
      const text = formatIpv6(a);
      const back = parseIpv6(text);
      expect(ipv6Equal(back, a)).toBe(true);
      expect(formatIpv6(back)).toBe(text);
      expect(text).toBe(text.toLowerCase());
      expect(text.includes(':::')).toBe(false);
    }));
  });
});

describe('IPv6 address facts', () => {
  it('classifies multicast, link-local and IPv4-mapped addresses', () => {
    expect(isMulticast6(parseIpv6('ff02::1'))).toBe(true);
    expect(isMulticast6(parseIpv6('fd00::1'))).toBe(false);
    expect(isLinkLocal6(parseIpv6('fe80::1'))).toBe(true);
    expect(isLinkLocal6(parseIpv6('febf::1'))).toBe(true);
    expect(isLinkLocal6(parseIpv6('fec0::1'))).toBe(false);
    expect(isV4Mapped(parseIpv6('::ffff:1.2.3.4'))).toBe(true);
  });

  it('the solicited-node group keeps the low 24 bits (RFC 4291 §2.7.1)', () => {
    expect(formatIpv6(solicitedNode(parseIpv6('fd00:7::1234:5678')))).toBe('ff02::1:ff34:5678');
  });

  it('the link-local address from a MAC uses the modified EUI-64 (RFC 4291 App. A), as the kernel made it', () => {
    // The kernel's fe80::ff:fe00:a for 02:00:00:00:00:0a (test/ip/fixtures/ipv6-kernel.json).
    expect(formatIpv6(linkLocalFromMac(Uint8Array.of(2, 0, 0, 0, 0, 0x0a)))).toBe('fe80::ff:fe00:a');
    expect(formatIpv6(linkLocalFromMac(Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56)))).toBe('fe80::5054:ff:fe12:3456');
  });

  it('prefix comparison looks at exactly the prefix bits', () => {
    const a = parseIpv6('fd00:7::2');
    expect(samePrefix6(a, parseIpv6('fd00:7::ffff'), 64)).toBe(true);
    expect(samePrefix6(a, parseIpv6('fd00:8::2'), 64)).toBe(false);
    expect(samePrefix6(a, parseIpv6('fd00:6::2'), 30)).toBe(true);
    expect(samePrefix6(a, parseIpv6('fd00:6::2'), 31)).toBe(true);
    expect(samePrefix6(a, parseIpv6('fd00:6::2'), 32)).toBe(false);
    expect(samePrefix6(a, parseIpv6('::'), 0)).toBe(true);
  });

  it('parses prefixes, with clear errors', () => {
    expect(parseCidr6('fd00:7::2/64')).toMatchObject({ prefixLen: 64 });
    expect(parseCidr6('fd00:7::2').prefixLen).toBe(128);
    expect(() => parseCidr6('fd00:7::2/129')).toThrow(/not an IPv6 prefix/);
    expect(() => parseCidr6('fd00:7::2/x')).toThrow(/not an IPv6 prefix/);
  });

  it('reading from packets: equal values whether or not the cache returns the same object', () => {
    const b = new Uint8Array(32);
    const a = parseIpv6('2001:db8::abcd');
    writeIpv6(b, 0, a);
    writeIpv6(b, 16, a);
    const x = readIpv6(b, 0);
    expect(readIpv6(b, 16)).toBe(x); // the cache: no allocation for a repeated address
    expect(ipv6Equal(x, a)).toBe(true);
    expect(ipEqual(x, a)).toBe(true);
    expect(ipEqual(x, 5)).toBe(false);
  });
});

describe('either family', () => {
  it('parses and prints both families, IPv6 endpoints in brackets (RFC 5952 §6)', () => {
    expect(parseIp('10.7.0.1')).toBe(0x0a070001);
    expect(formatEndpoint(parseIp('fd00:7::1'), 5000)).toBe('[fd00:7::1]:5000');
    expect(formatEndpoint(parseIp('10.7.0.1'), 5000)).toBe('10.7.0.1:5000');
    expect(tryParseIp('10.7.0')).toBeNull();
    expect(tryParseIp('localhost')).toBeNull();
  });
});
