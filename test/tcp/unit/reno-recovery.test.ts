/**
 * RFC 6582 NewReno fast recovery and RFC 3042 limited transmit, as reno-recovery.ts does
 * them on the congestion controller's window (the controller itself only sizes it).
 */
import { describe, expect, it } from 'vitest';
import { NewReno } from '../../../src/tcp/congestion/new-reno.js';
import type { TcpConnection } from '../../../src/tcp/connection.js';
import { RenoRecovery } from '../../../src/tcp/reno-recovery.js';

const MSS = 1000;

/** The pieces of a connection RenoRecovery touches. */
function setup(): { r: RenoRecovery; cc: NewReno; resent: string[]; loss: { dupAcks: number; state: string } } {
  const cc = new NewReno(MSS);
  const resent: string[] = [];
  const loss = {
    dupAcks: 0,
    state: 'open',
    recovering(): boolean {
      return this.state === 'fast-recovery' || this.state === 'rto-recovery';
    },
    retransmitFirst(_now: number, why = 'fast'): void {
      resent.push(why);
    },
  };
  const c = { cc, loss, snd: { dataMss: () => MSS } } as unknown as TcpConnection;
  return { r: new RenoRecovery(c), cc, resent, loss };
}

describe('NewReno fast recovery (RFC 6582 §3.2)', () => {
  it('entering: cwnd = ssthresh + 3 MSS and SND.UNA is resent', () => {
    const { r, cc, resent } = setup();
    cc.onCongestionEvent(20 * MSS);
    r.enter(0);
    expect(cc.cwnd).toBe(13 * MSS);
    expect(resent).toEqual(['fast']);
  });

  it('each further dup ACK inflates by one MSS; a partial ACK deflates by the acked bytes plus one MSS and resends the next hole', () => {
    const { r, cc, resent } = setup();
    cc.onCongestionEvent(20 * MSS); // ssthresh 10 MSS
    r.enter(0); // cwnd 13 MSS
    r.dupAckInRecovery();
    r.dupAckInRecovery();
    expect(cc.cwnd).toBe(15 * MSS);
    r.partialAck(4 * MSS, 0);
    expect(cc.cwnd).toBe(12 * MSS);
    r.partialAck(100 * MSS, 0);
    expect(cc.cwnd).toBe(MSS); // never below one segment
    expect(resent).toEqual(['fast', 'partial-ack', 'partial-ack']);
  });
});

describe('limited transmit (RFC 3042, RFC 5681 §3.2 step 1)', () => {
  it('the first and second duplicate ACKs each allow one segment beyond cwnd, the third none', () => {
    const { r, loss } = setup();
    expect(r.extraWindow()).toBe(0);
    loss.dupAcks = 1;
    expect(r.extraWindow()).toBe(MSS);
    loss.dupAcks = 2;
    expect(r.extraWindow()).toBe(2 * MSS);
    loss.dupAcks = 3;
    expect(r.extraWindow()).toBe(0);
  });

  it('not during recovery', () => {
    const { r, loss } = setup();
    loss.dupAcks = 1;
    loss.state = 'fast-recovery';
    expect(r.extraWindow()).toBe(0);
    loss.state = 'rto-recovery';
    expect(r.extraWindow()).toBe(0);
  });
});
