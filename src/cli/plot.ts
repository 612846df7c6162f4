/**
 * `tcpip plot TRACE [--conn N] [--dir out|in] [--chart seq|cwnd] -o out.svg|out.html`
 * Draws a connection from a `--trace` file: the time-sequence graph (default), the
 * congestion/RTT chart, or an HTML page with both and the event log.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildLadder, ladderHtml, ladderSvg } from '../observe/ladder.js';
import { congestionSvg, connectionsIn, htmlPage, parseTrace, timeSequenceSvg } from '../observe/plot.js';

export async function runPlot(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      conn: { type: 'string' },
      dir: { type: 'string', default: 'out' },
      chart: { type: 'string', default: 'seq' },
      out: { type: 'string', short: 'o' },
      list: { type: 'boolean' },
      absolute: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1 || (!values.out && !values.list)) {
    console.error('usage: tcpip plot TRACE [--conn N] [--dir out|in] [--chart seq|cwnd|ladder] [--absolute] -o out.svg|out.html\n       tcpip plot TRACE --list');
    return values.help ? 0 : 2;
  }
  const recs = parseTrace(readFileSync(positionals[0]!, 'utf8'));
  const conns = connectionsIn(recs);
  if (values.list) {
    for (const c of conns) console.log(`${c.id}\t${c.local} <-> ${c.remote}\t${c.events} events`);
    return 0;
  }
  if (conns.length === 0) throw new Error(`${positionals[0]}: no TCP events (was the demo run with --trace?)`);
  // Default: the connection with the most events.
  const conn = values.conn !== undefined ? Number(values.conn) : conns.reduce((a, b) => (b.events > a.events ? b : a)).id;
  if (values.dir !== 'out' && values.dir !== 'in') throw new Error('--dir is out or in');
  const out = values.out!;
  if (values.chart === 'ladder') {
    // The ladder of one connection: our side from the trace, the peer's inferred.
    const c = conns.find((x) => x.id === conn);
    if (!c) throw new Error(`no connection ${conn} in ${positionals[0]} (see --list)`);
    const ladder = buildLadder([{ name: `us ${c.local}`, recs: recs.filter((r) => r.c === conn) }], { absolute: values.absolute });
    ladder.names[1] = `peer ${c.remote}`;
    const title = `TCP ${c.local} ↔ ${c.remote}`;
    writeFileSync(out, out.endsWith('.html') ? ladderHtml(ladder, { title, absolute: values.absolute }) : ladderSvg(ladder, { title, absolute: values.absolute }));
    console.log(`wrote ${out} (connection ${conn})`);
    return 0;
  }
  if (values.chart !== 'seq' && values.chart !== 'cwnd') throw new Error('--chart is seq, cwnd or ladder');
  const body = out.endsWith('.html')
    ? htmlPage(recs, conn, { dir: values.dir })
    : values.chart === 'cwnd'
      ? congestionSvg(recs, conn)
      : timeSequenceSvg(recs, conn, { dir: values.dir });
  writeFileSync(out, body);
  console.log(`wrote ${out} (connection ${conn})`);
  return 0;
}
