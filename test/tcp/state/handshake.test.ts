/**
 * SYN-SENT (RFC 9293 §3.10.7.3) and SYN-RECEIVED (§3.10.7.4 with its SYN-RECEIVED rules),
 * with the SYN and SYN-ACK retransmission timers of RFC 6298.
 */
import { describe, expect, it } from 'vitest';
import {
  INITIAL_RTO, L, LOCAL_MSS, LOCAL_PORT, LOCAL_SYN_ACK, LOCAL_WIN, R, REMOTE_ADDR, REMOTE_PORT, REMOTE_SYN, TcpHarness,
  pattern, recv, recvNothing, send, socketListen, socketSynReceived, socketSynSent, text, dataMss, withDefaults,
} from './harness.js';

const OUR_SYN = { flags: 'S', seq: L(0), mss: LOCAL_MSS, wscale: 0 };

describe('SYN-SENT', () => {
  // RFC 9293 §3.10.7.3 first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless
  // the RST bit is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>"
  it('an ACK acknowledging our ISS (not our SYN) gets <SEQ=SEG.ACK><CTL=RST>; we stay in SYN-SENT', () => {
    const h = socketSynSent();
    send(h, { flags: 'SA', seq: R(0), ack: L(0), mss: 1460, wscale: 0 });
    recv(h, [{ flags: 'R', seq: L(0) }]);
    expect(h.conn.state).toBe('SYN-SENT');
  });

  it('an ACK beyond SND.NXT gets <SEQ=SEG.ACK><CTL=RST>; we stay in SYN-SENT', () => {
    const h = socketSynSent();
    send(h, { flags: 'A', seq: R(1), ack: L(2) });
    recv(h, [{ flags: 'R', seq: L(2) }]);
    send(h, { flags: 'SA', seq: R(0), ack: L(-5) });
    recv(h, [{ flags: 'R', seq: L(-5) }]);
    expect(h.conn.state).toBe('SYN-SENT');
    expect(h.conn.error).toBeNull();
  });

  it('a RST with an unacceptable ACK is dropped', () => {
    const h = socketSynSent();
    send(h, { flags: 'RA', seq: R(0), ack: L(5) });
    recvNothing(h);
    expect(h.conn.state).toBe('SYN-SENT');
  });

  // second: "If the ACK was acceptable, then signal to the user 'error: connection reset',
  // drop the segment, enter CLOSED state"
  it('a RST with an acceptable ACK refuses the connection: ECONNREFUSED, CLOSED, nothing sent', () => {
    const h = socketSynSent();
    send(h, { flags: 'RA', seq: 0, ack: L(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ECONNREFUSED');
    expect(h.stack.tcp.connections.size).toBe(0);
    expect(h.pollAt()).toBeUndefined();
  });

  // "Otherwise (no ACK), drop the segment and return."
  it('a RST without ACK is ignored', () => {
    const h = socketSynSent();
    send(h, { flags: 'R', seq: R(0) });
    recvNothing(h);
    expect(h.conn.state).toBe('SYN-SENT');
    expect(h.conn.error).toBeNull();
  });

  // fourth: "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to
  // ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
  it('a SYN-ACK establishes the connection and is acknowledged at once', () => {
    const h = socketSynSent();
    send(h, { flags: 'SA', seq: R(0), ack: L(1), win: 30000, mss: 1200, wscale: 0 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), win: LOCAL_WIN }]);
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.conn.rcv).toMatchObject({ irs: R(0), nxt: R(1) });
    expect(h.conn.snd).toMatchObject({ una: L(1), nxt: L(1), wnd: 30000, mss: 1200 });
    expect(h.pollAt()).toBeUndefined(); // no retransmission timer left
  });

  // RFC 7323 §2.2/§2.3: the window in a SYN-ACK is not scaled; later windows are.
  it('the peer\'s window is unscaled in its SYN-ACK and scaled by its shift afterwards', () => {
    const h = socketSynSent();
    send(h, { flags: 'SA', seq: R(0), ack: L(1), win: 1000, mss: 1460, wscale: 3 });
    expect(h.conn.snd.wnd).toBe(1000);
    h.takeLines();
    send(h, { flags: 'A', seq: R(1), ack: L(1), win: 1000 });
    expect(h.conn.snd.wnd).toBe(8000);
  });

  it('a SYN-ACK without window scale turns scaling off for our window too', () => {
    const h = new TcpHarness({ tcp: { rcvBuf: 262144 } });
    const c = h.stack.tcp.newConnection(0);
    h.stack.tcp.connect(c, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, 0);
    recv(h, [{ flags: 'S', seq: L(0), win: 65535, mss: LOCAL_MSS, wscale: 3 }]);
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 1460 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), win: 65535 }]); // 262144 >> 3 would be 32768
    expect(c.rcv.wscale).toBe(0);
    expect(c.snd.wscale).toBe(0);
  });

  it('data queued before the SYN-ACK goes out with the ACK', () => {
    const h = socketSynSent();
    expect(h.conn.send(new TextEncoder().encode('hello'), h.now)).toBe(5);
    recvNothing(h);
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 1460, wscale: 0 });
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'hello', win: LOCAL_WIN }]);
  });

  it('data in the SYN-ACK is accepted and acknowledged', () => {
    const h = socketSynSent();
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 1460, wscale: 0, payload: 'early data' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(11), win: LOCAL_WIN - 10 }]); // 10 bytes unread
    expect(text(h.conn.read(100, h.now))).toBe('early data');
  });

  it('a FIN in the SYN-ACK: ESTABLISHED then CLOSE-WAIT, the FIN acknowledged', () => {
    const h = socketSynSent();
    send(h, { flags: 'SFA', seq: R(0), ack: L(1), mss: 1460, wscale: 0 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }]); // the FIN took one: receiver SWS avoidance keeps the edge (RFC 1122 §4.2.3.3)
    expect(h.conn.state).toBe('CLOSE-WAIT');
    expect(h.conn.atEof()).toBe(true);
  });

  // fifth: "if neither of the SYN or RST bits is set, then drop the segment and return."
  it('an acceptable ACK without SYN is dropped', () => {
    const h = socketSynSent();
    send(h, { flags: 'A', seq: R(1), ack: L(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('SYN-SENT');
  });

  // fourth: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"
  it('a bare SYN is a simultaneous open: SYN-RECEIVED and a SYN-ACK from the same ISS', () => {
    const h = socketSynSent();
    send(h, REMOTE_SYN);
    recv(h, [LOCAL_SYN_ACK]);
    expect(h.conn.state).toBe('SYN-RECEIVED');
    // The peer's SYN-ACK (RFC 9293 Figure 8 line 6) lies before RCV.NXT: it is acknowledged...
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 1460, wscale: 0 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    // ...and the peer's ACK of our SYN-ACK completes the open.
    send(h, { flags: 'A', seq: R(1), ack: L(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.conn.error).toBeNull();
  });

  // The ACK that acknowledges our SYN-ACK covers the SYN's sequence number, which carries
  // no data: data queued before it must go from its first byte (a surviving mutant of the
  // #14 sample dropped that adjustment and lost the first byte).
  it('simultaneous open: data queued in SYN-RECEIVED goes out whole once our SYN is acknowledged', () => {
    const h = socketSynSent();
    send(h, REMOTE_SYN);
    recv(h, [LOCAL_SYN_ACK]);
    h.conn.send(new Uint8Array([1, 2, 3]), h.now);
    recvNothing(h); // not before the handshake completes
    send(h, { flags: 'A', seq: R(1), ack: L(1) });
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: new Uint8Array([1, 2, 3]) }]);
    expect(h.conn.state).toBe('ESTABLISHED');
  });

  // RFC 9293 §3.10.4 CLOSE in SYN-RECEIVED: "If no SENDs have been issued and there is no
  // pending data to send, then form a FIN segment and send it, and enter FIN-WAIT-1 state".
  // The SYN is still unacknowledged: a retransmission must repeat the SYN-ACK (at ISS); the
  // FIN keeps its own sequence number ISS+1.
  it('simultaneous open, close in SYN-RECEIVED: the timeout retransmits the SYN-ACK, never a FIN at the ISS (RFC 9293 §3.10.4)', () => {
    const h = socketSynSent();
    send(h, REMOTE_SYN);
    recv(h, [LOCAL_SYN_ACK]);
    h.conn.shutdownSend(h.now);
    expect(h.conn.state).toBe('FIN-WAIT-1');
    recv(h, [{ flags: 'FA', seq: L(1), ack: R(1) }]);
    h.advance(h.pollAt()!);
    const lines = h.takeLines();
    expect(lines.some((l) => l.includes('seq=L+0') && !l.startsWith('S')), lines.join('\n')).toBe(false);
    expect(lines[0]).toBe(`SA seq=L+0 ack=R+1 win=8192 <mss 1460,wscale 0${withDefaults() ? ',sackOK,TS' : ''}>`);
  });

  it('simultaneous open: a RST then refuses the connection (no listener)', () => {
    const h = socketSynSent();
    send(h, REMOTE_SYN);
    recv(h, [LOCAL_SYN_ACK]);
    send(h, { flags: 'R', seq: R(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ECONNREFUSED');
  });

  // RFC 6298 (2.1) initial RTO 1 s; (5.5) back off by doubling; Linux tcp_syn_retries = 6.
  it('retransmits the SYN after 1, 2, 4, 8, 16, 32 s, then fails with ETIMEDOUT', () => {
    const h = socketSynSent();
    let t = 0;
    let rto = INITIAL_RTO;
    for (let i = 1; i <= 6; i++) {
      expect(h.pollAt(), `retransmission ${i}`).toBe(t + rto);
      recvNothing(h, { time: t + rto - 1 });
      t += rto;
      recv(h, [OUR_SYN], { time: t });
      expect(h.conn.state).toBe('SYN-SENT');
      rto *= 2;
    }
    expect(t).toBe(63_000);
    expect(h.pollAt()).toBe(127_000);
    recvNothing(h, { time: 126_999 });
    expect(h.conn.state).toBe('SYN-SENT');
    recvNothing(h, { time: 127_000 });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBe('ETIMEDOUT');
    expect(h.pollAt()).toBeUndefined();
  });

  it('synRetries is configurable', () => {
    const h = socketSynSent({ tcp: { synRetries: 1 } });
    recv(h, [OUR_SYN], { time: 1000 });
    recvNothing(h, { time: 3000 });
    expect(h.conn.error).toBe('ETIMEDOUT');
  });

  it('a SYN-ACK after a retransmission still establishes', () => {
    const h = socketSynSent();
    recv(h, [OUR_SYN], { time: 1000 });
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 1460, wscale: 0 }, { time: 1500 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), win: LOCAL_WIN }]);
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.pollAt()).toBeUndefined();
  });

  // RFC 6298 (5.7): "If the timer expires awaiting the ACK of a SYN segment and the TCP
  // implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to
  // 3 seconds when data transmission begins (i.e., after the three-way handshake completes)."
  it('after a SYN timeout, the first data RTO is 3 s (RFC 6298 (5.7))', () => {
    // Without timestamps: with them the SYN-ACK's echo measures the RTT (RFC 7323 §4.1),
    // and (5.7) is for a handshake that measured nothing. Without SACK: with it a tail loss
    // probe would go before the RTO (RFC 8985 §7.2).
    const h = socketSynSent({ tcp: { timestamps: false, sack: false } });
    recv(h, [OUR_SYN], { time: 1000 });
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 1460, wscale: 0 }, { time: 1500 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), win: LOCAL_WIN }]);
    h.conn.send(new TextEncoder().encode('x'), h.now);
    recv(h, [{ flags: 'PA', seq: L(1), ack: R(1), payload: 'x', win: LOCAL_WIN }]);
    expect(h.pollAt()).toBe(1500 + 3000);
  });

  // RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.2.16: the window offered is the receive buffer's free
  // space, and its right edge never moves left. Here our SYN advertised 8192 while RCV.NXT
  // was still unknown; the window in the handshake ACK must still be 8192.
  it('active open: the handshake ACK advertises our receive buffer (8192), whatever the peer\'s ISS (RFC 9293 §3.8.6.2.2)', () => {
    const irss = [R(0), 0xfffff000, 0x80000100, 0x12345678, 0x00000100];
    const windows = irss.map((irs) => {
      const h = socketSynSent();
      send(h, { flags: 'SA', seq: irs, ack: L(1), mss: 1460, wscale: 0 });
      expect(h.conn.state).toBe('ESTABLISHED');
      const [line] = h.takeLines();
      return `IRS ${irs.toString(16)}: ${/win=\d+/.exec(line ?? '')?.[0]}`;
    });
    expect(windows).toEqual(irss.map((irs) => `IRS ${irs.toString(16)}: win=${LOCAL_WIN}`));
  });

  it('close and abort in SYN-SENT send nothing and free the connection', () => {
    const h = socketSynSent();
    h.conn.abort(h.now);
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.pollAt()).toBeUndefined();
    const h2 = socketSynSent();
    h2.conn.shutdownSend(h2.now);
    recvNothing(h2);
    expect(h2.conn.state).toBe('CLOSED');
    expect(h2.stack.tcp.connections.size).toBe(0);
  });
});

