/**
 * `createStack` on a link a user writes: two stacks in one process joined by a
 * twenty-line `LinkDevice` that hands frames over on the next turn of the event loop
 * (no device, no root, no native addon), talking through the `node:net` face, with
 * `http.get` through the stack's agent, then closed.
 */
import * as http from 'node:http';
import { describe, expect, it } from 'vitest';
import { createStack } from '../../src/host.js';
import type { LinkDevice, LinkReceiver } from '../../src/link/link-device.js';

/** What a user might write: frames copied to the other end, delivered in a batch on setImmediate. */
class QueueLink implements LinkDevice {
  readonly medium = 'ip' as const;
  readonly mtu = 1500;
  readonly mac = null;
  peer: QueueLink | null = null;
  private rx: LinkReceiver | null = null;
  private inbox: Uint8Array[] = [];
  private scheduled = false;
  constructor(readonly name: string) {}
  send(b: Uint8Array, off: number, len: number): void {
    this.peer?.arrive(b.slice(off, off + len));
  }
  private arrive(f: Uint8Array): void {
    this.inbox.push(f);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.inbox;
      this.inbox = [];
      for (const x of batch) this.rx?.frame(x, 0, x.length);
      this.rx?.batchEnd();
    });
  }
  flush(): void {}
  setReceiver(rx: LinkReceiver): void {
    this.rx = rx;
  }
  async close(): Promise<void> {
    this.rx = null;
  }
}

describe('createStack on a link of your own', () => {
  it('two stacks in one process: an echo over the net face, an HTTP request through the agent, then close', async () => {
    const la = new QueueLink('qa');
    const lb = new QueueLink('qb');
    la.peer = lb;
    lb.peer = la;
    const a = createStack({ link: la, addr: '10.9.0.1/24' });
    const b = createStack({ link: lb, addr: '10.9.0.2/24' });
    expect([a.address, a.gateway, b.address, b.gateway]).toEqual(['10.9.0.1', '10.9.0.2', '10.9.0.2', '10.9.0.1']);

    b.net.createServer((s) => s.pipe(s)).listen(7);
    const data = Buffer.alloc(300_000, 5);
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const c = a.net.connect(7, '10.9.0.2');
      const got: Buffer[] = [];
      c.on('data', (d: Buffer) => got.push(d));
      c.on('end', () => resolve(Buffer.concat(got)));
      c.on('error', reject);
      c.end(data);
    });
    expect(Buffer.compare(echoed, data)).toBe(0);

    const app = http.createServer((req, res) => res.end(`over ${req.url}`));
    b.net.createServer((s) => app.emit('connection', s)).listen(80);
    const agent = new a.http.Agent({ keepAlive: true });
    const body = await new Promise<string>((resolve, reject) =>
      http
        .get({ host: '10.9.0.2', port: 80, path: '/agent', agent }, (res) => {
          let t = '';
          res.on('data', (d) => (t += d));
          res.on('end', () => resolve(t));
        })
        .on('error', reject),
    );
    expect(body).toBe('over /agent');
    agent.destroy();
    app.closeAllConnections();
    expect(a.stats().tcp!.activeOpens).toBeGreaterThanOrEqual(2);
    await a.close();
    await b.close();
  });

  it('bad addresses are refused with errors that say what is wrong', () => {
    const link = new QueueLink('q');
    expect(() => createStack({ link, addr: '10.9.0.300/24' })).toThrow(/addr "10.9.0.300\/24" is not an IPv4 address with a prefix/);
    expect(() => createStack({ link, addr: '10.9.0.2/24', gateway: '10.8.0.1' })).toThrow(/gateway 10.8.0.1 must be another address on 10.9.0.2\/24/);
    expect(() => createStack({ addr: '10.9.0.2/24' } as never)).toThrow(/options.link \(a LinkDevice\) is required/);
  });
});
