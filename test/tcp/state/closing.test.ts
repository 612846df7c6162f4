/**
 * The closing states: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING and TIME-WAIT
 * (RFC 9293 §3.10.4 CLOSE and §3.10.7.4 per state), RFC 1337 and 2*MSL.
 */
import { describe, expect, it } from 'vitest';
import {
  L, LOCAL_SYN_ACK, LOCAL_WIN, R, REMOTE_SYN, RTO_AFTER_HANDSHAKE, type TcpHarness, bytes, recv, recvNothing, send, socketCloseWait, socketClosing, socketEstablished, socketFinWait1, socketFinWait2, socketLastAck, socketListen, socketTimeWait, text,
} from './harness.js';

describe('FIN-WAIT-1', () => {
  it('close: the FIN goes right behind the last queued data, in the same burst', () => {
    const h = socketEstablished();
    h.conn.send(bytes('abc'), h.now);
    h.conn.send(bytes('def'), h.now);
    h.conn.shutdownSend(h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'abc' }]);
    send(h, { flags: 'A', seq: R(1), ack: L(4) }, { time: 10 });
    recv(h, [
      { flags: 'PA', seq: L(4), ack: R(1), payload: 'def' },
      { flags: 'FA', seq: L(7), ack: R(1) },
    ]);
    expect(h.conn.state).toBe('FIN-WAIT-1');
  });

  // "FIN-WAIT-1 STATE: In addition to the processing for the ESTABLISHED state, if the FIN
  // segment is now acknowledged, then enter FIN-WAIT-2 and continue processing in that state."
  it('the ACK of our FIN moves to FIN-WAIT-2', () => {
    const h = socketFinWait1();
    send(h, { flags: 'A', seq: R(1), ack: L(2) });
    recvNothing(h);
    expect(h.conn.state).toBe('FIN-WAIT-2');
    expect(h.pollAt()).toBeUndefined();
  });

  it('an ACK of data before the FIN (not the FIN) keeps FIN-WAIT-1', () => {
    const h = socketEstablished();
    h.conn.send(bytes('abc'), h.now);
    h.conn.shutdownSend(h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'abc' }, { flags: 'FA', seq: L(4), ack: R(1) }]);
    send(h, { flags: 'A', seq: R(1), ack: L(4) });
    expect(h.conn.state).toBe('FIN-WAIT-1');
    send(h, { flags: 'A', seq: R(1), ack: L(5) });
    expect(h.conn.state).toBe('FIN-WAIT-2');
  });

  // FIN, FIN-WAIT-1: "If our FIN has been ACKed ... enter the TIME-WAIT state ...; otherwise,
  // enter the CLOSING state."
  it('the peer\'s FIN without the ACK of ours: simultaneous close, CLOSING', () => {
    const h = socketFinWait1();
    send(h, { flags: 'FA', seq: R(1), ack: L(1) });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('CLOSING');
  });

  it('the peer\'s FIN acknowledging ours: straight to TIME-WAIT', () => {
    const h = socketFinWait1();
    send(h, { flags: 'FA', seq: R(1), ack: L(2) });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('TIME-WAIT');
  });

  it('still receives data (delayed ACK)', () => {
    const h = socketFinWait1();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'more' });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(5), win: LOCAL_WIN - 4 }], { time: 40 });
    expect(text(h.conn.read(10, h.now))).toBe('more');
  });

  // (Without SACK: with it a tail loss probe resends the FIN first, RFC 8985 §7.)
  it('retransmits the FIN on timeout, backing off', () => {
    const h = socketFinWait1({ tcp: { sack: false } });
    expect(h.pollAt()).toBe(RTO_AFTER_HANDSHAKE);
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(1) }], { time: 200 });
    expect(h.pollAt()).toBe(600);
    recvNothing(h, { time: 599 });
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(1) }], { time: 600 });
    send(h, { flags: 'A', seq: R(1), ack: L(2) }, { time: 700 });
    expect(h.conn.state).toBe('FIN-WAIT-2');
    expect(h.pollAt()).toBeUndefined();
  });

  it('an exact RST resets: ECONNRESET', () => {
    const h = socketFinWait1();
    send(h, { flags: 'R', seq: R(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ECONNRESET');
  });

  it('an unacceptable segment gets an ACK from SND.NXT (after our FIN)', () => {
    const h = socketFinWait1();
    send(h, { flags: 'PA', seq: R(-5), ack: L(1), payload: 'old' });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(1) }]);
  });

  it('a second close does nothing', () => {
    const h = socketFinWait1();
    h.conn.shutdownSend(h.now);
    recvNothing(h);
    expect(h.conn.state).toBe('FIN-WAIT-1');
  });
});

