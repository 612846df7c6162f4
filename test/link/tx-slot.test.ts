/**
 * Building frames in the device's transmit slot (LinkDevice.txSlot, one copy per byte):
 * a device that lends slots as TunDevice does (one buffer, a ring of slots, the frame
 * taken in place when it was built in the current slot, else copied into it) must see
 * every frame intact and no slot written once its frame was handed over. TCP both ways
 * (IPv4 and IPv6), UDP datagrams the IP layer fragments (which copies fragments into the
 * very slot the datagram was built in), and ICMP echo, in simulated time.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/core/clock.js';
import { TX_PAYLOAD_OFFSET } from '../../src/ip/ipv4-layer.js';
import type { LinkDevice, LinkReceiver } from '../../src/link/link-device.js';
import type { MemoryLink } from '../../src/link/memory-link.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, AF_INET6, SHUT_WR, SOCK_DGRAM } from '../../src/socket/constants.js';
import { connectedPair } from '../helpers/sim-connection.js';

const SLOT = TX_PAYLOAD_OFFSET + 65535;

/**
 * Lends slots like TunDevice: one buffer, slots an MTU apart whose views reach 64 KiB on
 * (into the next slots), a batch "written" once `count` frames are queued. Each frame is
 * delivered when the batch is written, and every queued frame is checked then to be as
 * it was handed over.
 */
class SlotLink implements LinkDevice {
  readonly name: string;
  readonly medium;
  readonly mtu: number;
  readonly mac = null;
  private readonly slots: Uint8Array[];
  private readonly queued: { at: number; len: number; copy: Uint8Array }[] = [];
  inPlace = 0;
  copied = 0;

  constructor(private readonly inner: MemoryLink, private readonly clock: ManualClock, count = 4) {
    this.name = inner.name;
    this.medium = inner.medium;
    this.mtu = inner.mtu;
    const stride = (TX_PAYLOAD_OFFSET + inner.mtu + 7) & ~7;
    const big = new Uint8Array(stride * (count - 1) + SLOT);
    this.slots = Array.from({ length: count }, (_, k) => big.subarray(k * stride, k * stride + SLOT));
  }

  txSlot(): Uint8Array {
    return this.slots[this.queued.length]!;
  }

  send(b: Uint8Array, off: number, len: number): void {
    const s = this.txSlot();
    let at = 10;
    if (b === s && off >= 10) {
      at = off;
      this.inPlace++;
    } else {
      s.set(b.subarray(off, off + len), at);
      this.copied++;
    }
    this.queued.push({ at: s.byteOffset + at, len, copy: s.slice(at, at + len) });
    if (this.queued.length === this.slots.length) this.flush();
  }

  /** "Writes" the batch: each frame must be as it was when it was handed over. */
  flush(): void {
    const all = new Uint8Array(this.slots[0]!.buffer);
    for (const f of this.queued) {
      if (!Buffer.from(all.subarray(f.at, f.at + f.len)).equals(Buffer.from(f.copy))) throw new Error('a frame was overwritten in its slot before the batch was written');
      this.inner.send(all, f.at, f.len);
    }
    this.queued.length = 0;
  }

  /** A part batch is written at once, as the runtime flushes at the end of its turn. */
  pollAt(): number | undefined {
    return this.queued.length > 0 ? this.clock.now() : undefined;
  }
  poll(): void {
    this.flush();
  }

  setReceiver(rx: LinkReceiver): void {
    this.inner.setReceiver(rx);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function setup(ipv6 = false) {
  const links: SlotLink[] = [];
  const { net, a, b } = SimNetwork.pair({
    ipv6,
    wrap: (link, clock) => {
      const l = new SlotLink(link, clock);
      links.push(l);
      return l;
    },
  });
  return { net, a, b, links };
}

async function bulk(ipv6: boolean): Promise<void> {
  const { net, a, b, links } = setup(ipv6);
  const { cli, conn } = await connectedPair(net, a, b, 9);
  const total = 4 * 1024 * 1024;
  const chunk = new Uint8Array(100_000);
  const hashes = { out: createHash('sha256'), back: createHash('sha256'), sent: createHash('sha256') };
  const sending = (async () => {
    for (let off = 0; off < total; off += chunk.length) {
      const n = Math.min(chunk.length, total - off);
      for (let i = 0; i < n; i++) chunk[i] = ((off + i) * 2654435761) >>> 24;
      hashes.sent.update(chunk.subarray(0, n));
      await cli.sendall(chunk.subarray(0, n));
    }
    cli.shutdown(SHUT_WR);
  })();
  // The receiver echoes everything back, so both ends send data and ACKs.
  const echoing = (async () => {
    for (;;) {
      const d = await conn.recv(65536);
      if (d.length === 0) break;
      hashes.out.update(d);
      await conn.sendall(d);
    }
    conn.shutdown(SHUT_WR);
  })();
  const back = (async () => {
    for (;;) {
      const d = await cli.recv(65536);
      if (d.length === 0) return;
      hashes.back.update(d);
    }
  })();
  await net.until(Promise.all([sending, echoing, back]), 1e9);
  const sent = hashes.sent.digest('hex');
  expect(hashes.out.digest('hex')).toBe(sent);
  expect(hashes.back.digest('hex')).toBe(sent);
  for (const l of links) {
    expect(l.inPlace).toBeGreaterThan(1000); // the segments were built in the slots
    expect(l.copied).toBe(0);
  }
}

describe('frames built in the device transmit slot', () => {
  it('4 MiB each way over IPv4, every segment built in place and intact', () => bulk(false));
  it('4 MiB each way over IPv6', () => bulk(true));

  for (const family of [AF_INET, AF_INET6]) {
    it(`UDP datagrams the IP layer fragments arrive intact (${family === AF_INET ? 'IPv4' : 'IPv6'})`, async () => {
      const { net, a, b, links } = setup(family === AF_INET6);
      const server = b.api.socket(family, SOCK_DGRAM);
      server.bind(['', 8081]);
      const client = a.api.socket(family, SOCK_DGRAM);
      const dst = family === AF_INET ? '10.7.0.2' : 'fd00:7::2';
      for (const size of [1, 1472, 1473, 9000, 65507 - (family === AF_INET6 ? 60 : 0)]) {
        const data = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
        await net.until(client.sendto(data, [dst, 8081]));
        const [got] = await net.until(server.recvfrom(70_000));
        expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      }
      // Fragments are built elsewhere and copied into the slot the datagram was in.
      expect(links[0]!.copied).toBeGreaterThan(40);
    });
  }
});
