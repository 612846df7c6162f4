/**
 * `tcpip stat`: the connection table and counters of a running `tcpip demo`.
 *   tcpip stat [--netns NAME] [--dev tcpip0] [--watch [SECONDS]] [--json] [--counters] [--profile SECONDS] [--alloc SECONDS]
 */
import { parseArgs } from 'node:util';
import { controlPath, queryControl } from './control.js';
import { formatConnections, formatCounters, type StackReport } from '../observe/report.js';

export async function runStat(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      netns: { type: 'string' },
      dev: { type: 'string', default: 'tcpip0' },
      watch: { type: 'string', short: 'w' },
      json: { type: 'boolean' },
      // Counters only, without the connection table (cheap with many connections).
      counters: { type: 'boolean' },
      profile: { type: 'string' },
      alloc: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: tcpip stat [--netns NAME] [--dev tcpip0] [--watch SECONDS] [--json] [--counters] [--profile SECONDS] [--alloc SECONDS]');
    return 0;
  }
  const path = controlPath(values.netns, values.dev!);
  if (values.alloc !== undefined) {
    // What the demo allocates over the next SECONDS (the garbage collector's work), by function.
    const seconds = Number(values.alloc);
    if (!(seconds > 0 && seconds <= 60)) throw new Error('--alloc takes a number of seconds, up to 60');
    const r = (await queryControl(path, `alloc ${seconds}`)) as { bytes?: number; top?: { fn: string; bytes: number }[]; error?: string };
    if (r.error) throw new Error(`alloc: ${r.error}`);
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else {
      console.log(`${((r.bytes ?? 0) / 1024 / 1024).toFixed(1)} MiB allocated in ${seconds} s`);
      for (const e of r.top ?? []) console.log(`${(e.bytes / 1024).toFixed(0).padStart(9)} KiB  ${e.fn}`);
    }
    return 0;
  }
  if (values.profile !== undefined) {
    // Where the demo's time goes for the next SECONDS: the functions with the most self time.
    const seconds = Number(values.profile);
    if (!(seconds > 0 && seconds <= 60)) throw new Error('--profile takes a number of seconds, up to 60');
    const r = (await queryControl(path, `profile ${seconds}`)) as { top?: { fn: string; pct: number }[]; error?: string };
    if (r.error) throw new Error(`profile: ${r.error}`);
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else for (const e of r.top ?? []) console.log(`${e.pct.toFixed(1).padStart(5)}%  ${e.fn}`);
    return 0;
  }
  const interval = values.watch !== undefined ? Number(values.watch || 1) : 0;
  if (values.watch !== undefined && !(interval > 0)) throw new Error('--watch takes a number of seconds');
  for (;;) {
    const r = (await queryControl(path, values.counters ? 'counters' : 'report')) as StackReport;
    if (values.json) {
      console.log(JSON.stringify(r, null, 2));
    } else {
      if (interval) process.stdout.write('\x1b[2J\x1b[H');
      console.log(`tcpip stack ${r.address}${r.address6 ? ` ${r.address6}` : ''}, up ${(r.uptimeMs / 1000).toFixed(0)} s, ${r.time}\n`);
      if (values.counters) console.log(`${r.connectionCount} connections, ${r.timeWait.count} in TIME-WAIT`);
      else console.log(formatConnections(r));
      console.log('');
      console.log(formatCounters(r));
    }
    if (!interval) return 0;
    await new Promise((res) => setTimeout(res, interval * 1000));
  }
}
