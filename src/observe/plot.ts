/**
 * Pictures of one TCP connection from its trace (`--trace FILE`), as SVG:
 *  - a time-sequence graph in the style of tcptrace: each data segment a vertical bar
 *    from its first to its last sequence number (retransmissions in red), the peer's
 *    ACK line, the right edge of its receive window, and the states as bands;
 *  - a congestion chart: cwnd, ssthresh and bytes in flight, with RTT samples, SRTT
 *    and RTO on a second panel.
 * `htmlPage` bundles both with the connection's one-line segment log.
 */
import type { TraceRecord } from '../tcp/trace.js';

export interface PlotOptions {
  width?: number;
  height?: number;
  /** Which direction's data to draw: 'out' (what this stack sent) or 'in'. */
  dir?: 'out' | 'in';
}

type Rec = TraceRecord;
type SegRec = Extract<Rec, { ev: 'in' | 'out' }>;

export function parseTrace(text: string): Rec[] {
  const out: Rec[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    out.push(JSON.parse(line) as Rec);
  }
  return out;
}

/** Connection ids in a trace, with their ends and the number of events. */
export function connectionsIn(recs: Rec[]): { id: number; local: string; remote: string; events: number }[] {
  const m = new Map<number, { id: number; local: string; remote: string; events: number }>();
  for (const r of recs) {
    let e = m.get(r.c);
    if (!e) m.set(r.c, (e = { id: r.c, local: '?', remote: '?', events: 0 }));
    e.events++;
    if (r.ev === 'open') {
      e.local = r.local;
      e.remote = r.remote;
    }
  }
  return [...m.values()];
}

