/**
 * The IPv6 layer through a whole stack on a TUN-like link (STYLE.md §6 layer 3): echo,
 * the extension header chain in order (RFC 8200 §4), ICMPv6 errors with their pointers,
 * fragments both ways, path MTU, and every drop counted.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/ip/address.js';
import { parseIpv6 } from '../../src/ip/ipv6-address.js';
import { Harness } from '../helpers/stack-harness.js';
import {
  A6, B6, checksumOk6, concat, echo6, fragmentHeader, icmp6, ipv6, optionsHeader, readIpv6, udp6,
} from '../helpers/packets6.js';
import { pattern } from '../helpers/packets.js';

function harness(mtu = 1500): Harness {
  return new Harness({ addr: parseIpv4('10.7.0.2'), prefixLen: 24, addr6: B6, prefixLen6: 64, gateway6: A6, mtu });
}

/** The ICMPv6 messages the stack sent: type, code, the 32-bit word after the checksum, and the quoted packet. */
function icmpSent(h: Harness): { type: number; code: number; word: number; quote: Uint8Array; checksumOk: boolean }[] {
  return h.sent().map((f) => {
    const p = readIpv6(f);
    expect(p.nh).toBe(58);
    const m = p.payload;
    return {
      type: m[0]!, code: m[1]!, word: ((m[4]! << 24) | (m[5]! << 16) | (m[6]! << 8) | m[7]!) >>> 0, quote: m.subarray(8),
      checksumOk: checksumOk6(parseIpv6(p.src), parseIpv6(p.dst), 58, m),
    };
  });
}

const c6 = (h: Harness): Record<string, number> => h.stack.ip6!.counters as unknown as Record<string, number>;

describe('IPv6: echo (RFC 4443 §4)', () => {
  it('answers an echo request with the same identifier, sequence and data, from the address asked', () => {
    const h = harness();
    const data = pattern(56);
    h.inject(ipv6({ nh: 58 }, echo6(0x0f42, 1, data)));
    const [f] = h.sent();
    const p = readIpv6(f!);
    expect(p).toMatchObject({ nh: 58, hop: 64, src: 'fd00:7::2', dst: 'fd00:7::1' });
    expect(p.flow).not.toBe(0); // RFC 6437: a flow label per flow
    expect(p.payload[0]).toBe(129);
    expect(p.payload.subarray(4)).toEqual(echo6(0x0f42, 1, data).subarray(4));
    expect(checksumOk6(B6, A6, 58, p.payload)).toBe(true);
  });

  it('answers an echo request to all-nodes (ff02::1) from its unicast address', () => {
    const h = harness();
    const all = parseIpv6('ff02::1');
    h.inject(ipv6({ nh: 58, dst: all }, echo6(1, 1, pattern(8), A6, all)));
    const [f] = h.sent();
    expect(readIpv6(f!).src).toBe('fd00:7::2');
  });

  it('drops a bad checksum, a packet for another host, and sources it must not accept', () => {
    const h = harness();
    const bad = echo6(1, 1, pattern(8));
    bad[2] ^= 1;
    h.inject(
      ipv6({ nh: 58 }, bad),
      ipv6({ nh: 58, dst: parseIpv6('fd00:7::99') }, echo6(1, 1, pattern(8), A6, parseIpv6('fd00:7::99'))),
      ipv6({ nh: 58, src: parseIpv6('ff02::1') }, echo6(1, 1, pattern(8), parseIpv6('ff02::1'))),
      ipv6({ nh: 58, src: parseIpv6('::1') }, echo6(1, 1, pattern(8), parseIpv6('::1'))),
      ipv6({ nh: 58, src: B6 }, echo6(1, 1, pattern(8), B6)),
    );
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip6!.icmp.counters.badChecksum).toBe(1);
    expect(c6(h)).toMatchObject({ notForUs: 1, martianSource: 3 });
  });

  it('a truncated header, a wrong version and a payload length beyond the packet are counted', () => {
    const h = harness();
    const ok = ipv6({ nh: 58 }, echo6(1, 1, pattern(8)));
    const longer = ok.slice();
    longer[5] = longer[5]! + 1;
    const v5 = ok.slice();
    v5[0] = 0x50;
    h.link.inject(ok.slice(0, 39));
    h.inject(longer);
    h.stack.ip6!.receive(v5, 0, v5.length, 0);
    expect(c6(h)).toMatchObject({ truncated: 1, badPayloadLength: 1, badVersion: 1 });
    expect(h.sent()).toEqual([]);
  });
});

