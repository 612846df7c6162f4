/**
 * Segment arrival for a connection that exists (RFC 9293 §3.10.7.3 and §3.10.7.4), in the
 * RFC's order: acceptability, RST, SYN, ACK, URG, text, FIN. LISTEN and CLOSED (no
 * connection) are handled by the TCP layer.
 */
import { logger } from '../core/log.js';
import { peerSendMss, type TcpConnection } from './connection.js';
import type { Segment } from './segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import { ACK, FIN, RST, SYN } from './tcp-packet.js';

const log = logger('tcp');

/** Why a segment for a connection was dropped (each a TCP-layer counter). */
export type InputDrop = 'dropOutOfWindow' | 'dropNoAck' | 'dropPaws' | 'dropRstNotExact' | 'dropSynInWindow' | 'dropAckUnacceptable' | 'dropSynSent' | 'timeWaitFinAcked';

/** What input needs from the layer: the RFC 5961 §7 rate limit for challenge ACKs, and drop counters. */
export interface InputEnv {
  allowChallengeAck(c: TcpConnection, now: number): boolean;
  drop(reason: InputDrop): void;
}

export function segmentArrives(c: TcpConnection, s: Segment, now: number, env: InputEnv): void {
  c.stats.segsIn++;
  if (c.state === 'SYN-SENT') synSent(c, s, now, env);
  else if (c.state !== 'CLOSED' && c.state !== 'LISTEN') synchronized(c, s, now, env);
  if (c.state !== 'CLOSED') {
    c.armKeepalive(now);
    c.output(now);
  }
}

/** Options of a SYN: the peer's MSS and window scale (RFC 9293 §3.7.1, RFC 7323 §2.2). */
export function applySynOptions(c: TcpConnection, s: Segment, now: number): void {
  // RFC 7323 §3.2: timestamps are used only if both SYNs carried them.
  if (s.opts.hasTimestamps && c.offerTs) {
    c.tsOk = true;
    c.tsRecent = s.opts.tsVal;
    c.tsRecentAt = now;
  } else {
    c.tsOk = false;
    c.offerTs = false;
  }
  // RFC 2018 §2: SACK only if both SYNs carried SACK-permitted.
  if (s.opts.sackPermitted && c.offerSack) c.sackOk = true;
  else {
    c.sackOk = false;
    c.offerSack = false;
  }
  c.sndMss = c.peerMss = peerSendMss(s.opts.mss, c.mtuMss);
  c.cc = c.newCongestionControl(c.sndMss);
  if (s.opts.wscale >= 0) {
    c.sndWscale = s.opts.wscale;
  } else {
    // Scaling is used only if both sides offered it (RFC 7323 §2.2); a passive opener then
    // leaves the option out of its SYN-ACK.
    c.sndWscale = 0;
    c.rcvWscale = 0;
    c.offerWscale = false;
  }
}

