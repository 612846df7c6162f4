/**
 * Property tests over the whole receive path (fast-check). Host b of the hardening world
 * (env.ts) is fed
 *   (a) arbitrary byte arrays as frames, on a TUN (bare IPv4) and a TAP (Ethernet)
 *       medium, plus random payloads behind a valid IPv4 header so that the transport
 *       parsers see them too;
 *   (b) valid packets (TCP to a listening port and into the established connection, UDP,
 *       ICMP echo, ICMP errors, fragment sets) with random mutations: bit flips, byte
 *       overwrites (anywhere, and in the headers), truncation, extension; in half the
 *       runs the checksums are recomputed afterwards, so that the mutation gets past them.
 * and random walks of segments and socket calls drive one connection (active or
 * passive) through every TCP state. Every run asserts that nothing threw (no internal
 * error on either stack) and that b still serves: a new TCP connection completes its
 * handshake and echoes, UDP echo answers (small, and 4000 bytes in fragments); the walks
 * also assert that no TCB outlives its timers. A last property states RFC 5961 (RST and
 * SYN never harm an established connection, bar a RST at exactly RCV.NXT); it fails
 * today (a src bug, see hostile-packets.test.ts). A failure prints fast-check's seed and
 * the shrunk counterexample.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Medium } from '../../src/link/link-device.js';
import { AF_INET, SHUT_WR, SOCK_STREAM } from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';
import { naiveChecksum } from '../helpers/packets.js';
import {
  ACK, A_ADDR, B_ADDR, ECHO_PORT, FIN, MAC_A, MAC_B, PROTO_ICMP, PROTO_TCP, PROTO_UDP, PSH, RST, STRANGER, SUBNET_BROADCAST, SYN, URG,
  assertNoInternalErrors, assertServing, bytes, cliPort, concat, ethFrame, hex, icmpMessage, icmpPacket, inject, injectFrames,
  ipPacket, makeEnv, r16, r32, sentByB, tcpPacket, transportChecksum, u16, u32, udpPacket, victim, type Env,
} from './env.js';

// ------------------------------------------------------------------ mutations

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'header'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; tail: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  // Header bytes are where lies hurt: offsets 0..59 cover IPv4 (with options) and TCP/UDP/ICMP.
  fc.record({ kind: fc.constant('header' as const), at: fc.integer({ min: 0, max: 59 }), value: fc.constantFrom(0, 1, 0x0f, 0x45, 0x7f, 0x80, 0xff, 5, 15, 0x50, 0xf0) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
);

function mutate(p: Uint8Array, muts: Mutation[]): Uint8Array {
  let b: Uint8Array = p.slice();
  for (const m of muts) {
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[m.at % b.length]! ^= 1 << m.bit;
        break;
      case 'set':
        if (b.length > 0) b[m.at % b.length] = m.value;
        break;
      case 'header':
        if (m.at < b.length) b[m.at] = m.value;
        break;
      case 'truncate':
        b = b.slice(0, m.at % (b.length + 1));
        break;
      case 'extend':
        b = concat(b, m.tail);
        break;
    }
  }
  return b;
}

/**
 * Recomputes the transport checksum (TCP, UDP, ICMP; not for fragments, whose checksum
 * covers the whole datagram) and the IPv4 header checksum, over what the header claims,
 * so that a mutation is judged by the parsers behind the checksums.
 */
function fixChecksums(p: Uint8Array): void {
  if (p.length < 20 || p[0]! >> 4 !== 4) return;
  const ihl = (p[0]! & 15) * 4;
  if (ihl < 20 || ihl > p.length) return;
  const tl = Math.min(r16(p, 2), p.length);
  const fragment = (r16(p, 6) & 0x3fff) !== 0;
  if (tl > ihl && !fragment) {
    const seg = p.subarray(ihl, tl);
    const src = r32(p, 12);
    const dst = r32(p, 16);
    if (p[9] === PROTO_TCP && seg.length >= 18) {
      u16(seg, 16, 0);
      u16(seg, 16, transportChecksum(src, dst, PROTO_TCP, seg));
    } else if (p[9] === PROTO_UDP && seg.length >= 8) {
      const len = r16(seg, 4);
      if (len >= 8 && len <= seg.length) {
        u16(seg, 6, 0);
        u16(seg, 6, transportChecksum(src, dst, PROTO_UDP, seg, len) || 0xffff);
      }
    } else if (p[9] === PROTO_ICMP && seg.length >= 4) {
      u16(seg, 2, 0);
      u16(seg, 2, naiveChecksum(seg));
    }
  }
  u16(p, 10, 0);
  u16(p, 10, naiveChecksum(p, 0, ihl));
}

