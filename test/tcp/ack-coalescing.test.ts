/**
 * ACK coalescing: the segments of one device batch are acknowledged once, at the batch's
 * end (the receive half of GRO), not one ACK per two segments as they are processed.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';

describe('ACK coalescing within a device batch', () => {
  it('ten full segments arriving in one batch get one ACK, for all of them', async () => {
    const { net, a, b } = SimNetwork.pair();
    let got = 0;
    b.net.createServer((s) => s.on('data', (d: Buffer) => (got += d.length))).listen(9);
    const c = a.net.connect({ port: 9, host: '10.7.0.2', noDelay: true });
    await net.until(new Promise((r) => c.once('connect', r)));
    await net.runFor(100);
    b.link.recordSent = true;
    b.link.sent.length = 0;
    // One write of ten MSSes: a sends them in one poll, and b's link delivers them as one batch.
    c.write(Buffer.alloc(10 * 1460, 7));
    await net.runFor(1);
    expect(got).toBe(10 * 1460);
    const acks = b.link.sent.length;
    expect(acks).toBe(1);
    c.destroy();
  });
});
