/**
 * The script language: packetdrill's notation, simplified (STYLE.md §6 item 4).
 *
 *   // @tcp mslMs=500 delayedAckMs=40     header: stack config (Partial<TcpConfig>)
 *   // @iss 0xffffff00                     header: our ISS (tcp.issOverride)
 *   // @remote_isn 0xfffff000              header: the ISN the script's remote side numbers from
 *   // @tolerance_ms 0                     header: allowed timing slack of `>` lines and calls
 *   0      socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
 *   +0     bind(3, ..., ...) = 0
 *   +0     listen(3, 1) = 0
 *   +0     < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
 *   +0     > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3>
 *   +.1    < . 1:1(0) ack 1 win 257
 *   +0     accept(3, ..., ...) = 4
 *   +0...0.3 read(4, ..., 1000) = 100     a blocking call: starts at +0, returns 0.3 s later
 *   +0     tcp_state(4) = ESTABLISHED     (our extension: the connection's RFC 9293 state)
 *
 * Times are seconds: absolute (`1.5`) or relative to the previous line (`+.1`). A blocking
 * call is written `START...END`; a relative END counts from the same point as a relative
 * START (packetdrill: `+.1...0.2` starts 0.1 s after the previous line and returns 0.2 s
 * after it). A `>` line may take a range, `+.3~+.31`: any time in it. `<` is a segment from
 * the remote peer, `>` one the stack must send at that time.
 * Sequence numbers are relative to each side's ISN (ours is learnt from our first SYN or
 * SYN-ACK; before that, our numbers are absolute; so is the 0 of a RST,ACK answering a
 * segment without ACK, <SEQ=0><ACK=...>). Flags: S F R P U E W, `.` for ACK, `-` for none.
 * An ECN mark may come first: `< [ce] P. 1:11(10) ack 1` (packetdrill's [noecn] [ect0]
 * [ect1] [ce]; `[ect01]` on a `>` line; `[tos 0x28]` for the whole TOS byte). For `>`, `win`
 * and the option list are checked only when given; `<...>`
 * matches anything; options compare by value, and one `>` line may cover several segments
 * sent together (see Header.strict).
 *
 * packetdrill's other notation, so that Linux's scripts run unchanged:
 *   --tolerance_usecs=10000  --strict_segments  --tcp_ts_tick_usecs=1000   command-line options
 *   `../common/defaults.sh`  `sysctl -q net.ipv4.tcp_sack=1`               shell (sysctl.ts)
 *   +0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%                      TCP_INFO (tcp-info.ts)
 */

export interface TimeSpec {
  rel: boolean;
  /** Microseconds (integers, so that sums of decimal seconds stay exact). */
  us: number;
}

export type OptSpec =
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; value: number }
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'sackOK' }
  | { kind: 'TS'; val: number; ecr: number }
  | { kind: 'sack'; blocks: [number, number][] };

export interface SegSpec {
  flags: number;
  flagText: string;
  seq: number;
  len: number;
  ack?: number;
  win?: number;
  /** undefined: not given; 'any': `<...>`. */
  options?: OptSpec[] | 'any';
  /** The IP ECN field, packetdrill's `[noecn]`, `[ect0]`, `[ect1]`, `[ce]` before the flags (RFC 3168); undefined: not given. */
  ecn?: number;
  /** packetdrill's `[ect01]` on a `>` line: ECT(0) or ECT(1). */
  ectAny?: boolean;
  /** The whole IP TOS byte (DSCP and ECN), packetdrill's `[tos 0x28]`; undefined: not given. */
  tos?: number;
}

/** packetdrill's ECN marks and the IP ECN field values they stand for. */
export const ECN_MARKS: Record<string, number> = { noecn: 0, ect1: 1, ect0: 2, ce: 3 };

export interface CallSpec {
  name: string;
  args: string[];
  /** `= 0`, `= -1 ECONNRESET`, `= TIME-WAIT` (tcp_state). */
  ret: { value: string; errno?: string };
}

