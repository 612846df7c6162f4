/**
 * Path MTU discovery for IPv6 with TCP (RFC 8201): a router on the path with a 1280-byte
 * link drops what does not fit and answers Packet Too Big; the sender's path MTU falls to
 * 1280, TCP's MSS follows (1280 - 60) and it resends what no longer fits, and every byte
 * arrives. Simulated: a "router" device in front of host a.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { recvToEnd } from '../helpers/sim-connection.js';
import type { LinkDevice, LinkReceiver } from '../../src/link/link-device.js';
import { AF_INET6, SOCK_STREAM } from '../../src/socket/constants.js';
import { parseIpv6 } from '../../src/ip/ipv6-address.js';
import { concat, icmp6, ipv6 } from '../helpers/packets6.js';

const ROUTER = parseIpv6('fd00:7::fe');
const A = parseIpv6('fd00:7::1');

/** Host a's side of a path whose narrowest link is `pathMtu`: bigger IPv6 packets come back as Packet Too Big. */
class NarrowPath implements LinkDevice {
  readonly name = 'narrow';
  readonly medium;
  readonly mtu;
  readonly mac = null;
  private rx: LinkReceiver | null = null;
  private readonly back: Uint8Array[] = [];
  tooBig = 0;

  constructor(private readonly inner: LinkDevice, readonly pathMtu: number) {
    this.medium = inner.medium;
    this.mtu = inner.mtu;
  }

  send(b: Uint8Array, off: number, len: number): void {
    if (b[off]! >> 4 === 6 && len > this.pathMtu) {
      this.tooBig++;
      const quote = b.slice(off, off + Math.min(len, 1280 - 48));
      const mtu = Uint8Array.of(0, 0, this.pathMtu >> 8, this.pathMtu & 255);
      this.back.push(ipv6({ nh: 58, src: ROUTER, dst: A }, icmp6(2, 0, concat(mtu, quote), ROUTER, A)));
      return;
    }
    this.inner.send(b, off, len);
  }

  flush(): void {
    this.inner.flush();
  }

  setReceiver(rx: LinkReceiver): void {
    this.rx = rx;
    this.inner.setReceiver(rx);
  }

  poll(_now: number): void {
    if (this.back.length === 0 || !this.rx) return;
    for (const p of this.back.splice(0)) this.rx.frame(p, 0, p.length);
    this.rx.batchEnd();
  }

  pollAt(): number | undefined {
    return this.back.length > 0 ? 0 : undefined;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('TCP over IPv6 through a narrower path (RFC 8201)', () => {
  it('Packet Too Big lowers the MSS to 1220 and every byte arrives', async () => {
    let path: NarrowPath | null = null;
    const { net, a, b } = SimNetwork.pair({ ipv6: true, wrap: (link, _clock, i) => (i === 0 ? (path = new NarrowPath(link, 1280)) : link) });
    const l = b.api.socket(AF_INET6, SOCK_STREAM);
    l.bind(['', 9]);
    l.listen(1);
    const c = a.api.socket(AF_INET6, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['fd00:7::2', 9]));
    const [s] = await net.until(accepted);
    expect(c.tcpInfo()!.sndMss).toBe(1440);
    const data = new Uint8Array(200_000).map((_, i) => (i * 13) & 255);
    const sent = c.sendall(data).then(() => c.shutdown(1));
    const got = await recvToEnd(net, s);
        await net.until(sent);
    expect(got).toEqual(Buffer.from(data));
    expect(path!.tooBig).toBeGreaterThan(0);
    expect(c.tcpInfo()!.sndMss).toBe(1220); // 1280 - 40 - 20
    expect(a.stack.ip6!.mtuTo(parseIpv6('fd00:7::2'), net.clock.now())).toBe(1280);
    expect(a.stack.tcp.counters.pmtuUpdates).toBeGreaterThanOrEqual(1);
  });
});
