/**
 * A snapshot of a running stack, as `tcpip stat` shows it and the HTTP page serves it:
 * TCP connections (TCP_INFO-like), listeners, UDP sockets, ARP entries and every
 * layer's counters.
 */
import { formatEndpoint } from '../ip/ip-address.js';
import { formatIpv4 } from '../ip/address.js';
import { EthernetInterface } from '../link/ethernet-interface.js';
import { tcpInfo, type TcpInfo } from '../socket/stream-socket.js';
import type { Stack } from '../stack.js';
import type { TcpConnection } from '../tcp/connection.js';
import { TIMER_NAMES, type Timer, type TimerName } from '../tcp/timers.js';

/** A connection's pending timer, as `ss -o` shows it: which, and the time left. */
export interface TimerReport {
  name: TimerName;
  inMs: number;
}

export interface StackReport {
  time: string;
  uptimeMs: number;
  address: string;
  /** The IPv6 addresses with their prefixes (absent without IPv6). */
  address6?: string;
  /** TCP_INFO-like fields, with the pending timers (`ss -o`) and the loss-recovery state. */
  connections: (TcpInfo & { id: number; timers: TimerReport[]; recovery: string })[];
  /** How many connections there are (TIME-WAIT records aside); `connections` is empty in a counters-only report. */
  connectionCount: number;
  /** Connections in TIME-WAIT (small records): how many, and the first REPORT_TIME_WAIT of them. */
  timeWait: { count: number; shown: { id: number; local: string; remote: string; expiresInMs: number }[] };
  listeners: { local: string; backlog: number; synQueue: number; acceptQueue: number }[];
  udp: { local: string; remote: string | null; recvQueue: number }[];
  arp: { ip: string; mac: string | null; queued: number }[];
  counters: Record<string, Record<string, number>>;
}

/**
 * The report of `stack` at `now` (the stack's clock, for the timers' time left; by default
 * the time of its latest event).
 */
export function stackReport(
  stack: Stack,
  uptimeMs: number,
  extra: Record<string, Record<string, number>> = {},
  now = stack.tcp.lastEventAt,
  { countersOnly = false }: { countersOnly?: boolean } = {},
): StackReport {
  return {
    time: new Date().toISOString(),
    uptimeMs,
    address: `${formatIpv4(stack.route.addr)}/${stack.route.prefixLen}`,
    ...(stack.ip6 ? { address6: stack.ip6.route.describe() } : {}),
    // A counters-only report skips the table: with 100,000 connections it is megabytes.
    connections: countersOnly ? [] : [...stack.tcp.connections].map((c) => ({ id: c.id, ...tcpInfo(c), timers: timerReport(c, now), recovery: c.loss.state })),
    connectionCount: stack.tcp.connections.size,
    timeWait: timeWaitReport(stack, now),
    listeners: stack.tcp.listenerList().map((l) => ({
      local: formatEndpoint(l.localAddr, l.localPort),
      backlog: l.backlog,
      synQueue: l.synQueue.size,
      acceptQueue: l.acceptQueue.length,
    })),
    udp: stack.udp.endpoints().map((e) => ({
      local: formatEndpoint(e.localAddr, e.localPort),
      remote: e.connected ? formatEndpoint(e.remoteAddr, e.remotePort) : null,
      recvQueue: e.queuedBytes,
    })),
    arp: stack.iface instanceof EthernetInterface ? stack.iface.entries().map(({ ip, mac, queued }) => ({ ip, mac, queued })) : [],
    counters: { ...stack.snapshot(), ...extra },
  };
}

/** At most this many TIME-WAIT records are listed (there may be tens of thousands). */
const REPORT_TIME_WAIT = 1000;

/** The connection's armed timers, soonest first. */
function timerReport(c: TcpConnection, now: number): TimerReport[] {
  const out: TimerReport[] = [];
  TIMER_NAMES.forEach((name, slot) => {
    const at = c.timers.deadline(slot as Timer);
    if (at >= 0) out.push({ name, inMs: Math.max(0, Math.round(at - now)) });
  });
  return out.sort((x, y) => x.inMs - y.inMs);
}

/** `180ms`, `7.2s`, `1h59m` */
function formatLeft(ms: number): string {
  if (ms < 10_000) return `${ms}ms`;
  if (ms < 600_000) return `${(ms / 1000).toFixed(1)}s`;
  const min = Math.round(ms / 60_000);
  return min < 60 ? `${min}m` : `${Math.floor(min / 60)}h${String(min % 60).padStart(2, '0')}m`;
}

