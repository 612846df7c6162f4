/**
 * Whole-stack scenarios on the simulator that the random programs reach only rarely:
 * a peer that reboots and forgets its connections, and a partition that heals.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS } from '../../src/link/fault-link.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { recvToEnd } from '../helpers/sim-connection.js';
import { AF_INET, SHUT_WR, SOCK_STREAM } from '../../src/socket/constants.js';

async function connected(net: SimNetwork, a: SimNetwork['hosts'][0], b: SimNetwork['hosts'][0]) {
  const l = b.api.socket(AF_INET, SOCK_STREAM);
  l.bind(['', 7]);
  l.listen(4);
  const c = a.api.socket(AF_INET, SOCK_STREAM);
  const acc = l.accept();
  await net.until(c.connect(['10.7.0.2', 7]));
  const [s] = await net.until(acc);
  return { l, c, s };
}

describe('simulated faults', () => {
  it('a peer that reboots answers the next segment with RST: ECONNRESET, never silence', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { c } = await connected(net, a, b);
    await net.runFor(1000);
    net.reboot(b);
    expect(b.stack.tcp.connections.size).toBe(0);
    await c.send('are you there?');
    await expect(net.until(c.recv(10))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(b.stack.tcp.counters.resetsSent).toBe(1);
  });

  it('an idle connection whose peer rebooted is found dead by keepalive', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { c } = await connected(net, a, b);
    c.setsockopt(1, 9, 1); // SOL_SOCKET, SO_KEEPALIVE
    c.setsockopt(6, 4, 30); // TCP_KEEPIDLE 30 s
    net.reboot(b);
    const t0 = net.clock.now();
    await expect(net.until(c.recv(10))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(net.clock.now() - t0).toBe(30_000); // the first probe draws the RST
  });

  it('a partition that heals loses nothing: the transfer completes intact', async () => {
    const faults: FaultLink[] = [];
    const { net, a, b } = SimNetwork.pair({
      wrap: (link, clock, i) => {
        const f = new FaultLink(link, { ...NO_FAULTS, delayMs: 10 }, new SeededRand(7 + i), clock);
        faults.push(f);
        return f;
      },
    });
    const { c, s } = await connected(net, a, b);
    const data = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
    const sending = c.sendall(data).then(() => c.shutdown(SHUT_WR));
    await net.runFor(30); // mid-transfer
    faults[0]!.partitioned = true;
    await net.runFor(20_000);
    faults[0]!.partitioned = false;
    const got = await recvToEnd(net, s);
        await net.until(sending);
    expect(Buffer.compare(got, Buffer.from(data))).toBe(0);
    expect(faults[0]!.counters.partitioned).toBeGreaterThan(0);
    expect(c.tcpInfo()!.timeouts).toBeGreaterThan(0);
  });

  it('asymmetric links: a slow uplink and a fast downlink still carry both directions', async () => {
    const { net, a, b } = SimNetwork.pair({
      wrap: (link, clock, i) => new FaultLink(link, { ...NO_FAULTS, rateBps: i === 0 ? 1_000_000 : 50_000_000, directions: 'out' }, new SeededRand(1), clock),
    });
    const { c, s } = await connected(net, a, b);
    const up = new Uint8Array(100_000).fill(1);
    const down = new Uint8Array(1_000_000).fill(2);
    const t0 = net.clock.now();
    const p1 = c.sendall(up).then(() => c.shutdown(SHUT_WR));
    const p2 = s.sendall(down).then(() => s.shutdown(SHUT_WR));
    let gotUp = 0;
    let gotDown = 0;
    const readUp = (async () => { for (;;) { const d = await s.recv(65536); if (!d.length) return; gotUp += d.length; } })();
    const readDown = (async () => { for (;;) { const d = await c.recv(65536); if (!d.length) return; gotDown += d.length; } })();
    await net.until(Promise.all([p1, p2, readUp, readDown]));
    expect([gotUp, gotDown]).toEqual([100_000, 1_000_000]);
    // 100 kB at 1 Mbit/s takes at least 0.8 s of simulated time.
    expect(net.clock.now() - t0).toBeGreaterThan(800);
  });
});
