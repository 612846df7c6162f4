/**
 * Model-based property tests of TCP (fast-check `commands`): two stacks over a seeded
 * faulty wire on one manual clock, random programs of socket calls on both ends
 * interleaved with network faults, each step checked against a model of what each side
 * must observe:
 *  - bytes arrive in order, exactly once, unaltered, and all of them unless a reset was seen;
 *  - EOF comes only after the peer's FIN and every byte before it;
 *  - after both sides close, both stacks reach CLOSED (TIME-WAIT expired) and no timer is left;
 *  - every state change is an RFC 9293 edge (the stack asserts it; a bad edge throws here);
 *  - the only errors are ECONNRESET (after an abort, or close with data unread) and EPIPE
 *    after our own shutdown; never a silent hang.
 * Every run is a pure function of its seed. A failure prints the command that replays just
 * the shrunk counterexample:
 *   TCPIP_SIM_SEED=<seed> TCPIP_SIM_PATH=<path> TCPIP_SIM_REPLAY=<commands> npx vitest run test/sim/tcp-model.test.ts
 * (TCPIP_SIM_SEED alone replays the whole search, shrinking included.)
 * and writes the failing run's packets to test-results/sim-failure.pcap.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS, type FaultConfig } from '../../src/link/fault-link.js';
import { SimNetwork, type SimHost } from '../../src/sim/sim-network.js';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_LINGER, SO_REUSEADDR, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
} from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';

const RUNS = Number(process.env.TCPIP_SIM_RUNS ?? 1000);

/** What the runs exercised, so that a property that checks nothing cannot pass quietly. */
const coverage = { runs: 0, commands: 0, bytesDelivered: 0, eofs: 0, resets: 0, timeouts: 0, partitions: 0, ipv6: 0 };
const MSL = 5_000;

/** Byte i of side s's stream: recognisable, position-dependent. */
function streamByte(side: number, i: number): number {
  return (i * 31 + side * 101 + (i >>> 8) * 7) & 0xff;
}

interface SideModel {
  sent: number; // bytes handed to send() and accepted
  received: number; // bytes read and verified
  wrShut: boolean;
  closed: boolean;
  sawEof: boolean;
  sawReset: boolean;
}

interface Model {
  sides: [SideModel, SideModel];
  /** A side closed with SO_LINGER 0, or closed while data could still come: resets are allowed. */
  resetPossible: boolean;
  /** Frames were lost (loss or partitions): a side may legitimately give up with ETIMEDOUT. */
  lossy: boolean;
}

interface Real {
  net: SimNetwork;
  hosts: [SimHost, SimHost];
  socks: [StreamSocket, StreamSocket];
  faults: [FaultLink, FaultLink];
  log: string[];
}

function check(real: Real, model: Model, side: number, data: Uint8Array): void {
  const m = model.sides[side]!;
  const peer = 1 - side;
  for (let k = 0; k < data.length; k++) {
    const want = streamByte(peer, m.received + k);
    if (data[k] !== want) {
      throw new Error(`side ${side} read byte ${m.received + k} = ${data[k]}, expected ${want} (out of order, duplicated or altered)`);
    }
  }
  m.received += data.length;
  coverage.bytesDelivered += data.length;
  if (m.received > model.sides[peer]!.sent) throw new Error(`side ${side} read more bytes (${m.received}) than were sent (${model.sides[peer]!.sent})`);
  void real;
}

/** Applies a socket call's error to the model; anything unexpected fails the property. */
function absorb(model: Model, side: number, e: unknown, call: string, real?: Real): void {
  const code = (e as { code?: string }).code;
  const m = model.sides[side]!;
  // Under loss, a side may exhaust its retransmissions (RFC 9293 §3.8.3) and close with
  // ETIMEDOUT, and its peer then meets a RST from a stack that no longer knows the
  // connection. Both are reported, never silent, and the bytes before must still be right.
  const peerTimedOut = real?.socks[1 - side]!.conn?.error === 'ETIMEDOUT';
  if (model.lossy && (code === 'ETIMEDOUT' || (code === 'ECONNRESET' && peerTimedOut))) {
    m.sawReset = true;
    model.resetPossible = true;
    coverage.timeouts++;
    return;
  }
  if ((code === 'ECONNRESET' || code === 'ETIMEDOUT') && model.resetPossible) {
    m.sawReset = true;
    if (code === 'ECONNRESET') coverage.resets++;
    else coverage.timeouts++;
    return;
  }
  if (code === 'EPIPE' && (m.wrShut || m.sawReset)) return;
  throw new Error(`side ${side} ${call}: unexpected ${code ?? String(e)} (resetPossible=${model.resetPossible})`);
}

