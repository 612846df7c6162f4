/**
 * Ethernet and ARP through the whole stack on a TAP-like MemoryLink ('ethernet' medium).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { IP_PROTO_ICMP } from '../../src/ip/ipv4-packet.js';
import { ARP_REPLY, ARP_REQUEST } from '../../src/link/arp-packet.js';
import type { EthernetInterface } from '../../src/link/ethernet-interface.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, formatMac, parseMac } from '../../src/link/ethernet-frame.js';
import {
  arpFrame, echoRequest, ethernet, expectSameBytes, fragmentAll, hex, reassembleReference, ip, ipv4, pattern, readIcmp, readIpv4, toHex,
} from '../helpers/packets.js';
import { Harness } from '../helpers/stack-harness.js';

const US = ip('10.0.0.1');
const OUR_MAC = parseMac('02:00:00:00:00:01');
const PEER = ip('10.0.0.2');
const PEER_MAC = parseMac('02:00:00:00:00:02');
const OTHER = ip('10.0.0.3');
const OTHER_MAC = parseMac('02:00:00:00:00:03');
const GATEWAY = ip('10.0.0.254');
const GATEWAY_MAC = parseMac('02:00:00:00:00:fe');

function harness(arp?: ConstructorParameters<typeof Harness>[0]['arp']): Harness {
  return new Harness({ medium: 'ethernet', macs: [OUR_MAC, PEER_MAC], addr: US, prefixLen: 24, gateway: GATEWAY, arp });
}

function iface(h: Harness): EthernetInterface {
  return h.stack.iface as EthernetInterface;
}

/** An echo request from `src` (IP) at `srcMac`, in an Ethernet frame addressed to us. */
function pingFrom(src: number, srcMac: Uint8Array, seq = 1, dstMac = OUR_MAC): Uint8Array {
  return ethernet(dstMac, srcMac, ETHERTYPE_IPV4, ipv4({ src, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(7, seq, pattern(24))));
}

function whoHas(target: number, from = PEER, fromMac = PEER_MAC): Uint8Array {
  return arpFrame(BROADCAST_MAC, fromMac, { operation: ARP_REQUEST, senderMac: fromMac, senderIp: from, targetMac: new Uint8Array(6), targetIp: target });
}

function isAt(sender: number, senderMac: Uint8Array): Uint8Array {
  return arpFrame(OUR_MAC, senderMac, { operation: ARP_REPLY, senderMac, senderIp: sender, targetMac: OUR_MAC, targetIp: US });
}

/** What a frame is, in a line: the test failure shows the whole conversation. */
function describeFrame(f: Uint8Array): string {
  const dst = formatMac(f.subarray(0, 6));
  const src = formatMac(f.subarray(6, 12));
  const type = (f[12]! << 8) | f[13]!;
  if (type === ETHERTYPE_ARP) {
    const op = (f[20]! << 8) | f[21]!;
    const tpa = Array.from(f.subarray(38, 42)).join('.');
    const spa = Array.from(f.subarray(28, 32)).join('.');
    return `${src} > ${dst} ARP ${op === 1 ? `who-has ${tpa} tell ${spa}` : `${spa} is-at ${formatMac(f.subarray(22, 28))}`}`;
  }
  if (type === ETHERTYPE_IPV4) {
    const d = readIpv4(f, 14);
    const m = d.repr.protocol === IP_PROTO_ICMP ? readIcmp(d.payload) : null;
    return `${src} > ${dst} IPv4 ${Array.from(f.subarray(26, 30)).join('.')} > ${Array.from(f.subarray(30, 34)).join('.')}${m ? ` icmp type=${m.type} seq=${m.seq}` : ''}`;
  }
  return `${src} > ${dst} type=${type.toString(16)}`;
}

describe('ARP: answering', () => {
  it('an ARP request for our address gets a unicast reply with our MAC (exact bytes)', () => {
    const h = harness();
    h.inject(whoHas(US));
    const out = h.sent();
    expect(out).toHaveLength(1);
    expect(toHex(out[0]!)).toBe(
      toHex(
        hex(
          '02 00 00 00 00 02 02 00 00 00 00 01 08 06' + // to the asker, from us, ARP
            ' 00 01 08 00 06 04 00 02' + // Ethernet/IPv4, reply
            ' 02 00 00 00 00 01 0a 00 00 01' + // sender: us
            ' 02 00 00 00 00 02 0a 00 00 02' + // target: the asker
            ' 00'.repeat(18), // padding to the 60-byte minimum
        ),
      ),
    );
    expect(iface(h).counters).toMatchObject({ arpIn: 1, arpRequestsAnswered: 1 });
  });

  it('the asker is learned: a reply to it goes out at once, without a request', () => {
    const h = harness();
    h.inject(whoHas(US));
    h.sent();
    h.inject(pingFrom(PEER, PEER_MAC));
    expect(h.sent().map(describeFrame)).toEqual(['02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 10.0.0.1 > 10.0.0.2 icmp type=0 seq=1']);
    expect(iface(h).counters.arpRequestsSent).toBe(0);
  });

  it('a request for another address is not answered and its sender not learned (RFC 826)', () => {
    const h = harness();
    h.inject(whoHas(ip('10.0.0.9')));
    expect(h.sent()).toEqual([]);
    expect(iface(h).entries()).toEqual([]);
  });

  it('malformed ARP, foreign unicast, unknown EtherTypes and runts are counted and ignored', () => {
    const h = harness();
    const bad = whoHas(US);
    bad[15] = 6; // hardware type 6
    h.inject(
      bad,
      whoHas(US).subarray(0, 14 + 20),
      ethernet(OTHER_MAC, PEER_MAC, ETHERTYPE_IPV4, ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(1, 1, pattern(4)))),
      ethernet(OUR_MAC, PEER_MAC, 0x86dd, new Uint8Array(40)),
      new Uint8Array(13),
    );
    expect(h.sent()).toEqual([]);
    expect(iface(h).counters).toMatchObject({ framesIn: 5, arpMalformed: 2, notForUs: 1, ipv6Off: 1, truncated: 1 }); // (no IPv6 address here)
  });

  it('IPv4 in a padded minimum-size frame is read by its Total Length', () => {
    const h = harness();
    h.inject(whoHas(US));
    h.sent();
    const small = ethernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(1, 1, pattern(2))));
    const padded = new Uint8Array(60);
    padded.set(small);
    h.inject(padded);
    const out = h.sent();
    expect(out).toHaveLength(1);
    expect(toHex(readIcmp(readIpv4(out[0]!, 14).payload).data)).toBe(toHex(pattern(2)));
  });
});