// ------------------------------------------------------------------ valid packets

/** TCP options a SYN may carry, well-formed and not. */
const OPTION_LISTS: number[][] = [
  [],
  [2, 4, 5, 0xb4],
  [2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1],
  [2, 4, 0, 0],
  [3, 3, 14, 0],
  [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0],
  [1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 9],
  new Array(40).fill(1),
  [0, 0, 0, 0],
  [2, 0, 0, 0],
];

type Base =
  | { kind: 'syn'; sport: number; stranger: boolean; options: number; payload: Uint8Array; broadcast: boolean }
  | { kind: 'est'; flags: number; seqDelta: number; ackDelta: number; payload: Uint8Array; win: number }
  | { kind: 'udp'; sport: number; toEcho: boolean; payload: Uint8Array }
  | { kind: 'ping'; ident: number; seq: number; payload: Uint8Array }
  | { kind: 'icmpError'; type: number; code: number; seqDelta: number; quoteLen: number };

const baseArb: fc.Arbitrary<Base> = fc.oneof(
  fc.record({
    kind: fc.constant('syn' as const), sport: fc.integer({ min: 1, max: 65535 }), stranger: fc.boolean(),
    options: fc.integer({ min: 0, max: OPTION_LISTS.length - 1 }), payload: fc.uint8Array({ maxLength: 32 }), broadcast: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('est' as const),
    flags: fc.oneof(fc.constantFrom(ACK, ACK | PSH, ACK | FIN, RST, RST | ACK, SYN, SYN | ACK, ACK | URG, FIN, 0), fc.integer({ min: 0, max: 255 })),
    seqDelta: fc.oneof(fc.integer({ min: -3000, max: 70_000 }), fc.integer({ min: -0x7fff_ffff, max: 0x7fff_ffff })),
    ackDelta: fc.oneof(fc.integer({ min: -100, max: 100 }), fc.integer({ min: -0x7fff_ffff, max: 0x7fff_ffff })),
    payload: fc.uint8Array({ maxLength: 200 }),
    win: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({ kind: fc.constant('udp' as const), sport: fc.integer({ min: 1, max: 65535 }), toEcho: fc.boolean(), payload: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant('ping' as const), ident: fc.integer({ min: 0, max: 65535 }), seq: fc.integer({ min: 0, max: 65535 }), payload: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({
    kind: fc.constant('icmpError' as const), type: fc.constantFrom(3, 4, 11, 12), code: fc.integer({ min: 0, max: 15 }),
    seqDelta: fc.integer({ min: -10, max: 10 }), quoteLen: fc.integer({ min: 0, max: 60 }),
  }),
);

/** Builds the valid packet a descriptor stands for, against the world as it is now. */
function build(env: Env, base: Base): Uint8Array {
  switch (base.kind) {
    case 'syn':
      return tcpPacket({
        src: base.stranger ? STRANGER : A_ADDR, dst: base.broadcast ? SUBNET_BROADCAST : B_ADDR, sport: base.sport, dport: ECHO_PORT,
        seq: 0x1000_0000 + base.sport, flags: SYN, options: new Uint8Array(OPTION_LISTS[base.options]!), payload: base.payload,
      });
    case 'est': {
      const c = victim(env);
      return tcpPacket({
        sport: cliPort(env), dport: ECHO_PORT, seq: c.rcv.nxt + base.seqDelta, ack: c.snd.nxt + base.ackDelta, flags: base.flags,
        win: base.win, payload: base.payload,
      });
    }
    case 'udp':
      return udpPacket({ sport: base.sport, dport: base.toEcho ? ECHO_PORT : 9999 }, base.payload);
    case 'ping':
      return icmpPacket(8, 0, (base.ident << 16) | base.seq, base.payload);
    case 'icmpError': {
      // Quotes b's own datagram of the established connection: IPv4 header, then TCP ports and seq.
      const c = victim(env);
      const h = new Uint8Array(28);
      h[0] = 0x45;
      u16(h, 2, 40);
      h[8] = 64;
      h[9] = PROTO_TCP;
      u32(h, 12, B_ADDR);
      u32(h, 16, A_ADDR);
      u16(h, 20, ECHO_PORT);
      u16(h, 22, cliPort(env));
      u32(h, 24, c.snd.una + base.seqDelta);
      return icmpPacket(base.type, base.code, base.type === 3 && base.code === 4 ? 68 : 0, h.subarray(0, Math.min(28, base.quoteLen)));
    }
  }
}

// ------------------------------------------------------------------ properties

/** Runs per property; the file stays well under 10 s. */
const RUNS = 150;

async function stillServes(env: Env): Promise<void> {
  await env.net.runFor(50); // whatever the packet started (echo, ACKs, retransmissions) settles
  assertNoInternalErrors(env);
  // A new connection (handshake and echo) and UDP echo; the established connection may
  // rightly have been reset or fed data by a packet that hit its window.
  await assertServing(env, { established: false });
}

describe('(a) arbitrary bytes as frames never throw', () => {
  it.each<Medium>(['ip', 'ethernet'])('random byte arrays on a %s medium leave no internal error, and b still serves', async (medium) => {
    const env = await makeEnv(medium);
    const frameArb = medium === 'ip'
      ? fc.oneof(
        fc.uint8Array({ maxLength: 1600 }),
        // Looks like IPv4 (version 4, any IHL), then anything.
        fc.tuple(fc.integer({ min: 0x40, max: 0x4f }), fc.uint8Array({ maxLength: 200 })).map(([v, rest]) => concat(new Uint8Array([v]), rest)),
      )
      : fc.oneof(
        fc.uint8Array({ maxLength: 1600 }),
        // Addressed to b (or broadcast), IPv4 or ARP, then anything.
        fc.tuple(fc.boolean(), fc.constantFrom(0x0800, 0x0806, 0x86dd), fc.uint8Array({ maxLength: 200 }))
          .map(([bcast, type, rest]) => ethFrame(bcast ? new Uint8Array(6).fill(0xff) : MAC_B, MAC_A, type, rest)),
      );
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 8 }), async (frames) => {
        await injectFrames(env, ...frames);
        if (env.errors.length > 0) throw new Error(`internal error after ${frames.map(hex).join(' ')}: ${env.errors[0]}`);
      }),
      { numRuns: 800 },
    );
    assertNoInternalErrors(env);
    await assertServing(env);
  });

  it('random payloads behind a valid IPv4 header (every protocol, fragment flags, checksum right) never throw', async () => {
    const env = await makeEnv('ip');
    const arb = fc.record({
      protocol: fc.oneof(fc.constantFrom(PROTO_ICMP, PROTO_TCP, PROTO_UDP), fc.integer({ min: 0, max: 255 })),
      moreFrags: fc.boolean(),
      fragOffset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 8191 }).map((x) => x * 8)),
      ident: fc.integer({ min: 0, max: 65535 }),
      stranger: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 300 }),
      fix: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: 6 }), async (specs) => {
        const packets = specs.map((s) => {
          const p = ipPacket({ protocol: s.protocol, moreFrags: s.moreFrags, fragOffset: s.fragOffset, ident: s.ident, src: s.stranger ? STRANGER : A_ADDR }, s.payload);
          if (s.fix) fixChecksums(p);
          return p;
        });
        await inject(env, ...packets);
        if (env.errors.length > 0) throw new Error(`internal error after ${packets.map(hex).join(' ')}: ${env.errors[0]}`);
      }),
      { numRuns: 500 },
    );
    assertNoInternalErrors(env);
    await assertServing(env);
    await env.net.runFor(31_000); // every fragment held times out
    expect(env.b.stack.ip.reassembly).toEqual({ datagrams: 0, bytes: 0 });
    await assertServing(env);
  });
});