describe('FIN-WAIT-2', () => {
  // FIN, FIN-WAIT-2: "Enter the TIME-WAIT state. Start the time-wait timer, turn off the
  // other timers."
  it('the peer\'s FIN moves to TIME-WAIT and is acknowledged at once', () => {
    const h = socketFinWait2();
    send(h, { flags: 'FA', seq: R(1), ack: L(2) }, { time: 100 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('TIME-WAIT');
    expect(h.pollAt()).toBe(100 + 2 * 30_000); // default MSL 30 s
  });

  // Half-close: our side is done, the peer's keeps sending.
  it('keeps receiving data (delayed ACK), then the FIN', () => {
    const h = socketFinWait2();
    send(h, { flags: 'PA', seq: R(1), ack: L(2), payload: 'still talking' });
    recvNothing(h, { time: 39 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(14), win: LOCAL_WIN - 13 }], { time: 40 });
    send(h, { flags: 'FA', seq: R(14), ack: L(2) }, { time: 50 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(15), win: LOCAL_WIN - 14 }]);
    expect(text(h.conn.read(100, h.now))).toBe('still talking');
    expect(h.conn.atEof()).toBe(true);
    expect(h.conn.state).toBe('TIME-WAIT');
  });

  it('waits for the peer indefinitely while the application holds the connection', () => {
    const h = socketFinWait2();
    expect(h.pollAt()).toBeUndefined();
    recvNothing(h, { time: 10 * 60_000 });
    expect(h.conn.state).toBe('FIN-WAIT-2');
  });

  it('an orphaned connection gives up after finWait2TimeoutMs (Linux tcp_fin_timeout)', () => {
    const h = socketFinWait1({ tcp: { finWait2TimeoutMs: 5000 } });
    h.conn.orphan = true;
    send(h, { flags: 'A', seq: R(1), ack: L(2) }, { time: 10 });
    expect(h.conn.state).toBe('FIN-WAIT-2');
    expect(h.pollAt()).toBe(5010);
    recvNothing(h, { time: 5009 });
    expect(h.conn.state).toBe('FIN-WAIT-2');
    // Linux resets the connection when the timer runs out (tcp_send_active_reset).
    recv(h, [{ flags: 'RA', seq: L(2), ack: R(1) }], { time: 5010 });
    expect(h.conn.state).toBe('CLOSED');
  });

  it('an exact RST resets: ECONNRESET', () => {
    const h = socketFinWait2();
    send(h, { flags: 'R', seq: R(1) });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ECONNRESET');
  });

  it('an in-window inexact RST gets a challenge ACK', () => {
    const h = socketFinWait2();
    send(h, { flags: 'R', seq: R(9) });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(1) }]);
    expect(h.conn.state).toBe('FIN-WAIT-2');
  });
});

