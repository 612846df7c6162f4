/**
 * Segments for no connection (RFC 9293 §3.10.7.1) and for a listener (§3.10.7.2),
 * and what closing a listener does to the connections it had not handed out.
 */
import { describe, expect, it } from 'vitest';
import {
  L, LOCAL_MSS, LOCAL_PORT, LOCAL_SYN_ACK, R, REMOTE_PORT, REMOTE_SYN, pattern, recv, recvNothing, send,
  socketClosed, socketEstablished, socketListen, dataMss, tsText,
} from './harness.js';

describe('CLOSED (no connection on the port)', () => {
  // RFC 9293 §3.10.7.1: "If the ACK bit is off, sequence number zero is used,
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
  it('a SYN gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>', () => {
    const h = socketClosed();
    send(h, { flags: 'S', seq: 1000, mss: 1460 });
    recv(h, [{ flags: 'RA', seq: 0, ack: 1001 }]);
    expect(h.stack.tcp.counters.noConnection).toBe(1);
    expect(h.stack.tcp.counters.resetsSent).toBe(1);
  });

  it('a SYN carrying data: the ACK covers SYN and data (SEG.SEQ+SEG.LEN)', () => {
    const h = socketClosed();
    send(h, { flags: 'S', seq: 1000, payload: 'hello' });
    recv(h, [{ flags: 'RA', seq: 0, ack: 1006 }]);
  });

  it('a FIN without ACK: SEG.LEN counts the FIN, across the 2^32 wrap', () => {
    const h = socketClosed();
    send(h, { flags: 'F', seq: 0xfffffffe, payload: 'ab' });
    recv(h, [{ flags: 'RA', seq: 0, ack: 1 }]);
  });

  // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
  it('an ACK gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = socketClosed();
    send(h, { flags: 'A', seq: 5, ack: 0xfffffff0 });
    recv(h, [{ flags: 'R', seq: 0xfffffff0 }]);
  });

  it('data with ACK gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = socketClosed();
    send(h, { flags: 'PA', seq: 5, ack: 777, payload: 'GET /' });
    recv(h, [{ flags: 'R', seq: 777 }]);
  });

  // "An incoming segment containing a RST is discarded."
  it('a RST is discarded, with or without ACK', () => {
    const h = socketClosed();
    send(h, { flags: 'R', seq: 5 });
    send(h, { flags: 'RA', seq: 5, ack: 9 });
    recvNothing(h);
    expect(h.stack.tcp.counters.resetsSent).toBe(0);
  });

  it('a segment for a port whose connection was aborted gets a RST', () => {
    const h = socketEstablished();
    h.conn.abort(h.now);
    recv(h, [{ flags: 'RA', seq: L(1), ack: R(1) }]);
    h.stack.tcp.unlisten(h.listener!, h.now);
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'late' });
    recv(h, [{ flags: 'R', seq: L(1), opts: '' }]); // from no connection: no options
  });
});