describe('(b) valid packets with random mutations never throw, and b still serves', () => {
  it('TCP (to the listener and into the established connection), UDP, ICMP echo and ICMP errors, mutated', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ base: baseArb, muts: fc.array(mutationArb, { maxLength: 4 }), fix: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        async (specs) => {
          const env = await makeEnv();
          const packets = specs.map(({ base, muts, fix }) => {
            const p = mutate(build(env, base), muts);
            if (fix) fixChecksums(p);
            return p;
          });
          await inject(env, ...packets);
          if (env.errors.length > 0) throw new Error(`internal error after ${packets.map(hex).join(' ')}: ${env.errors[0]}`);
          await stillServes(env);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('checksums recomputed after every mutation: the parsers behind them see every lie', async () => {
    await fc.assert(
      fc.asyncProperty(baseArb, fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (base, muts) => {
        const env = await makeEnv();
        const p = mutate(build(env, base), muts);
        fixChecksums(p);
        await inject(env, p);
        if (env.errors.length > 0) throw new Error(`internal error after ${hex(p)}: ${env.errors[0]}`);
        await stillServes(env);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('fragment sets (UDP and ICMP echo), reordered, duplicated and mutated, never throw; memory is freed by the timeout', async () => {
    const arb = fc.record({
      icmp: fc.boolean(),
      size: fc.integer({ min: 8, max: 5000 }),
      chunk: fc.integer({ min: 1, max: 185 }).map((x) => x * 8),
      order: fc.array(fc.nat(), { maxLength: 40 }),
      dup: fc.array(fc.nat(), { maxLength: 3 }),
      drop: fc.array(fc.nat(), { maxLength: 2 }),
      victimIndex: fc.nat(),
      muts: fc.array(mutationArb, { maxLength: 3 }),
      fixIp: fc.boolean(),
      ident: fc.integer({ min: 0, max: 65535 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (s) => {
        const env = await makeEnv();
        const data = new Uint8Array(s.size);
        for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 255;
        const whole = s.icmp ? icmpMessage(8, 0, 0x00420001, data) : udpPacket({ sport: 40_200, dport: ECHO_PORT }, data).subarray(20);
        const frags: Uint8Array[] = [];
        for (let off = 0; off < whole.length; off += s.chunk) {
          const len = Math.min(s.chunk, whole.length - off);
          frags.push(ipPacket({ protocol: s.icmp ? PROTO_ICMP : PROTO_UDP, ident: s.ident, fragOffset: off, moreFrags: off + len < whole.length }, whole.subarray(off, off + len)));
        }
        // Shuffle (a permutation drawn from `order`), duplicate some, lose some, mutate one.
        for (let i = frags.length - 1; i > 0; i--) {
          const j = (s.order[i % Math.max(1, s.order.length)] ?? 0) % (i + 1);
          [frags[i], frags[j]] = [frags[j]!, frags[i]!];
        }
        for (const d of s.dup) frags.push(frags[d % frags.length]!);
        for (const d of s.drop) if (frags.length > 1) frags.splice(d % frags.length, 1);
        const k = s.victimIndex % frags.length;
        frags[k] = mutate(frags[k]!, s.muts);
        if (s.fixIp) fixChecksums(frags[k]!);
        await inject(env, ...frags);
        if (env.errors.length > 0) throw new Error(`internal error after ${frags.map(hex).join(' ').slice(0, 2000)}: ${env.errors[0]}`);
        const held = env.b.stack.ip.reassembly;
        expect(held.datagrams).toBeLessThanOrEqual(64);
        await stillServes(env);
        await env.net.runFor(31_000);
        expect(env.b.stack.ip.reassembly).toEqual({ datagrams: 0, bytes: 0 });
        assertNoInternalErrors(env);
      }),
      { numRuns: RUNS },
    );
  });

  it('the established connection under a stream of mutated segments: nothing throws; when it survives, it still carries data', async () => {
    // Mutated copies of segments a could have sent (the right ports, seq near RCV.NXT,
    // a valid ACK). A segment may rightly reset the connection (a RST at RCV.NXT) or feed
    // it data that lies in its window; otherwise the stream must be untouched.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({
          flags: fc.constantFrom(ACK, ACK | PSH, SYN, SYN | ACK, ACK | URG, 0, PSH),
          seqDelta: fc.oneof(fc.integer({ min: 1000, max: 5000 }), fc.integer({ min: 70_000, max: 0x3fff_ffff }), fc.integer({ min: -0x3fff_ffff, max: -70_000 })),
          payload: fc.uint8Array({ minLength: 1, maxLength: 100 }),
          // Any byte but the sequence number's (24..27): ports, ACK, offset, flags, window, options, data.
          muts: fc.array(fc.record({
            kind: fc.constant('set' as const), at: fc.oneof(fc.integer({ min: 20, max: 23 }), fc.integer({ min: 28, max: 139 })), value: fc.integer({ min: 0, max: 255 }),
          }), { maxLength: 3 }),
        }), { minLength: 1, maxLength: 10 }),
        async (specs) => {
          const env = await makeEnv();
          const c = victim(env);
          for (const s of specs) {
            // Never at or just past RCV.NXT (1000 on, or far outside the window): such data waits
            // out of order beyond what assertServing sends, or is refused.
            const p = mutate(tcpPacket({ sport: cliPort(env), dport: ECHO_PORT, seq: c.rcv.nxt + s.seqDelta, ack: c.snd.nxt, flags: s.flags, payload: s.payload }), s.muts);
            fixChecksums(p);
            await inject(env, p);
          }
          assertNoInternalErrors(env);
          expect(c.state).toBe('ESTABLISHED');
          await env.net.runFor(50);
          await assertServing(env);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ------------------------------------------------------------------ the state machine

type Act =
  | { kind: 'seg'; flags: number; seq: number | 'exact' | 'random'; ackDelta: number; payloadLen: number; win: number; opts: number }
  | { kind: 'app'; op: 'send' | 'close' | 'shutdownWr' | 'read' }
  | { kind: 'wait'; ms: number }
  /** What a well-behaved peer would send next (so that the walk gets deep into the states). */
  | { kind: 'proper'; what: 'synack' | 'ack' | 'data' | 'fin' | 'finBeforeOurs' };

const actArb: fc.Arbitrary<Act> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('seg' as const),
    flags: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST, RST | ACK, FIN, SYN | FIN) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    seq: fc.oneof(
      { weight: 4, arbitrary: fc.constant('exact' as const) },
      { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: -70_000, max: 70_000 }) },
      { weight: 1, arbitrary: fc.constant('random' as const) },
    ),
    ackDelta: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) }, { weight: 1, arbitrary: fc.integer() }),
    payloadLen: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1460 })),
    win: fc.oneof(fc.constant(65535), fc.constant(0), fc.integer({ min: 0, max: 65535 })),
    opts: fc.integer({ min: 0, max: OPTION_LISTS.length - 1 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('app' as const), op: fc.constantFrom('send' as const, 'close' as const, 'shutdownWr' as const, 'read' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1, 40, 200, 1000, 5000, 61_000) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('proper' as const), what: fc.constantFrom('synack' as const, 'ack' as const, 'data' as const, 'fin' as const, 'finBeforeOurs' as const) }) },
);