describe('IPv6: the extension header chain (RFC 8200 §4)', () => {
  const echo = (): Uint8Array => echo6(7, 7, pattern(16));

  it('walks hop-by-hop (Pad1, PadN, router alert) and destination options, then answers', () => {
    const h = harness();
    const hbh = optionsHeader(60, [0, 5, 2, 0, 0]); // Pad1, Router Alert
    const dst = optionsHeader(58, [1, 2, 0, 0]); // PadN
    h.inject(ipv6({ nh: 0 }, concat(hbh, dst, echo())));
    expect(icmpSent(h).map((m) => m.type)).toEqual([129]);
  });

  it.each([
    [0x1e, 'skip', [129]], // 00: skip over the option
    [0x5e, 'discard', []], // 01: discard silently
    [0x9e, 'discard and send Parameter Problem code 2', [4]], // 10
    [0xde, 'discard and send Parameter Problem code 2 (unicast)', [4]], // 11
  ] as const)('an unknown option 0x%s: %s (§4.2)', (type, _what, answers) => {
    const h = harness();
    h.inject(ipv6({ nh: 60 }, concat(optionsHeader(58, [type, 2, 0, 0]), echo())));
    const sent = icmpSent(h);
    expect(sent.map((m) => m.type)).toEqual(answers);
    if (answers[0] === 4) {
      expect(sent[0]).toMatchObject({ code: 2, word: 42, checksumOk: true }); // the option's offset in the packet
      // RFC 4443 §3.4: it quotes the invoking packet, header first.
      expect(sent[0]!.quote[6]).toBe(60);
      expect(sent[0]!.quote.length).toBe(40 + 8 + 24);
    }
  });

  it('an unknown option with the high bits 11 to a multicast address is discarded without an error', () => {
    const h = harness();
    const all = parseIpv6('ff02::1');
    h.inject(ipv6({ nh: 60, dst: all }, concat(optionsHeader(58, [0xde, 2, 0, 0]), echo6(7, 7, pattern(16), A6, all))));
    expect(h.sent()).toEqual([]);
    expect(c6(h).unknownOption).toBe(1);
  });

  it('hop-by-hop anywhere but first is an unrecognised next header (code 1), pointing at the field that named it', () => {
    const h = harness();
    h.inject(ipv6({ nh: 60 }, concat(optionsHeader(0, [1, 4, 0, 0, 0, 0]), optionsHeader(58, [1, 4, 0, 0, 0, 0]), echo())));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 1, word: 40 }]);
    expect(c6(h).hopByHopNotFirst).toBe(1);
  });

  it('an unknown next header: Parameter Problem code 1 pointing at its Next Header field', () => {
    const h = harness();
    h.inject(ipv6({ nh: 253 }, pattern(8)));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 1, word: 6 }]);
    const h2 = harness();
    h2.inject(ipv6({ nh: 60 }, concat(optionsHeader(253, [1, 4, 0, 0, 0, 0]), pattern(8))));
    expect(icmpSent(h2)).toMatchObject([{ type: 4, code: 1, word: 40 }]);
    expect(c6(h2).unknownNextHeader).toBe(1);
  });

  it('a routing header: ignored with Segments Left 0; type 0 with segments left is refused (RFC 5095)', () => {
    const h = harness();
    const rh = (segLeft: number): Uint8Array => Uint8Array.of(58, 0, 0, segLeft, 0, 0, 0, 0);
    h.inject(ipv6({ nh: 43 }, concat(rh(0), echo())));
    expect(icmpSent(h).map((m) => m.type)).toEqual([129]);
    h.inject(ipv6({ nh: 43 }, concat(rh(1), echo())));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 0, word: 42 }]); // points at the Routing Type
    expect(c6(h).routingHeader).toBe(1);
  });

  it('No Next Header (59) ends the packet quietly; a header longer than the packet is a Parameter Problem', () => {
    const h = harness();
    h.inject(ipv6({ nh: 59 }, pattern(8)));
    expect(h.sent()).toEqual([]);
    const cut = optionsHeader(58, [1, 12, ...new Array<number>(12).fill(0)]).subarray(0, 8);
    cut[1] = 3; // says 32 bytes
    h.inject(ipv6({ nh: 60 }, cut));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 0 }]);
    expect(c6(h)).toMatchObject({ noNextHeader: 1, badExtHeader: 1 });
  });

  it('more than eight extension headers is a counted drop', () => {
    const h = harness();
    const chain: Uint8Array[] = [];
    for (let i = 0; i < 9; i++) chain.push(optionsHeader(i === 8 ? 58 : 60, [1, 4, 0, 0, 0, 0]));
    h.inject(ipv6({ nh: 60 }, concat(...chain, echo())));
    expect(h.sent()).toEqual([]);
    expect(c6(h).tooManyExtHeaders).toBe(1);
  });

  it('never answers an error with an error, nor a packet from the unspecified address', () => {
    const h = harness();
    const error = icmp6(1, 4, pattern(48));
    h.inject(ipv6({ nh: 60 }, concat(optionsHeader(58, [0x9e, 2, 0, 0]), error)));
    h.inject(ipv6({ nh: 253, src: parseIpv6('::') }, pattern(8)));
    expect(h.sent()).toEqual([]);
  });
});

