/**
 * TCP_USER_TIMEOUT (RFC 5482; RFC 9293 MUST-21 R2 per connection), TCP_MAXSEG before the
 * connection, and IP_TOS (RFC 9293 MUST-48), on two simulated stacks.
 */
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS } from '../../src/link/fault-link.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, IPPROTO_IP, IPPROTO_TCP, IP_TOS, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_USER_TIMEOUT } from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';

/** a and b joined by fault links (to cut the wire), and a connection a -> b:7000, `setup` applied to a's socket before connect. */
async function pair(setup: (s: StreamSocket) => void = () => {}): Promise<{ net: SimNetwork; faults: FaultLink[]; c: StreamSocket; s: StreamSocket; b: ReturnType<typeof SimNetwork.pair>['b'] }> {
  const faults: FaultLink[] = [];
  const { net, a, b } = SimNetwork.pair({
    wrap: (link, clock, i) => {
      const f = new FaultLink(link, { ...NO_FAULTS }, new SeededRand(3 + i), clock);
      faults.push(f);
      return f;
    },
  });
  const l = b.api.socket(AF_INET, SOCK_STREAM);
  l.bind(['', 7000]);
  l.listen(1);
  const acc = l.accept();
  const c = a.api.socket(AF_INET, SOCK_STREAM);
  setup(c);
  await net.until(c.connect(['10.7.0.2', 7000]));
  const [s] = await net.until(acc);
  return { net, faults, c, s, b };
}

describe('TCP_USER_TIMEOUT (RFC 5482)', () => {
  it('unacknowledged data fails the connection with ETIMEDOUT once it is that old, not after 15 retries', async () => {
    const { net, faults, c } = await pair((s) => s.setsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT, 5000));
    expect(c.getsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT)).toBe(5000);
    faults[0]!.partitioned = true;
    const t0 = net.clock.now();
    await net.until(c.send('lost'));
    await expect(net.until(c.recv(10))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const took = net.clock.now() - t0;
    expect(took).toBeGreaterThanOrEqual(5000);
    expect(took).toBeLessThan(5300); // the RTO is clamped to the user timeout
    // Resent at 0.2, 0.6, 1.4 and 3 s; the timeout at 5 s (the backed-off 6.2 s clamped) ends it.
    expect(c.tcpInfo()!.timeouts).toBe(5);
  });

  it('without it the retry count decides (much later)', async () => {
    const { net, faults, c } = await pair();
    faults[0]!.partitioned = true;
    const t0 = net.clock.now();
    await net.until(c.send('lost'));
    await expect(net.until(c.recv(10), 2_000_000)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(net.clock.now() - t0).toBeGreaterThan(100_000);
  });

  it('keepalive: with a user timeout, the silence it allows ends the connection, not the probe count', async () => {
    const { net, faults, c } = await pair((s) => {
      s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
      s.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, 10);
      s.setsockopt(IPPROTO_TCP, TCP_KEEPINTVL, 1);
      s.setsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT, 13_500);
    });
    faults[0]!.partitioned = true;
    const t0 = net.clock.now();
    await expect(net.until(c.recv(10))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    // Idle 10 s, then probes each second; the first probe at or after 13.5 s of silence ends it (9 probes would take 19 s).
    expect(net.clock.now() - t0).toBe(14_000);
  });

  it('is inherited from the listening socket; bad values are EINVAL', async () => {
    const { net, a, b } = SimNetwork.pair();
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    l.setsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT, 1234);
    l.bind(['', 7000]);
    l.listen(1);
    const acc = l.accept();
    await net.until(a.api.socket(AF_INET, SOCK_STREAM).connect(['10.7.0.2', 7000]));
    const [s] = await net.until(acc);
    expect(s.getsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT)).toBe(1234);
    expect(() => s.setsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT, -1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('TCP_MAXSEG', () => {
  it('set before connect: our SYN offers it and segments are no larger, both ways', async () => {
    const { net, c, s, b } = await pair((x) => x.setsockopt(IPPROTO_TCP, TCP_MAXSEG, 1000));
    expect(c.getsockopt(IPPROTO_TCP, TCP_MAXSEG)).toBe(1000);
    expect(s.getsockopt(IPPROTO_TCP, TCP_MAXSEG)).toBe(1000); // the peer took our offer
    const conn = [...b.stack.tcp.connections][0]!;
    expect(conn.snd.mss).toBe(1000);
    await net.until(c.sendall(new Uint8Array(5000)));
    expect(c.tcpInfo()!.sndMss).toBe(1000);
    expect(() => c.setsockopt(IPPROTO_TCP, TCP_MAXSEG, 1200)).toThrow(expect.objectContaining({ code: 'EISCONN' }));
    const fresh = b.api.socket(AF_INET, SOCK_STREAM);
    expect(() => fresh.setsockopt(IPPROTO_TCP, TCP_MAXSEG, 50)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('IP_TOS (RFC 9293 MUST-48)', () => {
  it("the connection's segments carry the DSCP set; the ECN bits stay the stack's", async () => {
    const { net, a, b } = SimNetwork.pair();
    a.link.recordSent = true; // frames a puts on the wire (bare IPv4: byte 1 is the TOS)
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    l.bind(['', 7000]);
    l.listen(1);
    const c = a.api.socket(AF_INET, SOCK_STREAM);
    c.setsockopt(IPPROTO_IP, IP_TOS, 0xb8 | 0x3); // EF, with ECN bits that are not the application's
    expect(c.getsockopt(IPPROTO_IP, IP_TOS)).toBe(0xb8);
    await net.until(c.connect(['10.7.0.2', 7000]));
    await net.until(c.sendall('x'));
    await net.runFor(10);
    const tos = a.link.sent.map((f) => f[1]);
    expect(tos.length).toBeGreaterThan(2);
    expect(tos.every((t) => t === 0xb8)).toBe(true);
  });
});
