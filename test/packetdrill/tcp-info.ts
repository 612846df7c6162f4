/**
 * packetdrill's `%{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%` blocks, without Python:
 * a small evaluator for the `assert` statements Linux's scripts write, over the values
 * Linux's TCP_INFO would report, computed from our connection. Units are Linux's: the
 * congestion window and ssthresh in segments, times in microseconds.
 *
 * Grammar (Python's precedence): or / and / not / comparisons (chained) / | / & /
 * + - / * // / unary - / atoms (numbers, names, parentheses). A statement is
 * `assert EXPR [, MESSAGE]`, `NAME = EXPR` (kept for later blocks) or `print(...)`
 * (nothing to check); anything else is an error naming it, never skipped.
 */
import type { TcpConnection } from '../../src/tcp/connection.js';
import { LOST, RETRANS, SACKED } from '../../src/tcp/retransmit-queue.js';
import type { TcpState } from '../../src/tcp/state.js';

/** Linux's names for the values the assertions compare against. */
export const TCP_INFO_CONSTANTS: Record<string, number> = {
  TCP_INFINITE_SSTHRESH: 0x7fffffff,
  TCP_CA_Open: 0, TCP_CA_Disorder: 1, TCP_CA_CWR: 2, TCP_CA_Recovery: 3, TCP_CA_Loss: 4,
  TCPI_OPT_TIMESTAMPS: 1, TCPI_OPT_SACK: 2, TCPI_OPT_WSCALE: 4, TCPI_OPT_ECN: 8, TCPI_OPT_ECN_SEEN: 16, TCPI_OPT_SYN_DATA: 32,
  TCP_ESTABLISHED: 1, TCP_SYN_SENT: 2, TCP_SYN_RECV: 3, TCP_FIN_WAIT1: 4, TCP_FIN_WAIT2: 5, TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7, TCP_CLOSE_WAIT: 8, TCP_LAST_ACK: 9, TCP_LISTEN: 10, TCP_CLOSING: 11,
  True: 1, False: 0,
};

const LINUX_STATE: Record<TcpState, number> = {
  ESTABLISHED: 1, 'SYN-SENT': 2, 'SYN-RECEIVED': 3, 'FIN-WAIT-1': 4, 'FIN-WAIT-2': 5, 'TIME-WAIT': 6,
  CLOSED: 7, 'CLOSE-WAIT': 8, 'LAST-ACK': 9, LISTEN: 10, CLOSING: 11,
};

/** Segments in the retransmission queue with each of our flags (Linux's packets_out, sacked_out, lost_out, retrans_out). */
function queueCounts(c: TcpConnection): { out: number; sacked: number; lost: number; retrans: number } {
  const q = c.rtx;
  const mss = Math.max(1, c.snd.dataMss());
  let out = 0;
  let sacked = 0;
  let lost = 0;
  let retrans = 0;
  if (!c.sackOk) {
    // Without SACK there are no records: count what is in flight, in segments.
    out = Math.ceil(c.inFlight() / mss);
    return { out, sacked, lost, retrans };
  }
  for (let i = 0; i < q.count; i++) {
    const segs = Math.max(1, Math.ceil(((q.end(i) - q.start(i)) >>> 0) / mss));
    const f = q.flags(i);
    out += segs;
    if (f & SACKED) sacked += segs;
    if (f & LOST) lost += segs;
    if (f & RETRANS && !(f & (SACKED | LOST))) retrans += segs;
  }
  return { out, sacked, lost, retrans };
}

/** The value Linux's TCP_INFO would give for `name` (tcpi_ prefix removed), or undefined if we do not model it. */
export function tcpInfoValue(c: TcpConnection, name: string): number | undefined {
  const mss = Math.max(1, c.snd.dataMss());
  switch (name) {
    case 'state': return LINUX_STATE[c.state];
    case 'ca_state': {
      switch (c.loss.state) {
        case 'rto-recovery': return 4;
        case 'fast-recovery': return 3;
        default: return c.ecn.reducing() ? 2 : c.loss.state === 'disorder' ? 1 : 0;
      }
    }
    case 'snd_cwnd': return Math.floor(c.cc.cwnd / mss);
    // Unset (the initial slow start): Linux's TCP_INFINITE_SSTHRESH.
    case 'snd_ssthresh': return c.cc.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(c.cc.ssthresh / mss);
    case 'rto': return Math.round(c.rtt.rto * 1000);
    case 'rtt': return Math.round(c.rtt.srtt * 1000);
    case 'rttvar': return Math.round(c.rtt.rttvar * 1000);
    case 'snd_mss': return mss;
    case 'advmss': return c.rcv.mss;
    case 'rcv_mss': return c.rcv.mss;
    case 'retransmits': return c.loss.retries;
    case 'backoff': return c.rtt.backoffs;
    case 'total_retrans': return c.stats.retransmits;
    case 'unacked': return queueCounts(c).out;
    case 'sacked': return queueCounts(c).sacked;
    case 'lost': return queueCounts(c).lost;
    case 'retrans': return queueCounts(c).retrans;
    case 'reordering': return 3;
    case 'segs_in': return c.stats.segsIn;
    case 'segs_out': return c.stats.segsOut;
    case 'probes': return c.snd.persistProbes; // unanswered zero-window probes
    case 'options':
      return (c.ts.ok ? 1 : 0) | (c.sackOk ? 2 : 0) | (c.snd.wscale > 0 || c.rcv.wscale > 0 ? 4 : 0) | (c.ecn.ok ? 8 : 0) | (c.stats.ecnCeReceived > 0 ? 16 : 0);
    default: return undefined;
  }
}