describe('LISTEN', () => {
  // RFC 9293 §3.10.7.2 first: "An incoming RST segment could not be valid since it could
  // not have been sent in response to anything sent by this incarnation. ... ignored"
  it('ignores a RST', () => {
    const h = socketListen();
    send(h, { flags: 'R', seq: R(0) });
    send(h, { flags: 'RA', seq: R(0), ack: L(1) });
    recvNothing(h);
    expect(h.listener!.synQueue.size).toBe(0);
    expect(h.stack.tcp.connections.size).toBe(0);
  });

  // second: "Any acknowledgment is bad if it arrives on a connection still in the LISTEN
  // state. An acceptable reset segment should be formed ... <SEQ=SEG.ACK><CTL=RST>"
  it('answers an ACK with <SEQ=SEG.ACK><CTL=RST> and creates nothing', () => {
    const h = socketListen();
    send(h, { flags: 'A', seq: R(1), ack: L(1) });
    recv(h, [{ flags: 'R', seq: L(1) }]);
    send(h, { flags: 'SA', seq: R(0), ack: L(77) });
    recv(h, [{ flags: 'R', seq: L(77) }]);
    expect(h.stack.tcp.connections.size).toBe(0);
  });

  // third: "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>", RCV.NXT = SEG.SEQ+1
  it('answers a SYN with a SYN-ACK carrying our MSS and window scale, and enters SYN-RECEIVED', () => {
    const h = socketListen();
    send(h, REMOTE_SYN);
    recv(h, [LOCAL_SYN_ACK]);
    const [c] = [...h.listener!.synQueue];
    expect(c?.state).toBe('SYN-RECEIVED');
    expect(c.rcv).toMatchObject({ irs: R(0), nxt: R(1) });
    expect(c.snd).toMatchObject({ iss: L(0), una: L(0), nxt: L(1), mss: 1460 });
    expect(h.listener!.accept()).toBeUndefined();
  });

  it('offers window scaling when the peer does, and then scales the peer\'s window by its shift', () => {
    const h = socketListen();
    send(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 2 });
    recv(h, [LOCAL_SYN_ACK]);
    send(h, { flags: 'A', seq: R(1), ack: L(1), win: 250 }); // 250 << 2 = 1000 bytes
    const c = h.listener!.accept()!;
    expect(c.snd.wnd).toBe(1000);
    c.send(pattern(1500), h.now);
    // 1000 bytes fit the scaled window; the unscaled field (250) would allow only 250.
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), payload: pattern(1000) }]);
  });

  it('with a 256 KiB buffer we offer window scale 3 and advertise scaled windows after the SYN-ACK', () => {
    const h = socketListen({ tcp: { rcvBuf: 262144 } });
    send(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 7 });
    // RFC 7323 §2.2: the window field of a SYN is never scaled.
    recv(h, [{ flags: 'SA', seq: L(0), ack: R(1), win: 65535, mss: LOCAL_MSS, wscale: 3 }]);
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'abc' });
    // (262144 - 3) >> 3: the free buffer, in units of 2^3.
    recv(h, [{ flags: 'A', seq: L(1), ack: R(4), win: 32767 }], { time: 40 });
  });

  // RFC 7323 §2.2: the option "MAY also be sent in a <SYN,ACK> segment, but only if a
  // Window Scale option was received in the initial <SYN> segment."
  it('a SYN without window scale gets a SYN-ACK without window scale (RFC 7323 §2.2)', () => {
    const h = socketListen();
    send(h, { flags: 'S', seq: R(0), mss: 1460 });
    recv(h, [{ flags: 'SA', seq: L(0), ack: R(1), mss: LOCAL_MSS }]);
  });

  // RFC 9293 §3.7.1: without an MSS option the sender assumes 536.
  it('a SYN without MSS option: we send segments of at most 536 bytes', () => {
    const h = socketListen();
    send(h, { flags: 'S', seq: R(0), wscale: 0 });
    recv(h, [LOCAL_SYN_ACK]);
    send(h, { flags: 'A', seq: R(1), ack: L(1) });
    const c = h.listener!.accept()!;
    expect(c.snd.mss).toBe(536);
    const m = dataMss(536);
    const data = pattern(1000);
    c.send(data, h.now);
    // The tail waits for the ACK (Nagle), then goes as one segment.
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), payload: data.subarray(0, m) }]);
    send(h, { flags: 'A', seq: R(1), ack: L(1 + m) });
    recv(h, [{ flags: 'PA', seq: L(1 + m), ack: R(1), payload: data.subarray(m) }]);
  });

  it('a SYN with a larger MSS than our route allows: we send at most our own MSS', () => {
    const h = socketListen();
    send(h, { flags: 'S', seq: R(0), mss: 9000, wscale: 0 });
    recv(h, [LOCAL_SYN_ACK]);
    expect([...h.listener!.synQueue][0]!.snd.mss).toBe(LOCAL_MSS);
  });

  it('a SYN carrying data: the SYN-ACK acknowledges the SYN only (the data will be sent again)', () => {
    const h = socketListen();
    send(h, { ...REMOTE_SYN, payload: 'early' });
    recv(h, [LOCAL_SYN_ACK]);
  });

  // RFC 9293 §3.10.7.2 fourth: "Any other control or text-bearing segment (not containing
  // SYN) must have an ACK and thus would be discarded by the ACK processing ... drop"
  it('drops a segment with neither SYN, ACK nor RST', () => {
    const h = socketListen();
    send(h, { flags: 'F', seq: R(1) });
    send(h, { flags: 'P', seq: R(1), payload: 'x' });
    recvNothing(h);
    expect(h.stack.tcp.connections.size).toBe(0);
  });

  it('SYNs from two remote ports make two independent connections', () => {
    const h = socketListen();
    send(h, REMOTE_SYN);
    send(h, { ...REMOTE_SYN, seq: 12345, remotePort: REMOTE_PORT + 1 });
    h.relative = false;
    recv(h, [
      { ...LOCAL_SYN_ACK, ack: R(1) },
      { ...LOCAL_SYN_ACK, ack: 12346, remotePort: REMOTE_PORT + 1 },
    ]);
    expect(h.listener!.synQueue.size).toBe(2);
  });

  it('drops a SYN when the accept queue is full (the peer will retransmit)', () => {
    const h = socketEstablished({ backlog: 1 });
    // h.conn was accepted: make one more established and leave it in the accept queue.
    send(h, { ...REMOTE_SYN, remotePort: REMOTE_PORT + 1 });
    recv(h, [{ ...LOCAL_SYN_ACK, remotePort: REMOTE_PORT + 1 }]);
    send(h, { flags: 'A', seq: R(1), ack: L(1), remotePort: REMOTE_PORT + 1 });
    expect(h.listener!.acceptQueue.length).toBe(1);
    send(h, { ...REMOTE_SYN, remotePort: REMOTE_PORT + 2 });
    recvNothing(h);
    expect(h.stack.tcp.counters.listenDrops).toBe(1);
  });

  it('closing the listener resets the connections it had not handed out, and only those', () => {
    const h = socketEstablished(); // h.conn: accepted
    send(h, { ...REMOTE_SYN, remotePort: REMOTE_PORT + 1 });
    send(h, { flags: 'A', seq: R(1), ack: L(1), remotePort: REMOTE_PORT + 1 }); // established, not accepted
    send(h, { ...REMOTE_SYN, remotePort: REMOTE_PORT + 2 }); // SYN-RECEIVED
    recv(h, [
      { ...LOCAL_SYN_ACK, remotePort: REMOTE_PORT + 1 },
      { ...LOCAL_SYN_ACK, remotePort: REMOTE_PORT + 2 },
    ]);
    const [embryo] = [...h.listener!.synQueue];
    const [waiting] = h.listener!.acceptQueue;
    h.stack.tcp.unlisten(h.listener!, h.now);
    const got = h.takeLines().sort();
    expect(got).toEqual([
      `[10.7.0.2:${LOCAL_PORT} > 10.7.0.1:${REMOTE_PORT + 1}] RA seq=L+1 ack=R+1 win=0${tsText()}`,
      `[10.7.0.2:${LOCAL_PORT} > 10.7.0.1:${REMOTE_PORT + 2}] RA seq=L+1 ack=R+1 win=0${tsText()}`,
    ]);
    expect(embryo?.state).toBe('CLOSED');
    expect(waiting?.state).toBe('CLOSED');
    expect(h.conn.state).toBe('ESTABLISHED');
    // The port is closed now: a new SYN gets a RST.
    send(h, { ...REMOTE_SYN, remotePort: REMOTE_PORT + 3 });
    recv(h, [{ flags: 'RA', seq: 0, ack: R(1), remotePort: REMOTE_PORT + 3, opts: '' }]);
  });
});