describe('CLOSE-WAIT', () => {
  // Half-close the other way: the peer is done, we keep sending.
  it('we keep sending; the peer acknowledges', () => {
    const h = socketCloseWait();
    h.conn.send(bytes('response'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(2), win: LOCAL_WIN - 1, payload: 'response' }]);
    send(h, { flags: 'A', seq: R(2), ack: L(9) }, { time: 10 });
    expect(h.conn.snd.buf.length).toBe(0);
    expect(h.pollAt()).toBeUndefined();
    expect(h.conn.state).toBe('CLOSE-WAIT');
  });

  it('a retransmitted FIN is acknowledged again', () => {
    const h = socketCloseWait();
    send(h, { flags: 'FA', seq: R(1), ack: L(1) }, { time: 300 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('CLOSE-WAIT');
  });

  // Seventh, CLOSE-WAIT: "This should not occur since a FIN has been received from the
  // remote side. Ignore the segment text."
  it('text after the peer\'s FIN is ignored', () => {
    const h = socketCloseWait();
    send(h, { flags: 'PA', seq: R(2), ack: L(1), payload: 'zombie' });
    recvNothing(h, { time: 100 });
    expect(h.conn.readable()).toBe(0);
  });

  it('an exact RST resets: ECONNRESET', () => {
    const h = socketCloseWait();
    send(h, { flags: 'R', seq: R(2) });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ECONNRESET');
  });

  it('close sends our FIN and enters LAST-ACK', () => {
    const h = socketCloseWait();
    h.conn.send(bytes('last words'), h.now);
    h.conn.shutdownSend(h.now);
    recv(h, [
      { flags: 'PA', seq: L(1), ack: R(2), win: LOCAL_WIN - 1, payload: 'last words' },
      { flags: 'FA', seq: L(11), ack: R(2), win: LOCAL_WIN - 1 },
    ]);
    expect(h.conn.state).toBe('LAST-ACK');
  });

  it('abort sends a RST', () => {
    const h = socketCloseWait();
    h.conn.abort(h.now);
    recv(h, [{ flags: 'RA', seq: L(1), ack: R(2) }]);
    expect(h.conn.state).toBe('CLOSED');
  });
});

describe('LAST-ACK', () => {
  // "LAST-ACK STATE: The only thing that can arrive in this state is an acknowledgment of
  // our FIN. If our FIN is now acknowledged, delete the TCB, enter the CLOSED state"
  it('the ACK of our FIN closes the connection, without error', () => {
    const h = socketLastAck();
    send(h, { flags: 'A', seq: R(2), ack: L(2) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBeNull();
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.pollAt()).toBeUndefined();
  });

  it('an ACK that does not cover the FIN keeps LAST-ACK', () => {
    const h = socketLastAck();
    send(h, { flags: 'A', seq: R(2), ack: L(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('LAST-ACK');
  });

  it('retransmits the FIN on timeout', () => {
    const h = socketLastAck();
    recvNothing(h, { time: 199 });
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }], { time: 200 });
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }], { time: 600 });
  });

  it('the peer\'s retransmitted FIN gets an ACK', () => {
    const h = socketLastAck();
    send(h, { flags: 'FA', seq: R(1), ack: L(1) }, { time: 50 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('LAST-ACK');
  });

  it('an exact RST closes it', () => {
    const h = socketLastAck();
    send(h, { flags: 'R', seq: R(2) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
  });
});

describe('CLOSING', () => {
  // "CLOSING STATE: In addition to the processing for the ESTABLISHED state, if the ACK
  // acknowledges our FIN, then enter the TIME-WAIT state; otherwise, ignore the segment."
  it('the ACK of our FIN moves to TIME-WAIT', () => {
    const h = socketClosing({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'A', seq: R(2), ack: L(2) }, { time: 100 });
    recvNothing(h);
    expect(h.conn.state).toBe('TIME-WAIT');
    expect(h.pollAt()).toBe(100 + 2000);
  });

  it('an ACK short of our FIN keeps CLOSING', () => {
    const h = socketClosing();
    send(h, { flags: 'A', seq: R(2), ack: L(1) });
    expect(h.conn.state).toBe('CLOSING');
  });

  it('retransmits our FIN on timeout', () => {
    const h = socketClosing();
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }], { time: 200 });
  });

  it('the peer\'s retransmitted FIN gets an ACK', () => {
    const h = socketClosing();
    send(h, { flags: 'FA', seq: R(1), ack: L(1) }, { time: 50 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('CLOSING');
  });

  it('an exact RST closes it', () => {
    const h = socketClosing();
    send(h, { flags: 'R', seq: R(2) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
  });
});

describe('simultaneous close', () => {
  it('FINs cross: both ACKed, CLOSING then TIME-WAIT then CLOSED after 2*MSL', () => {
    const h = socketEstablished({ tcp: { mslMs: 1000 } });
    h.conn.shutdownSend(h.now);
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(1) }]);
    send(h, { flags: 'FA', seq: R(1), ack: L(1) }, { time: 5 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('CLOSING');
    send(h, { flags: 'A', seq: R(2), ack: L(2) }, { time: 10 });
    expect(h.conn.state).toBe('TIME-WAIT');
    recvNothing(h, { time: 2009 });
    expect(h.conn.state).toBe('TIME-WAIT');
    recvNothing(h, { time: 2010 });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBeNull();
  });
});

describe('TIME-WAIT', () => {
  // RFC 9293 §3.10.7.4 / §3.4.2: TIME-WAIT lasts 2*MSL.
  it('lasts exactly 2*MSL, then CLOSED (and the 4-tuple is free)', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    expect(h.pollAt()).toBe(2000);
    recvNothing(h, { time: 1999 });
    expect(h.conn.state).toBe('TIME-WAIT');
    recvNothing(h, { time: 2000 });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBeNull();
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.pollAt()).toBeUndefined();
  });

  // "The only thing that can arrive in this state is a retransmission of the remote FIN.
  // Acknowledge it, and restart the 2 MSL timeout."
  it('a retransmitted FIN is acknowledged and restarts the 2*MSL timer', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'FA', seq: R(1), ack: L(2) }, { time: 1500 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.pollAt()).toBe(3500);
    recvNothing(h, { time: 3499 });
    expect(h.conn.state).toBe('TIME-WAIT');
    recvNothing(h, { time: 3500 });
    expect(h.conn.state).toBe('CLOSED');
  });

  // RFC 1337 (TIME-WAIT assassination): a RST in TIME-WAIT is ignored.
  it('ignores an exact RST (RFC 1337)', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'R', seq: R(2) }, { time: 100 });
    send(h, { flags: 'RA', seq: R(2), ack: L(2) }, { time: 200 });
    recvNothing(h);
    expect(h.conn.state).toBe('TIME-WAIT');
    expect(h.conn.error).toBeNull();
    expect(h.pollAt()).toBe(2000);
  });

  it('a stray ACK changes nothing', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'A', seq: R(2), ack: L(2) }, { time: 100 });
    recvNothing(h);
    expect(h.conn.state).toBe('TIME-WAIT');
    expect(h.pollAt()).toBe(2000);
  });

  it('an old duplicate segment gets an ACK', () => {
    const h = socketTimeWait();
    send(h, { flags: 'PA', seq: R(-3), ack: L(2), payload: 'old' }, { time: 100 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('TIME-WAIT');
  });

  // RFC 5961 §4.2 / RFC 9293: an old SYN in TIME-WAIT gets an ACK, and changes nothing.
  it('an old SYN (at or below RCV.NXT) gets an ACK and TIME-WAIT goes on', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 0 }, { time: 100 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('TIME-WAIT');
    expect(h.listener!.synQueue.size).toBe(0);
  });

  // RFC 6191 / Linux: a SYN with a higher sequence number may reopen the 4-tuple at once.
  it('a new SYN above RCV.NXT (listener present) ends TIME-WAIT and opens a new connection', () => {
    const h = socketTimeWait();
    send(h, { flags: 'S', seq: R(100_000), mss: 1460, wscale: 0 }, { time: 100 });
    // The new ISS lies beyond the old incarnation's SND.NXT (RFC 1122 §4.2.2.13), not at the generator's L(0).
    recv(h, [{ ...LOCAL_SYN_ACK, seq: L(2 + 65537), ack: R(100_001) }]);
    expect(h.conn.state).toBe('CLOSED');
    const [fresh] = [...h.listener!.synQueue];
    expect(fresh?.state).toBe('SYN-RECEIVED');
    expect(h.stack.tcp.counters.timeWaitReused).toBe(1);
  });

  it('a FIN that is not the peer\'s FIN again (out of the window, or beyond RCV.NXT) gets a rate-limited ACK and does not restart 2*MSL', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'FA', seq: R(-5000), ack: L(2) }, { time: 100 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    send(h, { flags: 'FA', seq: R(100), ack: L(2) }, { time: 200 });
    recvNothing(h); // within 500 ms of the last unprompted ACK
    send(h, { flags: 'FA', seq: R(100), ack: L(2) }, { time: 700 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.pollAt()).toBe(2000); // not restarted
    recvNothing(h, { time: 2000 });
    expect(h.conn.state).toBe('CLOSED');
  });

  it('abort in TIME-WAIT sends nothing', () => {
    const h = socketTimeWait();
    h.conn.abort(h.now);
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
  });
});

