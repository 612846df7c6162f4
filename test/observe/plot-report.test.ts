/**
 * What a student looks at: the trace of one connection through loss, its plots, and the
 * stat report. A simulated transfer over a lossy wire is traced, then drawn.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS } from '../../src/link/fault-link.js';
import { congestionSvg, connectionsIn, htmlPage, timeSequenceSvg } from '../../src/observe/plot.js';
import { formatConnections, formatCounters, stackReport } from '../../src/observe/report.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { connectedPair } from '../helpers/sim-connection.js';
import { SHUT_WR, SOL_SOCKET, SO_KEEPALIVE } from '../../src/socket/constants.js';
import type { TraceRecord } from '../../src/tcp/trace.js';

async function tracedTransfer() {
  const { net, a, b } = SimNetwork.pair({
    wrap: (link, clock, i) => new FaultLink(link, { ...NO_FAULTS, delayMs: 5, loss: i === 0 ? 0.05 : 0 }, new SeededRand(3 + i), clock),
  });
  const records: TraceRecord[] = [];
  a.stack.tcp.tracer = (r) => records.push(r);
  const { cli: c, conn: s } = await connectedPair(net, a, b, 9);
  const sending = c.sendall(new Uint8Array(300_000)).then(() => c.shutdown(SHUT_WR));
  const reading = (async () => {
    while ((await s.recv(65536)).length > 0);
    s.close();
  })();
  await net.until(Promise.all([sending, reading]));
  await net.runFor(100);
  return { records, a, b, net, c };
}

describe('trace, plots and report', () => {
  it('the trace follows the connection from SYN to its close, with retransmissions, SACK blocks, RTT and cwnd', async () => {
    const { records } = await tracedTransfer();
    const kinds = new Set(records.map((r) => r.ev));
    for (const k of ['open', 'in', 'out', 'state', 'rtt', 'cwnd', 'retransmit', 'timer']) expect(kinds.has(k as TraceRecord['ev'])).toBe(true);
    const states = records.filter((r) => r.ev === 'state').map((r) => (r as { to: string }).to);
    expect(states.slice(0, 2)).toEqual(['SYN-SENT', 'ESTABLISHED']);
    expect(states).toContain('FIN-WAIT-1');
    expect(records.some((r) => r.ev === 'in' && r.sack !== undefined)).toBe(true);
    const first = records.find((r) => r.ev === 'out')!;
    expect(first).toMatchObject({ flags: 'S', rseq: 0 });
    expect(connectionsIn(records)).toEqual([{ id: 1, local: expect.stringMatching(/^10\.7\.0\.1:\d+$/), remote: '10.7.0.2:9', events: records.length }]);
  });

  it('draws the time-sequence graph, the congestion chart and the HTML page', async () => {
    const { records } = await tracedTransfer();
    const seq = timeSequenceSvg(records, 1);
    expect(seq).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(seq).toMatch(/retransmission \((\d+)\)/);
    expect(Number(/retransmission \((\d+)\)/.exec(seq)![1])).toBeGreaterThan(0);
    expect(Number(/SACKed \((\d+)\)/.exec(seq)![1])).toBeGreaterThan(0);
    expect(seq).toContain('ESTABLISHED');
    const cwnd = congestionSvg(records, 1);
    expect(cwnd).toContain('congestion window and round-trip time');
    expect((cwnd.match(/<circle /g) ?? []).length).toBeGreaterThan(5); // RTT samples
    const page = htmlPage(records, 1);
    expect(page).toContain('<h1>Connection 1</h1>');
    expect((page.match(/<svg /g) ?? []).length).toBe(2);
    expect(() => timeSequenceSvg(records, 99)).toThrow(/no events for connection 99/);
  });

  it('the stat report reads like ss -tani and netstat -s', async () => {
    const { a } = await tracedTransfer();
    const r = stackReport(a.stack, 1234);
    const table = formatConnections(r);
    expect(table.split('\n')[0]).toMatch(/^State\s+Recv-Q\s+Send-Q\s+Local\s+Peer/);
    // The closed connection waits in TIME-WAIT as a small record: its 4-tuple and its timer.
    expect(table).toMatch(/TIME-WAIT\s+0\s+0 10\.7\.0\.1:\d+\s+10\.7\.0\.2:9\s+#1 timer:[\d.]+s/);
    expect(r.timeWait.count).toBe(1);
    const counters = formatCounters(r);
    expect(counters).toMatch(/^link:/);
  });

  it('the stat report shows each connection\'s pending timers and recovery state, like ss -o', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli } = await connectedPair(net, a, b, 9);
    cli.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
    // Data in flight to a peer that has gone quiet: a tail loss probe (RFC 8985) and the RTO
    // are pending, and keepalive too.
    b.link.peer = null;
    await net.until(cli.send(new Uint8Array(100)));
    const now = net.clock.now();
    const r = stackReport(a.stack, 0, {}, now);
    const c = r.connections[0]!;
    expect(c.timers.map((t) => t.name)).toEqual(['tlp', 'rto', 'keepalive']);
    expect(c.timers[1]!.inMs).toBe(Math.round(c.rtoMs));
    expect(c.timers[2]!.inMs).toBe(2 * 60 * 60 * 1000);
    expect(formatConnections(r)).toMatch(new RegExp(`timers:\\(tlp,\\d+ms rto,${Math.round(c.rtoMs)}ms keepalive,2h00m\\)`));
    // After the probe and then the RTO fire, the connection is in RTO recovery.
    await net.runFor(3000);
    const later = stackReport(a.stack, 0, {}, net.clock.now());
    expect(later.connections[0]!.recovery).toBe('rto-recovery');
    expect(formatConnections(later)).toMatch(/recovery:rto-recovery timers:\(rto,\d+ms keepalive,/);
  });

  it('formats counters', async () => {
    const { a } = await tracedTransfer();
    const r = stackReport(a.stack, 1234);
    const counters = formatCounters(r);
    expect(counters).toMatch(/^link:/);
    expect(counters).toMatch(/tcp:\n(\s+\d+ \w+\n)*\s+1 activeOpens/);
  });
});