export type Action =
  | { kind: 'inbound'; seg: SegSpec }
  | { kind: 'outbound'; seg: SegSpec }
  | { kind: 'call'; call: CallSpec }
  /** packetdrill's `` `command` ``: a shell command (sysctl settings and defaults.sh are mapped onto TcpConfig). */
  | { kind: 'shell'; command: string }
  /** packetdrill's `%{ assert tcpi_snd_cwnd == 10 }%`: assertions over TCP_INFO. */
  | { kind: 'asserts'; code: string };

export interface Line {
  lineNo: number;
  text: string;
  start: TimeSpec;
  /** packetdrill's `A~B`: the action may happen any time up to B. */
  until?: TimeSpec;
  /** The return time of a blocking call (`START...END`). */
  end?: TimeSpec;
  action: Action;
}

export interface Header {
  tcp: Record<string, number | boolean | string>;
  /**
   * `// @strict_segments` (packetdrill's `--strict_segments`): one `>` line per segment,
   * options compared byte for byte with TSval included. Otherwise a `>` line may cover
   * several segments sent at one instant (packetdrill's TSO/GSO aggregation), options are
   * compared by value (order and padding are the sender's choice) and our TSval is not
   * compared (its offset from the script's is learnt, to map inbound TSecr onto our clock).
   */
  strict?: boolean;
  /** packetdrill's `--tcp_ts_tick_usecs=N`: the script's TSvals tick at N us; compare ours (after the learnt offset). */
  tsTickUs?: number;
  iss?: number;
  remoteIsn?: number;
  toleranceMs?: number;
  /** packetdrill's `--ip_version`: `ipv4` (the default), `ipv6`, or `ipv4-mapped-ipv6` (AF_INET6 sockets, IPv4 packets). */
  ipVersion?: IpVersion;
  /** packetdrill's `--mtu` (the device's MTU; its gtests run IPv6 with 1520 so that the MSS stays 1460). */
  mtu?: number;
}

export type IpVersion = 'ipv4' | 'ipv6' | 'ipv4-mapped-ipv6';

export interface Script {
  name: string;
  header: Header;
  lines: Line[];
}

export const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20, E: 0x40, W: 0x80 };

export class ScriptError extends Error {
  constructor(name: string, lineNo: number, msg: string) {
    super(`${name}:${lineNo}: ${msg}`);
    this.name = 'ScriptError';
  }
}

/** "1.25" / ".1" / "0" -> microseconds, exactly. */
function parseSeconds(s: string): number {
  const m = /^(\d*)(?:\.(\d{0,6}))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) throw new Error(`bad time "${s}"`);
  const whole = m[1] === '' ? 0 : Number(m[1]);
  const frac = (m[2] ?? '').padEnd(6, '0');
  return whole * 1_000_000 + Number(frac);
}

function parseTime(s: string): TimeSpec {
  if (s.startsWith('+')) return { rel: true, us: parseSeconds(s.slice(1)) };
  return { rel: false, us: parseSeconds(s) };
}

function parseNum(s: string): number {
  const t = s.trim();
  if (!/^(0x[0-9a-fA-F]+|-?\d+)$/.test(t)) throw new Error(`bad number "${s}"`);
  return Number(t);
}

function parseOptions(text: string): OptSpec[] | 'any' {
  const t = text.trim();
  if (t === '...') return 'any';
  if (t === '') return [];
  return t.split(',').map((raw): OptSpec => {
    const w = raw.trim().split(/\s+/);
    switch (w[0]) {
      case 'mss': return { kind: 'mss', value: parseNum(w[1] ?? '') };
      case 'wscale': return { kind: 'wscale', value: parseNum(w[1] ?? '') };
      case 'nop': return { kind: 'nop' };
      case 'eol': return { kind: 'eol' };
      case 'sackOK': return { kind: 'sackOK' };
      case 'TS':
        if (w[1] !== 'val' || w[3] !== 'ecr') throw new Error(`bad TS option "${raw}"`);
        return { kind: 'TS', val: parseNum(w[2] ?? ''), ecr: parseNum(w[4] ?? '') };
      case 'sack':
        return {
          kind: 'sack',
          blocks: w.slice(1).map((b) => {
            const [l, r] = b.split(':');
            return [parseNum(l ?? ''), parseNum(r ?? '')] as [number, number];
          }),
        };
      default:
        throw new Error(`unknown option "${raw.trim()}"`);
    }
  });
}

