/**
 * TCP tunables, each with its source. A stack takes a Partial<TcpConfig>; tests and
 * the demo shorten MSL and the like.
 */
export interface TcpConfig {
  /** Maximum segment lifetime; TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2 suggests 2 min; Linux holds TIME-WAIT 60 s). */
  mslMs: number;
  /** SYN retransmissions before connect fails with ETIMEDOUT (Linux tcp_syn_retries = 6). */
  synRetries: number;
  /** SYN-ACK retransmissions for an embryonic connection (Linux tcp_synack_retries = 5). */
  synAckRetries: number;
  /** Data retransmissions before the connection fails with ETIMEDOUT (Linux tcp_retries2 = 15). */
  maxRetries: number;
  /** Delayed ACK timeout (RFC 1122 §4.2.3.2: < 0.5 s; Linux's minimum is 40 ms, which we use). */
  delayedAckMs: number;
  /**
   * Quick ACKs when data starts to flow (Linux's quickack mode, always on there): the first
   * in-order segments, and the first after an idle spell longer than an RTO, are ACKed at
   * once so the sender's slow start is not slowed by delayed ACKs; not while the
   * application answers promptly (its replies carry the ACKs). See receive.ts.
   */
  quickAck: boolean;
  /** An orphaned FIN-WAIT-2 connection is dropped after this (Linux tcp_fin_timeout = 60 s). */
  finWait2TimeoutMs: number;
  /** Default send buffer size in bytes (SO_SNDBUF). */
  sndBuf: number;
  /** Default receive buffer size in bytes (SO_RCVBUF). */
  rcvBuf: number;
  /** Idle time before the first keepalive probe (TCP_KEEPIDLE; RFC 1122 §4.2.3.6: at least 2 h; Linux 2 h). */
  keepIdleMs: number;
  /** Time between keepalive probes (TCP_KEEPINTVL; Linux 75 s). */
  keepIntvlMs: number;
  /** Unanswered keepalive probes before the connection fails with ETIMEDOUT (TCP_KEEPCNT; Linux 9). */
  keepCnt: number;
  /** Out-of-order ranges kept per connection. */
  maxOooRanges: number;
  /** Embryonic (SYN-RECEIVED) connections per listener beyond its backlog (Linux tcp_max_syn_backlog). */
  maxSynBacklog: number;
  /** Answer SYNs with SYN cookies once a listener's SYN queue is full (RFC 4987; Linux tcp_syncookies=1). */
  synCookies: boolean;
  /** CUBIC (RFC 9438, Linux's default) or NewReno (RFC 5681/6582). */
  congestionControl: 'cubic' | 'newreno';
  /**
   * Explicit Congestion Notification (RFC 3168), as Linux's net.ipv4.tcp_ecn: 'off',
   * 'on' (ask in our SYNs, and accept), 'accept' (accept a peer's offer only; Linux's default).
   */
  ecn: 'off' | 'accept' | 'on';
  /** Leave the initial slow start when the RTT rises, before a loss (HyStart++, RFC 9406; Linux's CUBIC has HyStart on by default). */
  hystart: boolean;
  /** Offer and use TCP timestamps (RFC 7323: RTT measurement on every ACK, PAWS); Linux does by default. */
  timestamps: boolean;
  /** Offer and use selective acknowledgments (RFC 2018) with RFC 6675 loss recovery. */
  sack: boolean;
  /**
   * Connections held in TIME-WAIT (as small records); beyond it a connection closes at
   * once instead and is counted timeWaitOverflow (Linux tcp_max_tw_buckets).
   */
  maxTimeWait: number;
}

/** The values a stack uses for each TcpConfig field it is not given (mostly Linux's, as each field says). */
export const DEFAULT_TCP_CONFIG: Readonly<TcpConfig> = Object.freeze({
  mslMs: 30_000,
  synRetries: 6,
  synAckRetries: 5,
  maxRetries: 15,
  delayedAckMs: 40,
  quickAck: true,
  finWait2TimeoutMs: 60_000,
  sndBuf: 256 * 1024,
  rcvBuf: 256 * 1024,
  keepIdleMs: 2 * 60 * 60 * 1000,
  keepIntvlMs: 75_000,
  keepCnt: 9,
  maxOooRanges: 32,
  maxSynBacklog: 256,
  synCookies: true,
  congestionControl: 'cubic',
  hystart: true,
  ecn: 'accept',
  timestamps: true,
  sack: true,
  maxTimeWait: 65_536,
});
