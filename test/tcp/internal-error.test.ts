/**
 * A bug while handling one connection (simulated by a handler that throws) resets that
 * connection instead of leaving it half-updated; the error is counted and reported, and
 * the stack serves every other connection on.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, SOCK_STREAM } from '../../src/socket/constants.js';

describe('a bug in one connection', () => {
  it('resets that connection (the peer sees ECONNRESET), is counted, and the stack serves on', async () => {
    const { net, a, b } = SimNetwork.pair();
    const reported: string[] = [];
    b.stack.onInternalError = (err) => reported.push((err as Error).message); // (the simulator's default throws)
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    l.bind(['', 7]);
    l.listen(8);
    const c = a.api.socket(AF_INET, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['10.7.0.2', 7]));
    const [s] = await net.until(accepted);
    // Plant the bug: handling the next data segment throws halfway through.
    s.conn!.onEvent = () => {
      throw new Error('planted bug');
    };
    await c.sendall('boom');
    await net.runFor(100);
    expect(reported).toEqual(['planted bug']);
    expect(b.stack.counters.internalErrors).toBe(1);
    expect(b.stack.tcp.counters.internalResets).toBe(1);
    expect(s.conn!.state).toBe('CLOSED');
    expect(s.conn!.error).toBe('ECONNABORTED');
    await expect(net.until(c.recv(10))).rejects.toMatchObject({ code: 'ECONNRESET' });
    // Another connection works.
    const d = a.api.socket(AF_INET, SOCK_STREAM);
    const accepted2 = l.accept();
    await net.until(d.connect(['10.7.0.2', 7]));
    const [s2] = await net.until(accepted2);
    await d.sendall('fine');
    expect(new TextDecoder().decode(await net.until(s2.recv(10)))).toBe('fine');
  });
});
