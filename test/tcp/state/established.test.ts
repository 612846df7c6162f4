/**
 * ESTABLISHED: RFC 9293 §3.10.7.4 step by step (acceptability, RST with RFC 5961 §3,
 * SYN with RFC 5961 §4, ACK with RFC 5961 §5, text, FIN), receiving (delayed ACK,
 * out of order, duplicates, overlap, a full window) and sending (Nagle, abort).
 */
import { describe, expect, it } from 'vitest';
import {
  L, LOCAL_WIN, R, REMOTE_SYN, bytes, pattern, recv, recvNothing, send, socketEstablished, socketListen, text, dataMss,
} from './harness.js';
import { Timer } from '../../../src/tcp/timers.js';

describe('ESTABLISHED: acceptability (RFC 9293 §3.10.7.4 first)', () => {
  // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply
  // (unless the RST bit is set ...): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"
  it('a segment entirely before RCV.NXT is answered with an ACK and dropped', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(-9), ack: L(1), payload: 'old' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.readable()).toBe(0);
  });

  it('a segment beyond the window is answered with an ACK and dropped', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1 + LOCAL_WIN), ack: L(1), payload: 'far' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.readable()).toBe(0);
    expect(h.conn.rcv.ooo.isEmpty()).toBe(true);
  });

  it('a peer\'s keepalive probe (SEG.SEQ = RCV.NXT-1, no data) is answered with an ACK', () => {
    const h = socketEstablished();
    send(h, { flags: 'A', seq: R(0), ack: L(1) }, { time: 5000 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    // BSD-style probe with one garbage byte, already acknowledged.
    send(h, { flags: 'A', seq: R(0), ack: L(1), payload: 'g' }, { time: 6000 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.readable()).toBe(0);
    expect(h.conn.state).toBe('ESTABLISHED');
  });
});

describe('ESTABLISHED: RST (RFC 9293 §3.10.7.4 second, RFC 5961 §3.2)', () => {
  // "If the RST bit is set and the sequence number exactly matches the next expected
  // sequence number (RCV.NXT), then TCP endpoints MUST reset the connection"
  it('an exact RST resets the connection: ECONNRESET, CLOSED, nothing sent', () => {
    const h = socketEstablished();
    send(h, { flags: 'R', seq: R(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ECONNRESET');
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.stack.tcp.counters.estabResets).toBe(1);
  });

  it('an exact RST with ACK resets too, after data moved RCV.NXT across 2^32', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'twenty bytes of data' });
    send(h, { flags: 'RA', seq: R(21), ack: L(1) });
    recvNothing(h);
    expect(h.conn.error).toBe('ECONNRESET');
  });

  // "If the RST bit is set and the sequence number does not exactly match the next expected
  // sequence value, yet is within the current receive window, TCP endpoints MUST send an
  // acknowledgment (challenge ACK)"
  it('an in-window RST that is not exact gets a challenge ACK; the connection survives', () => {
    const h = socketEstablished();
    send(h, { flags: 'R', seq: R(2) });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    // RFC 5961 §7: at most one challenge ACK per connection per 500 ms (CHALLENGE_ACK_INTERVAL_MS).
    send(h, { flags: 'RA', seq: R(LOCAL_WIN), ack: L(1) }, { time: 499 });
    recvNothing(h, { time: 499 });
    send(h, { flags: 'RA', seq: R(LOCAL_WIN), ack: L(1) }, { time: 500 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.conn.error).toBeNull();
    expect(h.conn.stats.challengeAcks).toBe(2);
    // The legitimate peer answers the challenge with an exact RST.
    send(h, { flags: 'R', seq: R(1) });
    expect(h.conn.error).toBe('ECONNRESET');
  });

  // "If the RST bit is set and the sequence number is outside the current receive window,
  // silently drop the segment."
  it('a RST outside the window is dropped silently', () => {
    const h = socketEstablished();
    send(h, { flags: 'R', seq: R(0) });
    send(h, { flags: 'R', seq: R(1 + LOCAL_WIN) });
    recvNothing(h);
    expect(h.conn.state).toBe('ESTABLISHED');
  });
});

describe('ESTABLISHED: SYN (RFC 5961 §4.2)', () => {
  // "If the SYN bit is set, irrespective of the sequence number, TCP MUST send an ACK
  // (also referred to as challenge ACK) to the remote peer"
  it('an in-window SYN gets a challenge ACK and changes nothing', () => {
    const h = socketEstablished();
    send(h, { flags: 'S', seq: R(100), mss: 1460 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.conn.stats.challengeAcks).toBe(1);
  });

  it('a retransmitted old SYN (at IRS) gets an ACK', () => {
    const h = socketEstablished();
    send(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 0 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
  });

  it('a SYN-ACK in ESTABLISHED gets an ACK and changes nothing', () => {
    const h = socketEstablished();
    send(h, { flags: 'SA', seq: R(5), ack: L(1) });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
  });
});

describe('ESTABLISHED: ACK (RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2)', () => {
  // "If the ACK acknowledges something not yet sent (SEG.ACK > SND.NXT), then send an ACK,
  // drop the segment, and return."
  it('an ACK beyond SND.NXT gets an ACK; its data is dropped', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(10), payload: 'abc' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.readable()).toBe(0);
    expect(h.conn.snd.una).toBe(L(1));
  });

  // RFC 5961 §5.2: acceptable iff (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT.
  it('an ACK older than SND.UNA - MAX.SND.WND gets a challenge ACK; its data is dropped', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1 - 65536), payload: 'abc' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.readable()).toBe(0);
  });

  // "If the ACK is a duplicate (SEG.ACK =< SND.UNA), it can be ignored."
  it('an old ACK within MAX.SND.WND is ignored; its data is taken', () => {
    const h = socketEstablished();
    send(h, { flags: 'A', seq: R(1), ack: L(0) });
    recvNothing(h);
    send(h, { flags: 'PA', seq: R(1), ack: L(-100), payload: 'abc' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(4), win: LOCAL_WIN - 3 }], { time: 40 });
    expect(text(h.conn.read(10, h.now))).toBe('abc');
  });

  it('a segment without ACK is dropped', () => {
    const h = socketEstablished();
    send(h, { flags: 'P', seq: R(1), payload: 'abc' });
    recvNothing(h, { time: 1000 });
    expect(h.conn.readable()).toBe(0);
  });

  it('an ACK of new data frees the send buffer and stops the retransmission timer', () => {
    const h = socketEstablished();
    h.conn.send(bytes('hello'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'hello' }]);
    expect(h.pollAt()).toBe(200);
    send(h, { flags: 'A', seq: R(1), ack: L(3) }, { time: 10 });
    expect(h.conn.snd.buf.length).toBe(3);
    // RFC 6298 (5.3): restarted, one RTO from now (with timestamps this ACK is also an RTT
    // sample of 10 ms: RTO = SRTT + max(4*RTTVAR, 200) = 1.25 + 200).
    expect(h.pollAt()).toBe(10 + (h.conn.ts.ok ? 201.25 : 200));
    send(h, { flags: 'A', seq: R(1), ack: L(6) }, { time: 20 });
    expect(h.conn.snd.buf.length).toBe(0);
    expect(h.pollAt()).toBeUndefined(); // RFC 6298 (5.2): stopped
    recvNothing(h, { time: 1000 });
  });

  // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If (SND.WL1 <
  // SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK))"
  it('the send window follows the newest segment only', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), win: 1000, payload: 'abc' });
    expect(h.conn.snd.wnd).toBe(1000);
    send(h, { flags: 'A', seq: R(4), ack: L(1), win: 3000 }); // SND.WL1 < SEG.SEQ
    expect(h.conn.snd.wnd).toBe(3000);
    h.conn.send(bytes('hello'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(4), win: LOCAL_WIN - 3, payload: 'hello' }]);
    send(h, { flags: 'A', seq: R(4), ack: L(6), win: 2000 }); // same SEG.SEQ, SND.WL2 < SEG.ACK
    expect(h.conn.snd.wnd).toBe(2000);
    // A reordered older segment (SEG.ACK < SND.UNA) must not shrink the window.
    send(h, { flags: 'A', seq: R(4), ack: L(3), win: 10 });
    expect(h.conn.snd.wnd).toBe(2000);
    recvNothing(h, { time: 40 }); // (the data 'abc' was ACKed by 'hello')
  });
});