/** RFC 9293 §3.10.7.3. */
function synSent(c: TcpConnection, s: Segment, now: number, env: InputEnv): void {
  // First: the ACK must acknowledge our SYN.
  if (s.has(ACK) && (seqLe(s.ack, c.iss) || seqGt(s.ack, c.sndNxt))) {
    env.drop('dropSynSent');
    if (!s.has(RST)) c.out.writeSegment(c, s.ack, RST, 0, 0, null, now);
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
  c.irs = s.seq;
  c.rcvNxt = seqAdd(s.seq, 1);
  // Our SYN advertised a window before RCV.NXT was known: anchor its right edge now.
  c.rcvAdvEdge = seqAdd(c.rcvNxt, c.synWindow);
  applySynOptions(c, s, now);
  if (s.has(ACK)) {
    c.sndUna = s.ack;
    if (c.tsOk && c.tsEchoTimes(s.opts.tsEcr, now)) {
      c.rttSample(tsRtt(c, s, now));
      c.rttSeq = -1;
    } else if (c.rttSeq !== -1 && seqGe(s.ack, c.rttSeq)) {
      c.rttSample(now - c.rttStart);
      c.rttSeq = -1;
    }
    c.retries = 0;
    c.rtoAt = -1;
  }
  if (seqGt(c.sndUna, c.iss)) {
    // RFC 9293: "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK" (unscaled in a SYN).
    c.sndWnd = s.wnd;
    c.maxSndWnd = s.wnd;
    c.sndWl1 = s.seq;
    c.sndWl2 = s.ack;
    c.setState('ESTABLISHED', 'SYN-ACK received');
    c.onEstablished();
    c.ackNow = true;
    // Data or FIN in the SYN-ACK (rare) go through the usual text and FIN steps.
    s.seq = seqAdd(s.seq, 1);
    s.flags &= ~SYN;
    if (s.len > 0) text(c, s, now);
    if (s.has(FIN)) fin(c, s, now);
  } else {
    // Simultaneous open (RFC 9293 Figure 8): answer with SYN,ACK from the same ISS.
    c.setState('SYN-RECEIVED', 'SYN received in SYN-SENT (simultaneous open)');
    c.sndNxt = c.iss;
    c.rtoAt = -1;
  }
}

/** RFC 9293 §3.10.7.4: the acceptability test for a segment's sequence space. */
function acceptable(c: TcpConnection, s: Segment): boolean {
  const wnd = c.advertisedWindow();
  const len = s.segLen();
  if (len === 0) return wnd === 0 ? s.seq === c.rcvNxt : inWindow(c.rcvNxt, wnd, s.seq);
  if (wnd === 0) return false;
  return inWindow(c.rcvNxt, wnd, s.seq) || inWindow(c.rcvNxt, wnd, seqAdd(s.seq, len - 1));
}

/** RCV.NXT =< x < RCV.NXT+RCV.WND */
function inWindow(rcvNxt: number, wnd: number, x: number): boolean {
  return seqLe(rcvNxt, x) && seqLt(x, seqAdd(rcvNxt, wnd));
}

/** Trims the segment to the receive window: old bytes off the front, excess off the back. */
function trimToWindow(c: TcpConnection, s: Segment): void {
  let front = seqDiff(c.rcvNxt, s.seq);
  if (front > 0) {
    if (s.has(SYN)) {
      s.flags &= ~SYN;
      s.seq = seqAdd(s.seq, 1);
      front--;
    }
    const cut = Math.min(front, s.len);
    s.off += cut;
    s.len -= cut;
    s.seq = seqAdd(s.seq, cut);
  }
  const room = c.advertisedWindow() - Math.max(0, seqDiff(s.seq, c.rcvNxt));
  if (s.len > room) {
    s.len = Math.max(0, room);
    s.flags &= ~FIN; // the FIN lies beyond the window
  }
}

function sendChallengeAck(c: TcpConnection, now: number, env: InputEnv): void {
  if (env.allowChallengeAck(c, now)) c.challengeAck(now);
}

/** The RTT an echoed timestamp measures (RFC 7323 §4.1), in ms. */
function tsRtt(c: TcpConnection, s: Segment, now: number): number {
  return Math.max(0, seqDiff(c.tsVal(now), s.opts.tsEcr));
}

/** RFC 7323 §5.5: TS.Recent older than 24 days no longer protects (the clock may have wrapped). */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/** Every state after SYN-SENT. */
function synchronized(c: TcpConnection, s: Segment, now: number, env: InputEnv): void {
  // RFC 7323 §5.3 (R1), PAWS: a segment whose timestamp is older than TS.Recent is an old
  // duplicate from an earlier wrap of the sequence space: acknowledge and drop it.
  if (c.tsOk && s.opts.hasTimestamps && !s.has(RST) && seqLt(s.opts.tsVal, c.tsRecent) && now - c.tsRecentAt < PAWS_IDLE_MS) {
    c.stats.pawsDropped++;
    env.drop('dropPaws');
    if (!(c.state === 'SYN-RECEIVED')) sendChallengeAck(c, now, env);
    return;
  }
  // Our SYN-ACK was lost and the peer sends its SYN again: send the SYN-ACK again (Linux does).
  if (c.state === 'SYN-RECEIVED' && s.has(SYN) && !s.has(ACK) && !s.has(RST) && s.seq === c.irs) {
    c.sndNxt = c.iss;
    return;
  }
  // First: sequence number acceptability.
  if (!acceptable(c, s)) {
    const zeroWindowData = c.advertisedWindow() === 0 && s.seq === c.rcvNxt && s.has(ACK) && !s.has(RST) && !s.has(SYN);
    if (!zeroWindowData) {
      if (c.state === 'TIME-WAIT' && s.has(FIN) && !s.has(RST)) {
        // The peer resends its FIN: our last ACK was lost. RFC 9293: acknowledge it and
        // restart the 2*MSL timeout. (Not a drop, and not rate limited.)
        env.drop('timeWaitFinAcked');
        c.timeWaitAt = now + 2 * c.config.mslMs;
        c.sendAck(now);
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
    c.ackNow = true;
  }
  // RST and SYN are judged on the segment as it arrived: trimming moves SEG.SEQ (and can
  // drop a SYN bit), which must not turn a near miss into an exact match (RFC 5961).
  const origSeq = s.seq;
  const origSyn = s.has(SYN);
  trimToWindow(c, s);
  c.lastRecvAt = now;
  c.keepaliveSent = 0;

  // Second: RST (RFC 5961 §3.2: only an exact match resets; otherwise a challenge ACK).
  if (s.has(RST)) {
    if (origSeq !== c.rcvNxt) {
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
  if (c.state === 'SYN-RECEIVED') {
    if (!(seqLt(c.sndUna, s.ack) && seqLe(s.ack, c.sndNxt))) {
      c.out.writeSegment(c, s.ack, RST, 0, 0, null, now);
      return;
    }
    c.sndWnd = s.wnd << c.sndWscale;
    c.maxSndWnd = c.sndWnd;
    c.sndWl1 = s.seq;
    c.sndWl2 = s.ack;
    c.setState('ESTABLISHED', 'ACK of SYN-ACK');
    c.onEstablished();
    if (c.listener) {
      const l = c.listener;
      c.listener = null;
      l.onEmbryoDone(c, true);
    }
  }
  // RFC 5961 §5.2: an ACK for data never sent, or too old, gets a challenge ACK.
  if (seqGt(s.ack, c.sndMax) || seqLt(s.ack, seqAdd(c.sndUna, -Math.max(c.maxSndWnd, 1)))) {
    env.drop('dropAckUnacceptable');
    sendChallengeAck(c, now, env);
    return;
  }
  // RFC 7323 §4.3 (R3): remember the newest timestamp of a segment that is not ahead of
  // what we have acknowledged. Only now, with the segment accepted (its sequence number,
  // RST, SYN and ACK checked): a segment that is then dropped must not move TS.Recent,
  // or one spoofed segment would make the next legitimate one fail PAWS (RFC 7323 §5.3,
  // RFC 5961 §5.2).
  if (c.tsOk && s.opts.hasTimestamps && seqLe(origSeq, c.lastAckSent) && seqGe(s.opts.tsVal, c.tsRecent)) {
    c.tsRecent = s.opts.tsVal;
    c.tsRecentAt = now;
  }
  ack(c, s, now);
  switch (c.state) {
    case 'FIN-WAIT-1':
      if (finAcked(c)) {
        c.setState('FIN-WAIT-2', 'our FIN acknowledged');
        if (c.orphan) c.finWait2At = now + c.config.finWait2TimeoutMs;
      }
      break;
    case 'CLOSING':
      if (finAcked(c)) c.enterTimeWait(now, 'our FIN acknowledged in CLOSING');
      break;
    case 'LAST-ACK':
      if (finAcked(c)) {
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

function finAcked(c: TcpConnection): boolean {
  return c.finSeq !== -1 && seqGt(c.sndUna, c.finSeq);
}

/** ACK processing: what is newly acknowledged, duplicate ACKs, the send window. */
function ack(c: TcpConnection, s: Segment, now: number): void {
  const cwndBefore = c.cc.cwnd;
  ackInner(c, s, now);
  if (c.cc.cwnd !== cwndBefore) c.traceCwnd();
}

function ackInner(c: TcpConnection, s: Segment, now: number): void {
  const a = s.ack;
  let spaceFreed = false;
  const o = s.opts;
  const advances = seqGt(a, c.sndUna);
  // RFC 2883: a first SACK block starting below the ACK, or inside the second, reports a
  // duplicate (Linux tcp_check_dsack tests the start, as here).
  const dsack = c.sackOk && o.sackCount > 0 && (seqLt(o.sack[0]!, a) || (o.sackCount > 1 && seqGe(o.sack[0]!, o.sack[2]!) && seqLe(o.sack[1]!, o.sack[3]!)));
  let newlySacked = 0;
  if (c.sackOk && seqLe(a, c.sndMax)) {
    // RACK (RFC 8985 §6.2 steps 1-3): every segment this ACK delivers, cumulatively or by
    // SACK (RFC 2018 §5), updates the RACK state.
    c.rack.beginAck(c.tsOk && o.hasTimestamps && o.tsEcr !== 0 ? (o.tsEcr - c.tsOffset) >>> 0 : -1);
    if (advances) c.rtx.ackTo(a, c.rack, now);
    // Lowest block first (as Linux sorts them): RFC 2018 puts the newest block first, and
    // taking a lower block after a higher one would look like reordering to RACK.
    let done = 0;
    for (let n = 0; n < o.sackCount; n++) {
      let k = -1;
      for (let j = 0; j < o.sackCount; j++) {
        if (done & (1 << j)) continue;
        if (k < 0 || seqLt(o.sack[2 * j]!, o.sack[2 * k]!)) k = j;
      }
      done |= 1 << k;
      newlySacked += c.rtx.sack(o.sack[2 * k]!, o.sack[2 * k + 1]!, c.rack, now);
    }
    if (dsack) c.rack.onDsack(advances ? a : c.sndUna, c.sndNxt);
  }
  const wnd = s.wnd << c.sndWscale;
  if (advances) {
    // Was the window in use? (RFC 7661 / Linux tcp_is_cwnd_limited: a window that the
    // application or the peer kept half empty must not keep growing.)
    const cwndLimited = 2 * seqDiff(c.sndMax, c.sndUna) >= c.cc.cwnd;
    let acked = seqDiff(a, c.sndUna);
    if (seqLe(c.sndUna, c.iss)) acked--; // the SYN's sequence number carries no data
    const dataAcked = Math.min(Math.max(0, acked), c.sndBuf.length);
    c.sndBuf.consume(dataAcked);
    c.sndUna = a;
    if (seqLt(c.sndNxt, c.sndUna)) c.sndNxt = c.sndUna;
    // The segment timed by our own clock (Karn) is acknowledged: it measures if the echo
    // cannot, and it moves the floor for echoes up to when it was sent (nothing sent
    // before it is still in flight), so that in a transfer whose flight never drains an
    // old echo is still refused.
    const timedAcked = c.rttSeq !== -1 && seqGe(a, c.rttSeq);
    if (c.tsOk && s.opts.hasTimestamps && c.tsEchoTimes(s.opts.tsEcr, now)) {
      // RFC 7323 §4.1: every ACK of new data measures the RTT, retransmissions included
      // (the echo says which transmission it answers, so Karn's rule is not needed);
      // Appendix G: weighted by the samples a window yields (one per two segments).
      c.rttSample(tsRtt(c, s, now), c.inFlight() / (2 * c.sndMss));
    } else if (timedAcked) {
      c.rttSample(now - c.rttStart);
    }
    if (timedAcked) {
      c.rttSeq = -1;
      if (c.tsOk) c.raiseEchoFloor(c.tsVal(c.rttStart));
    }
    c.ackedUpTo();
    c.retries = 0;
    if (c.inRecovery) {
      if (seqGe(a, c.recover)) {
        c.cc.onRecoveryEnd(c.inFlight());
        c.inRecovery = false;
        c.rack.onRecoveryEnd();
      } else if (!c.sackOk) {
        // RFC 6582 step 4: a partial ACK retransmits the next hole at once.
        c.cc.onPartialAck(dataAcked);
        c.retransmitFirst(now, 'partial-ack');
      }
      // (With SACK, output() retransmits whatever RACK has judged lost.)
    } else if (cwndLimited) {
      c.cc.onAck(dataAcked, now); // (after a timeout too: slow start from the loss window)
    }
    if (c.rtoRecovery && seqGe(a, c.recover)) {
      c.rtoRecovery = false;
      c.rack.onRecoveryEnd();
    }
    c.dupAcks = 0;
    // RFC 6298 (5.2, 5.3): stop the timer when all is acknowledged, else restart it.
    c.rtoAt = seqGt(c.sndMax, c.sndUna) ? now + c.rtt.rto : -1;
    spaceFreed = dataAcked > 0;
  } else if (a === c.sndUna && s.len === 0 && !s.has(FIN) && wnd === c.sndWnd && c.inFlight() > 0) {
    // RFC 5681 §2: a duplicate ACK.
    c.stats.dupAcksIn++;
    c.dupAcks++;
    // Without SACK, DupThresh duplicate ACKs start recovery (with SACK, RACK decides; the
    // count still serves a peer that negotiated SACK but sends no blocks). Not while going
    // back after a timeout: SND.NXT < SND.MAX then, and the go-back resend is under way.
    // (A D-SACK is not a duplicate ACK for this purpose: RFC 6675 §2 counts only ACKs that
    // SACK new data, and with SACK those go through RACK.)
    if (c.dupAcks === 3 && !c.inRecovery && !c.rtoRecovery && c.sndNxt === c.sndMax && (!c.sackOk || (c.rtx.sackedSegs === 0 && o.sackCount === 0))) {
      c.enterRecovery(now);
      if (log.enabled) log(`${c.describe()} fast retransmit at ${c.sndUna}`);
    } else if (c.inRecovery && c.dupAcks > 3 && !c.sackOk) {
      c.cc.onDupAckInRecovery();
    }
  }
  if (c.sackOk && seqLe(a, c.sndMax)) {
    // RFC 8985 §6.2 step 5 and §7.4: what is lost now, and what a tail loss probe showed.
    if (advances || newlySacked > 0) c.rackDetect(now);
    c.tlpProcessAck(a, advances, dsack, newlySacked > 0, now);
    if (advances && seqGt(c.sndMax, c.sndUna)) c.armTlp(now);
    else if (!seqGt(c.sndMax, c.sndUna)) c.tlpAt = -1;
  }
  // RFC 9293 §3.10.7.4: update the send window from the newest segment only.
  if (seqLe(c.sndUna, a) && (seqLt(c.sndWl1, s.seq) || (c.sndWl1 === s.seq && seqLe(c.sndWl2, a)))) {
    const opened = wnd > c.sndWnd;
    c.sndWnd = wnd;
    c.sndWl1 = s.seq;
    c.sndWl2 = a;
    if (wnd > c.maxSndWnd) c.maxSndWnd = wnd;
    if (opened) {
      c.persistProbes = 0;
      c.persistAt = -1;
    }
  }
  // Any ACK from a live peer resets the zero-window probe count (Linux icsk_probes_out).
  c.persistProbes = 0;
  // Only now, with SND.WND updated from this same segment, may a writer fill the space.
  if (spaceFreed) c.onEvent();
}

/** The seventh step: in-window data into the receive buffer, out of order or not. */
function text(c: TcpConnection, s: Segment, now: number): void {
  if (c.orphan) {
    // RFC 1122 §4.2.2.13: new data after CLOSE SHOULD be answered with RST, to show the
    // data was lost (Linux counts these as TCPAbortOnData).
    c.abort(now, 'data arrived after close');
    return;
  }
  const off = seqDiff(s.seq, c.rcvNxt);
  const len = Math.min(s.len, c.rcvBuf.free - off);
  if (off < 0 || len <= 0) return;
  c.rcvBuf.writeAt(c.rcvBuf.length + off, s.b, s.off, len);
  if (!c.ooo.add(off, off + len)) {
    c.stats.oooDropped++;
    c.ackNow = true;
    return;
  }
  if (off > 0) {
    c.stats.oooSegments++;
    c.lastOooSeq = s.seq;
  }
  const n = c.ooo.takeFront();
  if (n > 0) {
    c.rcvBuf.commit(n);
    c.rcvNxt = seqAdd(c.rcvNxt, n);
    c.stats.bytesIn += n;
    if (c.rdShut) c.rcvBuf.consume(n); // SHUT_RD: acknowledged and thrown away
    if (c.rcvFinSeq !== -1 && c.rcvNxt === c.rcvFinSeq) processFin(c, now);
    c.onEvent();
  }
  if (off > 0 || !c.ooo.isEmpty() || n > len) {
    // RFC 5681 §4.2: ACK at once for out-of-order data and for data that fills a hole;
    // each out-of-order segment gets its own duplicate ACK (fast retransmit counts them).
    c.ackNow = true;
    if (off > 0) c.ackImmediate = true;
  } else {
    // RFC 1122 §4.2.3.2: delay the ACK, but ACK at least every second full-sized segment.
    // "Full-sized" is our MSS less the options every segment carries (timestamps: 12 bytes).
    // (the smaller of our MSS and the peer's: a peer with a small MSS sends small full segments).
    // A segment larger than that (the kernel's TCP segmentation offload hands us up to
    // 64 KiB at once, as GRO does inside Linux) counts as the full segments it holds.
    const full = Math.min(c.rcvMss, c.sndMss) - (c.tsOk ? 12 : 0);
    if (len >= full) c.unackedSegs += Math.floor(len / full);
    if (c.unackedSegs >= 2) c.ackNow = true;
    else if (c.delackAt < 0) c.delackAt = now + c.config.delayedAckMs;
  }
}

/** The eighth step. */
function fin(c: TcpConnection, s: Segment, now: number): void {
  const finAt = seqAdd(s.seq, s.len);
  if (finAt === c.rcvNxt) processFin(c, now);
  else if (seqGt(finAt, c.rcvNxt)) {
    c.rcvFinSeq = finAt; // after a gap: taken when the gap fills
    c.ackNow = true; // RFC 5681 §4.2: an out-of-order segment gets an immediate duplicate ACK
  }
}

function processFin(c: TcpConnection, now: number): void {
  if (c.finReceived) return;
  c.finReceived = true;
  c.rcvFinSeq = -1;
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.ackNow = true;
  switch (c.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      c.setState('CLOSE-WAIT', 'FIN received');
      break;
    case 'FIN-WAIT-1':
      if (finAcked(c)) c.enterTimeWait(now, 'FIN received, ours acknowledged');
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
