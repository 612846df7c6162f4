/**
 * Path MTU from ICMP "fragmentation needed" (RFC 1191, RFC 5927): floored as Linux floors
 * it, aged back up after 10 minutes, rate limited, and only for a sequence number in flight.
 * A forged message with MTU 68 used to set the MSS to 88 for good.
 */
import { describe, expect, it } from 'vitest';
import { IP_PROTO_ICMP, IP_PROTO_TCP } from '../../../src/ip/ipv4-packet.js';
import { icmp, ip, ipv4 } from '../../helpers/packets.js';
import { L, LOCAL_ADDR, LOCAL_PORT, R, REMOTE_ADDR, REMOTE_PORT, pattern, send, socketEstablished, type TcpHarness } from './harness.js';

const ROUTER = ip('10.7.0.254');
const TEN_MINUTES = 10 * 60 * 1000;

/** An ICMP "fragmentation needed" (type 3 code 4) from a router, quoting our segment at `seq`. */
function fragNeeded(h: TcpHarness, seq: number, mtu: number): void {
  const tcp8 = new Uint8Array(8);
  tcp8[0] = LOCAL_PORT >>> 8; tcp8[1] = LOCAL_PORT & 255;
  tcp8[2] = REMOTE_PORT >>> 8; tcp8[3] = REMOTE_PORT & 255;
  tcp8[4] = seq >>> 24; tcp8[5] = (seq >>> 16) & 255; tcp8[6] = (seq >>> 8) & 255; tcp8[7] = seq & 255;
  const quote = ipv4({ src: LOCAL_ADDR, dst: REMOTE_ADDR, protocol: IP_PROTO_TCP, dontFrag: true }, tcp8);
  h.link.inject(ipv4({ src: ROUTER, dst: LOCAL_ADDR, protocol: IP_PROTO_ICMP }, icmp({ kind: 'destUnreachable', code: 4, nextHopMtu: mtu, data: quote })));
  h.link.deliver();
  h.checkErrors();
}

/** ESTABLISHED with 2920 bytes in flight (L+1 .. L+2921) and an 80-byte tail held by Nagle. */
function inFlight(): TcpHarness {
  const h = socketEstablished();
  h.conn.send(pattern(3000), h.now);
  expect(h.takeLines()).toHaveLength(2);
  return h;
}

describe('path MTU from ICMP', () => {
  // Linux ip_rt_min_pmtu = 512 + 20 + 20 = 552: a smaller MTU in a "fragmentation needed"
  // is raised to it (__ip_rt_update_pmtu), so the MSS never goes below 512.
  it('MTU 68 quoting an in-flight sequence number lowers the MSS only to 512 (path MTU floor 552)', () => {
    const h = inFlight();
    fragNeeded(h, L(1), 68);
    expect(h.conn.snd.mss).toBe(512);
    expect(h.stack.tcp.counters.pmtuUpdates).toBe(1);
    // Resent from SND.UNA at once, in 512-byte segments (RFC 1191 §6.5, Linux tcp_simple_retransmit).
    const lines = h.takeLines();
    expect(lines[0]).toMatch(/^A seq=L\+1 ack=R\+1 win=\d+ len=512 /);
  });

  // RFC 1191 §6.3: "a host should attempt to detect increases in the PMTU ... by
  // periodically increasing its PMTU estimate"; Linux ip_rt_mtu_expires = 10 min.
  it('a lowered path MTU is raised back to what the peer allowed after 10 minutes (tried at the next send)', () => {
    const h = inFlight();
    fragNeeded(h, L(1), 1400);
    expect(h.conn.snd.mss).toBe(1360);
    expect(h.takeLines().map((l) => / len=\d+/.exec(l)![0])).toEqual([' len=1360', ' len=1360']); // resent from SND.UNA
    send(h, { flags: 'A', seq: R(1), ack: L(2921) }, { time: 50 });
    expect(h.takeLines().map((l) => / len=\d+/.exec(l)![0])).toEqual([' len=80']); // the tail Nagle held
    send(h, { flags: 'A', seq: R(1), ack: L(3001) }, { time: 60 });
    expect(h.conn.snd.una).toBe(L(3001));
    h.advance(TEN_MINUTES - 100);
    h.conn.output(h.now);
    expect(h.conn.snd.mss).toBe(1360);
    h.advance(TEN_MINUTES + 100);
    h.conn.send(pattern(3000), h.now);
    expect(h.takeLines()[0]).toMatch(/ len=1460 /);
    expect(h.conn.snd.mss).toBe(1460);
    expect(h.conn.state).toBe('ESTABLISHED');
  });

  it('ICMP may lower the path MTU at most once a second; the excess is counted tcp.pmtuRateLimited', () => {
    const h = inFlight();
    fragNeeded(h, L(1), 1400);
    expect(h.conn.snd.mss).toBe(1360);
    const resent = h.takeLines().length;
    fragNeeded(h, L(1), 1200); // each accepted decrease would resend the whole flight again
    expect(h.conn.snd.mss).toBe(1360);
    expect(h.takeLines()).toEqual([]);
    expect(h.stack.tcp.counters.pmtuRateLimited).toBe(1);
    expect(resent).toBeGreaterThan(0);
    h.advance(1000);
    h.takeLines(); // (the RTO may have fired meanwhile)
    fragNeeded(h, L(1), 1200);
    expect(h.conn.snd.mss).toBe(1160);
    expect(h.stack.tcp.counters.pmtuUpdates).toBe(2);
  });

  // RFC 5927 §4.1 (already implemented: tcp-layer.ts icmpError; a regression test).
  it.each([
    ['below SND.UNA', L(0)],
    ['at SND.MAX', L(2921)],
    ['far away', L(1) + 0x4000_0000],
  ])('an ICMP quoting a sequence number %s changes nothing', (_name, seq) => {
    const h = inFlight();
    fragNeeded(h, seq as number, 576);
    expect(h.conn.snd.mss).toBe(1460);
    expect(h.stack.tcp.counters.pmtuUpdates).toBe(0);
    expect(h.takeLines()).toEqual([]);
  });
});