describe('ESTABLISHED: receiving text (seventh step)', () => {
  // RFC 1122 §4.2.3.2: delayed ACK (< 0.5 s; 40 ms here), "in a stream of full-sized
  // segments there SHOULD be an ACK for at least every second segment."
  it('in-order data is acknowledged after the delayed-ACK time (40 ms)', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abcdef' });
    expect(h.pollAt()).toBe(40);
    recvNothing(h, { time: 39 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(7), win: LOCAL_WIN - 6 }], { time: 40 });
    expect(text(h.conn.read(100, h.now))).toBe('abcdef');
    expect(h.pollAt()).toBeUndefined();
  });

  it('the delayed-ACK time follows config.delayedAckMs', () => {
    const h = socketEstablished({ tcp: { delayedAckMs: 100 } });
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' }, { time: 5 });
    recvNothing(h, { time: 104 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(4), win: LOCAL_WIN - 3 }], { time: 105 });
  });

  it('a second small segment does not restart the delayed-ACK timer', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' });
    send(h, { flags: 'PA', seq: R(4), ack: L(1), payload: 'def' }, { time: 30 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(7), win: LOCAL_WIN - 6 }], { time: 40 });
  });

  it('every second full-sized segment is acknowledged at once', () => {
    const h = socketEstablished();
    const data = pattern(4 * 1460);
    const seg = (i: number) => ({ flags: 'A', seq: R(1 + i * 1460), ack: L(1), payload: data.subarray(i * 1460, (i + 1) * 1460) });
    send(h, seg(0));
    recvNothing(h);
    send(h, seg(1), { time: 1 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + 2920), win: LOCAL_WIN - 2920 }]);
    send(h, seg(2), { time: 2 });
    recvNothing(h);
    send(h, seg(3), { time: 3 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + 5840), win: LOCAL_WIN - 5840 }]);
    recvNothing(h, { time: 100 });
    expect(h.conn.read(10000, h.now)).toEqual(data);
  });

  // RFC 5681 §4.2: "an immediate ACK SHOULD be generated when an out-of-order segment
  // arrives" and "when the incoming segment fills in all or part of a gap".
  it('out-of-order data gets an immediate duplicate ACK; filling the hole delivers everything', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(7), ack: L(1), payload: 'ghi' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.readable()).toBe(0);
    send(h, { flags: 'PA', seq: R(13), ack: L(1), payload: 'mno' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abcdef' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(10), win: LOCAL_WIN - 9 }]);
    expect(text(h.conn.read(100, h.now))).toBe('abcdefghi');
    send(h, { flags: 'PA', seq: R(10), ack: L(1), payload: 'jkl' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(16), win: LOCAL_WIN - 15 }]);
    expect(text(h.conn.read(100, h.now))).toBe('jklmno');
    expect(h.conn.stats.oooSegments).toBe(2);
  });

  it('a duplicate segment is dropped and acknowledged at once', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abcdef' });
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abcdef' }, { time: 10 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(7), win: LOCAL_WIN - 6 }]);
    recvNothing(h, { time: 100 }); // the immediate ACK replaced the delayed one
    expect(text(h.conn.read(100, h.now))).toBe('abcdef');
  });

  // "If a segment's contents straddle the boundary between old and new, only the new parts
  // are processed."
  it('a partly old segment is trimmed to its new part', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abcdef' });
    send(h, { flags: 'PA', seq: R(4), ack: L(1), payload: 'DEFghi' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(10), win: LOCAL_WIN - 9 }], { time: 40 });
    expect(text(h.conn.read(100, h.now))).toBe('abcdefghi');
  });

  it('an out-of-order segment overlapping a held one is merged', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(5), ack: L(1), payload: 'efgh' });
    send(h, { flags: 'PA', seq: R(3), ack: L(1), payload: 'CDEF' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }, { flags: 'A', seq: L(1), ack: R(1) }]);
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'ab' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(9), win: LOCAL_WIN - 8 }]);
    expect(text(h.conn.read(100, h.now))).toBe('abCDEFgh');
  });

  it('a full receive buffer: data beyond the window is trimmed, the window reaches 0, a read reopens it', () => {
    const h = socketEstablished();
    const data = pattern(6 * 1460);
    for (let i = 0; i < 6; i++) send(h, { flags: 'A', seq: R(1 + i * 1460), ack: L(1), payload: data.subarray(i * 1460, (i + 1) * 1460) });
    recv(h, [
      { flags: 'A', seq: L(1), ack: R(1 + 2920), win: LOCAL_WIN - 2920 },
      { flags: 'A', seq: L(1), ack: R(1 + 5840), win: LOCAL_WIN - 5840 },
    ]);
    // The sixth segment was cut at the window's right edge (R+1+8192).
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 0 }], { time: 40 });
    expect(h.conn.readable()).toBe(LOCAL_WIN);
    // RFC 1122 §4.2.3.3: the window update goes out when the application reads.
    expect(h.conn.read(LOCAL_WIN, h.now)).toEqual(data.subarray(0, LOCAL_WIN));
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: LOCAL_WIN }]);
    // The peer resends the cut-off tail.
    send(h, { flags: 'PA', seq: R(1 + LOCAL_WIN), ack: L(1), payload: data.subarray(LOCAL_WIN) }, { time: 50 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + data.length), win: LOCAL_WIN - (data.length - LOCAL_WIN) }], { time: 90 });
  });

  // RFC 1122 §4.2.3.3 (receiver SWS avoidance): the window moves only by
  // min(RCV.BUFF/2, MSS) or more; a small read sends no update.
  it('after a full window, a small read sends no window update; a read of an MSS or more does', () => {
    const h = socketEstablished();
    const data = pattern(LOCAL_WIN);
    for (let i = 0; i * 1460 < LOCAL_WIN; i++) {
      send(h, { flags: 'A', seq: R(1 + i * 1460), ack: L(1), payload: data.subarray(i * 1460, Math.min(LOCAL_WIN, (i + 1) * 1460)) });
    }
    h.takeLines();
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 0 }], { time: 40 });
    expect(h.conn.read(1000, h.now)).toEqual(data.subarray(0, 1000));
    recvNothing(h);
    expect(h.conn.read(1000, h.now)).toEqual(data.subarray(1000, 2000));
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 2000 }]);
  });

  // RFC 9293 §3.10.7.4: "If the RCV.WND is zero, no segments will be acceptable, but special
  // allowance should be made to accept valid ACKs, URGs, and RSTs", and "If an incoming
  // segment is not acceptable, an acknowledgment should be sent in reply". RFC 1122
  // §4.2.2.17: the prober keeps the connection open only as long as probes are ACKed.
  it('with our window at zero, a zero-window probe carrying data is answered with an ACK (window 0) (RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.17)', () => {
    const h = socketEstablished();
    const data = pattern(LOCAL_WIN);
    for (let i = 0; i * 1460 < LOCAL_WIN; i++) {
      send(h, { flags: 'A', seq: R(1 + i * 1460), ack: L(1), payload: data.subarray(i * 1460, Math.min(LOCAL_WIN, (i + 1) * 1460)) });
    }
    recv(h, [
      { flags: 'A', seq: L(1), ack: R(1 + 2920), win: LOCAL_WIN - 2920 },
      { flags: 'A', seq: L(1), ack: R(1 + 5840), win: LOCAL_WIN - 5840 },
    ]);
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 0 }], { time: 40 });
    send(h, { flags: 'A', seq: R(1 + LOCAL_WIN), ack: L(1), payload: 'x' }, { time: 500 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 0 }]);
    expect(h.conn.readable()).toBe(LOCAL_WIN);
  });

  it('with our window at zero, a Linux-style probe (SEG.SEQ = RCV.NXT-1, no data) is answered with an ACK', () => {
    const h = socketEstablished();
    const data = pattern(LOCAL_WIN);
    for (let i = 0; i * 1460 < LOCAL_WIN; i++) {
      send(h, { flags: 'A', seq: R(1 + i * 1460), ack: L(1), payload: data.subarray(i * 1460, Math.min(LOCAL_WIN, (i + 1) * 1460)) });
    }
    h.takeLines();
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 0 }], { time: 40 });
    send(h, { flags: 'A', seq: R(LOCAL_WIN), ack: L(1) }, { time: 500 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 0 }]);
  });
});

