/**
 * A pcapng capture that explains itself (`--pcap FILE.pcapng`): each frame gets a comment
 * saying why the stack sent it ("RTO retransmission #2", "zero-window probe", "challenge
 * ACK (RFC 5961)") or what became of it when received ("dropped: PAWS ...", "state
 * SYN-RECEIVED → ESTABLISHED"). Wireshark shows the comments; `tshark -Y frame.comment`
 * filters on them.
 *
 * Two sources: the TCP trace (timers, retransmissions, state changes; a Tracer chained
 * with any other) and, around each received frame, the layers' drop counters (which
 * counter moved says why the frame was dropped). Only for pcapng captures: it costs a
 * counter snapshot per received frame.
 */
import type { PcapLink } from '../link/pcap.js';
import type { PcapngWriter } from '../link/pcapng.js';
import type { Stack } from '../stack.js';
import type { TraceRecord, Tracer } from '../tcp/trace.js';

/** What a drop counter moving means, for the counters worth a sentence of their own. */
const DROP_NOTES: Record<string, string> = {
  'link.notIp': 'dropped: neither IPv4 nor IPv6',
  'link.ipv6Off': 'dropped: IPv6, and the stack has no IPv6 address',
  'ip.badChecksum': 'dropped: bad IPv4 header checksum (RFC 791)',
  'ip.badVersion': 'dropped: not IP version 4',
  'ip.badHeaderLength': 'dropped: bad IPv4 header length',
  'ip.badTotalLength': 'dropped: IPv4 total length does not fit the frame',
  'ip.truncated': 'dropped: truncated IPv4 header',
  'ip.notForUs': 'dropped: not addressed to this stack',
  'ip.martianSource': 'dropped: impossible source address (RFC 1812 §5.3.7)',
  'ip.unknownProtocol': 'dropped: no such protocol here (ICMP protocol unreachable sent)',
  'ip.fragOverlap': 'dropped: overlapping IPv4 fragment (the datagram is dropped)',
  'ip.fragDuplicate': 'dropped: duplicate IPv4 fragment',
  'icmp.badChecksum': 'dropped: bad ICMP checksum',
  'icmp.rateLimited': 'not answered: ICMP rate limit (RFC 1812 §4.3.2.8)',
  'udp.badChecksum': 'dropped: bad UDP checksum',
  'udp.noPort': 'no socket on this UDP port: ICMP port unreachable in reply (RFC 1122 §4.1.3.1)',
  'udp.rcvbufErrors': 'dropped: the socket\'s receive buffer is full',
  'tcp.badChecksum': 'dropped: bad TCP checksum',
  'tcp.badDataOffset': 'dropped: bad TCP data offset',
  'tcp.badOptions': 'dropped: malformed TCP options',
  'tcp.noConnection': 'no connection for this segment: RST in reply (RFC 9293 §3.10.7.1)',
  'tcp.listenDrops': 'dropped: the listener\'s queue is full',
  'tcp.dropOutOfWindow': 'not acceptable: outside the receive window, ACK in reply (RFC 9293 §3.10.7.4)',
  'tcp.dropNoAck': 'dropped: no ACK bit (RFC 9293 §3.10.7.4, fifth check)',
  'tcp.dropPaws': 'dropped: PAWS, a timestamp older than TS.Recent (RFC 7323 §5.3)',
  'tcp.dropRstNotExact': 'RST not at RCV.NXT: ignored, challenge ACK instead (RFC 5961 §3.2)',
  'tcp.dropSynInWindow': 'SYN on a synchronized connection: challenge ACK instead (RFC 5961 §4.2)',
  'tcp.dropAckUnacceptable': 'dropped: the ACK is outside the acceptable range (RFC 5961 §5.2)',
  'tcp.dropSynSent': 'dropped in SYN-SENT (RFC 9293 §3.10.7.3)',
  'tcp.syncookiesFailed': 'dropped: SYN cookie did not validate (RFC 4987)',
  'tcp.challengeAcks': 'answered with a challenge ACK (RFC 5961)',
};