const STATE_COLORS: Record<string, string> = {
  'SYN-SENT': '#e8f0fe', 'SYN-RECEIVED': '#e8f0fe', ESTABLISHED: '#ffffff', 'FIN-WAIT-1': '#fdf1e0', 'FIN-WAIT-2': '#fce8c8',
  'CLOSE-WAIT': '#e7f5e9', CLOSING: '#fde2e2', 'LAST-ACK': '#f3e5f5', 'TIME-WAIT': '#eeeeee', CLOSED: '#dddddd', LISTEN: '#ffffff',
};

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function niceTicks(lo: number, hi: number, n = 6): number[] {
  const span = Math.max(hi - lo, 1e-9);
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? mag * 10;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmtBytes(v: number): string {
  if (Math.abs(v) >= 1 << 20) return `${(v / (1 << 20)).toFixed(1)}M`;
  if (Math.abs(v) >= 1024) return `${(v / 1024).toFixed(0)}K`;
  return String(Math.round(v));
}

interface Frame {
  x(t: number): number;
  y(v: number): number;
  svg: string[];
}

function frame(svg: string[], x0: number, y0: number, w: number, h: number, t0: number, t1: number, v0: number, v1: number, ylabel: string, fmtY: (v: number) => string): Frame {
  const x = (t: number): number => x0 + ((t - t0) / Math.max(t1 - t0, 1e-9)) * w;
  const y = (v: number): number => y0 + h - ((v - v0) / Math.max(v1 - v0, 1e-9)) * h;
  svg.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  for (const t of niceTicks(t0, t1)) {
    svg.push(`<line x1="${x(t)}" y1="${y0 + h}" x2="${x(t)}" y2="${y0 + h + 4}" stroke="#888"/><text x="${x(t)}" y="${y0 + h + 16}" font-size="11" text-anchor="middle">${t.toFixed(t1 - t0 < 10 ? 1 : 0)}</text>`);
  }
  for (const v of niceTicks(v0, v1)) {
    svg.push(`<line x1="${x0 - 4}" y1="${y(v)}" x2="${x0 + w}" y2="${y(v)}" stroke="#eee"/><text x="${x0 - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${fmtY(v)}</text>`);
  }
  svg.push(`<text x="${x0 + w / 2}" y="${y0 + h + 32}" font-size="12" text-anchor="middle">time (ms)</text>`);
  svg.push(`<text x="${x0 - 48}" y="${y0 + h / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 ${x0 - 48} ${y0 + h / 2})">${esc(ylabel)}</text>`);
  return { x, y, svg };
}

/** The time-sequence graph of connection `conn`. */
export function timeSequenceSvg(all: Rec[], conn: number, opts: PlotOptions = {}): string {
  const recs = all.filter((r) => r.c === conn);
  if (recs.length === 0) throw new Error(`no events for connection ${conn} in the trace`);
  const W = opts.width ?? 1000;
  const H = opts.height ?? 560;
  const dir = opts.dir ?? 'out';
  const back = dir === 'out' ? 'in' : 'out';
  const t0 = recs[0]!.t;
  const segs = recs.filter((r): r is SegRec => r.ev === 'in' || r.ev === 'out');
  const data = segs.filter((s) => s.ev === dir && (s.len > 0 || /[SF]/.test(s.flags)));
  const acks = segs.filter((s) => s.ev === back && (s.flags === '.' || s.flags.includes('A')) && !s.flags.includes('R'));
  const tEnd = latest(recs) - t0;
  let dataMax = 1;
  for (const s of data) dataMax = Math.max(dataMax, s.rseq + s.len + 1);
  for (const a of acks) dataMax = Math.max(dataMax, a.rack);
  let winMax = dataMax;
  for (const a of acks) winMax = Math.max(winMax, a.rack + a.wnd);
  // The window's right edge sets the scale only when it is of the data's size; a far-off
  // edge (a short exchange under a big window) is drawn clipped at the top instead.
  const vMax = winMax <= dataMax * 4 ? winMax : dataMax * 1.25;
  let vMin = 0;
  for (const a of acks) vMin = Math.min(vMin, a.rack);
  const svg: string[] = [];
  const local = recs.find((r) => r.ev === 'open') as Extract<Rec, { ev: 'open' }> | undefined;
  const title = `connection ${conn}${local ? `: ${local.local} ↔ ${local.remote}` : ''}, ${dir === 'out' ? 'data this stack sent' : 'data the peer sent'}`;
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>`);
  svg.push(`<text x="${W / 2}" y="20" font-size="14" text-anchor="middle">${esc(title)}</text>`);
  const f = frame(svg, 80, 40, W - 110, H - 120, 0, Math.max(tEnd, 1), vMin, vMax, 'sequence number (relative, bytes)', fmtBytes);
  svg.push(`<clipPath id="plot"><rect x="80" y="40" width="${W - 110}" height="${H - 120}"/></clipPath>`);
  // State bands along the top.
  const states = recs.filter((r): r is Extract<Rec, { ev: 'state' }> => r.ev === 'state');
  for (let i = 0; i < states.length; i++) {
    const a = states[i]!;
    const b = states[i + 1];
    const x1 = f.x(a.t - t0);
    const x2 = f.x((b ? b.t : t0 + tEnd) - t0);
    svg.push(`<rect x="${x1}" y="40" width="${Math.max(0.5, x2 - x1)}" height="${H - 120}" fill="${STATE_COLORS[a.to] ?? '#fff'}" opacity="0.6"><title>${esc(a.to)}: ${esc(a.why)}</title></rect>`);
    svg.push(`<text x="${x1 + 2}" y="${52 + (i % 3) * 12}" font-size="10" fill="#555">${esc(a.to)}</text>`);
  }
  // Window and ACK lines (steps).
  const step = (pts: [number, number][], color: string, label: string): void => {
    if (pts.length === 0) return;
    let d = `M${f.x(pts[0]![0])},${f.y(pts[0]![1])}`;
    for (let i = 1; i < pts.length; i++) d += ` H${f.x(pts[i]![0])} V${f.y(pts[i]![1])}`;
    d += ` H${f.x(tEnd)}`;
    svg.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5" clip-path="url(#plot)"><title>${esc(label)}</title></path>`);
  };
  step(acks.map((a) => [a.t - t0, a.rack + a.wnd]), '#d4a017', 'receive window (ACK + window)');
  step(acks.map((a) => [a.t - t0, a.rack]), '#2e7d32', 'ACK');
  // SACKed ranges: what the receiver reported holding above its ACK, at each ACK.
  let sacked = 0;
  for (const a of acks) {
    if (!a.sack) continue;
    for (const [l, r] of a.sack) {
      sacked++;
      const x = f.x(a.t - t0);
      svg.push(`<line x1="${x}" y1="${f.y(l)}" x2="${x}" y2="${f.y(r)}" stroke="#00897b" stroke-width="4" opacity="0.45" clip-path="url(#plot)"><title>SACK ${l}:${r}</title></line>`);
    }
  }
  // Data segments: bars; retransmissions red.
  let highest = -Infinity;
  let retrans = 0;
  for (const s of data) {
    const end = s.rseq + Math.max(s.len, 1);
    const isRetrans = s.rseq < highest;
    if (isRetrans) retrans++;
    highest = Math.max(highest, end);
    const x = f.x(s.t - t0);
    const color = isRetrans ? '#c62828' : s.flags.includes('S') || s.flags.includes('F') ? '#6a1b9a' : '#1565c0';
    svg.push(`<line x1="${x}" y1="${f.y(s.rseq)}" x2="${x}" y2="${f.y(end)}" stroke="${color}" stroke-width="2"><title>${esc(s.line)}</title></line>`);
    svg.push(`<line x1="${x - 2}" y1="${f.y(end)}" x2="${x + 2}" y2="${f.y(end)}" stroke="${color}"/>`);
  }
  // Legend.
  const ly = H - 40;
  const legend: [string, string][] = [['#1565c0', 'data'], ['#c62828', `retransmission (${retrans})`], ['#6a1b9a', 'SYN / FIN'], ['#2e7d32', 'ACK'], ['#d4a017', 'receive window'], ['#00897b', `SACKed (${sacked})`]];
  legend.forEach(([c, t], i) => {
    svg.push(`<rect x="${80 + i * 150}" y="${ly}" width="14" height="4" fill="${c}"/><text x="${100 + i * 150}" y="${ly + 6}" font-size="12">${esc(t)}</text>`);
  });
  svg.push('</svg>');
  return svg.join('\n');
}

