/**
 * The lessons (`tcpip lesson`) replay RFC 9293's scenarios on two of our stacks: each test
 * asserts the exact exchange the RFC's figure draws (RFC 9293 §3.5, Figures 6-8 and 10-13,
 * with the figures' sequence numbers), as our code played it; the ladder is built from the
 * two stacks' traces. Then the diagrams themselves: SVG and the step-through page.
 */
import { describe, expect, it } from 'vitest';
import { buildLadder, ladderHtml, ladderSvg } from '../../src/observe/ladder.js';
import { LESSONS, ladderScript, lessonLadder, lessonList } from '../../src/observe/lessons.js';

const script = async (name: string): Promise<string[]> => ladderScript(await lessonLadder(LESSONS.find((l) => l.name === name)!));

const HANDSHAKE = ['A SYN-SENT', 'A→B SYN seq=100', 'B SYN-RECEIVED', 'B→A SYN,ACK seq=300 ack=101', 'A ESTABLISHED', 'A→B ACK seq=101 ack=301', 'B ESTABLISHED'];

describe('lessons: RFC 9293\'s figures played by the stack', () => {
  it('lists every lesson with what it teaches', () => {
    const list = lessonList().split('\n');
    expect(list).toHaveLength(LESSONS.length);
    expect(list[0]).toMatch(/^handshake\s+SYN, SYN-ACK, ACK/);
    expect(new Set(LESSONS.map((l) => l.name)).size).toBe(LESSONS.length);
  });

  it('handshake: Figure 6', async () => {
    expect(await script('handshake')).toEqual(HANDSHAKE);
  });

  it('simultaneous-open: Figure 7, the SYNs cross', async () => {
    expect(await script('simultaneous-open')).toEqual([
      'A SYN-SENT', 'A→B SYN seq=100', 'B SYN-SENT', 'B→A SYN seq=300',
      'A SYN-RECEIVED', 'A→B SYN,ACK seq=100 ack=301', 'B SYN-RECEIVED', 'B→A SYN,ACK seq=300 ack=101',
      'A→B ACK seq=101 ack=301', 'B→A ACK seq=301 ack=101', 'A ESTABLISHED', 'B ESTABLISHED',
    ]);
  });

  it('old-duplicate-syn: Figure 8, the third segment rejects what an old SYN started', async () => {
    expect(await script('old-duplicate-syn')).toEqual([
      'A SYN-SENT', 'A→B SYN seq=100', // held back by the network
      'A→B SYN seq=90', 'B SYN-RECEIVED', 'B→A SYN,ACK seq=300 ack=91',
      'A→B RST seq=91', 'B LISTEN',
      'B SYN-RECEIVED', 'B→A SYN,ACK seq=400 ack=101', 'A ESTABLISHED', 'A→B ACK seq=101 ack=401', 'B ESTABLISHED',
    ]);
  });

  it('half-open: Figure 10, the crashed side\'s SYN meets a challenge ACK and its RST ends the stale connection', async () => {
    const s = await script('half-open');
    const after = s.slice(s.lastIndexOf('A SYN-SENT'));
    expect(after).toEqual([
      'A SYN-SENT', 'A→B SYN seq=400', 'B→A ACK seq=300 ack=100', 'A→B RST seq=100', 'B CLOSED',
      'A retransmission timer fires', 'A→B SYN seq=400 (retransmission)', 'B SYN-RECEIVED', 'B→A SYN,ACK seq=500 ack=401',
      'A ESTABLISHED', 'A→B ACK seq=401 ack=501', 'B ESTABLISHED',
    ]);
  });

  it('old-syn-reset: Figure 12, a listener back in LISTEN', async () => {
    expect(await script('old-syn-reset')).toEqual(['A→B SYN seq=200', 'B SYN-RECEIVED', 'B→A SYN,ACK seq=300 ack=201', 'A→B RST seq=201', 'B LISTEN']);
  });

  it('close: Figure 13, the four-way close and TIME-WAIT for 2 MSL', async () => {
    const l = await lessonLadder(LESSONS.find((x) => x.name === 'close')!);
    const s = ladderScript(l);
    expect(s.slice(s.indexOf('A FIN-WAIT-1'))).toEqual([
      'A FIN-WAIT-1', 'A→B FIN,ACK seq=106 ack=301', 'B CLOSE-WAIT', 'B→A ACK seq=301 ack=107', 'A FIN-WAIT-2',
      'B LAST-ACK', 'B→A FIN,ACK seq=301 ack=107', 'A TIME-WAIT', 'A→B ACK seq=107 ack=302', 'B CLOSED', 'A CLOSED',
    ]);
    // TIME-WAIT lasts 2 MSL (the lesson's MSL is 1 s).
    const tw = l.rows.find((r) => r.kind === 'state' && r.side === 0 && r.to === 'TIME-WAIT')!;
    const closed = l.rows.find((r) => r.kind === 'state' && r.side === 0 && r.to === 'CLOSED')!;
    expect(closed.t - tw.t).toBe(2000);
  });

  it('time-wait: the last ACK lost, TIME-WAIT acknowledges the FIN sent again and waits 2 MSL anew', async () => {
    const l = await lessonLadder(LESSONS.find((x) => x.name === 'time-wait')!);
    const s = ladderScript(l);
    expect(s.slice(s.indexOf('A TIME-WAIT'))).toEqual([
      'A TIME-WAIT', 'A→B ACK seq=102 ack=302 (lost)', 'B retransmission timer fires', 'B→A FIN,ACK seq=301 ack=102 (retransmission)',
      'A→B ACK seq=102 ack=302', 'B CLOSED', 'A CLOSED',
    ]);
    const reAck = l.arrows.filter((a) => a.from === 0 && a.label.startsWith('ACK seq=102 ack=302')).at(-1)!;
    const closed = l.rows.filter((r) => r.kind === 'state' && r.side === 0 && r.to === 'CLOSED').at(-1)!;
    expect(closed.t - reAck.t).toBe(2000); // 2 MSL from the FIN that came again
  });

  it('simultaneous-close: both sides through CLOSING to TIME-WAIT', async () => {
    const s = await script('simultaneous-close');
    expect(s.slice(s.indexOf('A FIN-WAIT-1'))).toEqual([
      'A FIN-WAIT-1', 'A→B FIN,ACK seq=101 ack=301', 'B FIN-WAIT-1', 'B→A FIN,ACK seq=301 ack=101',
      'A CLOSING', 'A→B ACK seq=102 ack=302', 'B CLOSING', 'B→A ACK seq=302 ack=102', 'A TIME-WAIT', 'B TIME-WAIT', 'A CLOSED', 'B CLOSED',
    ]);
  });

  it('lost-syn: two SYNs lost, resent after 1 s and 2 s more', async () => {
    const l = await lessonLadder(LESSONS.find((x) => x.name === 'lost-syn')!);
    expect(ladderScript(l).slice(0, 6)).toEqual([
      'A SYN-SENT', 'A→B SYN seq=100 (lost)', 'A retransmission timer fires', 'A→B SYN seq=100 (retransmission) (lost)',
      'A retransmission timer fires', 'A→B SYN seq=100 (retransmission)',
    ]);
    const syns = l.arrows.filter((a) => a.from === 0 && a.label.startsWith('SYN '));
    expect(syns.map((a) => a.t - syns[0]!.t)).toEqual([0, 1000, 3000]);
  });

  it('keepalive: the first probe after 2 h, then every 75 s, nine in all, then a reset', async () => {
    const l = await lessonLadder(LESSONS.find((x) => x.name === 'keepalive')!);
    const probes = l.arrows.filter((a) => a.from === 0 && a.label.startsWith('ACK seq=100 '));
    expect(probes).toHaveLength(9);
    expect(probes.every((p) => p.lost)).toBe(true);
    const start = l.rows[0]!.t; // the connect() (A's keepalive timer runs from then, the connection idle)
    expect(probes.map((p) => p.t - start)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => 2 * 3600_000 + k * 75_000));
    expect(ladderScript(l).slice(-2)).toEqual(['A→B RST,ACK seq=101 ack=301 (lost)', 'A CLOSED']);
  });

  it('zero-window: the window closes, probes go out until a read reopens it', async () => {
    const l = await lessonLadder(LESSONS.find((x) => x.name === 'zero-window')!);
    expect(l.arrows.some((a) => a.from === 1 && / win=0$/.test(a.label))).toBe(true);
    const probes = ladderScript(l).filter((s) => s === 'A persist timer fires');
    expect(probes.length).toBeGreaterThanOrEqual(2);
    // All 12,000 bytes arrive.
    expect(l.arrows.some((a) => a.from === 1 && a.label.includes(`ack=${101 + 12_000}`))).toBe(true);
  });
});