/** Other counters whose moving means the frame was not used. */
const DROP_NAME = /^(bad|truncated|drop|notFor|martian|unknown|frag(Duplicate|Overlap|Oversized|Inconsistent|Malformed|TooMany)|noConnection|notIp|ipv6Off|listen(Drops|RstIgnored|NoSyn|SynFin)|notUnicast|noPort|unhandledType|broadcastEchoIgnored|syncookiesFailed|rcvbufErrors|challengeAcks$)/;

function flatCounters(stack: Stack): Map<string, number> {
  const out = new Map<string, number>();
  for (const [layer, c] of Object.entries(stack.snapshot())) for (const [k, v] of Object.entries(c)) out.set(`${layer}.${k}`, v);
  return out;
}

/**
 * Wires a pcapng capture's notes: the receive hooks on `link` and a Tracer to chain with the
 * stack's (returned; the caller sets `stack.tcp.tracer`).
 */
export function explainCapture(stack: Stack, link: PcapLink, writer: PcapngWriter): Tracer {
  let before: Map<string, number> | null = null;
  link.receiveHooks = {
    before: () => {
      before = flatCounters(stack);
    },
    after: () => {
      if (!before) return;
      for (const [k, v] of flatCounters(stack)) {
        const was = before.get(k) ?? 0;
        if (v <= was) continue;
        const name = k.slice(k.indexOf('.') + 1);
        if (!(k in DROP_NOTES) && !DROP_NAME.test(name)) continue;
        writer.noteReceived(DROP_NOTES[k] ?? `dropped (${k})`);
        if (k === 'tcp.challengeAcks') writer.noteReply('challenge ACK (RFC 5961)');
        if (k === 'tcp.noConnection') writer.noteReply('RST: no connection for the segment it answers (RFC 9293 §3.10.7.1)');
      }
      before = null;
    },
  };
  // Per connection: RTO retransmissions since the last RTT sample, and the last timer that fired.
  const rtoCount = new Map<number, number>();
  const lastTimer = new Map<number, string>();
  return (r: TraceRecord) => {
    switch (r.ev) {
      case 'state':
        writer.noteReceived(`state ${r.from} → ${r.to}${r.why ? ` (${r.why})` : ''}`);
        if (r.to === 'CLOSED' || r.to === 'TIME-WAIT') {
          rtoCount.delete(r.c);
          lastTimer.delete(r.c);
        }
        break;
      case 'rtt':
        rtoCount.delete(r.c);
        break;
      case 'timer':
        lastTimer.set(r.c, r.kind);
        if (r.kind === 'persist') writer.noteNextOut('zero-window probe (persist timer, RFC 9293 §3.8.6.1)');
        else if (r.kind === 'keepalive') writer.noteNextOut('keepalive probe (RFC 9293 §3.8.4)');
        else if (r.kind === 'delack') writer.noteNextOut('delayed ACK: the timer fired (RFC 1122 §4.2.3.2)');
        else if (r.kind === 'tlp') writer.noteNextOut('tail loss probe (RFC 8985 §7)');
        break;
      case 'retransmit': {
        if (r.why === 'rto') {
          const n = (rtoCount.get(r.c) ?? 0) + 1;
          rtoCount.set(r.c, n);
          writer.noteNextOut(`RTO retransmission #${n} (RFC 6298 §5)`);
        } else if (r.why === 'fast' && lastTimer.get(r.c) !== 'rto') {
          // (After an RTO everything outstanding is marked lost and resent: one note is enough.)
          writer.noteNextOut(lastTimer.get(r.c) === 'rack' ? 'retransmission: RACK marked it lost (RFC 8985 §6.3)' : 'fast retransmit: marked lost by SACK or duplicate ACKs (RFC 6675, RFC 8985)');
        } else if (r.why === 'partial-ack') {
          writer.noteNextOut('retransmission after a partial ACK (RFC 6582)');
        }
        break;
      }
      case 'out':
        lastTimer.delete(r.c);
        break;
      default:
        break;
    }
  };
}