describe('ARP: resolving', () => {
  it('sending to an unresolved next hop queues the datagram and broadcasts who-has', () => {
    const h = harness();
    h.inject(pingFrom(OTHER, OTHER_MAC));
    const out = h.sent();
    expect(out.map(describeFrame)).toEqual(['02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.3 tell 10.0.0.1']);
    expect(toHex(out[0]!)).toBe(
      toHex(hex('ff ff ff ff ff ff 02 00 00 00 00 01 08 06 00 01 08 00 06 04 00 01 02 00 00 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 03' + ' 00'.repeat(18))),
    );
    expect(iface(h).entries()).toEqual([{ ip: '10.0.0.3', mac: null, expiresAt: 0, queued: 1 }]);
    expect(h.stack.pollAt()).toBe(1000);
  });

  it('retries every second, 3 requests in all, then gives up and counts arpFailed', () => {
    const h = harness();
    h.inject(pingFrom(OTHER, OTHER_MAC));
    const log: string[] = h.sent().map((f) => `0 ${describeFrame(f)}`);
    for (const t of [500, 999, 1000, 1500, 2000, 2999, 3000, 4000, 10_000]) {
      h.advanceTo(t);
      log.push(...h.sent().map((f) => `${t} ${describeFrame(f)}`));
    }
    const who = '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.3 tell 10.0.0.1';
    expect(log).toEqual([`0 ${who}`, `1000 ${who}`, `2000 ${who}`]);
    expect(iface(h).counters).toMatchObject({ arpRequestsSent: 3, arpFailed: 1 });
    expect(iface(h).entries()).toEqual([]);
    expect(h.stack.pollAt()).toBeUndefined();
  });

  it('when the reply arrives, the queued datagram goes out to the right MAC', () => {
    const h = harness();
    h.inject(pingFrom(OTHER, OTHER_MAC, 1), pingFrom(OTHER, OTHER_MAC, 2));
    expect(h.sent().map(describeFrame)).toEqual(['02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.3 tell 10.0.0.1']);
    h.now = 400;
    h.inject(isAt(OTHER, OTHER_MAC));
    const out = h.sent();
    expect(out.map(describeFrame)).toEqual([
      '02:00:00:00:00:01 > 02:00:00:00:00:03 IPv4 10.0.0.1 > 10.0.0.3 icmp type=0 seq=1',
      '02:00:00:00:00:01 > 02:00:00:00:00:03 IPv4 10.0.0.1 > 10.0.0.3 icmp type=0 seq=2',
    ]);
    const m = readIcmp(readIpv4(out[0]!, 14).payload);
    expect(m).toMatchObject({ type: 0, ident: 7, seq: 1, checksumOk: true });
    expect(toHex(m.data)).toBe(toHex(pattern(24)));
    expect(iface(h).counters).toMatchObject({ arpRepliesIn: 1, arpFailed: 0 });
    // Resolved: no more requests, and the next datagram goes straight out.
    h.advanceTo(5000);
    expect(h.sent()).toEqual([]);
    h.inject(pingFrom(OTHER, OTHER_MAC, 3));
    expect(h.sent().map(describeFrame)).toEqual(['02:00:00:00:00:01 > 02:00:00:00:00:03 IPv4 10.0.0.1 > 10.0.0.3 icmp type=0 seq=3']);
  });

  it('an off-subnet destination is resolved through the gateway', () => {
    const h = harness();
    const far = ip('93.184.216.34');
    h.inject(pingFrom(far, GATEWAY_MAC));
    expect(h.sent().map(describeFrame)).toEqual(['02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.254 tell 10.0.0.1']);
    h.inject(isAt(GATEWAY, GATEWAY_MAC));
    expect(h.sent().map(describeFrame)).toEqual(['02:00:00:00:00:01 > 02:00:00:00:00:fe IPv4 10.0.0.1 > 93.184.216.34 icmp type=0 seq=1']);
  });

  it('holds at most maxQueueBytesPerAddress bytes of datagrams per unresolved address, counting the rest', () => {
    // Each echo reply is a 52-byte datagram (20 + 8 + 24): room for exactly four.
    const h = harness({ maxQueueBytesPerAddress: 4 * 52 });
    h.inject(...Array.from({ length: 6 }, (_, i) => pingFrom(OTHER, OTHER_MAC, i)));
    expect(h.sent()).toHaveLength(1); // one who-has, not six
    expect(iface(h).counters.arpQueueFull).toBe(2);
    h.inject(isAt(OTHER, OTHER_MAC));
    expect(h.sent().map(describeFrame).map((s) => s.slice(-5))).toEqual(['seq=0', 'seq=1', 'seq=2', 'seq=3']);
  });

  it('with the default limits, a whole fragmented 64 KiB reply waits for resolution and then goes out', () => {
    const h = harness();
    const data = pattern(65000 - 8, 5);
    const frags = fragmentAll({ src: OTHER, dst: US, protocol: IP_PROTO_ICMP, ident: 9 }, echoRequest(7, 1, data), 1480);
    h.inject(...frags.map((f) => ethernet(OUR_MAC, OTHER_MAC, ETHERTYPE_IPV4, f)));
    expect(h.sent()).toHaveLength(1); // the who-has
    expect(iface(h).entries()).toEqual([{ ip: '10.0.0.3', mac: null, expiresAt: 0, queued: 44 }]);
    h.inject(isAt(OTHER, OTHER_MAC));
    const out = h.sent();
    expect(out).toHaveLength(44);
    for (const f of out) expect(formatMac(f.subarray(0, 6))).toBe('02:00:00:00:00:03');
    const m = readIcmp(reassembleReference(out.map((f) => readIpv4(f, 14))));
    expect(m).toMatchObject({ type: 0, ident: 7, seq: 1, checksumOk: true });
    expectSameBytes(m.data, data);
    expect(iface(h).counters.arpQueueFull).toBe(0);
  });

  it('an entry expires after its lifetime and is resolved again', () => {
    const h = harness({ entryLifetimeMs: 60_000 });
    h.inject(pingFrom(OTHER, OTHER_MAC));
    h.inject(isAt(OTHER, OTHER_MAC));
    h.sent();
    h.now = 60_000;
    h.inject(pingFrom(OTHER, OTHER_MAC, 2));
    expect(h.sent().map(describeFrame)).toEqual(['02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.3 tell 10.0.0.1']);
  });
});

