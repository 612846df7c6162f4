import { it, expect } from 'vitest';
import { makeEnv, assertServing, inject, spoofed, victim, ACK, RST, SYN, measure, sentByB, bytes, tcpPacket, SUBNET_BROADCAST, ipPacket, icmpMessage, PROTO_ICMP, ECHO_PORT } from './env.js';
it('rst trim', async () => {
  const env = await makeEnv('ip');
  const c = victim(env);
  const d = await measure(env, () => inject(env, spoofed(env, { seq: c.rcvNxt - 1, ack: c.sndNxt, flags: RST | ACK, payload: bytes('xx') })));
  console.log(d, c.state, c.error, sentByB(env));
});
it('syn data', async () => {
  const env = await makeEnv('ip');
  const c = victim(env);
  const before = c.rcvNxt;
  const d = await measure(env, () => inject(env, spoofed(env, { seq: c.rcvNxt - 1, ack: c.sndNxt, flags: SYN | ACK, payload: bytes('EVIL') })));
  console.log(d, c.state, c.rcvNxt - before, c.stats.challengeAcks);
});
it('bcast syn', async () => {
  const env = await makeEnv('ip');
  const d = await measure(env, () => inject(env, tcpPacket({ sport: 5555, dport: ECHO_PORT, seq: 1000, flags: SYN, dst: SUBNET_BROADCAST })));
  console.log(d, sentByB(env).map(s=>s.line));
});
it('pod', async () => {
  const env = await makeEnv('ip');
  const total = 65515;
  const msg = icmpMessage(8, 0, 0x12340001, new Uint8Array(total - 8));
  const frags = [];
  for (let off = 0; off < total; off += 1440) {
    const len = Math.min(1440, total - off);
    frags.push(ipPacket({ protocol: PROTO_ICMP, ident: 77, fragOffset: off, moreFrags: off + len < total, options: off === 0 ? new Uint8Array(40).fill(1) : undefined }, msg.subarray(off, off + len)));
  }
  const d = await measure(env, () => inject(env, ...frags));
  console.log(d, sentByB(env).length);
});
