/**
 * Busy-polling (Runtime.busyPollUs, `tcpip demo --busy-poll`): after a batch of frames the
 * event loop is kept turning for that long on the runtime's clock, then left to sleep;
 * off by default. A manual clock: nothing waits in real time.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createStack } from '../../src/host.js';
import type { LinkDevice, LinkReceiver } from '../../src/link/link-device.js';

function setup(busyPollUs?: number) {
  const clock = new ManualClock(1000);
  let rx: LinkReceiver | null = null;
  const link: LinkDevice = {
    name: 'bp0', medium: 'ip', mtu: 1500, mac: null,
    send() {}, flush() {}, setReceiver(r) { rx = r; }, close: async () => {},
  };
  const host = createStack({ link, addr: '10.9.0.1/24', clock });
  if (busyPollUs !== undefined) host.runtime.busyPollUs = busyPollUs;
  return { clock, host, batch: () => rx!.batchEnd() };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('busy-polling', () => {
  it('keeps the event loop turning for busyPollUs after a batch, then stops', async () => {
    const { clock, host, batch } = setup(50);
    expect(host.runtime.busyPolling).toBe(false);
    batch();
    expect(host.runtime.busyPolling).toBe(true);
    for (let i = 0; i < 5; i++) await turn();
    expect(host.runtime.busyPolling).toBe(true); // no time has passed
    clock.advance(0.04);
    await turn();
    expect(host.runtime.busyPolling).toBe(true); // 40 us: still within the 50
    batch(); // more frames: the window starts again
    clock.advance(0.04);
    await turn();
    expect(host.runtime.busyPolling).toBe(true);
    clock.advance(0.02); // 60 us after the last batch
    await turn();
    await turn();
    expect(host.runtime.busyPolling).toBe(false);
    await host.close();
  });

  it('is off by default', async () => {
    const { host, batch } = setup();
    batch();
    expect(host.runtime.busyPolling).toBe(false);
    await host.close();
  });
});
