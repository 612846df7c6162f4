/**
 * IPv6 neighbour discovery on an Ethernet (TAP) link (RFC 4861, RFC 4862 §5.4), through a
 * whole stack, against the kernel's own NDP packets (test/ip/fixtures/ipv6-kernel.json,
 * captured between veth ends 02:00:00:00:00:0a = fd00:7::1 and 02:00:00:00:00:0b =
 * fd00:7::2; the stack plays the second).
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/ip/address.js';
import { parseIpv6, writeIpv6 } from '../../src/ip/ipv6-address.js';
import type { EthernetInterface } from '../../src/link/ethernet-interface.js';
import fixtures from '../ip/fixtures/ipv6-kernel.json' with { type: 'json' };
import { Harness } from '../helpers/stack-harness.js';
import { A6, B6, concat, echo6, fragmentHeader, ipv6, readIpv6, udp6, withChecksum } from '../helpers/packets6.js';
import { pattern, ethernet } from '../helpers/packets.js';

const fx = fixtures as unknown as Record<string, { ipv6: string; eth?: string }>;
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));
const KERNEL_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0x0a);
const STACK_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0x0b);

function harness(dadTransmits = 0): Harness {
  return new Harness({
    medium: 'ethernet', macs: [STACK_MAC, KERNEL_MAC], addr: parseIpv4('10.7.0.2'), prefixLen: 24,
    addr6: B6, prefixLen6: 64, gateway6: A6, ndp: { dadTransmits },
  });
}

const ndp = (h: Harness) => (h.stack.iface as EthernetInterface).ndp!;
const eth6 = (dst: Uint8Array, pkt: Uint8Array): Uint8Array => ethernet(dst, KERNEL_MAC, 0x86dd, pkt);

describe('neighbour solicitation and advertisement', () => {
  it("answers the kernel's solicitation with the advertisement Linux itself sent (but the flow label)", () => {
    const h = harness();
    h.inject(hex(fx.ndp_ns_multicast_sllao!.eth!));
    const [out] = h.sent();
    const want = hex(fx.ndp_na_solicited_tllao!.eth!);
    expect(out!.length).toBe(want.length);
    // Ethernet header and the IPv6 header from Payload Length on, and the whole NA.
    expect(out!.subarray(0, 14)).toEqual(want.subarray(0, 14));
    expect(out!.subarray(14 + 4)).toEqual(want.subarray(14 + 4));
    // The solicitation taught the cache the kernel's address (STALE: not confirmed), and
    // sending the advertisement to it started DELAY (§7.3.3), as on Linux.
    expect(ndp(h).cache.entries()).toMatchObject([{ ip: 'fd00:7::1', mac: '02:00:00:00:00:0a', state: 'DELAY' }]);
  });

  it('then reaches the kernel at once (STALE -> DELAY), without soliciting again', () => {
    const h = harness();
    h.inject(hex(fx.ndp_ns_multicast_sllao!.eth!));
    h.sent();
    h.inject(eth6(STACK_MAC, ipv6({ nh: 58 }, echo6(1, 1, pattern(8)))));
    const [reply] = h.sent();
    expect(reply!.subarray(0, 6)).toEqual(KERNEL_MAC);
    expect(ndp(h).cache.get(A6)!.state).toBe('DELAY');
  });

  it('resolves an unknown neighbour: multicast solicitation, packets held, sent when the advertisement comes', () => {
    const h = harness();
    h.stack.ip6!.icmp.sendEchoRequest(A6, 7, 1, pattern(16), 0);
    h.stack.ip6!.icmp.sendEchoRequest(A6, 7, 2, pattern(16), 0);
    const [ns, ...rest] = h.sent();
    expect(rest).toEqual([]);
    expect(Array.from(ns!.subarray(0, 6))).toEqual([0x33, 0x33, 0xff, 0, 0, 1]); // RFC 2464 §7: 33:33 + the group's low 32 bits
    const p = readIpv6(ns!.subarray(14));
    expect(p).toMatchObject({ dst: 'ff02::1:ff00:1', hop: 255, src: 'fd00:7::2' });
    expect(p.payload[0]).toBe(135);
    // The kernel's answer: fixture ndp_na_solicited_tllao with the roles swapped is built by hand here.
    const na = hex(fx.ndp_na_solicited_tllao!.ipv6);
    // Rewrite it as from fd00:7::1 (MAC ...0a) to us: swap addresses and put 0a in the option; fix the checksum.
    const pkt = na.slice();
    pkt.set(na.subarray(24, 40), 8);
    pkt.set(na.subarray(8, 24), 24);
    pkt.set(hex('fd000007000000000000000000000001'), 48); // target fd00:7::1
    pkt[40 + 24 + 2 + 5] = 0x0a;
    withChecksum(A6, B6, 58, pkt.subarray(40), 2);
    h.inject(eth6(STACK_MAC, pkt));
    const held = h.sent();
    expect(held.length).toBe(2);
    expect(held.every((f) => f[0] === 2 && f[5] === 0x0a)).toBe(true);
    expect(ndp(h).cache.get(A6)!.state).toBe('REACHABLE');
  });
});

describe("NDP's validity checks (RFC 4861 §7.1, RFC 6980)", () => {
  it('a hop limit other than 255 is a counted drop (it crossed a router)', () => {
    const h = harness();
    const f = hex(fx.ndp_ns_multicast_sllao!.eth!);
    f[14 + 7] = 254;
    h.inject(f);
    expect(h.sent()).toEqual([]);
    expect(ndp(h).counters.invalid).toBe(1);
  });

  it('NDP in a fragmented packet is dropped (RFC 6980 §5)', () => {
    const h = harness();
    const ns = hex(fx.ndp_ns_multicast_sllao!.ipv6).subarray(40);
    const dst = parseIpv6('ff02::1:ff00:2');
    const f1 = ipv6({ nh: 44, hop: 255, dst }, concat(fragmentHeader(58, 0, true, 9), ns.subarray(0, 24)));
    const f2 = ipv6({ nh: 44, hop: 255, dst }, concat(fragmentHeader(58, 24, false, 9), ns.subarray(24)));
    h.inject(eth6(Uint8Array.of(0x33, 0x33, 0xff, 0, 0, 2), f1), eth6(Uint8Array.of(0x33, 0x33, 0xff, 0, 0, 2), f2));
    expect(h.sent()).toEqual([]);
    expect(ndp(h).counters.fragmented).toBe(1);
  });

  it("the kernel's router solicitation (to ff02::2) and MLD report (to ff02::16) are not for a host: counted", () => {
    const h = harness();
    h.inject(hex(fx.ndp_rs_sllao!.eth!), hex(fx.mldv2_report_linklocal_src!.eth!));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip6!.counters.notForUs).toBe(2);
    expect(h.stack.counters.internalErrors).toBe(0);
  });

  it('a router advertisement to all nodes is counted and ignored (addresses are configured, not learnt)', () => {
    const h = harness();
    const all = parseIpv6('ff02::1');
    const ra = new Uint8Array(16);
    ra[0] = 134;
    const src = parseIpv6('fe80::1');
    h.inject(eth6(Uint8Array.of(0x33, 0x33, 0, 0, 0, 1), ipv6({ nh: 58, hop: 255, src, dst: all }, withChecksum(src, all, 58, ra, 2))));
    expect(h.sent()).toEqual([]);
    expect(ndp(h).counters.routerMessagesIgnored).toBe(1);
  });
});

describe('duplicate address detection (RFC 4862 §5.4)', () => {
  it('the addresses stay tentative for RetransTimer after one solicitation from ::, then answer', () => {
    const h = harness(1);
    h.advanceTo(0);
    const dad = h.sent().map((f) => readIpv6(f.subarray(14)));
    expect(dad.map((p) => [p.src, p.dst, p.hop, p.payload[0]])).toEqual([
      ['::', 'ff02::1:ff00:b', 255, 135], // fe80::ff:fe00:b, from the MAC
      ['::', 'ff02::1:ff00:2', 255, 135],
    ]);
    // Tentative: packets for the address are not ours yet.
    h.inject(eth6(STACK_MAC, ipv6({ nh: 58 }, echo6(1, 1, pattern(8)))));
    expect(h.sent()).toEqual([]);
    h.advanceTo(1000);
    h.inject(eth6(STACK_MAC, ipv6({ nh: 58 }, echo6(1, 1, pattern(8)))));
    expect(h.sent().length).toBe(1);
    expect(ndp(h).tentative).toBe(0);
  });

  it("another node's DAD for our tentative address makes it a duplicate, never used", () => {
    const h = harness(1);
    h.advanceTo(0);
    h.sent();
    // The kernel's DAD solicitation (from ::) for fe80::ff:fe00:a, aimed at our link-local instead.
    const dup = hex(fx.ndp_ns_dad_unspecified_src!.ipv6);
    const ll = h.stack.ip6!.route.linkLocal!;
    const group = parseIpv6('ff02::1:ff00:b');
    writeIpv6(dup, 48, ll);
    writeIpv6(dup, 24, group);
    withChecksum(parseIpv6('::'), group, 58, dup.subarray(40), 2);
    h.inject(eth6(Uint8Array.of(0x33, 0x33, 0xff, 0, 0, 0x0b), dup));
    expect(ndp(h).counters.dadDuplicates).toBe(1);
    h.advanceTo(5000);
    expect(h.stack.ip6!.route.isTentative(ll)).toBe(true);
    expect(h.stack.ip6!.route.isOurs(B6)).toBe(true);
  });
});



describe('duplicate address detection: an address another host already uses', () => {
  it("the owner's advertisement (from that very address) makes ours a duplicate (RFC 4862 §5.4.4)", () => {
    const h = harness(1);
    h.advanceTo(0);
    h.sent();
    // Linux defends fd00:7::2: an unsolicited advertisement from fd00:7::2 to all nodes.
    const all = parseIpv6('ff02::1');
    const na = new Uint8Array(32);
    na[0] = 136;
    na[4] = 0x20; // override
    na.set(Uint8Array.from([0xfd, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]), 8);
    na.set(Uint8Array.of(2, 1, ...KERNEL_MAC), 24);
    h.inject(eth6(Uint8Array.of(0x33, 0x33, 0, 0, 0, 1), ipv6({ nh: 58, hop: 255, src: B6, dst: all }, withChecksum(B6, all, 58, na, 2))));
    expect(ndp(h).counters.dadDuplicates).toBe(1);
    h.advanceTo(5000);
    expect(h.stack.ip6!.route.isOurs(B6)).toBe(false);
    // And nothing but NDP is taken from our tentative address.
    h.inject(eth6(STACK_MAC, ipv6({ nh: 58, src: B6 }, echo6(1, 1, pattern(8), B6, B6))));
    expect(h.sent()).toEqual([]);
  });
});

describe('ICMPv6 errors and link-layer multicast (RFC 4443 §2.4(e))', () => {
  it('a unicast IPv6 packet in a multicast or broadcast frame draws no error; the same in a unicast frame does', () => {
    const h = harness();
    h.inject(hex(fx.ndp_ns_multicast_sllao!.eth!)); // the kernel's solicitation: we know its link address
    h.sent();
    const probe = (mac: Uint8Array): void => h.inject(eth6(mac, ipv6({ nh: 17 }, udp6(5000, 9999, pattern(4)))));
    probe(Uint8Array.of(0x33, 0x33, 0, 0, 0, 1));
    probe(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    expect(h.sent()).toEqual([]);
    probe(STACK_MAC);
    const out = h.sent();
    expect(out.length).toBe(1);
    expect(readIpv6(out[0]!.subarray(14)).payload[0]).toBe(1); // destination unreachable
  });
});
