/** The tutorial's UDP server and client, ported to the facade, talk to each other. */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { main as udpClient } from '../../examples/udp-client.js';
import { main as udpServer } from '../../examples/udp-server.js';
import { scriptedIo } from '../../examples/io.js';

describe('examples: UDP server and client from the tutorial', () => {
  it("on one stack, to 'localhost' as the tutorial's client sends", async () => {
    const { net, b } = SimNetwork.pair();
    const io = scriptedIo([]);
    const server = udpServer(b.api, io, 1);
    await net.runFor(1);
    await net.until(udpClient(b.api));
    await net.until(server);
    expect(io.output[1]).toMatch(/^Received: hello,this is a test info ! from \["127\.0\.0\.1",\d+\]$/);
  });

  it('across the wire: the server prints the datagram the client sent and who sent it', async () => {
    const { net, a, b } = SimNetwork.pair();
    const io = scriptedIo([]);
    const server = udpServer(b.api, io, 1);
    await net.runFor(1);
    await net.until(udpClient(a.api, '10.7.0.2'));
    await net.until(server);
    expect(io.output[0]).toBe('waiting for datagrams...');
    expect(io.output[1]).toMatch(/^Received: hello,this is a test info ! from \["10\.7\.0\.1",\d+\]$/);
  });
});