type Tok = { t: 'num'; v: number } | { t: 'id'; v: string } | { t: 'op'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(0x[0-9a-fA-F]+|\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z_0-9]*)|(==|!=|<=|>=|\/\/|[<>&|+\-*/(),%]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new Error(`cannot read "${src.slice(i).trim()}"`);
    i = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'id', v: m[2] });
    else out.push({ t: 'op', v: m[3]! });
  }
  return out;
}

/** Evaluates one expression; names are looked up with `lookup`. */
export function evaluate(src: string, lookup: (name: string) => number): number {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isOp = (v: string): boolean => {
    const t = peek();
    return t !== undefined && t.t !== 'num' && t.v === v;
  };
  const take = (v: string): boolean => (isOp(v) ? (p++, true) : false);
  const expect = (v: string): void => {
    if (!take(v)) throw new Error(`expected "${v}" in "${src.trim()}"`);
  };
  const atom = (): number => {
    const t = toks[p++];
    if (t === undefined) throw new Error(`"${src.trim()}" ends too soon`);
    if (t.t === 'num') return t.v;
    if (t.t === 'op' && t.v === '(') {
      const v = or();
      expect(')');
      return v;
    }
    if (t.t === 'op' && t.v === '-') return -atom();
    if (t.t === 'id') return lookup(t.v);
    throw new Error(`unexpected "${t.v}" in "${src.trim()}"`);
  };
  const mul = (): number => {
    let v = atom();
    for (;;) {
      if (take('*')) v *= atom();
      else if (take('//')) v = Math.floor(v / atom());
      else if (take('/')) v /= atom();
      else if (take('%')) v %= atom();
      else return v;
    }
  };
  const add = (): number => {
    let v = mul();
    for (;;) {
      if (take('+')) v += mul();
      else if (take('-')) v -= mul();
      else return v;
    }
  };
  const band = (): number => {
    let v = add();
    while (take('&')) v &= add();
    return v;
  };
  const bor = (): number => {
    let v = band();
    while (take('|')) v |= band();
    return v;
  };
  const CMP = ['==', '!=', '<=', '>=', '<', '>'];
  const cmp = (): number => {
    let left = bor();
    let result = 1;
    let any = false;
    for (;;) {
      const op = CMP.find((o) => isOp(o));
      if (!op) return any ? result : left;
      p++;
      const right = bor();
      const ok = op === '==' ? left === right : op === '!=' ? left !== right : op === '<=' ? left <= right : op === '>=' ? left >= right : op === '<' ? left < right : left > right;
      result = result && ok ? 1 : 0;
      any = true;
      left = right;
    }
  };
  const not = (): number => {
    const t = peek();
    if (t?.t === 'id' && t.v === 'not') {
      p++;
      return not() ? 0 : 1;
    }
    return cmp();
  };
  const and = (): number => {
    let v = not();
    while (peek()?.t === 'id' && peek()!.v === 'and') {
      p++;
      const r = not();
      v = v && r;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    while (peek()?.t === 'id' && peek()!.v === 'or') {
      p++;
      const r = and();
      v = v || r;
    }
    return v;
  };
  const v = or();
  if (p < toks.length) throw new Error(`unexpected "${(toks[p] as { v: unknown }).v}" in "${src.trim()}"`);
  return v;
}

/** Splits at the first top-level comma (the assert's message). */
function splitMessage(s: string): [string, string | null] {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) return [s.slice(0, i), s.slice(i + 1)];
  }
  return [s, null];
}

/**
 * Runs a `%{ }%` block's statements against a connection. Returns null when every assert
 * holds, else what failed with the values of the names it used.
 */
export function runAsserts(code: string, c: TcpConnection, vars: Map<string, number> = new Map()): string | null {
  const lookup = (name: string): number => {
    const v = vars.get(name);
    if (v !== undefined) return v;
    if (name in TCP_INFO_CONSTANTS) return TCP_INFO_CONSTANTS[name]!;
    if (name.startsWith('tcpi_')) {
      const v = tcpInfoValue(c, name.slice(5));
      if (v === undefined) throw new Error(`${name} is not modelled by this stack`);
      return v;
    }
    throw new Error(`unknown name "${name}"`);
  };
  for (const raw of code.split(/[\n;]/)) {
    const stmt = raw.replace(/#.*$/, '').replace(/\\\s*$/, '').trim();
    if (stmt === '') continue;
    // print(...) only shows values while a script is written: nothing to check.
    if (/^print\s*\(.*\)$/.test(stmt)) continue;
    const set = /^([A-Za-z_][A-Za-z_0-9]*)\s*=(?!=)\s*(.*)$/.exec(stmt);
    if (set) {
      vars.set(set[1]!, evaluate(set[2]!, lookup));
      continue;
    }
    const m = /^assert\s+(.*)$/.exec(stmt);
    if (!m) throw new Error(`only "assert EXPR[, MESSAGE]" and "NAME = EXPR" statements are supported in %{ }%, not "${stmt}"`);
    const [expr] = splitMessage(m[1]!);
    if (!evaluate(expr, lookup)) {
      const names = [...new Set(expr.match(/tcpi_[a-z_]+/g) ?? [])].map((n) => `${n} = ${lookup(n)}`);
      return `assert ${expr.trim()} failed${names.length > 0 ? ` (${names.join(', ')})` : ''}`;
    }
  }
  return null;
}
