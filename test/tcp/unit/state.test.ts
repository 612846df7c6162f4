/**
 * The state transition table against RFC 9293 Figure 5, edge by edge, plus the few
 * extra edges the stack adds on purpose; anything else must throw TransitionError.
 */
import { describe, expect, it } from 'vitest';
import { TRANSITIONS, TransitionError, assertTransition, isSynchronizedData, type TcpState } from '../../../src/tcp/state.js';

const STATES: TcpState[] = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2',
  'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT',
];

/** Every edge of RFC 9293 Figure 5 (with its notes 1 and 2), with its label. */
const FIGURE_5: [TcpState, TcpState, string][] = [
  ['CLOSED', 'LISTEN', 'passive OPEN / create TCB'],
  ['CLOSED', 'SYN-SENT', 'active OPEN / create TCB, snd SYN'],
  ['LISTEN', 'CLOSED', 'CLOSE / delete TCB'],
  ['LISTEN', 'SYN-RECEIVED', 'rcv SYN / snd SYN,ACK'],
  ['LISTEN', 'SYN-SENT', 'SEND / snd SYN'],
  ['SYN-SENT', 'CLOSED', 'CLOSE / delete TCB'],
  ['SYN-SENT', 'SYN-RECEIVED', 'rcv SYN / snd SYN,ACK (simultaneous open)'],
  ['SYN-SENT', 'ESTABLISHED', 'rcv SYN,ACK / snd ACK'],
  ['SYN-RECEIVED', 'LISTEN', 'rcv RST (note 1: after a passive OPEN)'],
  ['SYN-RECEIVED', 'ESTABLISHED', 'rcv ACK of SYN'],
  ['SYN-RECEIVED', 'FIN-WAIT-1', 'CLOSE / snd FIN'],
  ['ESTABLISHED', 'FIN-WAIT-1', 'CLOSE / snd FIN'],
  ['ESTABLISHED', 'CLOSE-WAIT', 'rcv FIN / snd ACK'],
  ['FIN-WAIT-1', 'FIN-WAIT-2', 'rcv ACK of FIN'],
  ['FIN-WAIT-1', 'CLOSING', 'rcv FIN / snd ACK'],
  ['FIN-WAIT-1', 'TIME-WAIT', 'rcv FIN and ACK of our FIN (note 2)'],
  ['FIN-WAIT-2', 'TIME-WAIT', 'rcv FIN / snd ACK'],
  ['CLOSE-WAIT', 'LAST-ACK', 'CLOSE / snd FIN'],
  ['CLOSING', 'TIME-WAIT', 'rcv ACK of FIN'],
  ['LAST-ACK', 'CLOSED', 'rcv ACK of FIN'],
  ['TIME-WAIT', 'CLOSED', 'Timeout=2MSL / delete TCB'],
];

/**
 * Edges outside the figure that the stack allows on purpose: aborts (RST received,
 * ABORT, user timeout) from any state to CLOSED (note 3 of Figure 5), a listener's child
 * connection born in SYN-RECEIVED, and a FIN that arrives with the ACK of our SYN
 * (RFC 9293 §3.10.7.4, eighth step: SYN-RECEIVED -> CLOSE-WAIT).
 */
const EXTRAS: [TcpState, TcpState][] = [
  ...STATES.filter((s) => s !== 'CLOSED').map((s): [TcpState, TcpState] => [s, 'CLOSED']),
  ['CLOSED', 'SYN-RECEIVED'],
  ['SYN-RECEIVED', 'CLOSE-WAIT'],
];

const key = (a: TcpState, b: TcpState): string => `${a} -> ${b}`;

describe('TCP state transitions', () => {
  it('the table has a row for each of the eleven states, naming only real states', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...STATES].sort());
    for (const s of STATES) for (const t of TRANSITIONS[s]) expect(STATES).toContain(t);
  });

  for (const [from, to, label] of FIGURE_5) {
    it(`allows ${from} -> ${to} (${label})`, () => {
      expect(TRANSITIONS[from]).toContain(to);
      expect(() => assertTransition(from, to, label)).not.toThrow();
    });
  }

  it('allows nothing beyond Figure 5 and the deliberate extras', () => {
    const allowed = new Set([...FIGURE_5.map(([a, b]) => key(a, b)), ...EXTRAS.map(([a, b]) => key(a, b))]);
    const actual = STATES.flatMap((s) => TRANSITIONS[s].map((t) => key(s, t)));
    expect(actual.filter((e) => !allowed.has(e))).toEqual([]);
    // and every extra is really there (an abort from any state must be possible)
    for (const [a, b] of EXTRAS) expect(TRANSITIONS[a]).toContain(b);
  });

  it('throws TransitionError on impossible edges, naming both ends and the reason', () => {
    const bad: [TcpState, TcpState][] = [
      ['CLOSED', 'ESTABLISHED'],
      ['TIME-WAIT', 'ESTABLISHED'],
      ['LISTEN', 'ESTABLISHED'],
      ['ESTABLISHED', 'SYN-SENT'],
      ['ESTABLISHED', 'LISTEN'],
      ['ESTABLISHED', 'TIME-WAIT'],
      ['FIN-WAIT-2', 'FIN-WAIT-1'],
      ['FIN-WAIT-1', 'CLOSE-WAIT'],
      ['CLOSE-WAIT', 'FIN-WAIT-1'],
      ['LAST-ACK', 'TIME-WAIT'],
      ['CLOSING', 'FIN-WAIT-2'],
      ['TIME-WAIT', 'LISTEN'],
      ['SYN-SENT', 'LISTEN'],
      ['CLOSED', 'TIME-WAIT'],
    ];
    for (const [from, to] of bad) {
      let err: unknown;
      try {
        assertTransition(from, to, 'because the test said so');
      } catch (e) {
        err = e;
      }
      expect(err, `${from} -> ${to} should throw`).toBeInstanceOf(TransitionError);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('TransitionError');
      expect((err as Error).message).toContain(`${from} -> ${to}`);
      expect((err as Error).message).toContain('because the test said so');
    }
  });

  it('no state transitions to itself', () => {
    for (const s of STATES) expect(() => assertTransition(s, s, 'self')).toThrow(TransitionError);
  });

  it('assertTransition throws exactly for the pairs missing from the table', () => {
    for (const a of STATES) {
      for (const b of STATES) {
        const ok = TRANSITIONS[a].includes(b);
        if (ok) expect(() => assertTransition(a, b, 't')).not.toThrow();
        else expect(() => assertTransition(a, b, 't')).toThrow(TransitionError);
      }
    }
  });

  it('every state is reachable from CLOSED, and CLOSED is reachable from every state', () => {
    const reach = (from: TcpState): Set<TcpState> => {
      const seen = new Set<TcpState>([from]);
      const todo = [from];
      while (todo.length > 0) {
        for (const t of TRANSITIONS[todo.pop()!]) {
          if (!seen.has(t)) {
            seen.add(t);
            todo.push(t);
          }
        }
      }
      return seen;
    };
    expect(reach('CLOSED').size).toBe(11);
    for (const s of STATES) expect(reach(s).has('CLOSED')).toBe(true);
  });

  it('TIME-WAIT and LAST-ACK can only end in CLOSED', () => {
    expect(TRANSITIONS['TIME-WAIT']).toEqual(['CLOSED']);
    expect(TRANSITIONS['LAST-ACK']).toEqual(['CLOSED']);
  });

  it('isSynchronizedData: the synchronized states (RFC 9293 §3.5.2) but TIME-WAIT', () => {
    const sync = STATES.filter(isSynchronizedData);
    expect(sync).toEqual(['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK']);
  });
});