/** `S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3>` */
export function parseSegment(text: string, inbound: boolean): SegSpec {
  let rest = text.trim();
  let ecn: number | undefined;
  let tos: number | undefined;
  let ectAny = false;
  const mark = /^\[(\w+)(?:\s+(0x[0-9a-fA-F]+|\d+))?\]\s*/.exec(rest);
  if (mark) {
    if (mark[1] === 'tos' && mark[2] !== undefined) {
      tos = Number(mark[2]);
      if (!(tos >= 0 && tos <= 255)) throw new Error(`tos ${mark[2]} is out of range for 8 bits`);
    } else if (mark[1] === 'ect01' && !inbound) {
      ectAny = true;
    } else {
      ecn = ECN_MARKS[mark[1]!];
      if (ecn === undefined) throw new Error(`unknown IP mark "[${mark[1]}]" (noecn, ect0, ect1, ce, ect01 on > lines, tos 0xNN)`);
    }
    rest = rest.slice(mark[0].length);
  }
  let options: SegSpec['options'];
  const lt = rest.indexOf('<');
  if (lt >= 0) {
    if (!rest.endsWith('>')) throw new Error('option list must end the line with ">"');
    options = parseOptions(rest.slice(lt + 1, -1));
    rest = rest.slice(0, lt).trim();
  }
  const w = rest.split(/\s+/);
  const flagText = w[0] ?? '';
  let flags = 0;
  for (const ch of flagText === '-' ? '' : flagText) {
    const bit = FLAG_BITS[ch];
    if (bit === undefined) throw new Error(`unknown flag "${ch}" in "${flagText}"`);
    flags |= bit;
  }
  const m = /^(\d+):(\d+)\((\d+)\)$/.exec(w[1] ?? '');
  if (!m) throw new Error(`expected START:END(LEN), got "${w[1] ?? ''}"`);
  const seq = Number(m[1]);
  const end = Number(m[2]);
  const len = Number(m[3]);
  if (((end - seq) >>> 0) !== len) throw new Error(`${w[1]}: END - START is not LEN`);
  const seg: SegSpec = { flags, flagText, seq, len, options, ...(ecn !== undefined ? { ecn } : {}), ...(tos !== undefined ? { tos } : {}), ...(ectAny ? { ectAny } : {}) };
  for (let i = 2; i < w.length; i += 2) {
    const key = w[i];
    const val = w[i + 1];
    if (val === undefined) throw new Error(`"${key}" needs a value`);
    if (key === 'ack') seg.ack = parseNum(val);
    else if (key === 'win') seg.win = parseNum(val);
    else throw new Error(`unknown segment field "${key}"`);
  }
  if (seg.ack !== undefined && !(flags & FLAG_BITS['.']!)) throw new Error('"ack" given without the ACK flag "."');
  if (inbound && flags & FLAG_BITS['.']! && seg.ack === undefined) throw new Error('an inbound ACK needs "ack N"');
  return seg;
}

