/**
 * Every TCP program of the tutorials, ported to the socket facade, runs against its
 * partner with the tutorial's own addresses on one stack, through its loopback interface
 * (127.0.0.1, localhost, gethostname()), as the tutorials run them; and across the wire
 * from a second simulated stack where the server listens on an address the wire reaches.
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
  it('greeting server and client, both on socket.gethostname() (one stack, through loopback)', async () => {
    const { net, a, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo([]);
    const server = greetingServer.main(b.api, sio, 2);
    await net.runFor(1);
    await net.until(greetingClient.main(b.api, cio)); // host = gethostname()
    expect(cio.output).toEqual(['我是server.py文件\r\n']);
    expect(sio.output[0]).toMatch(/^连接地址: \["10\.7\.0\.2",\d+\]$/); // our own address, looped back
    expect(b.stack.ip.counters.sent).toBe(b.stack.ip.counters.loopback); // nothing on the wire
    // The host name is the stack's address on the wire: a second stack reaches it too.
    await net.until(greetingClient.main(a.api, cio, '10.7.0.2'));
    await net.until(server);
    expect(sio.output[1]).toMatch(/^连接地址: \["10\.7\.0\.1",\d+\]$/);
  });

  it("echo server on 127.0.0.1 and its interactive client (\"q\" ends the session), one stack", async () => {
    const { net, a, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo(['hello', 'world', 'q']);
    const server = echoServer.main(b.api, sio, 1); // binds 127.0.0.1, as the tutorial
    await net.runFor(1);
    await net.until(echoClient.main(b.api, cio)); // connects to 127.0.0.1
    await net.until(server);
    expect(cio.output).toEqual(['hello', 'world']);
    expect(sio.output[0]).toMatch(/^\["127\.0\.0\.1",\d+\]$/);
    expect(sio.output.slice(1)).toEqual(['hello', 'world']);
    // 127.0.0.1 is this stack's own: from the other stack it is that stack's loopback, where nothing listens.
    const other = scriptedIo(['x']);
    await expect(net.until(echoClient.main(a.api, other))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('ctime-stamped echo server and its client (localhost, one stack)', async () => {
    const { net, b } = SimNetwork.pair();
    const sio = scriptedIo([]);
    const cio = scriptedIo(['one', 'two', '']);
    const fixed = Date.UTC(2026, 10, 22, 5, 0, 58);
    const server = ctimeServer.main(b.api, sio, 1, () => fixed);
    await net.runFor(1);
    await net.until(ctimeClient.main(b.api, cio)); // connects to 'localhost'
    await net.until(server);
    expect(cio.output).toHaveLength(2);
    expect(cio.output[0]).toMatch(/^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2026\] one$/);
    expect(cio.output[1]).toMatch(/\] two$/);
    expect(sio.output[0]).toBe('waiting for connnecting...');
    expect(sio.output[1]).toMatch(/^\.\.\.connecting from: \["127\.0\.0\.1",\d+\]$/);
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
