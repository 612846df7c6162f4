/**
 * Quick ACKs (config quickAck; Linux's quickack and pingpong modes): when data starts to
 * flow, at the connection's start and after the receiver sat idle longer than an RTO, the
 * next in-order segments are each ACKed at once (how many: half the window in segments,
 * 2 to 16), instead of RFC 1122 §4.2.3.2's delayed ACK; not while the application answers
 * what arrives within the delayed-ACK time (its replies carry the ACKs). The other suites
 * run with quickAck off to draw the delayed ACK itself; scripts/quick-ack.pkt shows the
 * same on the wire.
 */
import { describe, expect, it } from 'vitest';
import { L, LOCAL_WIN, R, bytes, recv, recvNothing, send, socketEstablished } from './harness.js';

/** The harness's window is 8 KiB: a quota of max(2, 8192 / (2 * 1460)) = 2 quick ACKs. */
const quick = () => socketEstablished({ tcp: { quickAck: true } });
/** Our ACK of the remote's bytes up to R(ack), with `unread` bytes in our buffer. */
const ackTo = (ack: number, unread: number, seq = 1) => ({ flags: 'A', seq: L(seq), ack: R(ack), win: LOCAL_WIN - unread });

describe('quick ACKs when data starts to flow', () => {
  it('ACKs the first segments at once, as many as the quota, then delays again', () => {
    const h = quick();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' });
    recv(h, [ackTo(4, 3)]);
    send(h, { flags: 'PA', seq: R(4), ack: L(1), payload: 'def' }, { time: 10 });
    recv(h, [ackTo(7, 6)], { time: 10 });
    // The quota (2) is spent: RFC 1122's delayed ACK from here.
    send(h, { flags: 'PA', seq: R(7), ack: L(1), payload: 'ghi' }, { time: 20 });
    recvNothing(h, { time: 59 });
    recv(h, [ackTo(10, 9)], { time: 60 });
  });

  it('starts again after the receiver was idle longer than an RTO', () => {
    const h = quick();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' });
    recv(h, [ackTo(4, 3)]);
    send(h, { flags: 'PA', seq: R(4), ack: L(1), payload: 'def' }, { time: 10 });
    recv(h, [ackTo(7, 6)], { time: 10 });
    // Within an RTO of the last data: delayed (the quota is spent).
    const rto = h.conn.rtt.rto;
    send(h, { flags: 'PA', seq: R(7), ack: L(1), payload: 'ghi' }, { time: 10 + rto });
    recvNothing(h, { time: 10 + rto + 39 });
    recv(h, [ackTo(10, 9)], { time: 10 + rto + 40 });
    // Idle for more than an RTO: quick ACKs again.
    const later = 10 + 2 * rto + 1;
    send(h, { flags: 'PA', seq: R(10), ack: L(1), payload: 'jkl' }, { time: later });
    recv(h, [ackTo(13, 12)], { time: later });
  });

  it('stops while the application answers promptly (its replies carry the ACKs), and resumes when it does not', () => {
    const h = quick();
    h.conn.opts.nodelay = true;
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'req' });
    recv(h, [ackTo(4, 3)]);
    h.conn.send(bytes('rep'), 5);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(4), win: LOCAL_WIN - 3, payload: 'rep' }], { time: 5 });
    // A reply within the delayed-ACK time: the connection is interactive, no quick ACK.
    send(h, { flags: 'PA', seq: R(4), ack: L(4), payload: 'req' }, { time: 50 });
    recvNothing(h, { time: 55 });
    h.conn.send(bytes('rep'), 55);
    recv(h, [{ flags: 'PA', seq: L(4), ack: R(7), win: LOCAL_WIN - 6, payload: 'rep' }], { time: 55 });
    // No reply this time: the delayed ACK goes out alone, and the connection is no longer
    // interactive, so the next segment gets the last quick ACK of the quota.
    send(h, { flags: 'PA', seq: R(7), ack: L(7), payload: 'req' }, { time: 100 });
    recvNothing(h, { time: 139 });
    recv(h, [ackTo(10, 9, 7)], { time: 140 });
    send(h, { flags: 'PA', seq: R(10), ack: L(7), payload: 'req' }, { time: 150 });
    recv(h, [ackTo(13, 12, 7)], { time: 150 });
  });

  it('is off with quickAck: false (RFC 1122 delayed ACK from the first segment)', () => {
    const h = socketEstablished({ tcp: { quickAck: false } });
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' });
    expect(h.pollAt()).toBe(40);
    recvNothing(h, { time: 39 });
    recv(h, [ackTo(4, 3)], { time: 40 });
  });
});