/** Passive open from `port`, accepted, closed by us (orphaned), the peer's FIN: TIME-WAIT (or not). */
function closeToTimeWait(h: TcpHarness, port: number): void {
  h.remotePort = port;
  send(h, REMOTE_SYN);
  recv(h, [LOCAL_SYN_ACK]);
  send(h, { flags: 'A', seq: R(1), ack: L(1) });
  const c = h.listener!.accept()!;
  h.conn = c;
  c.closeOrphan(h.now);
  recv(h, [{ flags: 'FA', seq: L(1), ack: R(1) }]);
  send(h, { flags: 'FA', seq: R(1), ack: L(2) });
  recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
}

describe('TIME-WAIT as a compact record', () => {
  it('the full connection leaves the layer: counted as one TIME-WAIT, none after 2*MSL', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.stack.tcp.timeWaitCount).toBe(1);
    expect(h.stack.tcp.counters.currTimeWait).toBe(1);
    // It still answers as TIME-WAIT: the peer's retransmitted FIN is acknowledged.
    send(h, { flags: 'FA', seq: R(1), ack: L(2) }, { time: 500 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    recvNothing(h, { time: 2500 });
    expect(h.conn.state).toBe('CLOSED'); // the application still holds it: it sees CLOSED
    expect(h.stack.tcp.timeWaitCount).toBe(0);
    expect(h.stack.tcp.counters.currTimeWait).toBe(0);
    expect(h.pollAt()).toBeUndefined();
  });

  it('an orphan\'s buffers and retransmission queue are released when it enters TIME-WAIT', () => {
    const h = socketEstablished();
    const c = h.conn;
    c.send(bytes('hello'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'hello' }]);
    send(h, { flags: 'PA', seq: R(1), ack: L(6), payload: 'world' });
    expect(c.rcv.buf.allocated).toBeGreaterThan(0); // it grew on use
    expect(new TextDecoder().decode(c.read(100, h.now)!)).toBe('world');
    // Emptied at their first size, both gave their storage to the spares already (a grown
    // buffer keeps its own until TIME-WAIT: RingBuffer's tests).
    expect(c.snd.buf.allocated + c.rcv.buf.allocated).toBe(0);
    c.closeOrphan(h.now);
    h.takeLines();
    send(h, { flags: 'FA', seq: R(6), ack: L(7) }, { time: 100 });
    recv(h, [{ flags: 'A', seq: L(7), ack: R(7), win: LOCAL_WIN - 6 }]); // 6 bytes unread
    expect(c.state).toBe('TIME-WAIT');
    expect(h.stack.tcp.timeWaitCount).toBe(1);
    expect(c.snd.buf.allocated + c.rcv.buf.allocated).toBe(0);
    expect(c.rtx.count).toBe(0);
  });

  // Linux tcp_time_wait: beyond tcp_max_tw_buckets "Sorry, if we're out of memory, just
  // CLOSE this socket up" (LINUX_MIB_TCPTIMEWAITOVERFLOW).
  it('beyond maxTimeWait a connection skips TIME-WAIT (CLOSED at once) and is counted timeWaitOverflow', () => {
    const h = socketListen({ tcp: { maxTimeWait: 2 } });
    for (const port of [40_001, 40_002]) closeToTimeWait(h, port);
    expect(h.stack.tcp.timeWaitCount).toBe(2);
    closeToTimeWait(h, 40_003);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.stack.tcp.timeWaitCount).toBe(2);
    expect(h.stack.tcp.counters.timeWaitOverflow).toBe(1);
    // The overflowed 4-tuple is free at once: its retransmitted FIN now finds no connection.
    send(h, { flags: 'FA', seq: R(1), ack: L(2), remotePort: 40_003 });
    recv(h, [{ flags: 'R', seq: L(2), remotePort: 40_003, opts: '' }]); // from no connection: no options
  });

  // The SYN that may end TIME-WAIT early (RFC 6191 / Linux) is a plain SYN: a SYN+FIN, which
  // the listener then drops (tcp.listenSynFin), must not end it on the way (a blind
  // attacker's guess of "any sequence number above RCV.NXT" is right half the time).
  it('a SYN+FIN above RCV.NXT neither reopens the four-tuple nor ends TIME-WAIT', () => {
    const h = socketTimeWait({ tcp: { mslMs: 1000 } });
    send(h, { flags: 'SF', seq: R(100_000), mss: 1460, wscale: 0 }, { time: 100 });
    expect(h.conn.state).toBe('TIME-WAIT');
    expect(h.stack.tcp.counters.timeWaitReused).toBe(0);
    expect(h.listener!.synQueue.size).toBe(0);
  });

  it('regression: an out-of-window segment gets an ACK, at most one per 500 ms (RFC 5961 §7, as before)', () => {
    const h = socketTimeWait();
    send(h, { flags: 'A', seq: R(50_000), ack: L(2) }, { time: 100 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
    send(h, { flags: 'A', seq: R(50_000), ack: L(2) }, { time: 200 });
    recvNothing(h);
    send(h, { flags: 'A', seq: R(50_000), ack: L(2) }, { time: 600 });
    recv(h, [{ flags: 'A', seq: L(2), ack: R(2), win: LOCAL_WIN - 1 }]);
  });
});