/**
 * Plays 10.7.0.77 against one connection of b, active (b connected out) or passive (to
 * b's echo). Segments are built from b's TCB as it is now, so that "exact" hits RCV.NXT.
 */
/** Every state the driven connections were seen in (the property checks the driver reaches them). */
const statesSeen = new Set<string>();

async function drive(env: Env, active: boolean, acts: Act[]): Promise<void> {
  const peerPort = active ? 80 : 33_333;
  const localPort = active ? -1 : ECHO_PORT;
  const irs = 0x9000_0000;
  let sock: StreamSocket | null = null;
  const ignore = (p: Promise<unknown>): void => void p.catch(() => {});
  // The connection, or once it is in TIME-WAIT the small record the layer keeps instead.
  const find = (): { state: string; rcvNxt: number; sndNxt: number; sndUna: number; localPort: number } | undefined => {
    const c = [...env.b.stack.tcp.connections].find((x) => x.remoteAddr === STRANGER && x.remotePort === peerPort);
    if (c) return { state: c.state, rcvNxt: c.rcv.nxt, sndNxt: c.snd.nxt, sndUna: c.snd.una, localPort: c.localPort };
    const tw = [...env.b.stack.tcp.timeWait.records()].find((x) => x.remoteAddr === STRANGER && x.remotePort === peerPort);
    return tw && { state: 'TIME-WAIT', rcvNxt: tw.rcvNxt, sndNxt: tw.sndNxt, sndUna: tw.sndNxt, localPort: tw.localPort };
  };
  if (active) {
    sock = env.b.api.socket(AF_INET, SOCK_STREAM);
    ignore(sock.connect(['10.7.0.77', peerPort]));
    await env.net.runFor(1);
  }
  const lport = active ? find()!.localPort : localPort;
  for (const a of acts) {
    const c = find();
    if (a.kind === 'seg') {
      const synSent = c === undefined || c.state === 'SYN-SENT';
      const base = synSent ? irs : c.rcvNxt;
      const seq = a.seq === 'exact' ? base : a.seq === 'random' ? (base ^ 0x5a5a_5a5a) + a.payloadLen * 7919 : base + a.seq;
      const ack = (c ? c.sndNxt : 0) + a.ackDelta;
      const payload = new Uint8Array(a.payloadLen).fill(0x61);
      await inject(env, tcpPacket({ src: STRANGER, sport: peerPort, dport: lport, seq, ack, flags: a.flags, win: a.win, payload, options: a.flags & SYN ? new Uint8Array(OPTION_LISTS[a.opts]!) : undefined }));
    } else if (a.kind === 'proper') {
      if (!c && !active) {
        await inject(env, tcpPacket({ src: STRANGER, sport: peerPort, dport: lport, seq: irs, flags: SYN, options: new Uint8Array([2, 4, 5, 0xb4]) }));
      } else if (c) {
        const synSent = c.state === 'SYN-SENT';
        const seq = synSent ? irs : c.rcvNxt;
        let flags = ACK;
        let ack = c.sndNxt;
        let payload = new Uint8Array(0);
        if (a.what === 'synack') flags = SYN | ACK;
        if (a.what === 'data') payload = new Uint8Array(100).fill(0x63);
        if (a.what === 'fin') flags = FIN | ACK;
        if (a.what === 'finBeforeOurs') {
          flags = FIN | ACK;
          ack = c.sndUna; // our FIN (if any) not yet acknowledged: simultaneous close
        }
        await inject(env, tcpPacket({ src: STRANGER, sport: peerPort, dport: lport, seq, ack, flags, payload, options: flags & SYN ? new Uint8Array([2, 4, 5, 0xb4]) : undefined }));
      }
    } else if (a.kind === 'app') {
      const st = active ? sock : null;
      if (st) {
        try {
          if (a.op === 'send') ignore(st.send(new Uint8Array(3000).fill(0x62)));
          else if (a.op === 'close') st.close();
          else if (a.op === 'shutdownWr') st.shutdown(SHUT_WR);
          else {
            st.setblocking(false);
            ignore(st.recv(100_000));
          }
        } catch {
          // EBADF, ENOTCONN, EPIPE: the socket's business, not the stack's.
        }
      }
      await env.net.runFor(1);
    } else {
      await env.net.runFor(a.ms);
    }
    if (env.errors.length > 0) throw new Error(`internal error: ${env.errors[0]}`);
    const now = find();
    if (now) statesSeen.add(now.state);
  }
  sock?.close();
}