function timeWaitReport(stack: Stack, now: number): StackReport['timeWait'] {
  const shown: StackReport['timeWait']['shown'] = [];
  for (const t of stack.tcp.timeWait.records()) {
    if (shown.length >= REPORT_TIME_WAIT) break;
    shown.push({
      id: t.id,
      local: formatEndpoint(t.localAddr, t.localPort),
      remote: formatEndpoint(t.remoteAddr, t.remotePort),
      expiresInMs: Math.max(0, Math.round(t.expiresAt - now)),
    });
  }
  return { count: stack.tcp.timeWait.size, shown };
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padStart(n) : t.padEnd(n);
}

/** Like `ss -tani`: one line per connection with its internals. */
export function formatConnections(r: StackReport): string {
  const lines: string[] = [];
  lines.push(`${pad('State', 12)} ${pad('Recv-Q', 7, true)} ${pad('Send-Q', 7, true)} ${pad('Local', 21)} ${pad('Peer', 21)} details`);
  for (const l of r.listeners) {
    lines.push(`${pad('LISTEN', 12)} ${pad(l.acceptQueue, 7, true)} ${pad(l.backlog, 7, true)} ${pad(l.local, 21)} ${pad(l.local.startsWith('[') ? '[::]:*' : '0.0.0.0:*', 21)} syn-queue:${l.synQueue}`);
  }
  for (const c of r.connections) {
    const details = [
      `#${c.id}`,
      `rtt:${c.srttMs.toFixed(1)}/${c.rttvarMs.toFixed(1)}`,
      `rto:${Math.round(c.rtoMs)}`,
      `mss:${c.sndMss}`,
      `cwnd:${Math.round(c.cwnd / c.sndMss)}`,
      c.ssthresh < 0x7fffffff ? `ssthresh:${Math.round(c.ssthresh / c.sndMss)}` : '',
      `snd_wnd:${c.sndWnd}`,
      `rcv_wnd:${c.rcvWnd}`,
      `unacked:${c.bytesInFlight}`,
      `retrans:${c.retransmits}`,
      `bytes_sent:${c.bytesOut}`,
      `bytes_received:${c.bytesIn}`,
      `segs_out:${c.segsOut}`,
      `segs_in:${c.segsIn}`,
      c.recovery && c.recovery !== 'open' ? `recovery:${c.recovery}` : '',
      // Like ss -o: every pending timer and the time left.
      c.timers && c.timers.length > 0 ? `timers:(${c.timers.map((t) => `${t.name},${formatLeft(t.inMs)}`).join(' ')})` : '',
    ].filter(Boolean).join(' ');
    lines.push(`${pad(c.state, 12)} ${pad(c.recvQueue, 7, true)} ${pad(c.sendQueue, 7, true)} ${pad(c.local, 21)} ${pad(c.remote, 21)} ${details}`);
  }
  for (const t of r.timeWait?.shown ?? []) {
    lines.push(`${pad('TIME-WAIT', 12)} ${pad(0, 7, true)} ${pad(0, 7, true)} ${pad(t.local, 21)} ${pad(t.remote, 21)} #${t.id} timer:${(t.expiresInMs / 1000).toFixed(1)}s`);
  }
  if (r.timeWait && r.timeWait.count > r.timeWait.shown.length) lines.push(`(and ${r.timeWait.count - r.timeWait.shown.length} more in TIME-WAIT)`);
  for (const u of r.udp) {
    lines.push(`${pad('UDP', 12)} ${pad(u.recvQueue, 7, true)} ${pad(0, 7, true)} ${pad(u.local, 21)} ${pad(u.remote ?? '*:*', 21)}`);
  }
  return lines.join('\n');
}

/** Like `netstat -s`: every non-zero counter, by layer. */
export function formatCounters(r: StackReport): string {
  const out: string[] = [];
  for (const [layer, c] of Object.entries(r.counters)) {
    const entries = Object.entries(c).filter(([, v]) => v !== 0);
    out.push(`${layer}:`);
    if (entries.length === 0) out.push('    (all zero)');
    for (const [k, v] of entries) out.push(`    ${pad(v, 12, true)} ${k}`);
  }
  return out.join('\n');
}