describe('IPv6: fragments in (RFC 8200 §4.5, RFC 5722, RFC 7112, RFC 6946)', () => {
  const frag = (payload: Uint8Array, off: number, len: number, more: boolean, ident = 0x1234, nh = 58): Uint8Array =>
    ipv6({ nh: 44 }, concat(fragmentHeader(nh, off, more, ident), payload.subarray(off, off + len)));

  it('reassembles a fragmented echo request and answers it whole (fragmented in turn)', () => {
    const h = harness();
    const req = echo6(9, 9, pattern(2000));
    h.inject(frag(req, 0, 1448, true), frag(req, 1448, req.length - 1448, false));
    const out = h.sent().map(readIpv6);
    expect(out.length).toBe(2);
    expect(out.every((p) => p.nh === 44)).toBe(true);
    expect(c6(h)).toMatchObject({ fragmentsReceived: 2, reassembled: 1, fragmentsSent: 2 });
  });

  it('the kernel\'s own fragments (ping -6 -s 2000) reassemble and are answered', async () => {
    const fx = (await import('./fixtures/ipv6-kernel.json', { with: { type: 'json' } })).default as unknown as Record<string, { ipv6: string }>;
    const h = harness();
    const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));
    h.inject(hex(fx.icmp6_echo_request_s2000_frag2!.ipv6), hex(fx.icmp6_echo_request_s2000_frag1!.ipv6));
    const out = h.sent().map(readIpv6);
    expect(out.length).toBe(2);
    expect(out[0]!.payload[0]).toBe(58); // the fragment header names ICMPv6 ...
    expect(out[0]!.payload[8]).toBe(129); // ... and the first fragment starts with the echo reply
  });

  it('an atomic fragment (offset 0, M 0) is processed on its own (RFC 6946)', () => {
    const h = harness();
    h.inject(frag(echo6(1, 1, pattern(8)), 0, 16, false));
    expect(h.sent().length).toBe(1);
    expect(c6(h)).toMatchObject({ atomicFragments: 1, reassembled: 0 });
  });

  it('overlapping fragments drop the whole datagram (RFC 5722)', () => {
    const h = harness();
    const req = echo6(9, 9, pattern(2000));
    h.inject(frag(req, 0, 1000, true), frag(req, 992, 1016, false));
    expect(h.sent()).toEqual([]);
    expect(c6(h).fragOverlap).toBe(1);
  });

  it('a first fragment without the upper-layer header: Parameter Problem code 3 (RFC 7112)', () => {
    const h = harness();
    const chain = concat(optionsHeader(58, [1, 4, 0, 0, 0, 0]));
    h.inject(ipv6({ nh: 44 }, concat(fragmentHeader(60, 0, true, 5), chain)));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 3 }]);
    expect(c6(h).incompleteChain).toBe(1);
  });

  it('a non-last fragment whose length is not a multiple of 8: Parameter Problem code 0 at Payload Length', () => {
    const h = harness();
    h.inject(frag(echo6(1, 1, pattern(100)), 0, 20, true));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 0, word: 4 }]);
  });

  it('a fragment that would reassemble past 65,535 bytes: Parameter Problem code 0 at its offset field', () => {
    const h = harness();
    h.inject(ipv6({ nh: 44 }, concat(fragmentHeader(58, 65528, false, 5), pattern(16))));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 0, word: 42 }]);
  });

  it('an incomplete datagram times out with Time Exceeded (reassembly) quoting the first fragment', () => {
    const h = harness();
    h.inject(frag(echo6(1, 1, pattern(100)), 0, 56, true));
    h.advanceTo(60_000);
    expect(icmpSent(h)).toMatchObject([{ type: 3, code: 1 }]);
    expect(c6(h).fragTimeout).toBe(1);
  });
});