describe('ladder diagrams', () => {
  it('draws arrows with their labels, states beside the lines, and lost segments crossed out', async () => {
    const l = await lessonLadder(LESSONS.find((x) => x.name === 'lost-syn')!);
    const svg = ladderSvg(l, { title: 'lost' });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('>SYN-SENT</text>');
    expect(svg).toContain('(lost) SYN seq=100');
    expect(svg).toContain('✕');
    expect(svg).toMatch(/⋮ \d\.\d{3} s pass ⋮/);
    expect((svg.match(/class="step"/g) ?? []).length).toBe(l.arrows.length);
  });

  it('folds long runs of plain segments around the interesting parts, from one side\'s trace', () => {
    // A synthetic trace: a handshake, 100 data segments and their ACKs, then a close.
    const recs: Parameters<typeof buildLadder>[0][0]['recs'] = [];
    let t = 0;
    const seg = (ev: 'in' | 'out', flags: string, rseq: number, rack: number, len: number): void => {
      recs.push({ t: t++, c: 1, ev, flags, seq: rseq, ack: rack, rseq, rack, len, wnd: 1000, line: `${flags} ${rseq}` });
    };
    recs.push({ t: t++, c: 1, ev: 'state', from: 'CLOSED', to: 'SYN-SENT', why: 'active open' });
    seg('out', 'S', 0, 0, 0);
    seg('in', 'SA', 0, 1, 0);
    recs.push({ t: t++, c: 1, ev: 'state', from: 'SYN-SENT', to: 'ESTABLISHED', why: 'SYN-ACK received' });
    seg('out', '.', 1, 1, 0);
    for (let i = 0; i < 100; i++) {
      seg('out', '.', 1 + i * 100, 1, 100);
      seg('in', '.', 1, 101 + i * 100, 0);
    }
    recs.push({ t: t++, c: 1, ev: 'state', from: 'ESTABLISHED', to: 'FIN-WAIT-1', why: 'close' });
    seg('out', 'FA', 10001, 1, 0);
    const l = buildLadder([{ name: 'us', recs }]);
    const folds = l.rows.filter((r) => r.kind === 'fold');
    expect(folds).toHaveLength(1);
    expect(folds[0]!.kind === 'fold' && folds[0]!.count).toBeGreaterThan(150);
    expect(l.rows.length).toBeLessThan(30);
    const text = ladderScript(l);
    // Our states, and the peer's inferred from what it sent and got (LISTEN: we opened).
    expect(l.initial).toEqual(['CLOSED', 'LISTEN']);
    expect(text.slice(0, 7)).toEqual(['A SYN-SENT', 'A→B SYN seq=0', 'B SYN-RECEIVED', 'B→A SYN,ACK seq=0 ack=1', 'A ESTABLISHED', 'A→B ACK seq=1 ack=1', 'B ESTABLISHED']);
    expect(text.slice(-2)).toEqual(['A→B FIN,ACK seq=10001 ack=1', 'B CLOSE-WAIT']);
    expect(l.rows.filter((r) => r.kind === 'state' && r.side === 1).every((r) => r.kind === 'state' && r.inferred)).toBe(true);
    expect(buildLadder([{ name: 'us', recs }], { fold: false }).rows.filter((r) => r.kind === 'fold')).toHaveLength(0);
  });

  it('makes a self-contained page with a step-through of the segments and both states', async () => {
    const l = await lessonLadder(LESSONS[0]!);
    const html = ladderHtml(l, { title: 'handshake', intro: 'Three segments.' });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script src=|<link /); // nothing loaded from elsewhere
    const steps = JSON.parse(/const steps = (.*);\n/.exec(html)![1]!);
    expect(steps.map((s: { label: string }) => s.label.split(' ').slice(0, 3).join(' '))).toEqual(['SYN seq=100 win=65535', 'SYN,ACK seq=300 ack=101', 'ACK seq=101 ack=301']);
    expect(steps[1].states).toEqual(['ESTABLISHED', 'SYN-RECEIVED']); // once the SYN-ACK has arrived
  });
});

describe('docs/lessons', () => {
  // The rendered lessons in docs/ are what `npm run docs:lessons` makes from this code
  // (the lessons are deterministic: the simulator's clock and seeds).
  it('are up to date with the code (regenerate: npm run build && npm run docs:lessons)', async () => {
    const { readFileSync } = await import('node:fs');
    for (const l of LESSONS) {
      const ladder = await lessonLadder(l);
      const opts = { title: l.title, intro: l.intro, absolute: true };
      const svg = readFileSync(new URL(`../../docs/lessons/${l.name}.svg`, import.meta.url), 'utf8');
      const html = readFileSync(new URL(`../../docs/lessons/${l.name}.html`, import.meta.url), 'utf8');
      expect(svg, `docs/lessons/${l.name}.svg is stale`).toBe(ladderSvg(ladder, opts));
      expect(html, `docs/lessons/${l.name}.html is stale`).toBe(ladderHtml(ladder, opts));
    }
  });
});