class Send implements fc.AsyncCommand<Model, Real> {
  constructor(readonly side: number, readonly size: number) {}
  check(m: Readonly<Model>): boolean {
    const s = m.sides[this.side]!;
    return !s.closed && !s.wrShut && !s.sawReset;
  }
  async run(model: Model, real: Real): Promise<void> {
    const m = model.sides[this.side]!;
    const buf = new Uint8Array(this.size);
    for (let i = 0; i < this.size; i++) buf[i] = streamByte(this.side, m.sent + i);
    const sock = real.socks[this.side]!;
    sock.setblocking(false);
    try {
      const n = await sock.send(buf);
      m.sent += n;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EAGAIN') absorb(model, this.side, e, 'send', real);
    }
  }
  toString(): string {
    return `send(${this.side}, ${this.size})`;
  }
}

class Recv implements fc.AsyncCommand<Model, Real> {
  constructor(readonly side: number, readonly max: number) {}
  check(m: Readonly<Model>): boolean {
    const s = m.sides[this.side]!;
    return !s.closed && !s.sawEof && !s.sawReset;
  }
  async run(model: Model, real: Real): Promise<void> {
    const sock = real.socks[this.side]!;
    sock.setblocking(false);
    try {
      const data = await sock.recv(this.max);
      if (data.length === 0) {
        const peer = model.sides[1 - this.side]!;
        if (!(peer.wrShut || peer.closed)) throw new Error(`side ${this.side} saw EOF but its peer never shut down`);
        if (model.sides[this.side]!.received !== peer.sent && !model.resetPossible) {
          throw new Error(`side ${this.side} saw EOF after ${model.sides[this.side]!.received} of ${peer.sent} bytes`);
        }
        model.sides[this.side]!.sawEof = true;
        return;
      }
      check(real, model, this.side, data);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EAGAIN') absorb(model, this.side, e, 'recv', real);
    }
  }
  toString(): string {
    return `recv(${this.side}, ${this.max})`;
  }
}

class ShutdownWr implements fc.AsyncCommand<Model, Real> {
  constructor(readonly side: number) {}
  check(m: Readonly<Model>): boolean {
    const s = m.sides[this.side]!;
    return !s.closed && !s.wrShut && !s.sawReset;
  }
  async run(model: Model, real: Real): Promise<void> {
    try {
      real.socks[this.side]!.shutdown(SHUT_WR);
    } catch (e) {
      absorb(model, this.side, e, 'shutdown', real);
    }
    model.sides[this.side]!.wrShut = true;
  }
  toString(): string {
    return `shutdown(${this.side}, SHUT_WR)`;
  }
}

class Close implements fc.AsyncCommand<Model, Real> {
  constructor(readonly side: number, readonly abort: boolean) {}
  check(m: Readonly<Model>): boolean {
    return !m.sides[this.side]!.closed;
  }
  async run(model: Model, real: Real): Promise<void> {
    const sock = real.socks[this.side]!;
    const peer = model.sides[1 - this.side]!;
    // A reset may follow: an abort; or a close while the peer may still send (RFC 1122
    // §4.2.2.13: data arriving after close is answered with RST), or with data unread.
    if (this.abort || !peer.wrShut || peer.sent > model.sides[this.side]!.received) model.resetPossible = true;
    if (this.abort) sock.setsockopt(SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
    sock.close();
    const m = model.sides[this.side]!;
    m.closed = true;
    m.wrShut = true;
  }
  toString(): string {
    return `${this.abort ? 'abort' : 'close'}(${this.side})`;
  }
}

class NoDelay implements fc.AsyncCommand<Model, Real> {
  constructor(readonly side: number, readonly on: boolean) {}
  check(m: Readonly<Model>): boolean {
    return !m.sides[this.side]!.closed;
  }
  async run(_m: Model, real: Real): Promise<void> {
    real.socks[this.side]!.setsockopt(IPPROTO_TCP, TCP_NODELAY, this.on);
  }
  toString(): string {
    return `nodelay(${this.side}, ${this.on})`;
  }
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, real: Real): Promise<void> {
    await real.net.runFor(this.ms);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class Partition implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, real: Real): Promise<void> {
    coverage.partitions++;
    _m.lossy = true;
    real.faults[0].partitioned = true;
    await real.net.runFor(this.ms);
    real.faults[0].partitioned = false;
  }
  toString(): string {
    return `partition(${this.ms})`;
  }
}