describe('IPv6: sending above the path MTU, and Packet Too Big (RFC 8201)', () => {
  it('a Packet Too Big lowers the path MTU (never below 1280) and ages back', () => {
    const h = harness();
    const ip6 = h.stack.ip6!;
    const quoted = ipv6({ nh: 58, src: B6, dst: A6 }, echo6(1, 1, pattern(1400), B6, A6));
    h.inject(ipv6({ nh: 58 }, icmp6(2, 0, concat(Uint8Array.of(0, 0, 5, 0), quoted.subarray(0, 1232)))));
    expect(ip6.mtuTo(A6, h.now)).toBe(1280);
    expect(ip6.icmp.counters.packetTooBig).toBe(1);
    h.inject(ipv6({ nh: 58 }, icmp6(2, 0, concat(Uint8Array.of(0, 0, 0, 68), quoted.subarray(0, 1232)))));
    expect(ip6.mtuTo(A6, h.now)).toBe(1280); // an absurd MTU changes nothing below the minimum
    expect(ip6.mtuTo(A6, 10 * 60_000 + 1)).toBe(1500); // RFC 8201 §5.3: ten minutes
  });

  it('an echo reply bigger than the path MTU goes out in fragments of at most the MTU', () => {
    const h = harness();
    const quoted = ipv6({ nh: 58, src: B6, dst: A6 }, echo6(1, 1, pattern(1400), B6, A6));
    h.inject(ipv6({ nh: 58 }, icmp6(2, 0, concat(Uint8Array.of(0, 0, 5, 0), quoted.subarray(0, 1232)))));
    h.inject(ipv6({ nh: 58 }, echo6(3, 3, pattern(1400))));
    const out = h.sent();
    expect(out.length).toBe(2);
    expect(out.every((f) => f.length <= 1280)).toBe(true);
  });

  it('a Packet Too Big quoting a packet we did not send is ignored', () => {
    const h = harness();
    const other = ipv6({ nh: 58, src: parseIpv6('fd00:7::77'), dst: A6 }, echo6(1, 1, pattern(100)));
    h.inject(ipv6({ nh: 58 }, icmp6(2, 0, concat(Uint8Array.of(0, 0, 5, 0), other))));
    expect(h.stack.ip6!.mtuTo(A6, 0)).toBe(1500);
    expect(h.stack.ip6!.icmp.counters.badQuote).toBe(1);
  });
});

