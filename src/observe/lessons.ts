/**
 * `tcpip lesson NAME`: RFC 9293's scenarios (§3.5 and §3.6, Figures 6 to 13) and the
 * tutorials' topics, played by the real stack: two simulated stacks on the manual clock
 * (ten milliseconds of wire each way), both traced, drawn as a two-sided ladder diagram
 * (ladder.ts). Nothing here is a model of TCP: the segments and states are what our code
 * did. Each lesson is also a test (test/observe/lessons.test.ts) that asserts the exact
 * exchange the RFC draws.
 */
import { parseIpv4, type Ipv4Addr } from '../ip/address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../ip/checksum.js';
import { IPV4_HEADER_LEN, IP_PROTO_TCP, writeIpv4Header } from '../ip/ipv4-packet.js';
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_RCVBUF } from '../socket/constants.js';
import type { MemoryLink } from '../link/memory-link.js';
import type { StreamSocket } from '../socket/stream-socket.js';
import { SimNetwork, type SimHost } from '../sim/sim-network.js';
import type { TraceRecord } from '../tcp/trace.js';
import { buildLadder, type Ladder } from './ladder.js';

export interface Lesson {
  name: string;
  title: string;
  /** One line: what it teaches. */
  teaches: string;
  /** A paragraph for the HTML page. */
  intro: string;
  run(): Promise<LessonRun>;
}

export interface LessonRun {
  names: [string, string];
  a: TraceRecord[];
  b: TraceRecord[];
}

const A_ADDR = '10.7.0.1';
const B_ADDR = '10.7.0.2';
/** Ports the lessons use, so that forged segments can name them. */
const A_PORT = 5000;
const B_PORT = 80;

/** Plain TCP (no timestamps, SACK or ECN): the segments read as the RFC draws them. */
const PLAIN = { timestamps: false, sack: false, ecn: 'off', quickAck: false } as const;

/**
 * Two stacks ten milliseconds apart, both traced, with the RFC's initial sequence numbers
 * (each side takes the next of its list for each new connection: A 100, B 300 as in RFC
 * 9293's figures), so that the diagram's numbers are the figure's.
 */
function setup(tcp: Record<string, unknown> = {}, iss: [number[], number[]] = [[100], [300]]) {
  const { net, a, b } = SimNetwork.pair({ faults: { delayMs: 10 }, tcp: { ...PLAIN, ...tcp } });
  const recs: [TraceRecord[], TraceRecord[]] = [[], []];
  const trace = (h: SimHost, i: 0 | 1): void => {
    h.stack.tcp.tracer = (r) => recs[i].push(r);
    const list = iss[i];
    h.stack.tcp.issOverride = () => (list.length > 1 ? list.shift()! : list[0]!);
  };
  trace(a, 0);
  trace(b, 1);
  return { net, a, b, recs, trace };
}

/** Holds back the next frame `h` sends (the network delays it) until `release()`; what follows goes through. */
function holdNext(h: SimHost, to: SimHost): { release(): void } {
  const held: Uint8Array[] = [];
  const inbox = { push: (f: Uint8Array) => { held.push(f); h.link.peer = to.link; return held.length; } };
  h.link.peer = { inbox } as unknown as MemoryLink;
  return { release: () => void to.link.inbox.push(...held.splice(0)) };
}

/** Loses the next frame `h` sends; what follows goes through. */
function loseNext(h: SimHost, to: SimHost): void {
  const inbox = { push: () => { h.link.peer = to.link; return 0; } };
  h.link.peer = { inbox } as unknown as MemoryLink;
}

/** Loses what `h` sends until `restore()`. */
function cut(h: SimHost, to: SimHost): { restore(): void } {
  h.link.peer = null;
  return { restore: () => void (h.link.peer = to.link) };
}

function listen(h: SimHost, port = B_PORT): StreamSocket {
  const l = h.api.socket(AF_INET, SOCK_STREAM);
  l.bind(['', port]);
  l.listen(4);
  return l;
}

function client(h: SimHost, port = A_PORT): StreamSocket {
  const c = h.api.socket(AF_INET, SOCK_STREAM);
  c.bind(['', port]);
  return c;
}

/** A connects to B, which listens on B_PORT: the connected pair, and the listener. */
async function connectPair(net: SimNetwork, a: SimHost, b: SimHost, beforeConnect: (c: StreamSocket) => void = () => {}): Promise<{ l: StreamSocket; c: StreamSocket; s: StreamSocket }> {
  const l = listen(b);
  const c = client(a);
  beforeConnect(c);
  const accepted = l.accept();
  await net.until(c.connect([B_ADDR, B_PORT]));
  const [s] = await net.until(accepted);
  return { l, c, s };
}