describe('SYN-RECEIVED (passive)', () => {
  // RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter
  // ESTABLISHED state and continue processing"
  it('the ACK of our SYN-ACK establishes the connection and queues it for accept()', () => {
    const h = socketSynReceived();
    expect(h.listener!.accept()).toBeUndefined();
    send(h, { flags: 'A', seq: R(1), ack: L(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('ESTABLISHED');
    expect(h.listener!.accept()).toBe(h.conn);
    expect(h.pollAt()).toBeUndefined();
  });

  it('data on the completing ACK is accepted (delayed ACK)', () => {
    const h = socketSynReceived();
    send(h, { flags: 'PA', seq: R(1), ack: L(1), payload: 'GET /' });
    recvNothing(h, { time: 39 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(6), win: LOCAL_WIN - 5 }], { time: 40 });
    const c = h.listener!.accept()!;
    expect(text(c.read(100, h.now))).toBe('GET /');
  });

  it('a FIN on the completing ACK: ESTABLISHED then CLOSE-WAIT, still handed to accept()', () => {
    const h = socketSynReceived();
    send(h, { flags: 'FA', seq: R(1), ack: L(1) });
    // The FIN takes one sequence number inside the window; the right edge stays put.
    recv(h, [{ flags: 'A', seq: L(1), ack: R(2), win: LOCAL_WIN - 1 }]);
    expect(h.conn.state).toBe('CLOSE-WAIT');
    expect(h.listener!.accept()).toBe(h.conn);
  });

  // "If the segment acknowledgment is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>"
  it('an ACK that does not acknowledge our SYN gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = socketSynReceived();
    send(h, { flags: 'A', seq: R(1), ack: L(0) });
    recv(h, [{ flags: 'R', seq: L(0) }]);
    send(h, { flags: 'A', seq: R(1), ack: L(2) });
    recv(h, [{ flags: 'R', seq: L(2) }]);
    expect(h.conn.state).toBe('SYN-RECEIVED');
  });

  // second, SYN-RECEIVED: "If this connection was initiated with a passive OPEN (i.e., came
  // from the LISTEN state), then return this connection to LISTEN state and return."
  it('an exact RST drops the embryonic connection silently; the listener keeps listening', () => {
    const h = socketSynReceived();
    send(h, { flags: 'R', seq: R(1) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.conn.error).toBeNull();
    expect(h.listener!.synQueue.size).toBe(0);
    expect(h.pollAt()).toBeUndefined();
    send(h, REMOTE_SYN);
    recv(h, [LOCAL_SYN_ACK]);
  });

  // RFC 5961 §3.2: an in-window RST that is not exact gets a challenge ACK.
  it('an in-window RST that is not exact gets a challenge ACK', () => {
    const h = socketSynReceived();
    send(h, { flags: 'R', seq: R(100) });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('SYN-RECEIVED');
  });

  it('the peer\'s SYN again (our SYN-ACK was lost): the SYN-ACK is sent again', () => {
    const h = socketSynReceived();
    send(h, REMOTE_SYN, { time: 300 });
    recv(h, [LOCAL_SYN_ACK]);
    expect(h.conn.state).toBe('SYN-RECEIVED');
  });

  // fourth, SYN-RECEIVED from a passive OPEN: "return this connection to the LISTEN state"
  it('a SYN with another sequence number in the window drops the embryonic connection', () => {
    const h = socketSynReceived();
    send(h, { flags: 'S', seq: R(50) });
    recvNothing(h);
    expect(h.conn.state).toBe('CLOSED');
    expect(h.listener!.synQueue.size).toBe(0);
  });

  // first: "If an incoming segment is not acceptable, an acknowledgment should be sent in reply"
  it('a segment outside the window is answered with an ACK and dropped', () => {
    const h = socketSynReceived();
    send(h, { flags: 'PA', seq: R(100_000), ack: L(1), payload: 'x' });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.state).toBe('SYN-RECEIVED');
  });

  // RFC 6298 (2.1), (5.5); Linux tcp_synack_retries = 5, after which the embryo is dropped silently.
  it('retransmits the SYN-ACK after 1, 2, 4, 8, 16 s, then drops the embryo without a RST', () => {
    const h = socketSynReceived();
    let t = 0;
    let rto = INITIAL_RTO;
    for (let i = 1; i <= 5; i++) {
      expect(h.pollAt()).toBe(t + rto);
      recvNothing(h, { time: t + rto - 1 });
      t += rto;
      recv(h, [LOCAL_SYN_ACK], { time: t });
      rto *= 2;
    }
    recvNothing(h, { time: t + rto });
    expect(h.conn.state).toBe('CLOSED');
    expect(h.listener!.synQueue.size).toBe(0);
    expect(h.stack.tcp.connections.size).toBe(0);
  });

});

/** Passive open with the remote's SYN announcing `mss`; returns the accepted connection's send MSS. */
function passiveSndMss(mss: number): number {
  const h = socketListen();
  send(h, { flags: 'S', seq: R(0), mss, wscale: 0 });
  recv(h, [LOCAL_SYN_ACK]);
  send(h, { flags: 'A', seq: R(1), ack: L(1) });
  const c = h.listener!.accept();
  expect(c?.state).toBe('ESTABLISHED');
  return c!.snd.mss;
}

describe('the peer\'s MSS option', () => {
  // Linux tcp_parse_options: "if (in_mss) { ... opt_rx->mss_clamp = in_mss; }": an MSS of
  // 0 is ignored, so the RFC 9293 §3.7.1 default of 536 applies.
  it('MSS 0 is treated as absent: the send MSS is 536', () => {
    expect(passiveSndMss(0)).toBe(536);
  });

  // Linux include/net/tcp.h TCP_MIN_MSS = 88 ("(60+60+8) - (20+20)"): no smaller MSS is used.
  it.each([1, 8, 40, 87])('MSS %i is raised to the floor of 88', (mss) => {
    expect(passiveSndMss(mss)).toBe(88);
  });

  it('MSS 88 and above are taken as they are (bounded by our MTU)', () => {
    expect(passiveSndMss(88)).toBe(88);
    expect(passiveSndMss(536)).toBe(536);
    expect(passiveSndMss(9000)).toBe(1460);
  });

  it('active open: a SYN-ACK with MSS 0 gives 536, and data goes out in 536-byte segments', () => {
    const h = socketSynSent();
    send(h, { flags: 'SA', seq: R(0), ack: L(1), mss: 0, wscale: 0 });
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1) }]);
    expect(h.conn.snd.mss).toBe(536);
    const m = dataMss(536);
    h.conn.send(pattern(1000), h.now);
    recv(h, [{ flags: 'A', seq: L(1), ack: R(1), payload: pattern(1000).subarray(0, m) }]);
    // (Nagle holds the tail until the first segment is acknowledged.)
    send(h, { flags: 'A', seq: R(1), ack: L(1 + m) }, { time: 10 });
    recv(h, [{ flags: 'PA', seq: L(1 + m), ack: R(1), payload: pattern(1000).subarray(m) }]);
  });
});
