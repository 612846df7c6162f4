/**
 * Per-connection tracing: every segment in and out (with its one-line form), state
 * changes, RTT samples, congestion window changes, timer firings and retransmissions,
 * as plain objects handed to a callback. The CLI's `--trace FILE` writes them as JSON
 * lines; `tcpip plot` draws them. With no tracer set, nothing is built.
 *
 * Sequence numbers are given raw and relative: `rseq`/`rack` count from the sender's
 * and receiver's ISN, as tcpdump and Wireshark show them; SACK blocks (`sack`) are
 * relative to the ISN of the data they describe.
 */
export type TraceEvent =
  | { ev: 'open'; local: string; remote: string; iss: number; active: boolean }
  | { ev: 'in' | 'out'; flags: string; seq: number; ack: number; rseq: number; rack: number; len: number; wnd: number; line: string; sack?: [number, number][] }
  | { ev: 'state'; from: string; to: string; why: string }
  | { ev: 'rtt'; sample: number; srtt: number; rttvar: number; rto: number }
  | { ev: 'cwnd'; cwnd: number; ssthresh: number; inflight: number }
  | { ev: 'timer'; kind: 'rto' | 'persist' | 'delack' | 'keepalive' | 'time-wait' | 'fin-wait-2' | 'rack' | 'tlp' }
  | { ev: 'retransmit'; why: 'rto' | 'fast' | 'partial-ack' | 'tlp'; rseq: number };

/** One record: time (ms, the stack's clock), connection id, and the event. */
export type TraceRecord = { t: number; c: number } & TraceEvent;

export type Tracer = (r: TraceRecord) => void;
