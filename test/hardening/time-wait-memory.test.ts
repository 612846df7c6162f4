/**
 * What one TIME-WAIT connection costs, and that the memory falls after expiry: the layer
 * keeps a small record, not the connection (a regression guard on the structure; the
 * figure on a real device comes from `npm run load -- --churn`). The GC is called
 * (`--expose-gc` set at run time) so that the heap figures are what is retained.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, SOCK_STREAM } from '../../src/socket/constants.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap plus external (ArrayBuffer) bytes after full collections. */
function retained(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

describe('TIME-WAIT memory', () => {
  it('2000 TIME-WAIT connections cost at most 1 KiB each, and the memory is freed after 2*MSL', async () => {
    const N = 2000;
    const { net, a, b } = SimNetwork.pair({ tcp: { mslMs: 30_000 } });
    // b serves a line and closes first, as daytime does: b is the active closer, b holds TIME-WAIT.
    const srv = b.api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['', 13]);
    srv.listen(4096);
    void (async () => {
      for (;;) {
        const [c] = await srv.accept();
        void c.sendall('a line of text\r\n').then(() => c.close());
      }
    })();
    const round = async (): Promise<void> => {
      for (let i = 0; i < N; i += 100) {
        await net.until(Promise.all(Array.from({ length: Math.min(100, N - i) }, async () => {
          const s = a.api.socket(AF_INET, SOCK_STREAM);
          s.settimeout(2); // (a reused port can meet its own TIME-WAIT: give up on it quickly)
          try {
            await s.connect(['10.7.0.2', 13]);
            while ((await s.recv(100)).length > 0);
          } catch {
            // only connections that reached TIME-WAIT are measured
          }
          s.close();
        })));
      }
      await net.runFor(1000);
    };
    const timeWaits = (): number => b.stack.tcp.timeWaitCount;
    // A first round, expired, so that the tables and arrays that grow once are in the baseline.
    await round();
    await net.runFor(61_000);
    const before = retained();
    await round();
    const tw = timeWaits();
    expect(tw).toBeGreaterThan(N * 0.95);
    const during = retained() - before;
    expect(during / tw, 'bytes per TIME-WAIT connection').toBeLessThanOrEqual(1024);
    await net.runFor(61_000); // 2*MSL
    expect(timeWaits()).toBe(0);
    expect(b.stack.tcp.connections.size).toBe(0);
    // Memory falls after expiry (what stays is the tables' grown capacity and GC noise:
    // 60-180 bytes per former record measured; a whole connection held ~8 KiB).
    const after = retained() - before;
    expect(after).toBeLessThan(during);
    expect(after / tw, 'bytes per former TIME-WAIT connection after expiry').toBeLessThan(512);
  }, 60_000);
});