describe('LISTEN: SYN+FIN', () => {
  // Linux tcp_rcv_state_process, TCP_LISTEN: "if (th->syn) { if (th->fin) goto discard; ..."
  // A SYN+FIN is never legitimate (RFC 9293 §3.10.7.2 lets a listener process only a SYN);
  // scanners and stack fingerprinters send it.
  it('a SYN+FIN opens nothing: no SYN-ACK, no embryo, counted as tcp.listenSynFin', () => {
    const h = socketListen();
    send(h, { flags: 'SF', seq: R(0), mss: 1460, wscale: 0 });
    recvNothing(h);
    expect(h.listener!.synQueue.size).toBe(0);
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.stack.tcp.counters.passiveOpens).toBe(0);
    expect(h.stack.tcp.counters.listenSynFin).toBe(1);
  });

  it('SYN+FIN+PSH with data is dropped the same way', () => {
    const h = socketListen();
    send(h, { flags: 'SFP', seq: R(0), payload: 'hello' });
    recvNothing(h);
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.stack.tcp.counters.listenSynFin).toBe(1);
  });

  it('while SYN cookies are in use (SYN queue full) a SYN+FIN gets no cookie either', () => {
    const h = socketListen({ backlog: 1, tcp: { maxSynBacklog: 1 } });
    send(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 0, remotePort: 40_001 });
    h.takeLines(); // the SYN-ACK of the one embryo the queue holds
    send(h, { flags: 'SF', seq: R(0), mss: 1460, wscale: 0, remotePort: 40_002 });
    recvNothing(h);
    expect(h.stack.tcp.counters.syncookiesSent).toBe(0);
    expect(h.stack.tcp.counters.listenSynFin).toBe(1);
  });
});