/** cwnd, ssthresh and in-flight bytes; RTT samples, SRTT and RTO. */
export function congestionSvg(all: Rec[], conn: number, opts: PlotOptions = {}): string {
  const recs = all.filter((r) => r.c === conn);
  if (recs.length === 0) throw new Error(`no events for connection ${conn} in the trace`);
  const W = opts.width ?? 1000;
  const H = opts.height ?? 560;
  const t0 = recs[0]!.t;
  const tEnd = latest(recs) - t0;
  const cw = recs.filter((r): r is Extract<Rec, { ev: 'cwnd' }> => r.ev === 'cwnd');
  const rtt = recs.filter((r): r is Extract<Rec, { ev: 'rtt' }> => r.ev === 'rtt');
  const rto = recs.filter((r): r is Extract<Rec, { ev: 'retransmit' }> => r.ev === 'retransmit');
  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>`);
  svg.push(`<text x="${W / 2}" y="20" font-size="14" text-anchor="middle">connection ${conn}: congestion window and round-trip time</text>`);
  const ph = (H - 140) / 2;
  let cMax = 1;
  for (const c of cw) cMax = Math.max(cMax, c.cwnd, c.inflight, c.ssthresh < 0x7fffffff ? c.ssthresh : 0);
  const f1 = frame(svg, 80, 40, W - 110, ph, 0, Math.max(tEnd, 1), 0, cMax * 1.05, 'bytes', fmtBytes);
  const line = (fr: Frame, pts: [number, number][], color: string, label: string, stepped = true, dash = ''): void => {
    if (pts.length === 0) return;
    let d = `M${fr.x(pts[0]![0])},${fr.y(pts[0]![1])}`;
    for (let i = 1; i < pts.length; i++) d += stepped ? ` H${fr.x(pts[i]![0])} V${fr.y(pts[i]![1])}` : ` L${fr.x(pts[i]![0])},${fr.y(pts[i]![1])}`;
    svg.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${esc(label)}</title></path>`);
  };
  line(f1, cw.map((c) => [c.t - t0, c.cwnd]), '#1565c0', 'cwnd');
  line(f1, cw.filter((c) => c.ssthresh < 0x7fffffff).map((c) => [c.t - t0, c.ssthresh]), '#c62828', 'ssthresh', true, '6 3');
  line(f1, cw.map((c) => [c.t - t0, c.inflight]), '#9e9e9e', 'in flight');
  for (const r of rto) svg.push(`<line x1="${f1.x(r.t - t0)}" y1="40" x2="${f1.x(r.t - t0)}" y2="${40 + ph}" stroke="#c62828" stroke-dasharray="2 2"><title>retransmit (${r.why})</title></line>`);
  let rMax = 1;
  for (const r of rtt) rMax = Math.max(rMax, r.sample, r.srtt, r.rto);
  const f2 = frame(svg, 80, 80 + ph, W - 110, ph, 0, Math.max(tEnd, 1), 0, rMax * 1.05, 'ms', (v) => v.toFixed(v < 10 ? 1 : 0));
  for (const r of rtt) svg.push(`<circle cx="${f2.x(r.t - t0)}" cy="${f2.y(r.sample)}" r="2.5" fill="#2e7d32"><title>sample ${r.sample.toFixed(2)} ms</title></circle>`);
  line(f2, rtt.map((r) => [r.t - t0, r.srtt]), '#1565c0', 'SRTT', false);
  line(f2, rtt.map((r) => [r.t - t0, r.rto]), '#c62828', 'RTO', true, '6 3');
  const ly = H - 24;
  const legend: [string, string][] = [['#1565c0', 'cwnd / SRTT'], ['#c62828', 'ssthresh / RTO'], ['#9e9e9e', 'in flight'], ['#2e7d32', 'RTT sample']];
  legend.forEach(([c, t], i) => {
    svg.push(`<rect x="${80 + i * 200}" y="${ly}" width="14" height="4" fill="${c}"/><text x="${100 + i * 200}" y="${ly + 6}" font-size="12">${esc(t)}</text>`);
  });
  svg.push('</svg>');
  return svg.join('\n');
}