const commands = [
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 20_000 })).map(([s, n]) => new Send(s, n)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 70_000 })).map(([s, n]) => new Recv(s, n)),
  fc.integer({ min: 0, max: 1 }).map((s) => new ShutdownWr(s)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.boolean()).map(([s, a]) => new Close(s, a)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.boolean()).map(([s, on]) => new NoDelay(s, on)),
  fc.integer({ min: 0, max: 3_000 }).map((ms) => new Advance(ms)),
  fc.integer({ min: 100, max: 20_000 }).map((ms) => new Partition(ms)),
];

const faultArb: fc.Arbitrary<Partial<FaultConfig>> = fc.record({
  loss: fc.constantFrom(0, 0, 0.01, 0.05, 0.15),
  duplicate: fc.constantFrom(0, 0.02, 0.1),
  reorder: fc.constantFrom(0, 0.05, 0.2),
  corrupt: fc.constantFrom(0, 0.01, 0.05),
  delayMs: fc.constantFrom(0, 1, 20),
  jitterMs: fc.constantFrom(0, 5),
});

async function setup(faults: Partial<FaultConfig>, seed: number, issA: number, issB: number, options: { timestamps: boolean; sack: boolean; congestionControl: 'cubic' | 'newreno' }, family: 4 | 6): Promise<Real> {
  const fl: FaultLink[] = [];
  const { net, a, b } = SimNetwork.pair({
    ipv6: family === 6,
    tcp: { mslMs: MSL, ...options },
    pcap: true,
    wrap: (link, clock, i) => {
      // Faults start once the connection is up (a lost final ACK can otherwise leave a
      // client ESTABLISHED and idle with no server, which is TCP, not a bug; the
      // handshake under loss has its own tests).
      const f = new FaultLink(link, { ...NO_FAULTS }, new SeededRand(seed * 2 + i), clock);
      fl.push(f);
      return f;
    },
  });
  a.stack.tcp.issOverride = () => issA;
  b.stack.tcp.issOverride = () => issB;
  // Both families: the same program over IPv4, or over IPv6 between AF_INET6 sockets.
  const af = family === 6 ? AF_INET6 : AF_INET;
  const l = b.api.socket(af, SOCK_STREAM);
  l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  l.bind(['', 7]);
  l.listen(1);
  const c = a.api.socket(af, SOCK_STREAM);
  const accepted = l.accept();
  await net.until(c.connect([family === 6 ? 'fd00:7::2' : '10.7.0.2', 7]), 600_000);
  const [s] = await net.until(accepted, 600_000);
  l.close();
  // Corruption happens on a's link only (both directions), so a frame is corrupted at most
  // once: two bit flips can cancel in the Internet checksum (RFC 1071's ones' complement
  // sum cannot see +2^k in one word and -2^k in another), and no checksum-based protocol
  // can promise integrity against that.
  Object.assign(fl[0]!.config, faults);
  Object.assign(fl[1]!.config, { ...faults, corrupt: 0 });
  return { net, hosts: [a, b], socks: [c, s], faults: [fl[0]!, fl[1]!], log: [] };
}

/** Heal the wire, finish both sides, and check what the model says must be true. */
async function finish(model: Model, real: Real): Promise<void> {
  real.faults[0].partitioned = false;
  for (const side of [0, 1]) {
    const m = model.sides[side]!;
    if (!m.closed && !m.wrShut && !m.sawReset) {
      real.socks[side]!.shutdown(SHUT_WR);
      m.wrShut = true;
    }
  }
  // Each open side reads to EOF (or a reset); this must end: no silent hang. A side
  // whose peer aborted with a RST that the network lost learns of it from keepalive
  // (its probe draws a RST), as it would on Linux.
  for (const side of [0, 1]) {
    const m = model.sides[side]!;
    const sock = real.socks[side]!;
    sock.setblocking(true);
    if (!m.closed) {
      sock.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
      // Longer than the largest backed-off RTO (120 s), with enough probes that losing
      // all of them to the injected faults is out of the question.
      sock.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, 300);
      sock.setsockopt(IPPROTO_TCP, TCP_KEEPINTVL, 75);
      sock.setsockopt(IPPROTO_TCP, TCP_KEEPCNT, 20);
    }
    while (!m.closed && !m.sawEof && !m.sawReset) {
      try {
        const data = await real.net.until(sock.recv(65536), 3_600_000);
        if (data.length === 0) {
          m.sawEof = true;
          const peer = model.sides[1 - side]!;
          if (!model.resetPossible && m.received !== peer.sent) throw new Error(`side ${side}: EOF after ${m.received} of ${peer.sent} bytes`);
        } else check(real, model, side, data);
      } catch (e) {
        absorb(model, side, e, 'recv (final)', real);
      }
    }
  }
  // All of them unless a reset was seen.
  if (!model.resetPossible) {
    for (const side of [0, 1]) {
      expect(model.sides[side]!.received, `side ${side} received`).toBe(model.sides[1 - side]!.sent);
    }
  }
  for (const s of real.socks) s.close();
  // Long enough for every retransmission, FIN-WAIT-2 and TIME-WAIT to run out.
  await real.net.runFor(2 * MSL + 3_600_000);
  for (const h of real.hosts) {
    const left = [...h.stack.tcp.connections].map((c) => `${c.describe()} ${c.state}`);
    expect(left, `${h.name} still holds connections`).toEqual([]);
    expect(h.stack.pollAt(), `${h.name} still has a timer`).toBeUndefined();
    expect(h.stack.tcp.counters.outErrors, `${h.name} built a segment it could not send`).toBe(0);
  }
}