const P = (what: 'synack' | 'ack' | 'data' | 'fin' | 'finBeforeOurs'): Act => ({ kind: 'proper', what });
const APP = (op: 'send' | 'close' | 'shutdownWr' | 'read'): Act => ({ kind: 'app', op });
/** Walks the property always tries first, so that every state is visited whatever the seed. */
const ACTIVE_WALKS: [Act[]][] = [
  [[P('synack'), APP('close'), P('ack'), P('fin'), { kind: 'wait', ms: 61_000 }]], // FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT
  [[P('synack'), APP('send'), APP('close'), P('finBeforeOurs'), P('ack')]], // CLOSING, TIME-WAIT
  [[P('synack'), P('data'), P('fin'), APP('read'), APP('close'), P('ack')]], // CLOSE-WAIT, LAST-ACK
  [[{ kind: 'seg', flags: SYN, seq: 'exact', ackDelta: 0, payloadLen: 0, win: 65535, opts: 1 }, P('ack'), APP('close')]], // simultaneous open
];
const PASSIVE_WALKS: [Act[]][] = [
  [[P('synack'), P('ack'), P('data'), P('fin'), P('ack')]], // SYN-RECEIVED, ESTABLISHED, CLOSE-WAIT, LAST-ACK
];

describe('(b) random segment sequences against one connection, through every state', () => {
  it.each([
    ['active (b connected out, SYN-SENT onwards)', true],
    ['passive (to b\'s echo, LISTEN onwards)', false],
  ])('%s: nothing throws, no TCB outlives its timers, b still serves', async (_name, active) => {
    await fc.assert(
      fc.asyncProperty(fc.array(actArb, { minLength: 1, maxLength: 25 }), async (acts) => {
        const env = await makeEnv();
        await drive(env, active as boolean, acts);
        assertNoInternalErrors(env);
        // Every timer (retransmission, persist, keepalive, FIN-WAIT-2, TIME-WAIT) runs out
        // well within 3 hours: nothing about 10.7.0.77 may be left.
        await env.net.runFor(3 * 3600_000);
        const left = [...env.b.stack.tcp.connections].filter((x) => x.remoteAddr === STRANGER);
        expect(left.map((x) => `${x.describe()} ${x.state} timers ${x.timers.next()}`)).toEqual([]);
        expect([...env.b.stack.tcp.timeWait.records()].filter((x) => x.remoteAddr === STRANGER)).toEqual([]);
        await assertServing(env);
      }),
      { numRuns: RUNS / 2, examples: active ? ACTIVE_WALKS : PASSIVE_WALKS },
    );
  });

  it('the driver above reaches every synchronized state (so the property is not vacuous)', () => {
    // Runs after the two properties above (vitest runs a file's tests in order).
    expect([...statesSeen].sort()).toEqual(
      ['CLOSE-WAIT', 'CLOSING', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'LAST-ACK', 'SYN-RECEIVED', 'SYN-SENT', 'TIME-WAIT'].sort(),
    );
  });
});