/** A TCP segment in an IPv4 packet, for the segments the network brings from the past. */
export function forgeSegment(src: Ipv4Addr, sport: number, dst: Ipv4Addr, dport: number, seq: number, ack: number, flags: number, window = 65535): Uint8Array {
  const b = new Uint8Array(IPV4_HEADER_LEN + 20);
  const o = IPV4_HEADER_LEN;
  const v = new DataView(b.buffer);
  v.setUint16(o, sport);
  v.setUint16(o + 2, dport);
  v.setUint32(o + 4, seq >>> 0);
  v.setUint32(o + 8, ack >>> 0);
  b[o + 12] = 5 << 4;
  b[o + 13] = flags;
  v.setUint16(o + 14, window);
  v.setUint16(o + 16, finishChecksum(sumBytes(b, o, 20, pseudoHeaderSum(src, dst, IP_PROTO_TCP, 20))));
  writeIpv4Header(b, 0, src, dst, IP_PROTO_TCP, 64, 0, 1, true, false, 0, 20);
  return b;
}

const SYN = 0x02;

/** Lets what was just sent leave the sender (one round of the simulation, no time passing). */
async function step(net: SimNetwork): Promise<void> {
  await net.runFor(0);
}

export const LESSONS: Lesson[] = [
  {
    name: 'handshake',
    title: 'The three-way handshake (RFC 9293 Figure 6)',
    teaches: 'SYN, SYN-ACK, ACK: each side learns the other\'s initial sequence number',
    intro: 'A connects to B, which listens. A\'s SYN carries its initial sequence number; B\'s SYN-ACK carries B\'s and acknowledges A\'s (ack = A\'s ISN + 1: a SYN takes one sequence number); A\'s ACK acknowledges B\'s. The ISNs are the RFC figure\'s: 100 for A, 300 for B.',
    async run() {
      const { net, a, b, recs } = setup();
      await connectPair(net, a, b);
      await net.runFor(50);
      return { names: ['A (client)', 'B (server)'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'simultaneous-open',
    title: 'Simultaneous open (RFC 9293 Figure 7)',
    teaches: 'two SYNs cross: both sides go SYN-SENT → SYN-RECEIVED → ESTABLISHED with four segments',
    intro: 'A and B each connect to the other at the same moment, from the ports the other names. Each SYN arrives at a side in SYN-SENT, which answers with a SYN-ACK and moves to SYN-RECEIVED; each SYN-ACK completes a side.',
    async run() {
      const { net, a, b, recs } = setup();
      const ca = client(a, A_PORT);
      const cb = client(b, B_PORT);
      const pa = ca.connect([B_ADDR, B_PORT]);
      const pb = cb.connect([A_ADDR, A_PORT]);
      await net.until(Promise.all([pa, pb]));
      await net.runFor(50);
      return { names: ['A', 'B'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'old-duplicate-syn',
    title: 'Recovery from an old duplicate SYN (RFC 9293 Figure 8)',
    teaches: 'why three handshakes and not two: the third segment lets A reject a connection an old SYN started',
    intro: 'An old SYN (sequence number 90) from an earlier incarnation of the connection reaches B before A\'s real SYN (100), which the network holds back. With a two-way handshake B would now be connected to nobody. Instead B answers with a SYN-ACK that acknowledges 91; A, in SYN-SENT, sees an ACK for something it never sent and answers with a RST (seq 91); B returns to LISTEN. Then A\'s real SYN arrives and the handshake completes with B\'s new ISN, 400.',
    async run() {
      const { net, a, b, recs } = setup({}, [[100], [300, 400]]);
      const l = listen(b);
      const c = client(a);
      const accepted = l.accept();
      // The network holds A's SYN back; an old duplicate from an earlier connection arrives first.
      const hold = holdNext(a, b);
      const connected = c.connect([B_ADDR, B_PORT]);
      await net.runFor(15);
      b.link.inbox.push(forgeSegment(parseIpv4(A_ADDR), A_PORT, parseIpv4(B_ADDR), B_PORT, 90, 0, SYN));
      await net.runFor(40); // B's SYN-ACK reaches A, whose RST reaches B
      hold.release();
      await net.until(connected);
      await net.until(accepted);
      await net.runFor(50);
      return { names: ['A (client)', 'B (server)'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'half-open',
    title: 'Half-open connection discovery (RFC 9293 Figure 10)',
    teaches: 'a side that crashed and forgot the connection is found out, and the other side resets',
    intro: 'A and B are connected; A crashes and restarts with no memory of it, while B still thinks the connection is up. A connects again from the same port: its SYN reaches B\'s ESTABLISHED connection, which answers with an ACK of where it is (a challenge ACK, RFC 5961 §4). A, in SYN-SENT, answers that unacceptable ACK with a RST; B aborts. A\'s next SYN (retransmitted after its 1 s timeout) finds B listening again.',
    async run() {
      // ISNs 99 and 299: once connected, A is at 100 and B at 300, as in the figure.
      const iss: [number[], number[]] = [[99, 400], [299, 500]];
      const { net, a, b, recs, trace } = setup({}, iss);
      const { l } = await connectPair(net, a, b);
      await net.runFor(100);
      // A crashes: its stack restarts empty. (The lesson's trace keeps what came before.)
      net.reboot(a, { ...PLAIN });
      trace(a, 0);
      const c2 = client(a);
      const again = l.accept();
      await net.until(c2.connect([B_ADDR, B_PORT]));
      await net.until(again);
      await net.runFor(50);
      return { names: ['A (restarted)', 'B (still connected)'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'old-syn-reset',
    title: 'An old duplicate SYN initiates a reset (RFC 9293 Figure 12)',
    teaches: 'a listener answers an old SYN; the RST that comes back returns it to LISTEN',
    intro: 'B listens. An old duplicate SYN from a connection A no longer has arrives; B answers with a SYN-ACK and waits in SYN-RECEIVED. A has no such connection, so it answers the SYN-ACK with a RST (seq = its ACK number, RFC 9293 §3.10.7.1); B, whose SYN-ACK the RST acknowledges, returns to LISTEN.',
    async run() {
      const { net, a, b, recs } = setup();
      listen(b);
      b.link.inbox.push(forgeSegment(parseIpv4(A_ADDR), A_PORT, parseIpv4(B_ADDR), B_PORT, 200, 0, SYN));
      await net.runFor(100);
      return { names: ['A (no connection)', 'B (listening)'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'close',
    title: 'Normal close (RFC 9293 Figure 13)',
    teaches: 'the four-way close: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, and TIME-WAIT for 2 MSL',
    intro: 'A closes first: its FIN takes it to FIN-WAIT-1; B acknowledges (CLOSE-WAIT; A goes to FIN-WAIT-2) and, when its application closes too, sends its own FIN (LAST-ACK). A acknowledges it and waits in TIME-WAIT for twice the maximum segment lifetime (here 2 × 1 s), so that a lost final ACK can be sent again and old segments die out.',
    async run() {
      const { net, a, b, recs } = setup({ mslMs: 1000 });
      const { c, s } = await connectPair(net, a, b);
      await net.until(c.send(new TextEncoder().encode('hello')));
      await net.until(s.recv(100));
      await net.runFor(100);
      c.close();
      await net.until(s.recv(100)); // end of file: A's FIN
      await net.runFor(100);
      s.close();
      await net.runFor(2500);
      return { names: ['A (closes first)', 'B'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'time-wait',
    title: 'TIME-WAIT absorbs a late FIN (RFC 9293 §3.6)',
    teaches: 'why TIME-WAIT lasts 2 MSL: the last ACK may be lost, and the peer\'s FIN comes again',
    intro: 'A closes first, as in the normal close, but its last ACK is lost. B, still in LAST-ACK, sends its FIN again when its retransmission timer fires; A, in TIME-WAIT, still knows the connection: it acknowledges the FIN again and starts its 2 MSL wait over. Had A already forgotten the connection, it would have answered with a RST, and B would have reported an error for a connection that ended well.',
    async run() {
      const { net, a, b, recs } = setup({ mslMs: 1000 });
      const { c, s } = await connectPair(net, a, b);
      await net.runFor(100);
      c.close();
      await net.until(s.recv(100)); // end of file: A's FIN
      await net.runFor(100);
      s.close();
      loseNext(a, b); // A's ACK of B's FIN
      await net.runFor(3000);
      return { names: ['A (closes first)', 'B'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'simultaneous-close',
    title: 'Simultaneous close (RFC 9293 Figure 14)',
    teaches: 'both FINs cross: FIN-WAIT-1 → CLOSING → TIME-WAIT on both sides',
    intro: 'A and B close at the same moment. Each FIN arrives at a side in FIN-WAIT-1, which acknowledges it and moves to CLOSING; each ACK then takes a side to TIME-WAIT.',
    async run() {
      const { net, a, b, recs } = setup({ mslMs: 1000 });
      const { c, s } = await connectPair(net, a, b);
      await net.runFor(100);
      c.close();
      s.close();
      await net.runFor(2500);
      return { names: ['A', 'B'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'lost-syn',
    title: 'A lost SYN, retransmitted with backoff (RFC 6298 §5, RFC 9293 §3.8.1)',
    teaches: 'the retransmission timer: 1 s for a SYN, doubled after each timeout',
    intro: 'The network loses A\'s first two SYNs. A\'s retransmission timer starts at 1 s (RFC 6298 (2.1)) and doubles at each timeout (5.5): the SYN goes again after 1 s, then after 2 s more; the third arrives. After the handshake the RTO comes from the measured RTT.',
    async run() {
      const { net, a, b, recs } = setup();
      const l = listen(b);
      const c = client(a);
      const accepted = l.accept();
      // The network loses the SYN at 0 s and its retransmission at 1 s; the one at 3 s arrives.
      const wire = cut(a, b);
      const connected = c.connect([B_ADDR, B_PORT]);
      await net.runFor(1500);
      wire.restore();
      await net.until(connected);
      await net.until(accepted);
      await net.runFor(50);
      return { names: ['A (client)', 'B (server)'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'keepalive',
    title: 'Keepalive probing a silent peer (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6)',
    teaches: 'after 2 hours idle, probes (SEG.SEQ = SND.NXT - 1) every 75 s; 9 unanswered probes end the connection',
    intro: 'A has SO_KEEPALIVE on. Once connected, B vanishes (its host is cut off) and the connection sits idle. After two hours A sends a probe, a segment the peer must acknowledge (SEG.SEQ = SND.NXT - 1); unanswered, it probes again every 75 seconds; after nine probes A gives up and resets the connection. Two simulated hours and a quarter pass in milliseconds.',
    async run() {
      const { net, a, b, recs } = setup();
      await connectPair(net, a, b, (c) => c.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1));
      await net.runFor(100);
      cut(a, b);
      cut(b, a);
      await net.runFor(2 * 3600_000 + 10 * 75_000);
      return { names: ['A (keepalive on)', 'B (goes silent)'], a: recs[0], b: recs[1] };
    },
  },
  {
    name: 'zero-window',
    title: 'A zero window and its probes (RFC 9293 §3.8.6.1)',
    teaches: 'a receiver that stops reading closes its window; the sender probes until it opens again',
    intro: 'B\'s application stops reading, and its small receive buffer (2 KiB) fills: B advertises a window of 0. A stops sending and probes the window at the RTO, backing off (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17); B answers each probe with its window, still 0. When B reads, it sends a window update, and A sends the rest.',
    async run() {
      const { net, a, b, recs } = setup();
      const l = b.api.socket(AF_INET, SOCK_STREAM);
      l.setsockopt(SOL_SOCKET, SO_RCVBUF, 2048); // accepted connections take it
      l.bind(['', B_PORT]);
      l.listen(4);
      const c = client(a);
      const accepted = l.accept();
      await net.until(c.connect([B_ADDR, B_PORT]));
      const [s] = await net.until(accepted);
      const data = new Uint8Array(12_000);
      const sent = c.sendall(data);
      await net.runFor(2500);
      let got = 0;
      while (got < data.length) got += (await net.until(s.recv(4096))).length;
      await net.until(sent);
      await net.runFor(100);
      return { names: ['A (sender)', 'B (stops reading)'], a: recs[0], b: recs[1] };
    },
  },
];

/** The lesson's ladder. */
export async function lessonLadder(lesson: Lesson): Promise<Ladder> {
  const run = await lesson.run();
  return buildLadder([{ name: run.names[0], recs: run.a }, { name: run.names[1], recs: run.b }], { absolute: true });
}

/**
 * The exchange in a few words per row, for tests and the terminal: `A SYN-SENT`,
 * `A→B SYN seq=0`, `B→A SYN,ACK seq=0 ack=1 (lost)`, `A ⏱ RTO fired`, `… 12 segments …`.
 */
export function ladderScript(l: Ladder): string[] {
  const side = (s: 0 | 1): string => (s === 0 ? 'A' : 'B');
  const out: string[] = [];
  for (const r of l.rows) {
    if (r.kind === 'state') out.push(`${side(r.side)} ${r.to}`);
    else if (r.kind === 'timer') out.push(`${side(r.side)} ${r.what}`);
    else if (r.kind === 'fold') out.push(`… ${r.count} segments …`);
    else if (r.end === 'send' || l.arrows[r.arrow]!.sendRow < 0) {
      const a = l.arrows[r.arrow]!;
      const words = a.label.split(' ');
      const head = [words[0]!, ...words.slice(1).filter((w) => /^(seq|ack|len)=/.test(w))].join(' ');
      out.push(`${side(a.from)}→${side(a.from === 0 ? 1 : 0)} ${head}${a.retransmit ? ' (retransmission)' : ''}${a.lost ? ' (lost)' : ''}`);
    }
  }
  return out;
}

/** Text of the lesson list (`tcpip lesson` with no name). */
export function lessonList(): string {
  const w = Math.max(...LESSONS.map((l) => l.name.length));
  return LESSONS.map((l) => `${l.name.padEnd(w)}  ${l.teaches}`).join('\n');
}

