/**
 * Segment arrival for a connection that exists (RFC 9293 §3.10.7.3 and §3.10.7.4), in the
 * RFC's order: acceptability, RST, SYN, ACK, URG, text, FIN. This file only dispatches:
 * each step asks the piece that owns the state (receive.ts, send.ts, timestamps.ts,
 * handshake.ts) and decides the state transitions. LISTEN is listener.ts; segments for
 * no connection and TIME-WAIT records are the TCP layer's.
 */
import type { TcpConnection } from './connection.js';
import { established, synReceived } from './handshake.js';
import type { Segment } from './segment.js';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.js';
import { ACK, FIN, RST, SYN } from './tcp-packet.js';
import { Timer } from './timers.js';

/** Why a segment for a connection was dropped (each a TCP-layer counter). */
export type InputDrop = 'dropOutOfWindow' | 'dropNoAck' | 'dropPaws' | 'dropRstNotExact' | 'dropSynInWindow' | 'dropAckUnacceptable' | 'dropSynSent' | 'timeWaitFinAcked';

/** What input needs from the layer: the challenge ACK (rate limited, RFC 5961 §7), and drop counters. */
export interface InputEnv {
  challengeAck(c: TcpConnection, now: number): void;
  drop(reason: InputDrop): void;
}

export function segmentArrives(c: TcpConnection, s: Segment, now: number, env: InputEnv): void {
  c.at(now);
  c.stats.segsIn++;
  if (c.state === 'SYN-SENT') synSent(c, s, now, env);
  else if (c.state !== 'CLOSED' && c.state !== 'LISTEN') synchronized(c, s, now, env);
  if (c.state !== 'CLOSED') {
    c.armKeepalive(now);
    c.output(now);
  }
}

/** RFC 9293 §3.10.7.3. */
function synSent(c: TcpConnection, s: Segment, now: number, env: InputEnv): void {
  // First: the ACK must acknowledge our SYN.
  if (s.has(ACK) && (seqLe(s.ack, c.snd.iss) || seqGt(s.ack, c.snd.nxt))) {
    env.drop('dropSynSent');
    if (!s.has(RST)) c.out.writeSegment(c, s.ack, RST, 0, 0, now);
    return;
  }
  // Second: a RST counts only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT).
  if (s.has(RST)) {
    if (s.has(ACK)) c.closeNow('RST in SYN-SENT: connection refused', 'ECONNREFUSED');
    else env.drop('dropSynSent');
    return;
  }
  // Fourth: the SYN.
  if (!s.has(SYN)) {
    env.drop('dropSynSent');
    return;
  }
  synReceived(c, s, now);
  if (s.has(ACK)) c.snd.synAckArrived(s, now);
  if (c.snd.synAcked()) {
    // The window in a SYN-ACK is never scaled (RFC 7323 §2.2).
    established(c, s, s.wnd, 'SYN-ACK received');
    c.rcv.requestAck();
    // Data or FIN in the SYN-ACK (rare) go through the usual text and FIN steps.
    s.seq = seqAdd(s.seq, 1);
    s.flags &= ~SYN;
    if (s.len > 0) text(c, s, now);
    if (s.has(FIN)) fin(c, s, now);
  } else {
    // Simultaneous open (RFC 9293 Figure 8): answer with SYN,ACK from the same ISS.
    c.setState('SYN-RECEIVED', 'SYN received in SYN-SENT (simultaneous open)');
    c.snd.rewindToIss();
    c.timers.stop(Timer.Rto);
  }
}

function sendChallengeAck(c: TcpConnection, now: number, env: InputEnv): void {
  env.challengeAck(c, now);
}

