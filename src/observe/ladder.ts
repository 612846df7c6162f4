/**
 * Ladder diagrams (message-sequence charts), the picture every TCP tutorial draws: two
 * vertical time lines, our side and the peer, each segment an arrow labelled in the
 * tutorials' notation (`SYN seq=0`, `SYN,ACK seq=0 ack=1`), the state written beside the
 * line where it changes, timers marked where they fire, retransmissions in red and lost
 * segments crossed out. Drawn from the trace of the real connection (`--trace`), not from
 * a model.
 *
 * From one stack's trace, the peer's side is inferred: each arrow runs across one row. With
 * both ends' traces (the simulator, `tcpip lesson`), each segment is matched with its
 * arrival, so an arrow runs from the row it was sent to the row it arrived, both sides'
 * states are drawn, and a segment that never arrived is a lost one.
 *
 * Long transfers fold: runs of plain data and ACKs away from anything interesting (the
 * handshake, state changes, timers, retransmissions, the close) become one row
 * ("… 1,200 segments …").
 */
import type { TraceRecord } from '../tcp/trace.js';

type Rec = TraceRecord;
type SegRec = Extract<Rec, { ev: 'in' | 'out' }>;

/** One end: a name for its line, and its trace records of the one connection to draw. */
export interface LadderSide {
  name: string;
  recs: Rec[];
}

export interface LadderOptions {
  /** Raw sequence numbers instead of numbers relative to each side's ISN. */
  absolute?: boolean;
  /** Fold long runs of plain segments (default true). */
  fold?: boolean;
  /** A title over the diagram. */
  title?: string;
}

/** One row of the diagram. */
export type LadderRow =
  | { kind: 'seg'; t: number; side: 0 | 1; arrow: number; end: 'send' | 'recv' }
  | { kind: 'state'; t: number; side: 0 | 1; from: string; to: string; why: string; inferred?: boolean }
  | { kind: 'timer'; t: number; side: 0 | 1; what: string }
  | { kind: 'fold'; t: number; count: number; note: string };

/** One segment: sent by `from` (row `sendRow`), received at `recvRow` (-1: not seen arriving). */
export interface LadderArrow {
  from: 0 | 1;
  label: string;
  /** The segment in its one-line form (the step-through panel shows it). */
  line: string;
  t: number;
  sendRow: number;
  recvRow: number;
  retransmit: boolean;
  /** Both ends were traced and it never arrived. */
  lost: boolean;
  /** Each side's state just after it arrived (or was sent). */
  states: [string, string];
}

export interface Ladder {
  names: [string, string];
  rows: LadderRow[];
  arrows: LadderArrow[];
  /** Each side's state before the first row. */
  initial: [string, string];
  /** Both ends traced (rather than one, with the peer inferred). */
  twoSided: boolean;
}

const FLAG_WORDS: Record<string, string> = { S: 'SYN', F: 'FIN', R: 'RST', P: 'PSH', U: 'URG' };

/**
 * The peer's RFC 9293 states, inferred from the segments one side's trace shows (the
 * peer's own trace is not there): what it must have been in to send what it sent, and what
 * what it received from us must have made it. Sequence numbers are the trace's relative
 * ones (ours from our ISN, the peer's from its).
 */
class PeerStates {
  state = 'CLOSED';
  private ourFinEnd = -1; // relative sequence number just past our FIN
  private peerFinEnd = -1; // just past the peer's FIN
  private peerFinAcked = false;
  private ourFinAcked = false;

