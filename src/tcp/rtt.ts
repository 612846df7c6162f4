/**
 * The retransmission timeout (RFC 6298): SRTT and RTTVAR from RTT samples, exponential
 * backoff, and Karn's rule (no sample from a retransmitted segment; the caller times one
 * segment at a time and forgets the timing when it retransmits).
 */
export const INITIAL_RTO_MS = 1000; // RFC 6298 (2.1)
/**
 * The RTO's floor, applied as Linux applies TCP_RTO_MIN: to the variance term, so that
 * RTO = SRTT + max(G, K*RTTVAR, 200 ms). RFC 6298 (2.4) floors the whole RTO at 1 s (a
 * SHOULD); Linux's form keeps a 200 ms margin above the smoothed RTT on every path, so a
 * long, steady path (RTTVAR near zero, as with a sample per ACK) does not time out at the
 * first queueing delay, while a short path recovers far sooner than after 1 s. Linux's own
 * packetdrill scripts show this timing (RTO 300 ms after a first 100 ms sample), and so
 * does rto-min-200ms.pkt here.
 */
export const MIN_RTO_MS = 200;
export const MAX_RTO_MS = 120_000; // RFC 6298 (2.5) allows a cap of at least 60 s; Linux uses 120 s
const CLOCK_GRANULARITY_MS = 1; // G in RFC 6298
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** The RTO before backoff. */
  private base = INITIAL_RTO_MS;
  backoffs = 0;
  samples = 0;

  /** The current timeout, with backoff applied and clamped. */
  get rto(): number {
    return Math.min(MAX_RTO_MS, this.base * 2 ** this.backoffs);
  }

  /**
   * One measurement. `perRtt` is how many samples one round trip yields: with timestamps
   * every ACK measures, and RFC 7323 Appendix G divides ALPHA and BETA by the expected
   * number of samples per RTT, or RTTVAR collapses within one window and the RTO fires
   * spuriously at the first queueing delay.
   */
  sample(rttMs: number, perRtt = 1): void {
    const r = Math.max(0, rttMs);
    const k = Math.max(1, perRtt);
    if (this.samples === 0) {
      // RFC 6298 (2.2): the first measurement.
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      // RFC 6298 (2.3): RTTVAR first, with the old SRTT.
      this.rttvar = (1 - BETA / k) * this.rttvar + (BETA / k) * Math.abs(this.srtt - r);
      this.srtt = (1 - ALPHA / k) * this.srtt + (ALPHA / k) * r;
    }
    this.samples++;
    this.base = this.srtt + Math.max(CLOCK_GRANULARITY_MS, K * this.rttvar, MIN_RTO_MS);
    // RFC 6298 §5, the note after (5.7): a new measurement "collapses" the backed-off RTO.
    this.backoffs = 0;
  }

  /** Sets the timeout with no measurement behind it (RFC 6298 (5.7)'s 3 s after a lost SYN). */
  reinitialize(ms: number): void {
    this.base = ms;
    this.backoffs = 0;
  }

  /** RFC 6298 (5.5): double the timeout on expiry. */
  backoff(): void {
    if (this.rto < MAX_RTO_MS) this.backoffs++;
  }
}
