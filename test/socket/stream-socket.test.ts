/**
 * The stream half of the socket facade, whole-stack, on two simulated hosts over an
 * in-memory wire (optionally faulty) and a manual clock.
 */
import http from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRand } from '../../src/core/rand.js';
import { FaultLink, NO_FAULTS } from '../../src/link/fault-link.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import {
  AF_INET, IPPROTO_TCP, SHUT_RD, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF,
  SO_REUSEADDR, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
} from '../../src/socket/constants.js';
import { connect, createServer, type TcpStream } from '../../src/socket/net.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';
import { connectedPair, netEchoPair } from '../helpers/sim-connection.js';

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}

async function readAll(net: SimNetwork, s: StreamSocket): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const d = await net.until(s.recv(65536));
    if (d.length === 0) return Buffer.concat(parts);
    parts.push(d);
  }
}

function listening(b: { api: { socket(f: number, t: typeof SOCK_STREAM): StreamSocket } }, port: number, backlog = 8): StreamSocket {
  const s = b.api.socket(AF_INET, SOCK_STREAM);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  s.bind(['', port]);
  s.listen(backlog);
  return s;
}

describe('SOCK_STREAM sockets', () => {
  it('connect/accept, then data both ways, then a graceful close to CLOSED and TIME-WAIT', async () => {
    const { net, a, b } = SimNetwork.pair();
    const srv = listening(b, 7);
    const cli = a.api.socket(AF_INET, SOCK_STREAM);
    const accepted = srv.accept();
    await net.until(cli.connect(['10.7.0.2', 7]));
    const [conn, peer] = await net.until(accepted);
    expect(peer).toEqual(['10.7.0.1', cli.getsockname()[1]]);
    expect(conn.getpeername()).toEqual(peer);
    expect(cli.getpeername()).toEqual(['10.7.0.2', 7]);
    expect(await cli.send('ping')).toBe(4);
    expect(Buffer.from(await net.until(conn.recv(100))).toString()).toBe('ping');
    await conn.sendall('pong');
    expect(Buffer.from(await net.until(cli.recv(100))).toString()).toBe('pong');
    cli.close();
    expect((await net.until(conn.recv(100))).length).toBe(0); // EOF
    conn.close();
    await net.runFor(1000);
    expect(b.stack.tcp.connections.size).toBe(0); // passive closer: LAST-ACK -> CLOSED
    // a holds TIME-WAIT as a small record, not as a connection.
    expect(a.stack.tcp.connections.size).toBe(0);
    expect(a.stack.tcp.timeWaitCount).toBe(1);
    await net.runFor(60_000); // 2*MSL
    expect(a.stack.tcp.connections.size).toBe(0);
    expect(a.stack.tcp.timeWaitCount).toBe(0);
  });

  it('moves 2 MiB each way at once with ISS near 2^32', async () => {
    const { net, a, b } = SimNetwork.pair();
    a.stack.tcp.issOverride = () => 0xfffff000;
    b.stack.tcp.issOverride = () => 0xffffff00;
    const { cli, conn } = await connectedPair(net, a, b, 9);
    const up = pattern(2 << 20, 1);
    const down = pattern(2 << 20, 2);
    const s1 = cli.sendall(up).then(() => cli.shutdown(SHUT_WR));
    const s2 = conn.sendall(down).then(() => conn.shutdown(SHUT_WR));
    const [gotUp, gotDown] = await Promise.all([readAll(net, conn), readAll(net, cli)]);
    await net.until(Promise.all([s1, s2]));
    expect(Buffer.compare(gotUp, Buffer.from(up))).toBe(0);
    expect(Buffer.compare(gotDown, Buffer.from(down))).toBe(0);
  });

  it('delivers every byte in order through loss, duplication, reordering and corruption', async () => {
    const { net, a, b } = SimNetwork.pair({
      wrap: (link, clock, i) => new FaultLink(link, { ...NO_FAULTS, loss: 0.05, duplicate: 0.02, reorder: 0.05, corrupt: 0.01, delayMs: 5, jitterMs: 3 }, new SeededRand(42 + i), clock),
    });
    const { cli, conn } = await connectedPair(net, a, b, 7);
    const data = pattern(300_000, 3);
    const sending = cli.sendall(data).then(() => cli.shutdown(SHUT_WR));
    const got = await readAll(net, conn);
    await net.until(sending);
    expect(got.length).toBe(data.length);
    expect(Buffer.compare(got, Buffer.from(data))).toBe(0);
    const info = cli.tcpInfo()!;
    expect(info.retransmits).toBeGreaterThan(0);
    expect(b.stack.ip.counters.badChecksum + b.stack.tcp.counters.badChecksum + a.stack.ip.counters.badChecksum + a.stack.tcp.counters.badChecksum).toBeGreaterThan(0);
  });

  it('a closed port refuses: connect fails with ECONNREFUSED', async () => {
    const { net, a } = SimNetwork.pair();
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    const err = await net.until(s.connect(['10.7.0.2', 4444]).then(() => null, (e: unknown) => e));
    expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    expect((err as Error).message).toMatch(/^connect fd 3 \(tcp 10\.7\.0\.1:\d+ -> 10\.7\.0\.2:4444\): ECONNREFUSED/);
  });

  it('connect to a host that never answers fails with ETIMEDOUT after the SYN retries (simulated time)', async () => {
    const { net, a } = SimNetwork.pair({ wrap: (link, clock, i) => new FaultLink(link, { ...NO_FAULTS, loss: i === 1 ? 1 : 0 }, new SeededRand(1), clock) });
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    const t0 = net.clock.now();
    const err = await net.until(s.connect(['10.7.0.2', 7]).then(() => null, (e: unknown) => e));
    expect(err).toMatchObject({ code: 'ETIMEDOUT' });
    // 1 + 2 + 4 + 8 + 16 + 32 + 64 s (RFC 6298 backoff from a 1 s RTO, 6 retries)
    expect(net.clock.now() - t0).toBe(127_000);
  });

  it('settimeout makes connect and recv fail with ETIMEDOUT; non-blocking connect says EINPROGRESS', async () => {
    const { net, a, b } = SimNetwork.pair({ wrap: (link, clock, i) => new FaultLink(link, { ...NO_FAULTS, loss: i === 1 ? 1 : 0 }, new SeededRand(1), clock) });
    void b;
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    s.settimeout(2);
    await expect(net.until(s.connect(['10.7.0.2', 7]))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const n = a.api.socket(AF_INET, SOCK_STREAM);
    n.setblocking(false);
    await expect(n.connect(['10.7.0.2', 7])).rejects.toMatchObject({ code: 'EINPROGRESS' });
    await expect(n.connect(['10.7.0.2', 7])).rejects.toMatchObject({ code: 'EALREADY' });
  });

  it('recv on a quiet connection times out, and non-blocking recv says EAGAIN', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli } = await connectedPair(net, a, b, 7);
    cli.settimeout(0.5);
    const t0 = net.clock.now();
    await expect(net.until(cli.recv(10))).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'recv' });
    expect(net.clock.now() - t0).toBe(500);
    cli.setblocking(false);
    await expect(cli.recv(10)).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('a peer reset surfaces as ECONNRESET; SO_LINGER 0 close sends it', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli, conn } = await connectedPair(net, a, b, 7);
    const pending = cli.recv(10);
    conn.setsockopt(SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
    conn.close();
    await expect(net.until(pending)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(cli.send('x')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(cli.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(104); // ECONNRESET on Linux
    expect(b.stack.tcp.counters.resetsSent).toBe(1);
  });

  it('close with unread data resets the connection (RFC 2525, as Linux does)', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli, conn } = await connectedPair(net, a, b, 7);
    await cli.send('unread');
    await net.runFor(100);
    conn.close();
    await expect(net.until(cli.recv(10))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('half-close: after shutdown(SHUT_WR) the peer still sends, and we still read', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli, conn } = await connectedPair(net, a, b, 7);
    cli.shutdown(SHUT_WR);
    await expect(cli.send('x')).rejects.toMatchObject({ code: 'EPIPE' });
    expect((await net.until(conn.recv(10))).length).toBe(0);
    expect(conn.tcpInfo()!.state).toBe('CLOSE-WAIT');
    await conn.sendall(pattern(100_000));
    conn.close();
    const got = await readAll(net, cli);
    expect(got.length).toBe(100_000);
  });

  it('shutdown(SHUT_RD) makes recv return EOF at once', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli } = await connectedPair(net, a, b, 7);
    cli.shutdown(SHUT_RD);
    expect((await cli.recv(10)).length).toBe(0);
  });

  it('errors: EADDRINUSE, EISCONN, ENOTCONN, EBADF, EINVAL', async () => {
    const { net, a, b } = SimNetwork.pair();
    listening(b, 80);
    const dup = b.api.socket(AF_INET, SOCK_STREAM);
    expect(() => dup.bind(['', 80])).toThrow(/EADDRINUSE/);
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    await expect(s.recv(1)).rejects.toMatchObject({ code: 'ENOTCONN' });
    expect(() => s.getpeername()).toThrow(/ENOTCONN/);
    await net.until(s.connect(['10.7.0.2', 80]));
    await expect(s.connect(['10.7.0.2', 80])).rejects.toMatchObject({ code: 'EISCONN' });
    expect(() => s.listen(1)).toThrow(/EINVAL/);
    s.close();
    await expect(s.send('x')).rejects.toMatchObject({ code: 'EBADF' });
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    await expect(l.accept()).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('the backlog bounds the accept queue; closing the listener resets what it had not handed out', async () => {
    const { net, a, b } = SimNetwork.pair();
    const srv = listening(b, 7, 2);
    const clients = [0, 1, 2].map(() => a.api.socket(AF_INET, SOCK_STREAM));
    const results = clients.map((c) => c.connect(['10.7.0.2', 7]).then(() => 'ok', (e: { code: string }) => e.code));
    await net.runFor(100);
    // The third SYN finds the queue full: it is answered with a SYN cookie, and its final
    // ACK is dropped while the accept queue stays full (as Linux does).
    const tcp = b.stack.tcp;
    expect(tcp.listenerList()[0]!.acceptQueue.length).toBe(2);
    expect(tcp.counters.syncookiesSent).toBe(1);
    expect(tcp.counters.listenDrops).toBeGreaterThan(0);
    srv.close();
    await net.runFor(10_000);
    const outcomes = await Promise.all(results);
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    for (const c of clients.slice(0, 2)) await expect(net.until(c.recv(1))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('keepalive notices a peer that vanished and reports ETIMEDOUT', async () => {
    let cut = false;
    const { net, a, b } = SimNetwork.pair();
    const { cli } = await connectedPair(net, a, b, 7);
    cli.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
    cli.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, 10);
    cli.setsockopt(IPPROTO_TCP, TCP_KEEPINTVL, 2);
    cli.setsockopt(IPPROTO_TCP, TCP_KEEPCNT, 3);
    expect([cli.getsockopt(IPPROTO_TCP, TCP_KEEPIDLE), cli.getsockopt(IPPROTO_TCP, TCP_KEEPINTVL), cli.getsockopt(IPPROTO_TCP, TCP_KEEPCNT)]).toEqual([10, 2, 3]);
    // The peer vanishes: nothing it would send arrives any more.
    b.link.peer = null;
    cut = true;
    const t0 = net.clock.now();
    await expect(net.until(cli.recv(1))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(cut).toBe(true);
    // 10 s idle, then 3 probes 2 s apart, then the verdict 2 s after the last.
    expect(net.clock.now() - t0).toBe(10_000 + 3 * 2_000);
    expect(cli.tcpInfo()!.state).toBe('CLOSED');
  });

  it('options: TCP_NODELAY, SO_RCVBUF (doubled, as Linux), unknown options say ENOPROTOOPT', () => {
    const { a } = SimNetwork.pair();
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, true);
    expect(s.getsockopt(IPPROTO_TCP, TCP_NODELAY)).toBe(1);
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
    expect(s.getsockopt(SOL_SOCKET, SO_RCVBUF)).toBe(131072);
    expect(() => s.setsockopt(SOL_SOCKET, 999, 1)).toThrow(/ENOPROTOOPT/);
    expect(() => s.setsockopt(IPPROTO_TCP, TCP_KEEPCNT, 0)).toThrow(/EINVAL/);
  });

  it('reports TCP_INFO: state, RTT, windows, counters', async () => {
    const { net, a, b } = SimNetwork.pair({ wrap: (link, clock) => new FaultLink(link, { ...NO_FAULTS, delayMs: 10 }, new SeededRand(1), clock) });
    const { cli, conn } = await connectedPair(net, a, b, 7);
    await cli.sendall(pattern(50_000));
    let n = 0;
    while (n < 50_000) n += (await net.until(conn.recv(65536))).length;
    await net.runFor(200);
    const info = cli.tcpInfo()!;
    expect(info.state).toBe('ESTABLISHED');
    // 20 ms of path, plus the receiver's delayed ACK (40 ms) on some samples.
    expect(info.srttMs).toBeGreaterThanOrEqual(19);
    expect(info.srttMs).toBeLessThan(20 + 40);
    // RTO = SRTT + max(4*RTTVAR, 200 ms): the variance term's floor (MIN_RTO_MS, as Linux).
    expect(info.rtoMs).toBeCloseTo(info.srttMs + Math.max(4 * info.rttvarMs, 200), 9);
    expect(info.bytesOut).toBe(50_000);
    expect(info.bytesInFlight).toBe(0);
    expect(info.cwnd).toBeGreaterThan(10 * 1460);
    expect(info.sndMss).toBe(1460);
  });
});

describe('sendmsg (gathered writes)', () => {
  it('sends several buffers as one write: small pieces leave in one segment, where three sends make three', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli, conn } = await connectedPair(net, a, b, 5001);
    cli.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    const pieces = [pattern(10, 1), pattern(20, 2), pattern(30, 3)];
    const segs = (): number => cli.tcpInfo()!.segsOut;
    let before = segs();
    expect(await net.until(cli.sendmsg(pieces))).toBe(60);
    expect(segs() - before).toBe(1);
    expect(Buffer.from(await net.until(conn.recv(100))).equals(Buffer.concat(pieces))).toBe(true);
    await net.runFor(1000);
    before = segs();
    for (const p of pieces) await net.until(cli.send(p));
    expect(segs() - before).toBe(3);
    cli.close();
    conn.close();
  });

  it('queues what fits, in order, and says how much (as send); EINVAL for anything but an array of Uint8Arrays', async () => {
    const { net, a, b } = SimNetwork.pair();
    const { cli, conn } = await connectedPair(net, a, b, 5002);
    const big = [pattern(700_000, 4), pattern(700_000, 5), pattern(10, 6)];
    const n = await net.until(cli.sendmsg(big));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1_400_010);
    cli.shutdown(SHUT_WR);
    const got = await readAll(net, conn);
    expect(got.equals(Buffer.concat(big).subarray(0, n))).toBe(true);
    await expect(cli.sendmsg('text' as unknown as Uint8Array[])).rejects.toMatchObject({ code: 'EINVAL', syscall: 'sendmsg' });
    await expect(cli.sendmsg([pattern(1), 'x' as unknown as Uint8Array])).rejects.toMatchObject({ code: 'EINVAL' });
    cli.close();
    conn.close();
  });
});