describe('LISTEN: SYN cookies (SYN queue full)', () => {
  // A connection made from a cookie carries what the cookie encoded and nothing else: the
  // SYN-ACK offers window scaling only if the SYN did (RFC 7323 §2.2), and the window it
  // then advertises is the one the SYN-ACK promised, scaled as agreed.
  function cookieSynAck(h: ReturnType<typeof socketListen>, port: number, wscale: number | undefined): string {
    send(h, { flags: 'S', seq: R(0), mss: 1460, ...(wscale !== undefined ? { wscale } : {}), remotePort: port });
    const lines = h.takeLines().map(strip);
    expect(lines).toHaveLength(1);
    return lines[0]!;
  }

  /** Segments of another 4-tuple print behind "[local > remote] ". */
  const strip = (l: string): string => l.replace(/^\[[^\]]*\] /, '');

  function full(): ReturnType<typeof socketListen> {
    const h = socketListen({ backlog: 1, tcp: { maxSynBacklog: 1 } });
    send(h, { flags: 'S', seq: R(0), mss: 1460, wscale: 0, remotePort: 40_001 });
    h.takeLines(); // the one embryo the queue holds
    return h;
  }

  it('a SYN without window scale gets a cookie SYN-ACK without it; with it, with ours', () => {
    const h = full();
    const plain = cookieSynAck(h, 40_002, undefined);
    expect(plain).toMatch(/^SA /);
    expect(plain).not.toMatch(/wscale/);
    const scaled = cookieSynAck(h, 40_003, 7);
    expect(scaled).toMatch(/wscale \d+/);
    // A shift of 0 is an offer too (RFC 7323 §2.2: scaling on, factor 1): it gets ours.
    const zero = cookieSynAck(h, 40_005, 0);
    expect(zero).toMatch(/wscale \d+/);
    expect(h.stack.tcp.counters.syncookiesSent).toBe(3);
  });

  it('the connection a cookie makes advertises the window its SYN-ACK promised, scaled as agreed', () => {
    const h = full();
    const synack = cookieSynAck(h, 40_004, 7);
    const ourScale = Number(/wscale (\d+)/.exec(synack)![1]);
    const synWin = Number(/ win=(\d+)/.exec(synack)![1]);
    const seq = /seq=(\S+)/.exec(synack)![1]!;
    // The final ACK: the cookie comes back as ACK-1.
    // (Printed relative to our ISS when near it: L+n or L-n.)
    const cookieSeq = seq.startsWith('L+') ? L(Number(seq.slice(2))) : seq.startsWith('L-') ? L(-Number(seq.slice(2))) : Number(seq);
    send(h, { flags: 'A', seq: R(1), ack: (cookieSeq + 1) >>> 0, remotePort: 40_004 });
    const c = h.listener!.accept();
    expect(c?.state).toBe('ESTABLISHED');
    expect(h.stack.tcp.counters.syncookiesRecv).toBe(1);
    expect(synWin).toBe(Math.min(65535, c!.rcv.buf.capacity));
    // The peer may fill the whole window the SYN-ACK promised at once: all of it is taken,
    // even the last segment of it arriving first.
    const lastLen = 1000;
    send(h, { flags: 'A', seq: R(1 + synWin - lastLen), ack: (cookieSeq + 1) >>> 0, payload: 'y'.repeat(lastLen), remotePort: 40_004 });
    expect(h.stack.tcp.counters.dropOutOfWindow).toBe(0);
    let at = 1;
    while (at <= synWin - lastLen) {
      const n = Math.min(1460, synWin - lastLen - at + 1);
      send(h, { flags: 'A', seq: R(at), ack: (cookieSeq + 1) >>> 0, payload: 'x'.repeat(n), remotePort: 40_004 });
      at += n;
    }
    expect(h.stack.tcp.counters.dropOutOfWindow).toBe(0);
    expect(c!.rcv.buf.length).toBe(synWin);
    // Our ACK then advertises the free buffer in units of 2^ourScale (zero here: it is full).
    h.advance(h.now + 200);
    const ack = h.takeLines().map(strip).filter((l) => /^A /.test(l)).pop()!;
    expect(Number(/ win=(\d+)/.exec(ack)![1])).toBe(Math.floor((c!.rcv.buf.capacity - synWin) / 2 ** ourScale));
  });
});
