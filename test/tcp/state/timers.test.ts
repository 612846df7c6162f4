/**
 * Timers in ESTABLISHED: retransmission (RFC 6298), zero-window probes (RFC 9293 §3.8.6.1,
 * RFC 1122 §4.2.2.17) and keepalive (RFC 1122 §4.2.3.6), all on the manual clock.
 */
import { describe, expect, it } from 'vitest';
import {
  L, LOCAL_WIN, R, RTO_AFTER_HANDSHAKE, bytes, pattern, recv, recvNothing, send, socketEstablished, type TcpHarness, dataMss, tsText,
} from './harness.js';

/** The retransmission timer alone: no tail loss probe (it needs SACK; RFC 8985 §7). */
const NO_TLP = { tcp: { sack: false } };
const MAX_RTO = 120_000; // RFC 6298 (2.5) allows a cap of at least 60 s; Linux uses 120 s

describe('ESTABLISHED: retransmission (RFC 6298)', () => {
  // The retransmission timer alone: with SACK a tail loss probe (RFC 8985 §7) goes first,
  // which the tlp-*.pkt scripts test.
  it('retransmits unacknowledged data after the RTO, doubling it each time (5.4, 5.5)', () => {
    const h = socketEstablished(NO_TLP);
    h.conn.send(bytes('hello'), h.now);
    const seg = { flags: 'PA', seq: L(1), ack: R(1), payload: 'hello' };
    recv(h, [seg]);
    let t = 0;
    let rto = RTO_AFTER_HANDSHAKE;
    for (let i = 1; i <= 5; i++) {
      expect(h.pollAt(), `timeout ${i}`).toBe(t + rto);
      recvNothing(h, { time: t + rto - 1 });
      t += rto;
      recv(h, [seg], { time: t });
      rto *= 2;
    }
    expect(h.conn.stats.retransmits).toBe(5);
    // The ACK ends it: RFC 6298 (5.2) the timer stops when everything is acknowledged.
    send(h, { flags: 'A', seq: R(1), ack: L(6) }, { time: t + 5 });
    expect(h.pollAt()).toBeUndefined();
    expect(h.conn.state).toBe('ESTABLISHED');
  });

  it('gives up after maxRetries (15) retransmissions with ETIMEDOUT; the RTO is capped at 120 s', () => {
    const h = socketEstablished(NO_TLP);
    h.conn.send(bytes('x'), h.now);
    const seg = { flags: 'PA', seq: L(1), ack: R(1), payload: 'x' };
    recv(h, [seg]);
    let t = 0;
    let rto = RTO_AFTER_HANDSHAKE;
    for (let i = 1; i <= 15; i++) {
      expect(h.pollAt(), `timeout ${i}`).toBe(t + rto);
      t += rto;
      recv(h, [seg], { time: t });
      rto = Math.min(2 * rto, MAX_RTO);
    }
    expect(rto).toBe(MAX_RTO);
    recvNothing(h, { time: t + rto - 1 });
    expect(h.conn.state).toBe('ESTABLISHED');
    recvNothing(h, { time: t + rto });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ETIMEDOUT');
    expect(h.pollAt()).toBeUndefined();
  });

  it('the limit follows config.maxRetries', () => {
    const h = socketEstablished({ tcp: { maxRetries: 2, sack: false } });
    h.conn.send(bytes('x'), h.now);
    h.takeLines();
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'x' }], { time: 200 });
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'x' }], { time: 600 });
    recvNothing(h, { time: 1400 });
    expect(h.conn.error).toBe('ETIMEDOUT');
  });

  it('after a timeout only one segment is resent (loss window, RFC 5681 §3.1); the rest follow the ACKs', () => {
    const h = socketEstablished(NO_TLP);
    const m = dataMss();
    const data = pattern(3 * m);
    h.conn.send(data, h.now);
    const seg = (i: number, flags = 'A') => ({ flags, seq: L(1 + i * m), ack: R(1), payload: data.subarray(i * m, (i + 1) * m) });
    recv(h, [seg(0), seg(1), seg(2, 'PA')]);
    recv(h, [seg(0)], { time: 200 });
    send(h, { flags: 'A', seq: R(1), ack: L(1 + m) }, { time: 250 });
    recv(h, [seg(1), seg(2, 'PA')]);
    send(h, { flags: 'A', seq: R(1), ack: L(1 + data.length) }, { time: 300 });
    recvNothing(h, { time: 2000 });
  });

  // RFC 6298 (5.7) aside, §5: a backed-off RTO stays until a new RTT sample, and Karn's
  // algorithm takes no sample from a retransmitted segment.
  // (Without timestamps: with them every ACK of new data measures, retransmissions too,
  // RFC 7323 §4.1; timestamps.test.ts covers which echoes may.)
  it('Karn: the ACK of a retransmission takes no RTT sample, so the backed-off RTO stays', () => {
    const h = socketEstablished({ tcp: { timestamps: false, sack: false } });
    h.conn.opts.nodelay = true;
    h.conn.send(bytes('a'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'a' }]);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'a' }], { time: 200 });
    send(h, { flags: 'A', seq: R(1), ack: L(2) }, { time: 250 });
    h.conn.send(bytes('b'), 300);
    recv(h, [{ flags: 'PA', seq: L(2), ack: R(1), payload: 'b' }], { time: 300 });
    expect(h.pollAt()).toBe(300 + 2 * RTO_AFTER_HANDSHAKE);
    // 'b' was sent once: its ACK is a valid 50 ms sample, and the backoff collapses:
    // SRTT = 50/8, RTTVAR = 50/4, RTO = SRTT + max(4*RTTVAR, 200) = 206.25, not doubled.
    send(h, { flags: 'A', seq: R(1), ack: L(3) }, { time: 350 });
    h.conn.send(bytes('c'), 400);
    recv(h, [{ flags: 'PA', seq: L(3), ack: R(1), payload: 'c' }], { time: 400 });
    expect(h.pollAt()).toBe(400 + 206.25);
  });
});

