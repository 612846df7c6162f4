/**
 * The eleven states of RFC 9293 §3.3.2 and the transitions between them, as data.
 * Every state change goes through `assertTransition`, so an edge outside this table
 * is a bug that fails loudly (and the property tests check every run against it).
 */
export type TcpState =
  | 'CLOSED' | 'LISTEN' | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2'
  | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT';

/** From -> allowed next states (RFC 9293 Figure 5, plus aborts and timeouts to CLOSED). */
export const TRANSITIONS: Readonly<Record<TcpState, readonly TcpState[]>> = {
  CLOSED: ['LISTEN', 'SYN-SENT', 'SYN-RECEIVED'],
  LISTEN: ['SYN-RECEIVED', 'SYN-SENT', 'CLOSED'],
  // passive open: RST returns to LISTEN (we drop the embryonic connection: CLOSED)
  'SYN-SENT': ['SYN-RECEIVED', 'ESTABLISHED', 'CLOSED'],
  'SYN-RECEIVED': ['ESTABLISHED', 'FIN-WAIT-1', 'CLOSE-WAIT', 'LISTEN', 'CLOSED'],
  ESTABLISHED: ['FIN-WAIT-1', 'CLOSE-WAIT', 'CLOSED'],
  'FIN-WAIT-1': ['FIN-WAIT-2', 'CLOSING', 'TIME-WAIT', 'CLOSED'],
  'FIN-WAIT-2': ['TIME-WAIT', 'CLOSED'],
  'CLOSE-WAIT': ['LAST-ACK', 'CLOSED'],
  CLOSING: ['TIME-WAIT', 'CLOSED'],
  'LAST-ACK': ['CLOSED'],
  'TIME-WAIT': ['CLOSED'],
};

export class TransitionError extends Error {
  constructor(from: TcpState, to: TcpState, why: string) {
    super(`TCP state machine bug: ${from} -> ${to} is not an RFC 9293 transition (${why})`);
    this.name = 'TransitionError';
  }
}

export function assertTransition(from: TcpState, to: TcpState, why: string): void {
  if (!TRANSITIONS[from].includes(to)) throw new TransitionError(from, to, why);
}

/**
 * Synchronized states (RFC 9293 §3.5.2) that still carry data or its acknowledgments:
 * ESTABLISHED to LAST-ACK. TIME-WAIT is synchronized too, but sends only ACKs of the
 * peer's FIN.
 */
export function isSynchronizedData(s: TcpState): boolean {
  return s === 'ESTABLISHED' || s === 'FIN-WAIT-1' || s === 'FIN-WAIT-2' || s === 'CLOSE-WAIT' || s === 'CLOSING' || s === 'LAST-ACK';
}