  /** The peer sends `r` (an 'in' record): the state it is in once it has. */
  sent(r: SegRec): string {
    const f = r.flags;
    if (f.includes('R')) return (this.state = 'CLOSED');
    if (f.includes('S')) return (this.state = f.includes('A') ? 'SYN-RECEIVED' : 'SYN-SENT');
    const acks = f.includes('A') || f === '.';
    if (acks && this.ourFinEnd >= 0 && r.rack >= this.ourFinEnd) this.ourFinAcked = true;
    if (f.includes('F')) {
      this.peerFinEnd = r.rseq + r.len + 1;
      if (this.state === 'CLOSE-WAIT') this.state = 'LAST-ACK';
      else if (this.state === 'ESTABLISHED' || this.state === 'SYN-RECEIVED') this.state = 'FIN-WAIT-1';
    }
    if (this.ourFinAcked && (this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2') && this.peerFinAcked) this.state = 'TIME-WAIT';
    else if (this.ourFinAcked && this.state === 'CLOSING') this.state = 'TIME-WAIT';
    return this.state;
  }

  /** We sent `r` (an 'out' record) and the peer got it: its state after. */
  received(r: SegRec): string {
    const f = r.flags;
    if (f.includes('R')) return (this.state = 'CLOSED');
    if (f.includes('S')) {
      if (!f.includes('A')) return (this.state = 'SYN-RECEIVED'); // our SYN reached it (from LISTEN, or SYN-SENT in a simultaneous open)
      return (this.state = 'ESTABLISHED'); // our SYN-ACK completes its side (its ACK follows)
    }
    if ((f.includes('A') || f === '.') && this.state === 'SYN-RECEIVED') this.state = 'ESTABLISHED';
    const acksTheirFin = this.peerFinEnd >= 0 && r.rack >= this.peerFinEnd;
    if (acksTheirFin && !this.peerFinAcked) {
      this.peerFinAcked = true;
      if (this.state === 'FIN-WAIT-1') this.state = 'FIN-WAIT-2';
      else if (this.state === 'LAST-ACK') this.state = 'CLOSED';
    }
    if (f.includes('F')) {
      this.ourFinEnd = r.rseq + r.len + 1;
      if (this.state === 'ESTABLISHED') this.state = 'CLOSE-WAIT';
      else if (this.state === 'FIN-WAIT-2') this.state = 'TIME-WAIT';
      else if (this.state === 'FIN-WAIT-1') this.state = acksTheirFin ? 'TIME-WAIT' : 'CLOSING';
    }
    return this.state;
  }
}

/** `SA` → `SYN,ACK`; `.` → `ACK`; `PA` → `PSH,ACK`. */
function flagWords(flags: string): string {
  if (flags === '.') return 'ACK';
  const words: string[] = [];
  for (const ch of flags) {
    if (ch === 'A' || ch === '.') continue;
    words.push(FLAG_WORDS[ch] ?? ch);
  }
  if (flags.includes('A') || flags.includes('.')) words.push('ACK');
  return words.join(',') || 'none';
}

/** The label of a segment in the tutorials' notation. */
function segLabel(r: SegRec, absolute: boolean): string {
  const parts = [flagWords(r.flags), `seq=${absolute ? r.seq : r.rseq}`];
  if (r.flags.includes('A') || r.flags === '.') parts.push(`ack=${absolute ? r.ack : r.rack}`);
  if (r.len > 0) parts.push(`len=${r.len}`);
  if (!r.flags.includes('R')) parts.push(`win=${r.wnd}`);
  if (r.flags.includes('S')) {
    const opts = /<([^>]*)>/.exec(r.line)?.[1];
    if (opts) parts.push(`<${opts.replace(/TS val \d+ ecr \d+/, 'TS')}>`);
  }
  if (r.sack && r.sack.length > 0) parts.push(`sack ${r.sack.map(([a, b]) => `${a}-${b}`).join(' ')}`);
  return parts.join(' ');
}

const TIMER_WORDS: Record<string, string> = {
  rto: 'retransmission timer fires', persist: 'persist timer fires', delack: 'delayed-ACK timer fires', keepalive: 'keepalive timer fires',
  'time-wait': 'TIME-WAIT timer (2 MSL) fires', 'fin-wait-2': 'FIN-WAIT-2 timer fires', rack: 'RACK reordering timer fires', tlp: 'tail loss probe timer fires',
};

/** Builds the diagram's rows and arrows from one or two sides' records (each one connection). */
export function buildLadder(sides: [LadderSide] | [LadderSide, LadderSide], opts: LadderOptions = {}): Ladder {
  const absolute = opts.absolute ?? false;
  const twoSided = sides.length === 2;
  type Ev = { t: number; side: 0 | 1; r: Rec; order: number };
  const evs: Ev[] = [];
  sides.forEach((s, side) => s.recs.forEach((r, i) => evs.push({ t: r.t, side: side as 0 | 1, r, order: i })));
  // Time order; at one instant the left side's events, then the right's, each in its own order.
  evs.sort((a, b) => a.t - b.t || a.side - b.side || a.order - b.order);

  // Arrows: each 'out', matched (two sides) with the 'in' on the other side that carries
  // the same segment: each arrival takes the latest such send not later than itself, so a
  // segment sent again matches the copy that arrived, and the earlier copies were lost.
  interface Pre { from: 0 | 1; out: Ev | null; in: Ev | null; retransmit: boolean }
  const pre: Pre[] = [];
  const inUsed = new Set<Ev>();
  const matchOf = new Map<Ev, Ev>();
  if (twoSided) {
    const outUsed = new Set<Ev>();
    for (let j = 0; j < evs.length; j++) {
      const f = evs[j]!;
      if (f.r.ev !== 'in') continue;
      const i = f.r;
      for (let k = j - 1; k >= 0; k--) {
        const e = evs[k]!;
        if (e.side === f.side || e.r.ev !== 'out' || outUsed.has(e)) continue;
        const o = e.r;
        if (i.seq === o.seq && i.ack === o.ack && i.flags === o.flags && i.len === o.len) {
          outUsed.add(e);
          inUsed.add(f);
          matchOf.set(e, f);
          break;
        }
      }
    }
  }
  const retxPending = [false, false];
  const arrowOf = new Map<Ev, number>();
  for (const e of evs) {
    if (e.r.ev === 'retransmit') retxPending[e.side] = true;
    if (e.r.ev !== 'out') continue;
    const match = matchOf.get(e) ?? null;
    arrowOf.set(e, pre.length);
    if (match) arrowOf.set(match, pre.length);
    pre.push({ from: e.side, out: e, in: match, retransmit: retxPending[e.side]! });
    retxPending[e.side] = false;
  }
  // Every 'in' no traced 'out' sent (one side traced, or a segment from no connection such
  // as a RST for a closed port, or a forged one): an arrow from the other line.
  for (const e of evs) {
    if (e.r.ev !== 'in' || inUsed.has(e)) continue;
    arrowOf.set(e, pre.length);
    pre.push({ from: e.side === 0 ? 1 : 0, out: null, in: e, retransmit: false });
  }

  // What is worth showing in full: the handshake and close, resets, retransmissions, and
  // everything within a few events of a state change, a timer or a retransmission.
  const keyIdx = new Set<number>();
  evs.forEach((e, i) => {
    const r = e.r;
    const special = r.ev === 'state' || r.ev === 'timer' || r.ev === 'retransmit' || ((r.ev === 'in' || r.ev === 'out') && /[SFR]/.test(r.flags));
    if (special) for (let k = i - 3; k <= i + 3; k++) keyIdx.add(k);
  });
  const foldOn = opts.fold ?? true;
  const folded = new Set<number>(); // arrow indices folded away
  if (foldOn) {
    let run: number[] = [];
    const flush = (): void => {
      if (run.length >= 10) for (const a of run) folded.add(a);
      run = [];
    };
    evs.forEach((e, i) => {
      if (e.r.ev !== 'in' && e.r.ev !== 'out') return;
      const a = arrowOf.get(e)!;
      const p = pre[a]!;
      const own = p.out ?? p.in!;
      if (own !== e) return; // an arrow counts once, at its sending end
      const other = p.out && p.in ? (e === p.out ? p.in : p.out) : null;
      const otherIdx = other ? evs.indexOf(other) : i;
      if (keyIdx.has(i) || keyIdx.has(otherIdx) || p.retransmit || (p.out && twoSided && !p.in)) flush();
      else run.push(a);
    });
    flush();
  }

  // Rows, in order; a folded run becomes one row where it begins.
  const rows: LadderRow[] = [];
  const sendRow = new Map<number, number>();
  const recvRow = new Map<number, number>();
  let foldOpen: Extract<LadderRow, { kind: 'fold' }> | null = null;
  let foldLo = Infinity;
  let foldHi = -Infinity;
  const closeFold = (): void => {
    if (foldOpen) foldOpen.note = `data ${foldLo}–${foldHi}`;
    foldOpen = null;
    foldLo = Infinity;
    foldHi = -Infinity;
  };
  // A side whose connections a listener made starts (and, when an embryo is reset, ends up
  // again) in LISTEN: RFC 9293 §3.10.7.4 returns a passively opened connection there.
  const passive = new Set<string>();
  for (const e of evs) if (e.r.ev === 'open' && !e.r.active) passive.add(`${e.side}:${e.r.c}`);
  const shownState = (e: Ev, to: string, from: string): string => (to === 'CLOSED' && from === 'SYN-RECEIVED' && passive.has(`${e.side}:${e.r.c}`) ? 'LISTEN' : to);
  const state: [string, string] = ['CLOSED', 'CLOSED'];
  const initial: [string, string] = ['CLOSED', 'CLOSED'];
  // One side traced: the peer's states inferred from the segments, starting in LISTEN if
  // we opened (our SYN came first), else CLOSED.
  const peer = twoSided ? null : new PeerStates();
  if (peer) {
    const first = evs.find((e) => e.r.ev === 'in' || e.r.ev === 'out');
    peer.state = first && first.r.ev === 'out' && (first.r as SegRec).flags.includes('S') ? 'LISTEN' : 'CLOSED';
    initial[1] = peer.state;
    state[1] = peer.state;
  }
  const peerRow = (t: number, to: string): void => {
    if (to === state[1]) return;
    closeFold();
    const from = state[1];
    state[1] = to;
    pushRow({ kind: 'state', t, side: 1, from, to, why: 'inferred from the segments', inferred: true });
  };
  const seenState = [false, false];
  for (const e of evs) {
    if (e.r.ev === 'state' && !seenState[e.side]) {
      seenState[e.side] = true;
      initial[e.side] = e.r.from === 'CLOSED' && passive.has(`${e.side}:${e.r.c}`) ? 'LISTEN' : e.r.from;
      state[e.side] = initial[e.side];
    }
  }
  // Each side's state after each row, to tell what an arrow left behind.
  const stateAt: [string, string][] = [];
  const pushRow = (row: LadderRow): void => {
    rows.push(row);
    stateAt.push([state[0], state[1]]);
  };
  for (const e of evs) {
    const r = e.r;
    if (r.ev === 'state') {
      closeFold();
      const to = shownState(e, r.to, r.from);
      state[e.side] = to;
      pushRow({ kind: 'state', t: r.t, side: e.side, from: r.from, to, why: r.why });
      continue;
    }
    if (r.ev === 'timer') {
      closeFold();
      pushRow({ kind: 'timer', t: r.t, side: e.side, what: TIMER_WORDS[r.kind] ?? r.kind });
      continue;
    }
    if (r.ev !== 'in' && r.ev !== 'out') continue;
    const a = arrowOf.get(e);
    if (a === undefined) continue;
    // The peer changes state as it sends (before its segment's row) and as it receives ours
    // (after its row); a segment that changes it is not folded away.
    if (peer && r.ev === 'in') peerRow(r.t, peer.sent(r));
    const peerAfter = peer && r.ev === 'out' ? peer.received(r) : null;
    if (folded.has(a) && (peerAfter === null || peerAfter === state[1])) {
      if (!foldOpen) {
        foldOpen = { kind: 'fold', t: r.t, count: 0, note: '' };
        pushRow(foldOpen);
      }
      if (e === (pre[a]!.out ?? pre[a]!.in)) foldOpen.count++;
      const data = r.len > 0 ? (absolute ? r.seq : r.rseq) : null;
      if (data !== null) {
        foldLo = Math.min(foldLo, data);
        foldHi = Math.max(foldHi, data + r.len);
      }
      continue;
    }
    closeFold();
    folded.delete(a);
    const p = pre[a]!;
    const isSend = e === p.out;
    pushRow({ kind: 'seg', t: r.t, side: e.side, arrow: a, end: isSend ? 'send' : 'recv' });
    if (isSend) sendRow.set(a, rows.length - 1);
    else recvRow.set(a, rows.length - 1);
    if (peerAfter !== null) peerRow(r.t, peerAfter);
  }
  /** The states once an arrow's last row and the state changes right after it are done. */
  const statesAfter = (k: number): [string, string] => {
    let m = k + 1;
    while (m < rows.length && rows[m]!.kind !== 'seg' && rows[m]!.kind !== 'fold') m++;
    return stateAt[m - 1] ?? [state[0], state[1]];
  };
  closeFold();
  for (const r of rows) if (r.kind === 'fold' && r.note === 'data Infinity–-Infinity') r.note = 'ACKs';

  const arrows: LadderArrow[] = pre.map((p, i) => {
    const r = (p.out ?? p.in)!.r as SegRec;
    return {
      from: p.from,
      label: segLabel(r, absolute),
      line: r.line,
      t: r.t,
      sendRow: sendRow.get(i) ?? -1,
      recvRow: recvRow.get(i) ?? -1,
      retransmit: p.retransmit,
      lost: twoSided && p.out !== null && p.in === null,
      states: statesAfter(Math.max(sendRow.get(i) ?? -1, recvRow.get(i) ?? -1)),
    };
  });
  return { names: [sides[0].name, sides[1]?.name ?? 'peer'], rows, arrows, initial, twoSided };
}

/** The first row an arrow touches (its place in time order). */
function firstRow(a: LadderArrow): number {
  return a.sendRow >= 0 ? (a.recvRow >= 0 ? Math.min(a.sendRow, a.recvRow) : a.sendRow) : a.recvRow;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const ROW_H: Record<LadderRow['kind'], number> = { seg: 34, state: 24, timer: 24, fold: 30 };
const X0 = 330;
const X1 = 830;
const WIDTH = 1090;

/** The diagram as SVG. Arrows carry `data-step` (their order), for the HTML page's step-through. */
export function ladderSvg(l: Ladder, opts: LadderOptions = {}): string {
  const top = opts.title ? 90 : 60;
  // Rows in order; a long quiet spell (a timer's wait) gets a gap that says how long.
  const ys: number[] = [];
  const gaps: { y: number; ms: number }[] = [];
  let y = top + 30;
  l.rows.forEach((r, i) => {
    const quiet = i > 0 ? r.t - l.rows[i - 1]!.t : 0;
    if (quiet >= 500) {
      gaps.push({ y: y + 4, ms: quiet });
      y += 26;
    }
    ys.push(y);
    y += ROW_H[r.kind];
  });
  const height = y + 40;
  const t0 = l.rows[0]?.t ?? 0;
  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">`);
  svg.push('<defs><marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="12" markerHeight="12" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>');
  svg.push(`<rect width="${WIDTH}" height="${height}" fill="#fff"/>`);
  if (opts.title) svg.push(`<text x="${WIDTH / 2}" y="30" text-anchor="middle" font-size="16" font-weight="bold" font-family="system-ui, sans-serif">${esc(opts.title)}</text>`);
  if (!l.twoSided) svg.push(`<text x="${WIDTH / 2}" y="${opts.title ? 50 : 20}" text-anchor="middle" fill="#6f8fc0" font-style="italic" font-size="11">the peer's states (in italics) are inferred from the segments</text>`);
  const headY = top;
  for (const [i, x] of [X0, X1].entries()) {
    svg.push(`<text x="${x}" y="${headY - 12}" text-anchor="middle" font-size="14" font-weight="bold" font-family="system-ui, sans-serif">${esc(l.names[i]!)}</text>`);
    svg.push(`<line x1="${x}" y1="${headY}" x2="${x}" y2="${height - 20}" stroke="#333" stroke-width="2"/>`);
    const init = l.initial[i]!;
    svg.push(`<text x="${i === 0 ? x - 10 : x + 10}" y="${headY + 16}" text-anchor="${i === 0 ? 'end' : 'start'}" fill="#1a5fb4">${esc(init)}</text>`);
  }
  // Time down the left edge.
  l.rows.forEach((r, i) => {
    svg.push(`<text x="12" y="${ys[i]! + 4}" fill="#888" font-size="11">${((r.t - t0) / 1000).toFixed(3)} s</text>`);
  });
  for (const g of gaps) {
    const text = g.ms >= 3_600_000 ? `${(g.ms / 3_600_000).toFixed(2)} h` : g.ms >= 60_000 ? `${(g.ms / 60_000).toFixed(1)} min` : `${(g.ms / 1000).toFixed(3)} s`;
    svg.push(`<text x="${(X0 + X1) / 2}" y="${g.y + 6}" text-anchor="middle" fill="#888" font-style="italic">⋮ ${text} pass ⋮</text>`);
  }
  // States and timers beside their line; folds across.
  l.rows.forEach((r, i) => {
    const yy = ys[i]!;
    const x = r.kind === 'fold' ? 0 : r.side === 0 ? X0 : X1;
    const outside = (r.kind !== 'fold' && r.side === 0) ? { x: x - 10, anchor: 'end' } : { x: x + 10, anchor: 'start' };
    if (r.kind === 'state' && r.inferred) {
      // The peer's state as its segments imply it (one side traced): drawn lighter.
      svg.push(`<circle cx="${x}" cy="${yy}" r="4" fill="#fff" stroke="#6f8fc0"/>`);
      svg.push(`<text x="${outside.x}" y="${yy + 4}" text-anchor="${outside.anchor}" fill="#6f8fc0" font-style="italic">${esc(r.to)}</text>`);
    } else if (r.kind === 'state') {
      svg.push(`<circle cx="${x}" cy="${yy}" r="4" fill="#1a5fb4"/>`);
      svg.push(`<text x="${outside.x}" y="${yy + 4}" text-anchor="${outside.anchor}" fill="#1a5fb4" font-weight="bold">${esc(r.to)}</text>`);
    } else if (r.kind === 'timer') {
      svg.push(`<rect x="${x - 5}" y="${yy - 5}" width="10" height="10" fill="#c64600"/>`);
      svg.push(`<text x="${outside.x}" y="${yy + 4}" text-anchor="${outside.anchor}" fill="#c64600">${esc(r.what)}</text>`);
    } else if (r.kind === 'fold') {
      svg.push(`<line x1="${X0 - 30}" y1="${yy - 8}" x2="${X1 + 30}" y2="${yy - 8}" stroke="#bbb" stroke-dasharray="2,4"/>`);
      svg.push(`<text x="${(X0 + X1) / 2}" y="${yy + 6}" text-anchor="middle" fill="#666" font-style="italic">… ${r.count.toLocaleString('en-US')} segments (${esc(r.note)}) …</text>`);
      svg.push(`<line x1="${X0 - 30}" y1="${yy + 14}" x2="${X1 + 30}" y2="${yy + 14}" stroke="#bbb" stroke-dasharray="2,4"/>`);
    }
  });
  // Arrows.
  const slant = 24;
  l.arrows.forEach((a, i) => {
    if (a.sendRow < 0 && a.recvRow < 0) return; // folded away
    const fromX = a.from === 0 ? X0 : X1;
    const toX = a.from === 0 ? X1 : X0;
    let y1: number;
    let y2: number;
    if (a.sendRow >= 0 && a.recvRow >= 0) {
      y1 = ys[a.sendRow]!;
      y2 = ys[a.recvRow]!;
      if (y2 <= y1) y2 = y1 + slant;
    } else if (a.sendRow >= 0) {
      y1 = ys[a.sendRow]!;
      y2 = y1 + slant;
    } else {
      // Seen only arriving: drawn from its row down, like a send, so that it never
      // overlaps the arrow before it.
      y1 = ys[a.recvRow]!;
      y2 = y1 + slant;
    }
    const color = a.lost ? '#c01c28' : a.retransmit ? '#c01c28' : '#222';
    let x2 = toX;
    let y2d = y2;
    if (a.lost) {
      x2 = fromX + (toX - fromX) * 0.6;
      y2d = y1 + (y2 - y1) * 0.6;
    }
    svg.push(`<g class="step" data-step="${i}">`);
    svg.push(`<line x1="${fromX}" y1="${y1}" x2="${x2}" y2="${y2d}" stroke="${color}" stroke-width="1.6"${a.lost ? ' stroke-dasharray="6,4"' : ` marker-end="url(#ah)"`}/>`);
    if (a.lost) svg.push(`<text x="${x2}" y="${y2d + 5}" text-anchor="middle" fill="#c01c28" font-size="16" font-weight="bold">✕</text>`);
    // The label at the middle of a short arrow; near the start of one that spans several
    // rows (a segment the network delayed), clear of the arrows it crosses.
    const f = y2 - y1 > slant * 2 ? 0.3 : 0.5;
    const mx = fromX + (toX - fromX) * f;
    const my = y1 + (y2 - y1) * f - 6;
    const label = `${a.retransmit ? '(retransmission) ' : ''}${a.lost ? '(lost) ' : ''}${a.label}`;
    const w = label.length * 7.2 + 8;
    svg.push(`<rect x="${mx - w / 2}" y="${my - 11}" width="${w}" height="15" fill="#fff" fill-opacity="0.85"/>`);
    svg.push(`<text x="${mx}" y="${my}" text-anchor="middle" fill="${color}">${esc(label)}</text>`);
    svg.push('</g>');
  });
  svg.push('</svg>');
  return svg.join('\n');
}

/**
 * A self-contained HTML page: the diagram, and a step-through (buttons or ← →) that lights
 * one segment at a time and shows it whole with both sides' states after it.
 */
export function ladderHtml(l: Ladder, opts: LadderOptions & { intro?: string } = {}): string {
  const t0 = l.rows[0]?.t ?? 0;
  const steps = l.arrows.map((a, i) => ({ i, shown: a.sendRow >= 0 || a.recvRow >= 0, t: a.t - t0, label: a.label, line: a.line, states: a.states, lost: a.lost, retransmit: a.retransmit, from: l.names[a.from] }))
    .filter((s) => s.shown)
    .sort((x, y) => firstRow(l.arrows[x.i]!) - firstRow(l.arrows[y.i]!));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title ?? 'TCP ladder diagram')}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; display: flex; gap: 16px; background: #fafafa; }
#diagram { flex: 1; overflow: auto; max-height: 100vh; }
#panel { width: 360px; padding: 16px; position: sticky; top: 0; height: 100vh; box-sizing: border-box; background: #fff; border-left: 1px solid #ddd; }
#panel pre { white-space: pre-wrap; word-break: break-all; background: #f3f3f3; padding: 8px; font-size: 12px; }
button { font-size: 14px; padding: 4px 12px; }
.step.dim { opacity: 0.25; }
.step.on line { stroke-width: 3.5; }
.states td { padding: 2px 8px; } .states td:last-child { font-weight: bold; color: #1a5fb4; }
</style></head><body>
<div id="diagram">${ladderSvg(l, opts)}</div>
<div id="panel">
<h3 style="margin-top:0">${esc(opts.title ?? 'Step through')}</h3>
${opts.intro ? `<p>${esc(opts.intro)}</p>` : ''}
<p><button id="prev">← prev</button> <button id="next">next →</button> <button id="all">all</button> <span id="count"></span></p>
<div id="info"><p>Press → (or “next”) to follow the segments one by one.</p></div>
</div>
<script>
const steps = ${JSON.stringify(steps).replace(/</g, '\\u003c')};
const names = ${JSON.stringify(l.names).replace(/</g, '\\u003c')};
let k = -1;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
function show() {
  document.querySelectorAll('.step').forEach((g) => {
    const i = Number(g.dataset.step);
    const pos = steps.findIndex((s) => s.i === i);
    g.classList.toggle('dim', k >= 0 && pos > k);
    g.classList.toggle('on', k >= 0 && pos === k);
  });
  document.getElementById('count').textContent = k >= 0 ? (k + 1) + ' / ' + steps.length : steps.length + ' segments';
  if (k < 0) return;
  const s = steps[k];
  document.getElementById('info').innerHTML =
    '<p><b>' + esc(s.from) + '</b> sends at ' + (s.t / 1000).toFixed(3) + ' s' + (s.retransmit ? ' (a retransmission)' : '') + (s.lost ? ' — <b style="color:#c01c28">lost on the way</b>' : '') + ':</p>' +
    '<p><b>' + esc(s.label) + '</b></p><pre>' + esc(s.line) + '</pre>' +
    '<table class="states"><tr><td>' + esc(names[0]) + '</td><td>' + esc(s.states[0]) + '</td></tr><tr><td>' + esc(names[1]) + '</td><td>' + esc(s.states[1]) + '</td></tr></table>';
  const g = document.querySelector('.step[data-step="' + s.i + '"]');
  if (g && g.scrollIntoView) g.scrollIntoView({ block: 'center', behavior: 'smooth' });
}
document.getElementById('next').onclick = () => { k = Math.min(steps.length - 1, k + 1); show(); };
document.getElementById('prev').onclick = () => { k = Math.max(0, k - 1); show(); };
document.getElementById('all').onclick = () => { k = -1; show(); };
document.addEventListener('keydown', (e) => { if (e.key === 'ArrowRight') document.getElementById('next').click(); if (e.key === 'ArrowLeft') document.getElementById('prev').click(); });
show();
</script>
</body></html>
`;
}