/** An HTML page with both pictures and the connection's events. */
export function htmlPage(all: Rec[], conn: number, opts: PlotOptions = {}): string {
  const recs = all.filter((r) => r.c === conn);
  const rows = recs
    .map((r) => {
      const t = (r.t - recs[0]!.t).toFixed(3);
      const text = r.ev === 'in' || r.ev === 'out' ? `${r.ev === 'in' ? '&lt;' : '&gt;'} ${esc(r.line)}` : esc(JSON.stringify({ ...r, t: undefined, c: undefined }));
      return `<tr class="${r.ev}"><td>${t}</td><td>${esc(r.ev)}</td><td><code>${text}</code></td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>tcpip-ts: connection ${conn}</title>
<style>body{font-family:sans-serif;margin:1.5em}td{padding:1px 8px;vertical-align:top}tr.state td{background:#fff8e1}tr.timer td,tr.retransmit td{color:#c62828}code{font-size:12px}</style>
</head><body><h1>Connection ${conn}</h1>
${timeSequenceSvg(all, conn, opts)}
${congestionSvg(all, conn, opts)}
<h2>Events</h2><table><tr><th>ms</th><th>event</th><th></th></tr>
${rows}
</table></body></html>
`;
}

/** The latest record's time (a loop, not Math.max(...): a long trace has more records than a call takes arguments). */
function latest(recs: readonly { t: number }[]): number {
  let t = -Infinity;
  for (let i = 0; i < recs.length; i++) if (recs[i]!.t > t) t = recs[i]!.t;
  return t;
}