/** Peer closes its window at time 0; we then have `data` queued. */
function zeroWindow(data = 'hello'): TcpHarness {
  const h = socketEstablished();
  send(h, { flags: 'A', seq: R(1), ack: L(1), win: 0 });
  h.conn.send(bytes(data), h.now);
  recvNothing(h);
  return h;
}

const PROBE = { flags: 'A', seq: L(0), ack: R(1) }; // SEG.SEQ = SND.UNA - 1: the peer must ACK it

describe('ESTABLISHED: zero window (persist timer)', () => {
  it('sends nothing into a zero window; the first probe comes after one RTO', () => {
    const h = zeroWindow();
    expect(h.pollAt()).toBe(RTO_AFTER_HANDSHAKE);
    recvNothing(h, { time: RTO_AFTER_HANDSHAKE - 1 });
    recv(h, [PROBE], { time: RTO_AFTER_HANDSHAKE });
    expect(h.conn.stats.zeroWindowProbes).toBe(1);
  });

  // RFC 9293 §3.8.6.1: "SHOULD increase exponentially the interval between successive probes"
  it('unanswered probes back off exponentially: 200, 600, 1400, 3000 ms', () => {
    const h = zeroWindow();
    for (const t of [200, 600, 1400, 3000]) {
      expect(h.pollAt()).toBe(t);
      recvNothing(h, { time: t - 1 });
      recv(h, [PROBE], { time: t });
    }
  });

  it('probes answered with a zero window still back off exponentially: 200, 600, 1400, 3000 ms (RFC 9293 §3.8.6.1)', () => {
    const h = zeroWindow();
    for (const t of [200, 600, 1400, 3000]) {
      expect(h.pollAt(), `probe due at ${t}`).toBe(t);
      recv(h, [PROBE], { time: t });
      send(h, { flags: 'A', seq: R(1), ack: L(1), win: 0 }, { time: t + 1 });
      recvNothing(h);
    }
  });

  // RFC 1122 §4.2.2.17: "As long as the receiving TCP continues to send acknowledgments in
  // response to the probe segments, the sending TCP MUST allow the connection to stay open."
  it('the connection stays open indefinitely while probes are answered', () => {
    const h = zeroWindow();
    for (let i = 0; i < 25; i++) {
      const t = h.pollAt()!;
      recv(h, [PROBE], { time: t });
      send(h, { flags: 'A', seq: R(1), ack: L(1), win: 0 }, { time: t + 1 });
    }
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.conn.stats.zeroWindowProbes).toBe(25);
  });

  it('unanswered probes end with ETIMEDOUT after maxRetries', () => {
    const h = zeroWindow();
    let n = 0;
    while (h.conn.state === 'ESTABLISHED') {
      const t = h.pollAt()!;
      h.advance(t);
      if (h.conn.state === 'ESTABLISHED') {
        expect(h.takeLines()).toEqual([`A seq=L+0 ack=R+1 win=8192${tsText()}`]);
        n++;
      }
      if (n > 100) break;
    }
    expect(n).toBe(15);
    expect(h.conn.error).toBe('ETIMEDOUT');
    expect(h.takeLines()).toEqual([]);
  });

  it('sending resumes as soon as the window opens', () => {
    const h = zeroWindow();
    recv(h, [PROBE], { time: 200 });
    send(h, { flags: 'A', seq: R(1), ack: L(1), win: 4000 }, { time: 250 });
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'hello' }]);
    expect(h.pollAt()).toBe(250 + RTO_AFTER_HANDSHAKE); // the retransmission timer, no more probes
    send(h, { flags: 'A', seq: R(1), ack: L(6), win: 4000 }, { time: 260 });
    expect(h.pollAt()).toBeUndefined();
  });

  it('a window smaller than the data: what fits goes, the rest waits for more window', () => {
    const h = socketEstablished();
    send(h, { flags: 'A', seq: R(1), ack: L(1), win: 3 });
    h.conn.send(bytes('hello'), h.now);
    // Sender SWS avoidance (RFC 1122 §4.2.3.4): 3 bytes is the peer's whole window (>= max/2).
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), payload: 'hel' }]);
    send(h, { flags: 'A', seq: R(1), ack: L(4), win: 3 }, { time: 10 });
    recv(h, [{ flags: 'PA', seq: L(4), ack: R(1), payload: 'lo' }]);
  });
});

