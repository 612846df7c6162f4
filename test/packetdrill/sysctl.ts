/**
 * packetdrill scripts set up the kernel with shell commands: `` `sysctl -q net.ipv4.tcp_sack=1` ``
 * or `` `../common/defaults.sh` ``. The runner maps each setting onto TcpConfig where we have
 * the knob; a setting we cannot honour is reported (never silently dropped), with the reason,
 * so that a reader of a failing script knows what differs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TcpConfig } from '../../src/tcp/config.js';

export interface ShellOutcome {
  /** What the commands set. */
  tcp: Partial<TcpConfig>;
  /** One line per setting or command with no equivalent here, and why. */
  reports: string[];
}

/** Settings whose value is already what we do (no knob needed), with what that is. */
const ALREADY: Record<string, [string, string]> = {
  // sysctl: [value that matches us, what we do]
  'net.ipv4.tcp_dsack': ['1', 'D-SACK (RFC 2883) is always reported'],
  'net.ipv4.tcp_reordering': ['3', 'the duplicate ACK threshold is 3 (RFC 5681)'],
  'net.ipv4.tcp_slow_start_after_idle': ['0', 'no cwnd restart after idle'],
  'net.ipv4.tcp_fack': ['0', 'no FACK (RACK replaces it)'],
  'net.ipv4.tcp_window_scaling': ['1', 'window scaling (RFC 7323) is always offered'],
  'net.ipv4.tcp_moderate_rcvbuf': ['0', 'the receive buffer is the configured size'],
};

/** Settings we have no equivalent for, and why that is harmless or what differs. */
const NO_KNOB: Record<string, string> = {
  'net.ipv4.tcp_frto': 'no F-RTO (RFC 5682): a timeout always resends from SND.UNA',
  'net.ipv4.tcp_early_retrans': 'TLP (RFC 8985) is always on with SACK',
  'net.ipv4.tcp_recovery': 'RACK (RFC 8985) is always on with SACK',
  'net.ipv4.tcp_tso_win_divisor': 'no TSO deferral (segments are cut at MSS, aggregated by the runner)',
  'net.ipv4.tcp_pacing_ss_ratio': 'no pacing',
  'net.ipv4.tcp_pacing_ca_ratio': 'no pacing',
  'net.ipv4.tcp_notsent_lowat': 'no TCP_NOTSENT_LOWAT',
  'net.ipv4.tcp_fastopen': 'no TCP Fast Open (RFC 7413)',
  'net.ipv4.tcp_fastopen_key': 'no TCP Fast Open (RFC 7413)',
  'net.ipv4.tcp_ecn_option': 'no AccECN option',
  'net.ipv4.tcp_min_tso_segs': 'no TSO',
  'net.ipv4.tcp_autocorking': 'no autocorking',
  'net.ipv4.tcp_mtu_probing': 'no PLPMTUD (RFC 4821)',
  'net.ipv4.tcp_comp_sack_nr': 'no SACK compression',
  'net.ipv4.tcp_comp_sack_delay_ns': 'no SACK compression',
  'net.ipv4.tcp_min_rtt_wlen': 'min RTT window is fixed',
};

function bool(v: string): boolean {
  return Number(v) !== 0;
}

