/**
 * The three-way handshake's bookkeeping (RFC 9293 §3.5): the one place each way a
 * connection is born initialises its TCB, and the options both SYNs negotiate (RFC 9293
 * §3.7.1 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK-permitted). Segment
 * arrival in SYN-SENT and SYN-RECEIVED (input.ts) and the listener (listener.ts) call
 * these; nothing else sets ISS, IRS or the negotiated options.
 *
 *       TCP A                                                TCP B
 *   1.  CLOSED                                               LISTEN
 *   2.  SYN-SENT    --> <SEQ=100><CTL=SYN>               --> SYN-RECEIVED
 *   3.  ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>  <-- SYN-RECEIVED
 *   4.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK>       --> ESTABLISHED
 */
import type { TcpConnection } from './connection.js';
import type { Segment } from './segment.js';
import { ACK } from './tcp-packet.js';

/** Active OPEN (RFC 9293 §3.10.1): ISS chosen, SYN sent, SYN-SENT. */
export function activeOpen(c: TcpConnection, iss: number, now: number): void {
  c.at(now); // the state change below is traced at this time
  c.snd.init(iss);
  c.setState('SYN-SENT', 'active open');
  c.output(now);
}

/** A listener's new connection from the peer's SYN `s` (RFC 9293 §3.10.7.2): IRS, the SYN's options, ISS. */
export function passiveOpen(c: TcpConnection, s: Segment, iss: number, now: number): void {
  c.ecn.peerSyn(s);
  c.rcv.init(s.seq);
  negotiate(c, s.opts.mss, s.opts.wscale, s.opts.sackPermitted, s, now);
  c.snd.synWindow(s.wnd);
  c.snd.init(iss);
}

/**
 * A listener's new connection from the ACK `s` that returned a valid SYN cookie (RFC
 * 4987 §3.6): the SYN and our SYN-ACK are known only from the cookie, which kept the
 * peer's MSS and window scale (not timestamps or SACK: the cookie SYN-ACK offered
 * neither). ISS and IRS are the ACK's numbers less one.
 */
export function cookieOpen(c: TcpConnection, s: Segment, iss: number, irs: number, mss: number, wscale: number, now: number): void {
  c.rcv.initFromCookie(irs);
  negotiate(c, mss, wscale, false, null, now);
  c.snd.synWindow(s.wnd);
  c.snd.initFromCookie(iss);
}

/** The peer's SYN (or SYN-ACK) in SYN-SENT: IRS and the options (RFC 9293 §3.10.7.3, fourth). */
export function synReceived(c: TcpConnection, s: Segment, now: number): void {
  // A SYN-ACK answers our offer; a bare SYN (simultaneous open) makes one.
  if (s.has(ACK)) c.ecn.peerSynAck(s);
  else c.ecn.peerSyn(s);
  c.rcv.init(s.seq);
  negotiate(c, s.opts.mss, s.opts.wscale, s.opts.sackPermitted, s, now);
}

/** Our SYN is acknowledged: "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK", ESTABLISHED. */
export function established(c: TcpConnection, s: Segment, wnd: number, why: string): void {
  c.snd.initWindow(wnd, s.seq, s.ack);
  c.setState('ESTABLISHED', why);
  c.onEstablished();
  c.leaveListener()?.onEmbryoDone(c, true);
}

/**
 * What both SYNs agree on, set once: timestamps if both carried them (RFC 7323 §3.2),
 * SACK if both carried SACK-permitted (RFC 2018 §2), the send MSS, and window scaling
 * only if both offered it (RFC 7323 §2.2; a passive opener then leaves the option out of
 * its SYN-ACK). The congestion controller is sized for the MSS, and loss recovery takes
 * the strategy SACK calls for.
 */
function negotiate(c: TcpConnection, mss: number, wscale: number, sackPermitted: boolean, syn: Segment | null, now: number): void {
  c.ts.negotiate(syn, now);
  if (sackPermitted && c.offerSack) {
    c.sackOk = true;
  } else {
    c.sackOk = false;
    c.offerSack = false;
  }
  c.snd.negotiate(mss, wscale, c.mtuMss);
  c.cc.init(c.snd.mss);
  if (wscale < 0) {
    c.rcv.noScaling();
    c.offerWscale = false;
  }
  c.loss.useSack(c.sackOk);
}