describe('ESTABLISHED: FIN (eighth step)', () => {
  // "ESTABLISHED STATE: Enter the CLOSE-WAIT state." and "advance RCV.NXT over the FIN,
  // and send an acknowledgment for the FIN."
  it('a FIN moves to CLOSE-WAIT, is acknowledged at once, and reads as EOF', () => {
    const h = socketEstablished();
    send(h, { flags: 'FA', seq: R(1), ack: L(1) });
    // The FIN takes one sequence number of the window; the right edge does not move.
    recv(h, [{ flags: 'A', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('CLOSE-WAIT');
    expect(h.conn.atEof()).toBe(true);
    expect(h.conn.read(10, h.now)).toBeNull();
  });

  it('data with FIN: the ACK covers both; EOF after the data is read', () => {
    const h = socketEstablished();
    send(h, { flags: 'FPA', seq: R(1), ack: L(1), payload: 'bye' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(5), win: LOCAL_WIN - 4 }]);
    expect(h.conn.state).toBe('CLOSE-WAIT');
    expect(h.conn.atEof()).toBe(false);
    expect(text(h.conn.read(10, h.now))).toBe('bye');
    expect(h.conn.atEof()).toBe(true);
  });

  it('a FIN after a gap waits for the gap to fill', () => {
    const h = socketEstablished();
    send(h, { flags: 'FPA', seq: R(4), ack: L(1), payload: 'def' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(8), win: LOCAL_WIN - 7 }]);
    expect(h.conn.state).toBe('CLOSE-WAIT');
    expect(text(h.conn.read(10, h.now))).toBe('abcdef');
    expect(h.conn.atEof()).toBe(true);
  });

  it('a FIN beyond the window is not taken', () => {
    const h = socketEstablished();
    send(h, { flags: 'FA', seq: R(1 + LOCAL_WIN), ack: L(1) });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
  });
});

describe('ESTABLISHED: sending', () => {
  it('sends data at once with PSH on the last segment, split at the MSS', () => {
    const h = socketEstablished();
    const data = pattern(3000);
    const m = dataMss();
    h.conn.opts.nodelay = true;
    h.conn.send(data, h.now);
    recv(h, [
      { flags: 'A', seq: L(1), ack: R(1), payload: data.subarray(0, m) },
      { flags: 'A', seq: L(1 + m), ack: R(1), payload: data.subarray(m, 2 * m) },
      { flags: 'PA', seq: L(1 + 2 * m), ack: R(1), payload: data.subarray(2 * m) },
    ]);
  });

  // RFC 9293 §3.7.4 / RFC 1122 §4.2.3.4 (Nagle): a small segment waits while data is unacknowledged.
  it('Nagle: a second small write waits for the ACK of the first', () => {
    const h = socketEstablished();
    h.conn.send(bytes('a'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'a' }]);
    h.conn.send(bytes('b'), h.now);
    h.conn.send(bytes('c'), h.now);
    recvNothing(h, { time: 100 });
    send(h, { flags: 'A', seq: R(1), ack: L(2) }, { time: 150 });
    recv(h, [{ flags: 'PA', seq: L(2), ack: R(1), payload: 'bc' }]);
  });

  it('Nagle: a full-sized segment goes at once; only the small tail waits', () => {
    const h = socketEstablished();
    h.conn.send(bytes('a'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'a' }]);
    const m = dataMss();
    const data = pattern(m + 1);
    h.conn.send(data, h.now);
    recv(h, [{ flags: 'A', seq: L(2), ack: R(1), payload: data.subarray(0, m) }]);
    send(h, { flags: 'A', seq: R(1), ack: L(2) }, { time: 10 });
    recvNothing(h); // still a full segment unacknowledged
    send(h, { flags: 'A', seq: R(1), ack: L(2 + m) }, { time: 20 });
    recv(h, [{ flags: 'PA', seq: L(2 + m), ack: R(1), payload: data.subarray(m) }]);
  });

  it('TCP_NODELAY: small writes go at once', () => {
    const h = socketEstablished();
    h.conn.opts.nodelay = true;
    h.conn.send(bytes('a'), h.now);
    h.conn.send(bytes('b'), h.now);
    recv(h, [
      { flags: 'PA', seq: L(1), ack: R(1), payload: 'a' },
      { flags: 'PA', seq: L(2), ack: R(1), payload: 'b' },
    ]);
  });

  it('an ACK owed to the peer rides on outgoing data', () => {
    const h = socketEstablished();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'ping' });
    h.conn.send(bytes('pong'), h.now + 5);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(5), win: LOCAL_WIN - 4, payload: 'pong' }]);
    recvNothing(h, { time: 100 }); // no separate delayed ACK
  });

  // RFC 5681 §3.2: the third duplicate ACK triggers a retransmission of the missing segment
  // without waiting for the timer; the full ACK ends recovery (RFC 6582).
  // Without SACK (NewReno, RFC 6582): with SACK, RACK decides (sack-recovery.ts and the rack-*.pkt scripts).
  it('fast retransmit on the third duplicate ACK', () => {
    const h = socketEstablished({ tcp: { sack: false } });
    const m = dataMss();
    const data = pattern(4 * m);
    h.conn.send(data, h.now);
    const seg = (i: number, flags = 'A') => ({ flags, seq: L(1 + i * m), ack: R(1), payload: data.subarray(i * m, (i + 1) * m) });
    recv(h, [seg(0), seg(1), seg(2), seg(3, 'PA')]);
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 10 });
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 11 });
    recvNothing(h);
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 12 });
    recv(h, [seg(0)]);
    expect(h.conn.stats.fastRetransmits).toBe(1);
    send(h, { flags: 'A', seq: R(1), ack: L(1 + data.length) }, { time: 20 });
    recvNothing(h, { time: 5000 });
    expect(h.conn.loss.state === 'fast-recovery').toBe(false);
  });

  // Without SACK, where duplicate ACKs drive recovery (with SACK a tail loss probe would go at t=10).
  it('a duplicate ACK that carries a window update is not counted as a duplicate', () => {
    const h = socketEstablished({ tcp: { sack: false } });
    const data = pattern(2 * 1460);
    h.conn.send(data, h.now);
    h.takeLines();
    for (const win of [60000, 50000, 40000]) send(h, { flags: 'A', seq: R(1), ack: L(1), win }, { time: 10 });
    recvNothing(h);
    expect(h.conn.stats.fastRetransmits).toBe(0);
  });

  // RFC 9293 §3.10.5 ABORT, ESTABLISHED: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>"
  it('abort sends a RST at SND.NXT and closes', () => {
    const h = socketEstablished();
    h.conn.send(bytes('unacked'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'unacked' }]);
    h.conn.abort(h.now);
    recv(h, [{ flags: 'RA', seq: L(8), ack: R(1) }]);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.pollAt()).toBeUndefined();
    recvNothing(h, { time: 10_000 });
  });
});