/** Applies one `key=value` setting. */
function setting(key: string, value: string, out: ShellOutcome): void {
  const v = value.replace(/^"|"$/g, '').trim();
  const n = Number(v);
  const t = out.tcp;
  switch (key) {
    case 'net.ipv4.tcp_timestamps': t.timestamps = bool(v); return;
    case 'net.ipv4.tcp_sack': t.sack = bool(v); return;
    case 'net.ipv4.tcp_ecn':
      // Linux: 0 never, 1 ask and accept, 2 accept when asked.
      t.ecn = n === 1 ? 'on' : n === 2 ? 'accept' : 'off';
      return;
    case 'net.ipv4.tcp_syncookies': t.synCookies = bool(v); return;
    case 'net.ipv4.tcp_syn_retries': t.synRetries = n; return;
    case 'net.ipv4.tcp_synack_retries': t.synAckRetries = n; return;
    case 'net.ipv4.tcp_retries2': t.maxRetries = n; return;
    case 'net.ipv4.tcp_keepalive_time': t.keepIdleMs = n * 1000; return;
    case 'net.ipv4.tcp_keepalive_intvl': t.keepIntvlMs = n * 1000; return;
    case 'net.ipv4.tcp_keepalive_probes': t.keepCnt = n; return;
    case 'net.ipv4.tcp_max_syn_backlog': t.maxSynBacklog = n; return;
    case 'net.ipv4.tcp_max_tw_buckets': t.maxTimeWait = n; return;
    case 'net.ipv4.tcp_congestion_control':
      if (v === 'cubic') t.congestionControl = 'cubic';
      else if (v === 'reno') t.congestionControl = 'newreno';
      else out.reports.push(`${key}=${v}: no such congestion control here (cubic, reno); kept ${t.congestionControl ?? 'the default'}`);
      return;
    case 'net.ipv4.tcp_rmem': {
      // Linux picks the window scale from the largest buffer autotuning may grow to; our
      // receive buffer is fixed, so it is the largest one (same scale, same windows offered).
      const [, , max] = v.split(/\s+/).map(Number);
      if (max !== undefined && Number.isFinite(max)) t.rcvBuf = max;
      return;
    }
    case 'net.ipv4.tcp_wmem': {
      const [, def] = v.split(/\s+/).map(Number);
      if (def !== undefined && Number.isFinite(def)) t.sndBuf = def;
      return;
    }
    default: {
      const same = ALREADY[key];
      if (same) {
        if (v !== same[0]) out.reports.push(`${key}=${v}: not adjustable here (${same[1]})`);
        return;
      }
      const why = NO_KNOB[key];
      out.reports.push(`${key}=${v}: ${why ? `ignored, ${why}` : 'no equivalent here, ignored'}`);
    }
  }
}

/** Reads `sysctl [-q] [-w] k=v k2=v2` (values may be quoted with spaces inside). */
function sysctl(args: string, out: ShellOutcome): void {
  const re = /([\w.]+)=("[^"]*"|\S+)/g;
  let m: RegExpExecArray | null;
  let any = false;
  while ((m = re.exec(args))) {
    any = true;
    setting(m[1]!, m[2]!, out);
  }
  if (!any) out.reports.push(`sysctl ${args.trim()}: nothing to set`);
}

/** Expands `$((15*1024*1024))`, the only shell arithmetic Linux's defaults use. */
function arithmetic(s: string): string {
  return s.replace(/\$\(\(([\d*+\- ]+)\)\)/g, (_, e: string) => String(evalArith(e)));
}

function evalArith(e: string): number {
  return e.split('+').reduce((sum, term) => sum + term.split('*').reduce((p, f) => p * Number(f.trim()), 1), 0);
}

/**
 * Runs one backquoted command of a script: a sysctl, or a shell file of them (such as
 * Linux's gtests/net/tcp/common/defaults.sh, looked up from the script's directory).
 */
export function shellCommand(command: string, scriptDir: string | null, out: ShellOutcome): void {
  for (const part of command.split(/;|&&|\n/)) {
    const cmd = arithmetic(part.replace(/[<>]\s*\/dev\/null|2>&1/g, '').trim());
    if (cmd === '' || cmd.startsWith('#')) continue;
    const words = cmd.split(/\s+/);
    if (words[0] === 'sysctl') {
      sysctl(cmd.slice('sysctl'.length).replace(/(^|\s)-[qwe]+/g, ' '), out);
    } else if (/\.sh$/.test(words[0]!)) {
      const path = scriptDir ? join(scriptDir, words[0]!) : words[0]!;
      if (!existsSync(path)) {
        out.reports.push(`${words[0]}: file not found; nothing set`);
        continue;
      }
      shellCommand(readFileSync(path, 'utf8'), scriptDir, out);
    } else if (words[0] === 'ip' && words[1] === 'tcp_metrics') {
      // No per-destination metrics cache, so there is nothing to flush.
    } else if (words[0] === 'tc') {
      out.reports.push(`${cmd}: no qdisc here (the runner takes segments as sent, unpaced)`);
    } else {
      out.reports.push(`\`${cmd}\`: not a command the runner knows; not run`);
    }
  }
}
