/**
 * A whole stack on one end of a MemoryLink, driven by a manual `now` (STYLE.md §6 layer 3):
 * `h.inject(frame)` puts frames on the wire towards the stack and delivers them as one batch
 * (after which the stack polls, as the runtime does); `h.sent()` takes what the stack sent.
 */
import { SeededRand } from '../../src/core/rand.js';
import type { Ipv4Addr } from '../../src/ip/address.js';
import { Stack, type StackConfig } from '../../src/stack.js';
import type { Medium } from '../../src/link/link-device.js';
import { MemoryLink } from '../../src/link/memory-link.js';

export interface HarnessOpts extends Partial<StackConfig> {
  medium?: Medium;
  mtu?: number;
  macs?: [Uint8Array, Uint8Array];
}

export class Harness {
  now = 0;
  readonly link: MemoryLink;
  readonly peer: MemoryLink;
  readonly stack: Stack;

  constructor(opts: HarnessOpts & { addr: Ipv4Addr; prefixLen: number }) {
    const [a, b] = MemoryLink.pair(opts.medium ?? 'ip', opts.mtu ?? 1500, opts.macs);
    this.link = a;
    this.peer = b;
    this.stack = new Stack(a, {
      addr: opts.addr, prefixLen: opts.prefixLen, gateway: opts.gateway, reassembly: opts.reassembly, arp: opts.arp,
      addr6: opts.addr6, prefixLen6: opts.prefixLen6, gateway6: opts.gateway6, linkLocal6: opts.linkLocal6, ndp: opts.ndp, tcp: opts.tcp,
    }, new SeededRand(1));
    a.setReceiver(this.stack.receiverFor(() => this.now, () => this.stack.poll(this.now)));
  }

  /** Delivers `frames` to the stack as one batch at the current `now`. */
  inject(...frames: Uint8Array[]): void {
    for (const f of frames) this.link.inject(f);
    this.link.deliver();
  }

  /** Moves time to `t` and polls the stack. */
  advanceTo(t: number): void {
    this.now = t;
    this.stack.poll(t);
  }

  /** Everything the stack sent since the last call. */
  sent(): Uint8Array[] {
    this.peer.inbox.length = 0;
    return this.link.takeSent();
  }
}