describe('UDP over IPv6', () => {
  it('a zero checksum is dropped (RFC 8200 §8.1); a closed port gets Port Unreachable', () => {
    const h = harness();
    h.inject(ipv6({ nh: 17 }, udp6(5000, 9999, pattern(4), A6, B6, true)));
    expect(h.sent()).toEqual([]);
    expect(h.stack.udp.counters.zeroChecksum6).toBe(1);
    h.inject(ipv6({ nh: 17 }, udp6(5000, 9999, pattern(4))));
    expect(icmpSent(h)).toMatchObject([{ type: 1, code: 4, checksumOk: true }]);
  });

  it('the ICMPv6 errors it sends are rate-limited per destination', () => {
    const h = harness();
    for (let i = 0; i < 20; i++) h.inject(ipv6({ nh: 17 }, udp6(5000, 9999, pattern(4))));
    expect(h.sent().length).toBe(6); // a burst of 6, then one per second (Linux's ratelimit)
  });
});

describe('random bytes as IPv6 packets', () => {
  it('never throw and are always counted', () => {
    const h = harness();
    for (let seed = 0; seed < 2000; seed++) {
      const len = 40 + (seed % 90);
      const b = pattern(len, seed);
      b[0] = 0x60 | (b[0]! & 15);
      b[4] = 0;
      b[5] = len - 40;
      b[6] = [0, 43, 44, 58, 60, 6, 17, 59][seed % 8]!;
      h.inject(ipv6({ nh: b[6]!, src: A6, dst: B6 }, b.subarray(40)));
    }
    expect(h.stack.counters.internalErrors).toBe(0);
  });
});

describe('the unspecified source (RFC 4291 §2.5.2)', () => {
  it('is answered by nothing: an echo request, a UDP datagram and a TCP SYN from :: are counted drops', () => {
    const h = harness();
    const any = parseIpv6('::');
    h.inject(
      ipv6({ nh: 58, src: any }, echo6(1, 1, pattern(8), any, B6)),
      ipv6({ nh: 17, src: any }, udp6(5000, 9999, pattern(4), any, B6)),
      ipv6({ nh: 6, src: any }, pattern(20)),
    );
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip6!.icmp.counters.unspecifiedSource).toBe(1);
    expect(c6(h).martianSource).toBe(2);
  });
});

describe('reassembly takes the headers of the first fragment (RFC 8200 §4.5)', () => {
  it('a last fragment with more extension headers than the first changes nothing', () => {
    const h = harness();
    const req = echo6(4, 4, pattern(100));
    const first = ipv6({ nh: 44 }, concat(fragmentHeader(58, 0, true, 0x77), req.subarray(0, 56)));
    // The last fragment carries two destination options headers before its fragment header.
    const last = ipv6({ nh: 60 }, concat(optionsHeader(60, [1, 4, 0, 0, 0, 0]), optionsHeader(44, [1, 4, 0, 0, 0, 0]), fragmentHeader(58, 56, false, 0x77), req.subarray(56)));
    h.inject(first, last);
    expect(icmpSent(h).map((m) => m.type)).toEqual([129]);
  });

  it('a fragment header inside a reassembled datagram, or hop-by-hop after it, is refused', () => {
    const h = harness();
    const inner = concat(optionsHeader(44, [1, 4, 0, 0, 0, 0]), fragmentHeader(58, 0, false, 9), echo6(5, 5, pattern(16)));
    h.inject(ipv6({ nh: 44 }, concat(fragmentHeader(60, 0, true, 0x99), inner.subarray(0, 24))), ipv6({ nh: 44 }, concat(fragmentHeader(60, 24, false, 0x99), inner.subarray(24))));
    expect(h.sent()).toEqual([]);
    expect(c6(h).fragNested).toBe(1);
    const hbh = concat(optionsHeader(58, [1, 4, 0, 0, 0, 0]), echo6(6, 6, pattern(16)));
    h.inject(ipv6({ nh: 44 }, concat(fragmentHeader(0, 0, true, 0x98), hbh.subarray(0, 16))), ipv6({ nh: 44 }, concat(fragmentHeader(0, 16, false, 0x98), hbh.subarray(16))));
    expect(icmpSent(h)).toMatchObject([{ type: 4, code: 1 }]);
  });
});