describe('TCP model-based properties (simulated, seeded)', () => {
  it(`random socket programs over a faulty wire keep every promise (${RUNS} runs)`, async () => {
    const seedEnv = process.env.TCPIP_SIM_SEED;
    const params: fc.Parameters<unknown> = { numRuns: RUNS };
    // Replaying a seed regenerates the same runs and shrinks to the same counterexample;
    // with the path and the commands' replay path too, only the counterexample runs.
    if (seedEnv) Object.assign(params, { seed: Number(seedEnv) });
    if (seedEnv && process.env.TCPIP_SIM_PATH) Object.assign(params, { path: process.env.TCPIP_SIM_PATH, endOnFailure: true });
    let lastNet: SimNetwork | null = null;
    const result = await fc.check(
      fc.asyncProperty(
        faultArb,
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.commands(commands, { maxCommands: 40, size: 'medium', replayPath: process.env.TCPIP_SIM_REPLAY }),
        // Every combination of the optional machinery: timestamps, SACK, congestion control.
        fc.record({ timestamps: fc.boolean(), sack: fc.boolean(), congestionControl: fc.constantFrom('cubic' as const, 'newreno' as const) }),
        // ... over either IP family.
        fc.constantFrom(4 as const, 6 as const),
        async (faults, seed, issJitter, cmds, options, family) => {
          // ISS near 2^32 on both sides (b's within 4 KiB of it) so sequence numbers wrap within a run.
          const real = await setup(faults, seed, (0xffffffff - issJitter * 16) >>> 0, (0xfffff000 + issJitter) >>> 0, options, family);
          coverage.ipv6 += family === 6 ? 1 : 0;
          const model: Model = {
            sides: [0, 1].map(() => ({ sent: 0, received: 0, wrShut: false, closed: false, sawEof: false, sawReset: false })) as [SideModel, SideModel],
            resetPossible: false,
            lossy: (faults.loss ?? 0) > 0,
          };
          coverage.runs++;
          coverage.commands += [...cmds].length;
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            await finish(model, real);
            coverage.eofs += model.sides.filter((m) => m.sawEof).length;

          } catch (e) {
            lastNet = real.net; // the last failing run is the shrunk counterexample
            throw e;
          }
        },
      ),
      params,
    );
    if (result.failed) {
      mkdirSync('test-results', { recursive: true });
      if (lastNet) writeFileSync('test-results/sim-failure.pcap', (lastNet as SimNetwork).pcap());
      const replayPath = /replayPath="([^"]*)"/.exec(fc.defaultReportMessage(result) ?? '')?.[1];
      const replay = `TCPIP_SIM_SEED=${result.seed} TCPIP_SIM_PATH=${result.counterexamplePath} TCPIP_SIM_REPLAY='${replayPath ?? ''}' npx vitest run test/sim/tcp-model.test.ts`;
      throw new Error(`${fc.defaultReportMessage(result)}\n\ncause: ${String((result.errorInstance as Error)?.message ?? result.errorInstance)}\nreplay: ${replay}\npackets of the last failing run: test-results/sim-failure.pcap`);
    }
    console.log(`simulated TCP: ${JSON.stringify(coverage)}`);
    if (process.env.TCPIP_SIM_PATH) return; // a replay of one counterexample, now passing
    // The runs did exercise what the properties speak of.
    expect(result.numRuns).toBe(RUNS);
    expect(coverage.commands).toBeGreaterThan(RUNS * 5);
    expect(coverage.bytesDelivered).toBeGreaterThan(RUNS * 1000);
    expect(coverage.eofs).toBeGreaterThan(RUNS / 4);
    expect(coverage.resets).toBeGreaterThan(RUNS / 20);
    expect(coverage.partitions).toBeGreaterThan(RUNS / 4);
    expect(coverage.ipv6).toBeGreaterThan(RUNS / 4); // both families ran
  }, Math.max(200_000, RUNS * 20));
});
