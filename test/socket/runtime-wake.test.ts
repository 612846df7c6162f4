/**
 * When the socket layer asks the runtime for a turn (a poll and a flush): a read that makes
 * the connection send (a window update) must get one, or the update waits for the next
 * frame or timer; a read that sends nothing needs none. The stack's own loopback interface
 * under the real runtime, on a manual clock that never moves: no stack timer comes due
 * (the runtime's own setTimeout still turns it now and then, which is why the window
 * update is checked within two turns of the event loop).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createStack } from '../../src/host.js';
import type { LinkDevice } from '../../src/link/link-device.js';
import { AF_INET, SOCK_STREAM } from '../../src/socket/constants.js';

function loopbackHost() {
  const clock = new ManualClock(1000);
  const link: LinkDevice = {
    name: 'null0', medium: 'ip', mtu: 1500, mac: null,
    send() {}, flush() {}, setReceiver() {}, close: async () => {},
  };
  return createStack({ link, addr: '10.9.0.1/24', clock });
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Turns the event loop until `done()` or `max` turns pass; returns the turns taken. */
async function turnUntil(done: () => boolean, max: number): Promise<number> {
  let n = 0;
  while (!done() && n < max) {
    await turn();
    n++;
  }
  return n;
}

describe('runtime wake-ups after reads', () => {
  it('a reader that drains a closed window reopens it: 1 MiB crosses the loopback with the clock stopped', async () => {
    const host = loopbackHost();
    const { socket: api } = host;
    const srv = api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['127.0.0.1', 5001]);
    srv.listen(1);
    const client = api.socket(AF_INET, SOCK_STREAM);
    const connected = client.connect(['127.0.0.1', 5001]);
    const [server] = await srv.accept();
    await connected;
    const payload = Buffer.alloc(1 << 20, 0x5a);
    let sent = false;
    void server.sendall(payload).then(() => (sent = true));
    // Nobody reads: the client's window fills and closes (to less than a segment).
    await turnUntil(() => false, 200);
    const held = client.tcpInfo()!;
    expect(held.rcvWnd).toBeLessThan(held.rcvMss);
    expect(held.recvQueue).toBeGreaterThan(0);
    expect(sent).toBe(false);
    // One read opens the window by far more than a segment: the update reaches the sender
    // within a turn or two of the event loop (a wake-up), not when some timer next fires.
    const buf = new Uint8Array(65536);
    const segsIn = server.tcpInfo()!.segsIn;
    let got = await client.recv_into(buf);
    expect(got).toBe(65536);
    await turn();
    await turn();
    expect(server.tcpInfo()!.segsIn).toBeGreaterThan(segsIn);
    // Now read the rest. Each read that opens the window by enough sends an update; without
    // a turn of the runtime that update would sit unsent, and the sender with it.
    let reading = true;
    void (async () => {
      while (got < payload.length) got += await client.recv_into(buf);
      reading = false;
    })();
    const turns = await turnUntil(() => !reading && sent, 100_000);
    expect(got).toBe(payload.length);
    expect(sent).toBe(true);
    expect(turns).toBeLessThan(100_000);
    expect(server.tcpInfo()!.retransmits).toBe(0); // carried by wake-ups and window updates, not by timeouts
    client.close();
    server.close();
    srv.close();
    await host.close();
  });
});