describe('Node-style streams over the stack', () => {
  it('createServer/connect give Duplex streams with backpressure and half-close', async () => {
    const { net, server, c } = await netEchoPair();
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((r) => c.on('end', r));
    const data = Buffer.from(pattern(1 << 20, 9));
    c.end(data);
    await net.until(ended);
    expect(Buffer.compare(Buffer.concat(chunks), data)).toBe(0);
    server.close();
  });

  it("setTimeout emits 'timeout' after that much idle time on the stack's clock; activity restarts it", async () => {
    const { net, server, c } = await netEchoPair();
    await net.until(new Promise((r) => c.once('connect', r)));
    c.on('data', () => {});
    const fired: number[] = [];
    const t0 = net.clock.now();
    c.setTimeout(1000, () => fired.push(net.clock.now() - t0));
    await net.runFor(600);
    c.write('x'); // activity at 600 ms: the idle period starts again
    await net.runFor(999);
    expect(fired).toEqual([]);
    await net.runFor(2000);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(1600);
    expect(fired[0]).toBeLessThanOrEqual(1650); // the echo's data counts as activity too
    c.setTimeout(0); // off
    await net.runFor(5000);
    expect(fired).toHaveLength(1);
    c.destroy();
    server.close();
  });

  it("Node's own http.Server serves over the stack, keep-alive included", async () => {
    const { net, a, b } = SimNetwork.pair();
    let requests = 0;
    const httpServer = http.createServer((req, res) => {
      requests++;
      res.end(`hello ${req.url}`);
    });
    createServer(b.api, (s) => httpServer.emit('connection', s)).listen(80);
    await net.runFor(1);
    const c = connect(a.api, 80, '10.7.0.2');
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString()));
    c.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    await net.runFor(100);
    c.write('GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await net.until(new Promise((r) => c.on('end', r)));
    expect(requests).toBe(2);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*hello \/one[\s\S]*HTTP\/1\.1 200 OK[\s\S]*hello \/two$/);
    httpServer.close();
  });

  it('writes made together (corked, as http does with headers and body) leave in one segment; a response is one segment', async () => {
    const { net, a, b } = SimNetwork.pair();
    const body = Buffer.alloc(100, 97);
    const httpServer = http.createServer((_req, res) => res.end(body));
    createServer(b.api, { noDelay: true }, (s) => httpServer.emit('connection', s)).listen(80);
    await net.runFor(1);
    const c = connect(a.api, 80, '10.7.0.2');
    await net.until(new Promise((r) => c.once('connect', r)));
    let got = 0;
    c.on('data', (d: Buffer) => (got += d.length));
    const segsOut = (): number => b.stack.tcp.counters.segsOut;
    const request = async (): Promise<void> => {
      c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const want = got + 100;
      await net.until(new Promise<void>((r) => { const f = (): void => { if (got > want) { c.off('data', f); r(); } }; c.on('data', f); }));
    };
    await request(); // the first request's ACK goes at once (quick ACKs at a connection's start)
    const before = segsOut();
    for (let i = 0; i < 10; i++) await request();
    // Ten responses, each its headers and body in one segment that carries the request's ACK.
    expect(segsOut() - before).toBe(10);
    c.destroy();
    httpServer.close();
  });

  it('any mix of writes, corked batches and reads through loss and reordering arrives byte for byte, and the counters agree (fast-check)', async () => {
    const write = fc.record({ size: fc.integer({ min: 0, max: 70_000 }), corked: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 1000 }), async (writes, seed) => {
        const { net, server, c } = await netEchoPair({
          wrap: (link, clock, i) => new FaultLink(link, { ...NO_FAULTS, loss: 0.03, reorder: 0.05, delayMs: 2, jitterMs: 2 }, new SeededRand(seed * 2 + i), clock),
        });
        const sent = writes.map((w, i) => Buffer.from(pattern(w.size, i)));
        // The first writes go while connecting; a corked run goes out as one _writev.
        for (let i = 0; i < writes.length; i++) {
          if (writes[i]!.corked) c.cork();
          c.write(sent[i]!);
          if (writes[i]!.corked) process.nextTick(() => c.uncork());
        }
        c.end();
        const chunks: Buffer[] = [];
        c.on('data', (d: Buffer) => chunks.push(d));
        await net.until(new Promise((r) => c.on('close', r)));
        const all = Buffer.concat(sent);
        expect(Buffer.concat(chunks).equals(all)).toBe(true);
        expect(c.bytesWritten).toBe(all.length);
        expect(c.bytesRead).toBe(all.length);
        server.close();
      }),
      { numRuns: 15 },
    );
  });

  it('a corked write larger than the send buffer, and writes made while connecting, arrive whole and in order', async () => {
    const { net, server, c } = await netEchoPair();
    const parts = [1, 2, 3, 4, 5].map((i) => Buffer.from(pattern(300_000 + i * 1000, i)));
    c.write(parts[0]!); // while connecting
    c.cork();
    for (const p of parts.slice(1)) c.write(p);
    process.nextTick(() => c.uncork());
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((r) => c.on('end', r));
    c.end();
    await net.until(ended);
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true);
    expect(c.bytesWritten).toBe(Buffer.concat(parts).length);
    server.close();
  });
});
