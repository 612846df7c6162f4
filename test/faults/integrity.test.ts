/**
 * Integrity under faults: 100 MiB through the seeded fault-injecting link (10% loss,
 * reordering, duplication, corruption) arrive intact, and a peer that vanishes
 * mid-transfer is detected and its connection freed. Simulated time: nothing waits.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS, type FaultConfig } from '../../src/link/fault-link.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { connectedPair } from '../helpers/sim-connection.js';
import { SHUT_WR } from '../../src/socket/constants.js';

const MiB = 1024 * 1024;
const TOTAL = Number(process.env.TCPIP_INTEGRITY_MIB ?? 100) * MiB;

async function transfer(faults: [Partial<FaultConfig>, Partial<FaultConfig>], total: number, seed: number) {
  const links: FaultLink[] = [];
  const { net, a, b } = SimNetwork.pair({
    wrap: (link, clock, i) => {
      const f = new FaultLink(link, { ...NO_FAULTS, ...faults[i] }, new SeededRand(seed + i), clock);
      links.push(f);
      return f;
    },
  });
  const { cli: c, conn: s } = await connectedPair(net, a, b, 9);
  // The sender streams a deterministic pattern; both ends hash what passes.
  const sent = createHash('sha256');
  const got = createHash('sha256');
  const chunk = new Uint8Array(256 * 1024);
  const sending = (async () => {
    for (let off = 0; off < total; off += chunk.length) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = ((off + i) * 2654435761) >>> 24;
      const n = Math.min(chunk.length, total - off);
      sent.update(chunk.subarray(0, n));
      await c.sendall(chunk.subarray(0, n));
    }
    c.shutdown(SHUT_WR);
  })();
  let received = 0;
  const receiving = (async () => {
    for (;;) {
      const d = await s.recv(256 * 1024);
      if (d.length === 0) return;
      got.update(d);
      received += d.length;
    }
  })();
  await net.until(Promise.all([sending, receiving]), 1e9);
  return { received, same: sent.digest('hex') === got.digest('hex'), links, net, c, a, b };
}

describe('integrity through faults', () => {
  it(`${TOTAL / MiB} MiB arrive intact through 10% loss, reordering, duplication and corruption`, async () => {
    const faults: Partial<FaultConfig> = { loss: 0.1, reorder: 0.05, duplicate: 0.02, delayMs: 2, jitterMs: 2 };
    // Corruption on one side only, so no frame is hit twice (two flips can cancel in the Internet checksum).
    const r = await transfer([{ ...faults, corrupt: 0.01 }, faults], TOTAL, 11);
    expect(r.received).toBe(TOTAL);
    expect(r.same).toBe(true);
    const [fa, fb] = r.links;
    expect(fa!.counters.lost + fb!.counters.lost).toBeGreaterThan(1000);
    expect(fa!.counters.corrupted).toBeGreaterThan(100);
    // Every corrupted frame was caught by a checksum and counted.
    const drops = r.b.stack.ip.counters.badChecksum + r.b.stack.tcp.counters.badChecksum + r.a.stack.ip.counters.badChecksum + r.a.stack.tcp.counters.badChecksum;
    expect(drops).toBeGreaterThan(0);
  }, 600_000);

  it('a peer that vanishes mid-transfer is detected (ETIMEDOUT) and the connection freed', async () => {
    const links: FaultLink[] = [];
    const { net, a, b } = SimNetwork.pair({
      wrap: (link, clock, i) => {
        const f = new FaultLink(link, { ...NO_FAULTS, delayMs: 5 }, new SeededRand(1 + i), clock);
        links.push(f);
        return f;
      },
    });
    const { cli: c } = await connectedPair(net, a, b, 9);
    const sending = c.sendall(new Uint8Array(4 * MiB));
    await net.runFor(50);
    links[0]!.partitioned = true; // the peer is gone for good
    const err = await net.until(sending.then(() => null, (e: unknown) => e), 1e9);
    expect(err).toMatchObject({ code: 'ETIMEDOUT' });
    expect(a.stack.tcp.connections.size).toBe(0);
    expect(a.stack.pollAt()).toBeUndefined();
    void b;
  });
});
