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
  | {
      /** The connection was created (a connect, or a SYN accepted by a listener). */
      ev: 'open';
      /** This end's address, `ip:port`. */
      local: string;
      /** The peer's address, `ip:port`. */
      remote: string;
      /** This end's initial sequence number. */
      iss: number;
      /** True for a connect (active open), false for a connection accepted from a listener. */
      active: boolean;
    }
  | {
      /** A segment received (`in`) or sent (`out`). */
      ev: 'in' | 'out';
      /** The TCP flags as tcpdump writes them: `S`, `F`, `R`, `P`, `U`, then `A` (or `.` for a bare ACK). */
      flags: string;
      /** Raw sequence number. */
      seq: number;
      /** Raw acknowledgment number. */
      ack: number;
      /** Sequence number relative to the sender's ISN. */
      rseq: number;
      /** Acknowledgment number relative to the receiver's ISN (0 without ACK). */
      rack: number;
      /** Payload length in bytes. */
      len: number;
      /** Advertised window in bytes, with window scaling applied (unscaled on a SYN). */
      wnd: number;
      /** The segment in its one-line, tcpdump-like form. */
      line: string;
      /** SACK blocks as `[left, right)` pairs relative to the ISN of the data they acknowledge, when there are any. */
      sack?: [number, number][];
    }
  | {
      /** A state change (RFC 9293 state names). */
      ev: 'state';
      /** The state left. */
      from: string;
      /** The state entered. */
      to: string;
      /** Why, in a few words. */
      why: string;
    }
  | {
      /** An RTT sample and the estimator after it (RFC 6298). */
      ev: 'rtt';
      /** The measured round-trip time in ms. */
      sample: number;
      /** Smoothed RTT in ms. */
      srtt: number;
      /** RTT variation in ms. */
      rttvar: number;
      /** The retransmission timeout in ms. */
      rto: number;
    }
  | {
      /** The congestion state after a change. */
      ev: 'cwnd';
      /** Congestion window in bytes. */
      cwnd: number;
      /** Slow-start threshold in bytes (capped at 2^31 - 1 while unset). */
      ssthresh: number;
      /** Bytes sent and not yet acknowledged. */
      inflight: number;
    }
  | {
      /** A timer fired. */
      ev: 'timer';
      /** Which: retransmission, zero-window probe, delayed ACK, keepalive, TIME-WAIT, FIN-WAIT-2, RACK reordering (RFC 8985) or tail loss probe. */
      kind: 'rto' | 'persist' | 'delack' | 'keepalive' | 'time-wait' | 'fin-wait-2' | 'rack' | 'tlp';
    }
  | {
      /** Data was sent again. */
      ev: 'retransmit';
      /** Why: retransmission timeout, fast retransmit, a partial ACK during loss recovery without SACK (RFC 6582), or a tail loss probe. */
      why: 'rto' | 'fast' | 'partial-ack' | 'tlp';
      /** Relative sequence number of the first byte sent again. */
      rseq: number;
    };

/** One record: time (ms, the stack's clock), connection id, and the event. */
export type TraceRecord = {
  /** Time in ms on the stack's clock. */
  t: number;
  /** Connection id, unique within the stack (from 1); 0 for a segment that reached no connection and the RST that answered it (their `rseq`/`rack` are then absolute). */
  c: number;
} & TraceEvent;

/** A callback that receives every trace record (see {@link TraceEvent}). */
export type Tracer = (r: TraceRecord) => void;