function keepaliveConn(): TcpHarness {
  const h = socketEstablished();
  const c = h.conn;
  c.opts.keepalive = true;
  c.opts.keepIdleMs = 10_000;
  c.opts.keepIntvlMs = 1000;
  c.opts.keepCnt = 3;
  c.armKeepalive(h.now);
  return h;
}

// RFC 1122 §4.2.3.6: a probe is SEG.SEQ = SND.NXT-1 with no data, sent after an idle interval.
const KEEPALIVE = { flags: 'A', seq: L(0), ack: R(1) };

describe('ESTABLISHED: keepalive (RFC 1122 §4.2.3.6)', () => {
  it('probes after keepIdleMs of silence, then every keepIntvlMs, and dies with ETIMEDOUT after keepCnt', () => {
    const h = keepaliveConn();
    expect(h.pollAt()).toBe(10_000);
    recvNothing(h, { time: 9_999 });
    recv(h, [KEEPALIVE], { time: 10_000 });
    recvNothing(h, { time: 10_999 });
    recv(h, [KEEPALIVE], { time: 11_000 });
    recv(h, [KEEPALIVE], { time: 12_000 });
    expect(h.conn.stats.keepaliveProbes).toBe(3);
    recvNothing(h, { time: 12_999 });
    expect(h.conn.state).toBe('ESTABLISHED');
    // The end is a RST, as on Linux (tcp_keepalive_timer): a peer that is alive but
    // unreachable one way learns the connection is gone.
    recv(h, [{ flags: 'RA', seq: L(1), ack: R(1) }], { time: 13_000 });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ETIMEDOUT');
  });

  it('an answered probe starts a new idle period', () => {
    const h = keepaliveConn();
    recv(h, [KEEPALIVE], { time: 10_000 });
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 10_050 });
    recvNothing(h);
    expect(h.pollAt()).toBe(20_050);
    recvNothing(h, { time: 20_049 });
    recv(h, [KEEPALIVE], { time: 20_050 });
    expect(h.conn.state).toBe('ESTABLISHED');
  });

  it('any segment from the peer restarts the idle time', () => {
    const h = keepaliveConn();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'hi' }, { time: 5000 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(3), win: LOCAL_WIN - 2 }], { time: 5040 });
    expect(h.pollAt()).toBe(15_000);
    recvNothing(h, { time: 14_999 });
    recv(h, [{ flags: 'A', seq: L(0), ack: R(3), win: LOCAL_WIN - 2 }], { time: 15_000 });
  });

  it('is off unless enabled', () => {
    const h = socketEstablished();
    expect(h.pollAt()).toBeUndefined();
    recvNothing(h, { time: 3 * 60 * 60 * 1000 });
    expect(h.conn.state).toBe('ESTABLISHED');
  });
});