describe('Limited Transmit without SACK (RFC 3042, RFC 5681 §3.2 step 1)', () => {
  // With all of cwnd in flight, the first and second duplicate ACKs each let one new
  // segment go, so a small window still yields the third duplicate ACK (and a fast
  // retransmit) instead of waiting for the retransmission timeout.
  it('the first and second duplicate ACK each send one new segment; cwnd is not changed', () => {
    const h = socketEstablished({ tcp: { sack: false } });
    const c = h.conn;
    expect(c.sackOk).toBe(false);
    const mss = c.snd.dataMss();
    c.send(pattern(14 * mss), h.now);
    const first = h.takeLines();
    const cwndSegs = Math.floor(c.cc.cwnd / mss);
    expect(first).toHaveLength(cwndSegs);
    const cwnd = c.cc.cwnd;
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 10 });
    expect(h.takeLines()).toEqual([expect.stringMatching(new RegExp(`^A seq=L\\+${1 + cwndSegs * mss} ack=R\\+1 .*len=${mss} `))]);
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 11 });
    expect(h.takeLines()).toEqual([expect.stringMatching(new RegExp(`^A seq=L\\+${1 + (cwndSegs + 1) * mss} ack=R\\+1 .*len=${mss} `))]);
    expect(c.cc.cwnd).toBe(cwnd);
    // The third duplicate ACK: fast retransmit of the first segment.
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 12 });
    expect(h.takeLines()[0]).toMatch(new RegExp(`^A seq=L\\+1 ack=R\\+1 .*len=${mss} `));
  });
});