describe('(b) SYN cookies', () => {
  it('with the SYN queue full, a cookie SYN-ACK answered by an arbitrary ACK (flags, data, window, off-by-one numbers) never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          flags: fc.integer({ min: 0, max: 255 }).map((f) => (f | ACK) & ~(SYN | RST)),
          seqDelta: fc.integer({ min: -2, max: 2 }),
          ackDelta: fc.integer({ min: -2, max: 2 }),
          payloadLen: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 })),
          win: fc.integer({ min: 0, max: 65535 }),
          mss: fc.integer({ min: 0, max: 65535 }),
          wscale: fc.option(fc.integer({ min: 0, max: 255 })),
        }),
        async (s) => {
          const env = await makeEnv();
          // 256 embryonic connections from a spoofed address fill the SYN queue.
          const flood: Uint8Array[] = [];
          for (let k = 0; k < 256; k++) flood.push(tcpPacket({ src: STRANGER, sport: 1000 + k, dport: ECHO_PORT, seq: k, flags: SYN }));
          await inject(env, ...flood);
          const options = new Uint8Array([2, 4, s.mss >> 8, s.mss & 255, ...(s.wscale === null ? [] : [1, 3, 3, s.wscale])]);
          env.b.link.takeSent();
          await inject(env, tcpPacket({ src: STRANGER, sport: 5000, dport: ECHO_PORT, seq: 777, flags: SYN, options }));
          const synack = sentByB(env).find((x) => x.dport === 5000);
          expect(synack?.flags, 'a cookie SYN-ACK').toBe(SYN | ACK);
          const ack = tcpPacket({
            src: STRANGER, sport: 5000, dport: ECHO_PORT, seq: 778 + s.seqDelta, ack: synack!.seq + 1 + s.ackDelta, flags: s.flags, win: s.win,
            payload: new Uint8Array(s.payloadLen).fill(0x64),
          });
          await inject(env, ack);
          if (env.errors.length > 0) throw new Error(`internal error after ${hex(ack)}: ${env.errors[0]}`);
          if (s.seqDelta === 0 && s.ackDelta === 0) {
            // The right cookie makes the connection, whatever else the ACK carries.
            expect([...env.b.stack.tcp.connections].some((x) => x.remoteAddr === STRANGER && x.remotePort === 5000)).toBe(true);
          }
          await stillServes(env);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('(b) RFC 5961 as a property', () => {
  it('src bug: a segment carrying RST or SYN never changes the established connection, unless it is a RST at exactly RCV.NXT', async () => {
    // RFC 5961 §3.2 and §4.2: a RST resets only at exactly RCV.NXT; any other RST, and
    // every SYN, gets (at most) a challenge ACK and is dropped. Data such a segment
    // carries is never delivered. Fails today: see hostile-packets.test.ts "RCV.NXT - 1"
    // (src/tcp/input.ts synchronized() trims the segment to the window before the RST
    // and SYN checks, which then see the trimmed sequence number).
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          flags: fc.integer({ min: 0, max: 255 }).filter((f) => (f & (RST | SYN)) !== 0),
          seqDelta: fc.oneof(fc.integer({ min: -200, max: 200 }), fc.integer({ min: -0x7fff_ffff, max: 0x7fff_ffff })),
          ackDelta: fc.integer({ min: -10, max: 10 }),
          payload: fc.uint8Array({ maxLength: 300 }),
        }),
        async (s) => {
          const env = await makeEnv();
          const c = victim(env);
          const rcvNxt = c.rcv.nxt;
          const p = tcpPacket({ sport: cliPort(env), dport: ECHO_PORT, seq: c.rcv.nxt + s.seqDelta, ack: c.snd.nxt + s.ackDelta, flags: s.flags, payload: s.payload });
          await inject(env, p);
          assertNoInternalErrors(env);
          if ((s.flags & RST) !== 0 && s.seqDelta === 0) return; // the one segment that may reset
          expect({ state: c.state, rcvNxtMoved: (c.rcv.nxt - rcvNxt) | 0 }, `after ${hex(p)}`).toEqual({ state: 'ESTABLISHED', rcvNxtMoved: 0 });
        },
      ),
      { numRuns: RUNS, seed: 5961 },
    );
  });
});

