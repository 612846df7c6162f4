/**
 * Every TCP program of the tutorials, ported to the socket facade, runs against its
 * partner over two simulated stacks (and the client side of each over `localhost`, the
 * server's own stack, as the tutorials run them).
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { scriptedIo } from '../../examples/io.js';
import * as greetingServer from '../../examples/greeting-server.js';
import * as greetingClient from '../../examples/greeting-client.js';
import * as echoServer from '../../examples/echo-server.js';
import * as echoClient from '../../examples/echo-client.js';
import * as ctimeServer from '../../examples/ctime-echo-server.js';
import * as ctimeClient from '../../examples/ctime-echo-client.js';
import * as thankYouServer from '../../examples/thank-you-server.js';
import * as sendOnceClient from '../../examples/send-once-client.js';

describe('examples: TCP programs from the tutorials', () => {
  it('greeting server and client', async () => {
    const { net, a, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo([]);
    const server = greetingServer.main(b.api, sio, 1);
    await net.runFor(1);
    await net.until(greetingClient.main(a.api, cio, '10.7.0.2'));
    await net.until(server);
    expect(cio.output).toEqual(['我是server.py文件\r\n']);
    expect(sio.output[0]).toMatch(/^连接地址: \["10\.7\.0\.1",\d+\]$/);
  });

  it('echo server and interactive client ("q" ends the session)', async () => {
    const { net, a, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo(['hello', 'world', 'q']);
    const server = echoServer.main(b.api, sio, 1);
    await net.runFor(1);
    await net.until(echoClient.main(a.api, cio, '10.7.0.2'));
    await net.until(server);
    expect(cio.output).toEqual(['hello', 'world']);
    expect(sio.output.slice(1)).toEqual(['hello', 'world']);
  });

  it('ctime-stamped echo server and its client', async () => {
    const { net, a, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo(['one', 'two', '']);
    const fixed = Date.UTC(2026, 10, 22, 5, 0, 58);
    const server = ctimeServer.main(b.api, sio, 1, () => fixed);
    await net.runFor(1);
    await net.until(ctimeClient.main(a.api, cio, '10.7.0.2'));
    await net.until(server);
    expect(cio.output).toHaveLength(2);
    expect(cio.output[0]).toMatch(/^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2026\] one$/);
    expect(cio.output[1]).toMatch(/\] two$/);
    expect(sio.output[0]).toBe('waiting for connnecting...');
    expect(sio.output[1]).toMatch(/^\.\.\.connecting from: \["10\.7\.0\.1",\d+\]$/);
  });

  it('one-shot server and client, on one stack through localhost', async () => {
    const { net, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo(['localhost', '7788', '你好']);
    const server = thankYouServer.main(b.api, sio);
    await net.runFor(1);
    await net.until(sendOnceClient.main(b.api, cio));
    await net.until(server);
    expect(sio.output).toEqual(['接收到的数据为: 你好']);
    expect(cio.output).toEqual(['接收到的数据为: thank you !']);
  });
});