/** Splits "a, {x=1, y=2}, [3]" at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

/** `read(4, ..., 1000) = -1 ECONNRESET (Connection reset by peer)` */
export function parseCall(text: string): CallSpec {
  const t = text.trim();
  const head = /^([a-z_]+)\(/.exec(t);
  if (!head) throw new Error(`cannot parse call "${t}"`);
  let depth = 0;
  let close = -1;
  for (let i = head[0].length - 1; i < t.length; i++) {
    if (t[i] === '(' || t[i] === '[' || t[i] === '{') depth++;
    if (t[i] === ')' || t[i] === ']' || t[i] === '}') depth--;
    if (depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) throw new Error(`unbalanced parentheses in "${t}"`);
  const m = /^\s*=\s*(\S+)(?:\s+([A-Z][A-Z0-9]+))?(?:\s*\(.*\))?\s*$/.exec(t.slice(close + 1));
  if (!m) throw new Error(`expected "= VALUE [ERRNO]" after the call in "${t}"`);
  return { name: head[1]!, args: splitArgs(t.slice(head[0].length, close)), ret: { value: m[1]!, errno: m[2] } };
}

/** The addresses packetdrill uses by default, and so do we (runner.ts). */
const LOCAL_IP = '192.168.0.1';
const REMOTE_IP = '192.0.2.1';

/** Applies one of packetdrill's command-line options; those we cannot honour are errors, not ignored. */
function commandLineOption(header: Header, key: string, value: string | undefined): void {
  const need = (): string => {
    if (value === undefined) throw new Error(`--${key} needs a value`);
    return value;
  };
  switch (key) {
    case 'tolerance_usecs': header.toleranceMs = Number(need()) / 1000; return;
    case 'strict_segments': header.strict = true; return;
    case 'tcp_ts_tick_usecs': header.tsTickUs = Number(need()); return;
    case 'local_ip':
    case 'remote_ip': {
      const want = key === 'local_ip' ? LOCAL_IP : REMOTE_IP;
      if (need() !== want) throw new Error(`--${key}=${value} is not supported: the runner's ${key === 'local_ip' ? 'local' : 'remote'} address is ${want}`);
      return;
    }
    case 'ip_version': {
      const v = need();
      if (v !== 'ipv4' && v !== 'ipv6' && v !== 'ipv4-mapped-ipv6') throw new Error(`--ip_version=${value} is not one of ipv4, ipv6, ipv4-mapped-ipv6`);
      header.ipVersion = v;
      return;
    }
    case 'mtu': {
      const m = Number(need());
      if (!Number.isInteger(m) || m < 1280 || m > 65535) throw new Error(`--mtu=${value} is not 1280..65535`);
      header.mtu = m;
      return;
    }
    default:
      throw new Error(`packetdrill option --${key} is not supported`);
  }
}

export function parseScript(name: string, source: string): Script {
  const header: Header = { tcp: {} };
  const lines: Line[] = [];
  const all = source.split('\n');
  let block: { lineNo: number; start: TimeSpec; code: string[] } | null = null;
  let shellBlock: { lineNo: number; start: TimeSpec; code: string[] } | null = null;
  all.forEach((raw, i) => {
    const lineNo = i + 1;
    // Inside a %{ ... }% block: gather the lines.
    if (block) {
      const endAt = raw.indexOf('}%');
      block.code.push(endAt >= 0 ? raw.slice(0, endAt) : raw);
      if (endAt >= 0) {
        const text = block.code.map((l) => l.trim()).filter((l) => l !== '').join('; ');
        lines.push({ lineNo: block.lineNo, text: `%{ ${text} }%`, start: block.start, action: { kind: 'asserts', code: block.code.join('\n') } });
        block = null;
      }
      return;
    }
    // Inside a multi-line shell command: gather up to the closing backquote.
    if (shellBlock) {
      const endAt = raw.indexOf('`');
      shellBlock.code.push(endAt >= 0 ? raw.slice(0, endAt) : raw);
      if (endAt >= 0) {
        const command = shellBlock.code.join('\n').trim();
        lines.push({ lineNo: shellBlock.lineNo, text: `\`${command}\``, start: shellBlock.start, action: { kind: 'shell', command } });
        shellBlock = null;
      }
      return;
    }
    // A shell command in backquotes, with or without a time before it, on one line or several.
    const shell = /^\s*(?:(\+?(?:\d+(?:\.\d+)?|\.\d+))\s+)?`([^`]*)(`)?\s*(?:\/\/.*)?$/.exec(raw);
    if (shell) {
      const start = shell[1] ? parseTime(shell[1]) : { rel: true, us: 0 };
      if (shell[3]) lines.push({ lineNo, text: raw.trim(), start, action: { kind: 'shell', command: shell[2]!.trim() } });
      else shellBlock = { lineNo, start, code: [shell[2]!] };
      return;
    }
    // A %{ ... }% block (TCP_INFO assertions), one line or several.
    const asserts = /^\s*(\+?(?:\d+(?:\.\d+)?|\.\d+))\s+%\{(.*)$/.exec(raw);
    if (asserts) {
      const rest = asserts[2]!;
      const endAt = rest.indexOf('}%');
      if (endAt >= 0) {
        lines.push({ lineNo, text: raw.trim(), start: parseTime(asserts[1]!), action: { kind: 'asserts', code: rest.slice(0, endAt) } });
      } else {
        block = { lineNo, start: parseTime(asserts[1]!), code: [rest] };
      }
      return;
    }
    const fail = (msg: string): never => {
      throw new ScriptError(name, lineNo, msg);
    };
    const directive = /^\s*\/\/\s*@(\w+)\s*(.*)$/.exec(raw);
    if (directive) {
      const [, key, value] = directive;
      try {
        if (key === 'tcp') {
          for (const kv of value!.trim().split(/\s+/)) {
            const [k, v] = kv.split('=');
            if (!k || v === undefined) fail(`@tcp expects key=value, got "${kv}"`);
            header.tcp[k!] = v === 'true' ? true : v === 'false' ? false : /^[a-z]+$/i.test(v!) ? v! : parseNum(v!);
          }
        } else if (key === 'iss') header.iss = parseNum(value!) >>> 0;
        else if (key === 'remote_isn') header.remoteIsn = parseNum(value!) >>> 0;
        else if (key === 'tolerance_ms') header.toleranceMs = Number(value);
        else if (key === 'strict_segments') header.strict = true;
        else fail(`unknown header directive @${key}`);
      } catch (e) {
        if (e instanceof ScriptError) throw e;
        fail((e as Error).message);
      }
      return;
    }
    // packetdrill's command-line options, written in the script: `--tolerance_usecs=10000`.
    const flag = /^\s*--([a-z_0-9]+)(?:=(\S+))?\s*(?:\/\/.*)?$/.exec(raw);
    if (flag) {
      const [, key, value] = flag;
      try {
        commandLineOption(header, key!, value);
      } catch (e) {
        if (e instanceof ScriptError) throw e;
        fail((e as Error).message);
      }
      return;
    }
    // packetdrill allows spaces around "..." and "~" in a time range: "+.002 ... 0.004".
    const text = raw.replace(/\/\/.*$/, '').trim().replace(/^(\+?[\d.]+)\s*(\.\.\.|~)\s*(\+?[\d.]+)(?=\s)/, '$1$2$3');
    if (text === '') return;
    const m = /^(\+?(?:\d+(?:\.\d+)?|\.\d+))(?:\.\.\.(\+?(?:\d+(?:\.\d+)?|\.\d+))|~(\+?(?:\d+(?:\.\d+)?|\.\d+)))?\s+(.*)$/.exec(text);
    if (!m) fail(`expected "TIME action", got "${text}"`);
    try {
      const start = parseTime(m![1]!);
      const end = m![2] !== undefined ? parseTime(m![2]) : undefined;
      const until = m![3] !== undefined ? parseTime(m![3]) : undefined;
      const body = m![4]!;
      let action: Action;
      if (body.startsWith('<')) action = { kind: 'inbound', seg: parseSegment(body.slice(1), true) };
      else if (body.startsWith('>')) action = { kind: 'outbound', seg: parseSegment(body.slice(1), false) };
      else action = { kind: 'call', call: parseCall(body) };
      if (end && action.kind !== 'call') fail('only a system call can take a time range');
      lines.push({ lineNo, text, start, end, ...(until ? { until } : {}), action });
    } catch (e) {
      if (e instanceof ScriptError) throw e;
      fail((e as Error).message);
    }
  });
  return { name, header, lines };
}