// A sanity check on the generators: unmutated, every base packet is accepted by b.
describe('the generators', () => {
  it('unmutated base packets reach their handlers (so the properties test the parsers, not a broken builder)', async () => {
    const env = await makeEnv();
    const before = { ...env.b.stack.snapshot() };
    await inject(env, build(env, { kind: 'udp', sport: 5000, toEcho: true, payload: bytes('hi') }));
    await inject(env, build(env, { kind: 'ping', ident: 1, seq: 1, payload: bytes('hi') }));
    await inject(env, build(env, { kind: 'syn', sport: 5001, stranger: true, options: 1, payload: new Uint8Array(0), broadcast: false }));
    const after = env.b.stack.snapshot();
    expect(after.udp!.delivered! - before.udp!.delivered!).toBe(1);
    expect(after.icmp!.echoReplies! - before.icmp!.echoReplies!).toBe(1);
    expect(after.tcp!.passiveOpens! - before.tcp!.passiveOpens!).toBe(1);
    const p = mutate(build(env, { kind: 'udp', sport: 5000, toEcho: true, payload: bytes('hello') }), [{ kind: 'set', at: 30, value: 0x41 }]);
    fixChecksums(p);
    const d0 = env.b.stack.udp.counters.delivered;
    await inject(env, p);
    expect(env.b.stack.udp.counters.delivered - d0).toBe(1); // fixChecksums really makes a mutation pass
  });
});