describe('receiver SWS avoidance (RFC 1122 §4.2.3.3)', () => {
  // "the receiver ... MUST NOT advance the right window edge unless ... by at least
  // min(RCV.BUFF / 2, Eff.snd.MSS)": exactly that much is enough.
  it('a closed window reopens as soon as the application has read min(RCV.BUFF/2, MSS) bytes', () => {
    const h = socketEstablished();
    const data = pattern(LOCAL_WIN);
    for (let off = 0; off < LOCAL_WIN; off += 1024) send(h, { flags: 'A', seq: R(1 + off), ack: L(1), payload: data.subarray(off, off + 1024) });
    h.takeLines();
    expect(h.conn.advertisedWindow()).toBe(0);
    h.conn.read(1459, h.now);
    recvNothing(h); // one byte short: the edge stays
    h.conn.read(1, h.now);
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1 + LOCAL_WIN), win: 1460 }]);
  });
});

describe('tail loss probe (RFC 8985 §7.2) only in the open state', () => {
  // "...schedule a loss probe ... if the connection is not in loss recovery" and has no
  // SACKed data outstanding (Linux: TCP_CA_Open): with a hole SACKed around, RACK owns it.
  it('an ACK that advances but SACKs data above a hole arms no probe', () => {
    const h = socketListen({ tcp: { sack: true } });
    send(h, { ...REMOTE_SYN, sackPermitted: true });
    h.takeLines();
    send(h, { flags: 'A', seq: R(1), ack: L(1) }, { time: 40 }); // an RTT of 40 ms
    h.conn = h.listener!.accept()!;
    expect(h.conn.sackOk).toBe(true);
    const m = dataMss();
    h.conn.send(pattern(5 * m), h.now);
    h.takeLines();
    expect(h.conn.timers.armed(Timer.Tlp)).toBe(true); // open: a probe is scheduled
    // 30 ms later: segment 1 acknowledged, 2 missing, 3 SACKed. RACK's reordering window
    // (a quarter of the minimum RTT) has not passed for 2: not lost yet, but not open either.
    send(h, { flags: 'A', seq: R(1), ack: L(1 + m), sack: [[L(1 + 2 * m), L(1 + 3 * m)]] }, { time: 70 });
    expect(h.conn.loss.state).toBe('disorder');
    expect(h.conn.timers.armed(Timer.Rack)).toBe(true);
    expect(h.conn.timers.armed(Timer.Tlp)).toBe(false);
    expect(h.conn.stats.tlpProbes).toBe(0);
  });
});