/** Every state after SYN-SENT. */
function synchronized(c: TcpConnection, s: Segment, now: number, env: InputEnv): void {
  const rcv = c.rcv;
  // RFC 7323 §5.3 (R1), PAWS: a segment whose timestamp is older than TS.Recent is an old
  // duplicate from an earlier wrap of the sequence space: acknowledge and drop it.
  if (!s.has(RST) && c.ts.pawsRejects(s, now)) {
    c.stats.pawsDropped++;
    env.drop('dropPaws');
    if (c.state !== 'SYN-RECEIVED') sendChallengeAck(c, now, env);
    return;
  }
  // Our SYN-ACK was lost and the peer sends its SYN again: send the SYN-ACK again (Linux does).
  if (c.state === 'SYN-RECEIVED' && s.has(SYN) && !s.has(ACK) && !s.has(RST) && s.seq === rcv.irs) {
    c.snd.rewindToIss();
    return;
  }
  // First: sequence number acceptability.
  if (!rcv.acceptable(s)) {
    const zeroWindowData = rcv.advertisedWindow() === 0 && s.seq === rcv.nxt && s.has(ACK) && !s.has(RST) && !s.has(SYN);
    if (!zeroWindowData) {
      if (c.state === 'TIME-WAIT' && s.has(FIN) && !s.has(RST)) {
        // The peer resends its FIN: our last ACK was lost. RFC 9293: acknowledge it and
        // restart the 2*MSL timeout. (Not a drop, and not rate limited.)
        env.drop('timeWaitFinAcked');
        c.restartTimeWait(now);
        c.snd.sendAck(now);
        return;
      }
      env.drop('dropOutOfWindow');
      if (!s.has(RST)) sendChallengeAck(c, now, env);
      return;
    }
    // RFC 9293: "special allowance should be made to accept valid ACKs, URGs, and RSTs"
    // when the window is zero; the text is dropped, and acknowledged so that the peer's
    // zero-window probe is answered (RFC 1122 §4.2.2.17).
    s.len = 0;
    s.flags &= ~FIN;
    rcv.answerProbe();
  }
  // RST and SYN are judged on the segment as it arrived: trimming moves SEG.SEQ (and can
  // drop a SYN bit), which must not turn a near miss into an exact match (RFC 5961).
  const origSeq = s.seq;
  const origSyn = s.has(SYN);
  rcv.trimToWindow(s);
  c.heardFromPeer(now);

  // Second: RST (RFC 5961 §3.2: only an exact match resets; otherwise a challenge ACK).
  if (s.has(RST)) {
    if (origSeq !== rcv.nxt) {
      env.drop('dropRstNotExact');
      sendChallengeAck(c, now, env);
      return;
    }
    switch (c.state) {
      case 'SYN-RECEIVED':
        if (c.listener) c.closeNow('RST in SYN-RECEIVED (passive open)');
        else c.closeNow('RST in SYN-RECEIVED: connection refused', 'ECONNREFUSED');
        return;
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        c.closeNow('RST received', 'ECONNRESET');
        return;
      case 'TIME-WAIT':
        return; // RFC 1337: TIME-WAIT ignores RST (no assassination)
      default:
        c.closeNow('RST received while closing');
        return;
    }
  }
  // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK, drop.
  if (origSyn) {
    if (c.state === 'SYN-RECEIVED' && c.listener) {
      c.closeNow('new SYN in SYN-RECEIVED (passive open)');
      return;
    }
    env.drop('dropSynInWindow');
    sendChallengeAck(c, now, env);
    return;
  }
  // Fifth: ACK.
  if (!s.has(ACK)) {
    env.drop('dropNoAck');
    return;
  }
  const snd = c.snd;
  if (c.state === 'SYN-RECEIVED') {
    if (!(seqLt(snd.una, s.ack) && seqLe(s.ack, snd.nxt))) {
      c.out.writeSegment(c, s.ack, RST, 0, 0, now);
      return;
    }
    established(c, s, s.wnd << snd.wscale, 'ACK of SYN-ACK');
  }
  // RFC 5961 §5.2: an ACK for data never sent, or too old, gets a challenge ACK.
  if (seqGt(s.ack, snd.max) || seqLt(s.ack, seqAdd(snd.una, -Math.max(snd.maxWnd, 1)))) {
    env.drop('dropAckUnacceptable');
    sendChallengeAck(c, now, env);
    return;
  }
  // RFC 7323 §4.3 (R3): only now, with the segment accepted (its sequence number, RST,
  // SYN and ACK checked), may it move TS.Recent.
  c.ts.update(s, origSeq, now);
  c.ecn.arrived(s, s.ecn);
  snd.onAck(s, now);
  switch (c.state) {
    case 'FIN-WAIT-1':
      if (snd.finAcked()) c.enterFinWait2(now);
      break;
    case 'CLOSING':
      if (snd.finAcked()) c.enterTimeWait(now, 'our FIN acknowledged in CLOSING');
      break;
    case 'LAST-ACK':
      if (snd.finAcked()) {
        c.closeNow('our FIN acknowledged in LAST-ACK');
        return;
      }
      break;
    default:
      break;
  }
  // Sixth (URG) is ignored: RFC 6093 advises against urgent data. Seventh: text.
  if (s.len > 0) {
    if (c.state === 'ESTABLISHED' || c.state === 'FIN-WAIT-1' || c.state === 'FIN-WAIT-2') text(c, s, now);
    if (c.isClosed()) return;
  }
  // Eighth: FIN.
  if (s.has(FIN)) fin(c, s, now);
}

/** The seventh step: in-window data (receive.ts keeps it). */
function text(c: TcpConnection, s: Segment, now: number): void {
  if (c.orphan) {
    // RFC 1122 §4.2.2.13: new data after CLOSE SHOULD be answered with RST, to show the
    // data was lost (Linux counts these as TCPAbortOnData).
    c.abort(now, 'data arrived after close');
    return;
  }
  const before = c.rcv.nxt;
  const finDue = c.rcv.text(s, now);
  if (finDue) processFin(c, now);
  if (c.rcv.nxt !== before) c.onEvent();
}

/** The eighth step. */
function fin(c: TcpConnection, s: Segment, now: number): void {
  if (c.rcv.fin(seqAdd(s.seq, s.len))) processFin(c, now);
}

/** The peer's FIN, in order: EOF for the application, and the state it moves us to. */
function processFin(c: TcpConnection, now: number): void {
  if (!c.rcv.takeFin()) return;
  switch (c.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      c.setState('CLOSE-WAIT', 'FIN received');
      break;
    case 'FIN-WAIT-1':
      if (c.snd.finAcked()) c.enterTimeWait(now, 'FIN received, ours acknowledged');
      else c.setState('CLOSING', 'FIN received (simultaneous close)');
      break;
    case 'FIN-WAIT-2':
      c.enterTimeWait(now, 'FIN received in FIN-WAIT-2');
      break;
    default:
      break;
  }
  c.onEvent();
}
