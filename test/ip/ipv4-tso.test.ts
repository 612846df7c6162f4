/**
 * The IPv4 layer's side of TCP segmentation offload, against a recording IpOutput (no
 * stack): a datagram sent with `tso` goes to the link whole, in one sendIp call that
 * carries the tso value, even past the MTU and with DF; without `tso` the same datagram
 * fails with EMSGSIZE (DF) or is fragmented; `tcpOffloadTo(dst)` says yes only for an
 * offloading output and never for our own address.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import type { Ipv4Addr } from '../../src/ip/address.js';
import { IP_PROTO_TCP } from '../../src/ip/ipv4-packet.js';
import { Ipv4Layer, MAX_IP_PAYLOAD, TX_PAYLOAD_OFFSET, type IpOutput } from '../../src/ip/ipv4-layer.js';
import { Route } from '../../src/ip/route.js';
import { expectSameBytes, ip, pattern, readIpv4 } from '../helpers/packets.js';

const US = ip('10.0.0.1');
const PEER = ip('10.0.0.2');
const FAR = ip('192.0.2.7'); // off the subnet: through the gateway
const GATEWAY = ip('10.0.0.254');
const MTU = 1500;

interface Call {
  bytes: Uint8Array;
  nextHop: Ipv4Addr;
  tso: number | undefined;
}

/** An IpOutput that copies what it is handed, with or without offload. */
class RecordingOutput implements IpOutput {
  readonly calls: Call[] = [];
  constructor(readonly tcpOffload?: boolean) {}
  sendIp(b: Uint8Array, off: number, len: number, nextHop: Ipv4Addr, _now: number, tso?: number): void {
    this.calls.push({ bytes: b.slice(off, off + len), nextHop, tso });
  }
}

function layer(tcpOffload?: boolean): { ip: Ipv4Layer; out: RecordingOutput } {
  const out = new RecordingOutput(tcpOffload);
  const route = new Route({ addr: US, prefixLen: 24, gateway: GATEWAY });
  return { ip: new Ipv4Layer(route, out, new SeededRand(1), { mtu: MTU }), out };
}

/** Puts `payload` where a transport writes it, and sends it as TCP. */
function sendTcp(l: Ipv4Layer, dst: Ipv4Addr, payload: Uint8Array, opts: Parameters<Ipv4Layer['send']>[5]) {
  l.tx.set(payload, TX_PAYLOAD_OFFSET);
  return l.send(IP_PROTO_TCP, 0, dst, payload.length, 0, opts);
}

describe('IPv4 send with TCP segmentation offload', () => {
  it('a payload larger than the MTU with tso goes out whole, with DF, in one sendIp call carrying tso', () => {
    const { ip: l, out } = layer(true);
    const payload = pattern(9000 + 32, 3);
    expect(sendTcp(l, PEER, payload, { dontFrag: true, tso: 1448 })).toBeNull();
    expect(out.calls).toHaveLength(1);
    const [call] = out.calls;
    expect(call!.tso).toBe(1448);
    expect(call!.nextHop).toBe(PEER);
    expect(call!.bytes.length).toBe(20 + payload.length);
    expect(call!.bytes.length).toBeGreaterThan(MTU);
    const d = readIpv4(call!.bytes); // checks the header checksum by the naive reference
    expect(d.repr).toMatchObject({
      src: US, dst: PEER, protocol: IP_PROTO_TCP, dontFrag: true, moreFrags: false, fragOffset: 0, payloadLen: payload.length,
    });
    expectSameBytes(d.payload, payload);
    expect(l.counters).toMatchObject({ sent: 1, outTooBig: 0, fragmentsSent: 0 });
  });

  it('the same payload without tso fails with EMSGSIZE under DF, counted outTooBig, and nothing is sent', () => {
    const { ip: l, out } = layer(true);
    expect(sendTcp(l, PEER, pattern(9032), { dontFrag: true })).toBe('EMSGSIZE');
    expect(sendTcp(l, PEER, pattern(9032), { dontFrag: true, tso: 0 })).toBe('EMSGSIZE');
    expect(out.calls).toEqual([]);
    expect(l.counters).toMatchObject({ sent: 0, outTooBig: 2 });
  });

  it('without tso and without DF it is fragmented, and no fragment carries a tso value', () => {
    const { ip: l, out } = layer(true);
    expect(sendTcp(l, PEER, pattern(4000), {})).toBeNull();
    expect(out.calls.length).toBe(3); // 1480 + 1480 + 1040
    for (const c of out.calls) {
      expect(c.bytes.length).toBeLessThanOrEqual(MTU);
      expect(c.tso ?? 0).toBe(0);
    }
    expect(l.counters).toMatchObject({ sent: 1, fragmentsSent: 3, outTooBig: 0 });
  });

  it('a datagram that fits the MTU passes tso along too (the device completes its checksum)', () => {
    const { ip: l, out } = layer(true);
    expect(sendTcp(l, PEER, pattern(100), { dontFrag: true, tso: 1448 })).toBeNull();
    expect(out.calls.map((c) => [c.bytes.length, c.tso])).toEqual([[120, 1448]]);
  });

  it('off the subnet it goes whole to the gateway', () => {
    const { ip: l, out } = layer(true);
    expect(sendTcp(l, FAR, pattern(20000), { dontFrag: true, tso: 1448 })).toBeNull();
    expect(out.calls.map((c) => [c.bytes.length, c.nextHop, c.tso])).toEqual([[20020, GATEWAY, 1448]]);
  });

  it('tso does not lift the 64 KiB limit of an IPv4 datagram', () => {
    const { ip: l, out } = layer(true);
    expect(sendTcp(l, PEER, pattern(MAX_IP_PAYLOAD), { dontFrag: true, tso: 1448 })).toBeNull();
    expect(out.calls[0]!.bytes.length).toBe(65535);
    expect(readIpv4(out.calls[0]!.bytes).repr.payloadLen).toBe(MAX_IP_PAYLOAD);
    expect(l.send(IP_PROTO_TCP, 0, PEER, MAX_IP_PAYLOAD + 1, 0, { dontFrag: true, tso: 1448 })).toBe('EMSGSIZE');
    expect(out.calls).toHaveLength(1);
    expect(l.counters.outTooBig).toBe(1);
  });

  it('to our own address tso is ignored: the datagram is looped back, never handed to the link', () => {
    const { ip: l, out } = layer(true);
    expect(sendTcp(l, US, pattern(3000), { dontFrag: true, tso: 1448 })).toBeNull();
    expect(out.calls).toEqual([]);
    expect(l.counters.loopback).toBe(1);
  });
});

describe('tcpOffloadTo(dst)', () => {
  it('is true for other hosts on an offloading output, on and off the subnet', () => {
    const { ip: l } = layer(true);
    expect(l.tcpOffloadTo(PEER)).toBe(true);
    expect(l.tcpOffloadTo(FAR)).toBe(true);
  });

  it('is false for our own address (loopback verifies checksums)', () => {
    expect(layer(true).ip.tcpOffloadTo(US)).toBe(false);
  });

  it('is false when the output has no tcpOffload, or says false', () => {
    for (const off of [undefined, false]) {
      const { ip: l } = layer(off);
      expect(l.tcpOffloadTo(PEER)).toBe(false);
      expect(l.tcpOffloadTo(FAR)).toBe(false);
      expect(l.tcpOffloadTo(US)).toBe(false);
    }
  });
});
