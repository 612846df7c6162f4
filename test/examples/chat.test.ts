/**
 * The select()-based multi-user chat server and its client (examples/chat-*.ts): three
 * clients, two across the wire and one on the server's own stack through 127.0.0.1;
 * lines fan out to the others, one leaves, the rest carry on.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import type { Io } from '../../examples/io.js';
import * as chatServer from '../../examples/chat-server.js';
import * as chatClient from '../../examples/chat-client.js';

/** An Io whose input lines are given one at a time by the test (`say`), '' to leave. */
function userIo(): Io & { output: string[]; say(line: string): void } {
  const output: string[] = [];
  const queue: string[] = [];
  let waiting: ((l: string) => void) | null = null;
  return {
    output,
    print: (...args) => void output.push(args.map(String).join(' ')),
    input: () => new Promise<string>((res) => {
      const l = queue.shift();
      if (l !== undefined) res(l);
      else waiting = res;
    }),
    say(line) {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(line);
      } else queue.push(line);
    },
  };
}

describe('examples: the select() chat room', () => {
  it('three clients; each line reaches the other two; one leaves and the others are told and carry on', async () => {
    const { net, a, b } = SimNetwork.pair();
    const sio = userIo();
    const server = chatServer.main(b.api, sio, 3);
    await net.runFor(1);
    const alice = userIo();
    const bob = userIo();
    const carol = userIo();
    const ca = chatClient.main(a.api, alice, '10.7.0.2');
    await net.runFor(100); // (Nagle holds a second small line until the first is acknowledged: up to a delayed ACK)
    const cb = chatClient.main(a.api, bob, '10.7.0.2');
    await net.runFor(100); // (Nagle holds a second small line until the first is acknowledged: up to a delayed ACK)
    const cc = chatClient.main(b.api, carol, '127.0.0.1'); // on the server's own stack
    await net.runFor(100); // (Nagle holds a second small line until the first is acknowledged: up to a delayed ACK)
    expect(sio.output[0]).toBe(`Chat server started on port ${chatServer.PORT}`);
    expect(sio.output.filter((l) => l.includes('connected'))).toHaveLength(3);
    expect(sio.output[3]).toMatch(/^Client \(127\.0\.0\.1, \d+\) connected$/);
    // Alice heard Bob and Carol enter; Carol heard nobody (she came last).
    expect(alice.output.filter((l) => l.includes('entered room'))).toHaveLength(2);
    expect(carol.output.filter((l) => l.includes('entered room'))).toHaveLength(0);

    alice.say('hello everyone');
    await net.runFor(100); // (Nagle holds a second small line until the first is acknowledged: up to a delayed ACK)
    const fromAlice = (o: string[]): string[] => o.filter((l) => l.endsWith('> hello everyone\n'));
    expect(fromAlice(bob.output)).toHaveLength(1);
    expect(fromAlice(carol.output)).toHaveLength(1);
    expect(fromAlice(alice.output)).toHaveLength(0); // not echoed to the sender

    bob.say(''); // Bob leaves (end of input closes his socket)
    await net.until(cb);
    await net.runFor(100); // (Nagle holds a second small line until the first is acknowledged: up to a delayed ACK)
    expect(alice.output.some((l) => /^Client \(10\.7\.0\.1, \d+\) is offline\n$/.test(l))).toBe(true);
    expect(carol.output.some((l) => /is offline/.test(l))).toBe(true);

    carol.say('still here');
    await net.runFor(100); // (Nagle holds a second small line until the first is acknowledged: up to a delayed ACK)
    expect(alice.output.at(-1)).toMatch(/^\r<\["127\.0\.0\.1",\d+\]> still here\n$/);
    expect(bob.output.some((l) => l.includes('still here'))).toBe(false);

    // The other two leave; the server was told to serve until three had.
    alice.say('');
    carol.say('');
    await net.until(Promise.all([ca, cc]));
    await net.until(server);
    expect(sio.output.filter((l) => l.includes('is offline'))).toHaveLength(3);
  });
});