describe('Ethernet: hostile input', () => {
  it('random frames (IPv4, ARP or anything) never throw and never count an internal error', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ kind: fc.constantFrom('ip', 'arp', 'any'), toUs: fc.boolean(), body: fc.uint8Array({ maxLength: 90 }) }),
          { maxLength: 8 },
        ),
        fc.nat(5000),
        (frames, later) => {
          const h = harness();
          h.inject(
            ...frames.map(({ kind, toUs, body }) => {
              if (kind === 'any') return body;
              const b = body.slice();
              if (kind === 'arp' && b.length >= 6) b.set([0, 1, 8, 0, 6, 4]);
              if (kind === 'ip' && b.length >= 1) b[0] = 0x45;
              return ethernet(toUs ? OUR_MAC : BROADCAST_MAC, OTHER_MAC, kind === 'arp' ? ETHERTYPE_ARP : ETHERTYPE_IPV4, b);
            }),
          );
          h.advanceTo(later);
          expect(h.stack.counters.internalErrors).toBe(0);
          expect(iface(h).counters.framesIn).toBe(frames.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an IPv4 frame with version 6 inside is a badVersion drop at the IP layer', () => {
    const h = harness();
    const p = ipv4({ src: PEER, dst: US, protocol: IP_PROTO_ICMP }, echoRequest(1, 1, pattern(8)));
    p[0] = 0x65;
    h.inject(ethernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, p));
    expect(h.sent()).toEqual([]);
    expect(h.stack.ip.counters.badVersion).toBe(1);
  });
});
