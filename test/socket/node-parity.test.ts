/**
 * The `node:net` and `node:dgram` faces against Node itself: each scenario runs once on
 * Node's own sockets over the kernel's loopback and once on two simulated stacks, and the
 * events, states and results each side saw must be the same.
 */
import * as http from 'node:http';
import * as nodeDgram from 'node:dgram';
import * as nodeNet from 'node:net';
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { httpAgent } from '../../src/socket/http-agents.js';
import type { TcpServer, TcpStream } from '../../src/socket/net.js';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM } from '../../src/socket/constants.js';

/** What a scenario needs: two ends (client and server side), and a way to wait. */
interface Env {
  name: string;
  client: { connect: typeof nodeNet.connect; createServer: typeof nodeNet.createServer };
  server: { connect: typeof nodeNet.connect; createServer: typeof nodeNet.createServer };
  clientDgram: { createSocket: (t: 'udp4') => nodeDgram.Socket };
  serverDgram: { createSocket: (t: 'udp4') => nodeDgram.Socket };
  /** The server side's address. */
  host: string;
  drive<T>(p: Promise<T>): Promise<T>;
}

function nodeEnv(): Env {
  return {
    name: 'node',
    client: nodeNet,
    server: nodeNet,
    clientDgram: nodeDgram,
    serverDgram: nodeDgram,
    host: '127.0.0.1',
    drive: (p) => p,
  };
}

function simEnv(): Env & { sim: ReturnType<typeof SimNetwork.pair> } {
  const sim = SimNetwork.pair();
  // The faces are typed as Node's: that they are assignable is part of what is tested.
  const face = (f: typeof sim.a.net) => ({
    connect: f.connect as unknown as typeof nodeNet.connect,
    createServer: f.createServer as unknown as typeof nodeNet.createServer,
  });
  return {
    name: 'sim',
    sim,
    client: face(sim.a.net),
    server: face(sim.b.net),
    clientDgram: sim.a.dgram as unknown as Env['clientDgram'],
    serverDgram: sim.b.dgram as unknown as Env['serverDgram'],
    host: '10.7.0.2',
    drive: (p) => sim.net.until(p),
  };
}

function listening(env: Env, server: nodeNet.Server, ...args: unknown[]): Promise<number> {
  return env.drive(
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      (server.listen as (...a: unknown[]) => void)(...args, () => resolve((server.address() as nodeNet.AddressInfo).port));
    }),
  );
}

/** Both runs, and their results side by side. */
async function both<T>(scenario: (env: Env) => Promise<T>): Promise<{ node: T; sim: T }> {
  const node = await scenario(nodeEnv());
  const sim = await scenario(simEnv());
  return { node, sim };
}

describe('node:net parity (the same scenario on Node and on the stack)', () => {
  it('end(data) before the handshake completes: the data and the FIN go once connected', async () => {
    const r = await both(async (env) => {
      const client: string[] = [];
      const server: string[] = [];
      const srv = env.server.createServer((s) => {
        let d = '';
        s.on('data', (x) => (d += x));
        s.on('end', () => {
          server.push(`got "${d}"`);
          s.end('bye');
        });
      });
      const port = await listening(env, srv, 0, env.host);
      const c = env.client.connect(port, env.host);
      client.push(`pending=${c.pending} connecting=${c.connecting} readyState=${c.readyState}`);
      c.end('hello');
      client.push(`after end: readyState=${c.readyState}`);
      c.on('connect', () => client.push(`connect readyState=${c.readyState}`));
      c.on('ready', () => client.push('ready'));
      c.on('finish', () => client.push('finish'));
      let reply = '';
      c.on('data', (d) => (reply += d));
      c.on('end', () => client.push(`end "${reply}"`));
      await env.drive(new Promise<void>((res) => c.on('close', (hadError) => (client.push(`close hadError=${hadError}`), res()))));
      client.push(`bytesRead=${c.bytesRead} bytesWritten=${c.bytesWritten} readyState=${c.readyState} destroyed=${c.destroyed}`);
      await env.drive(new Promise((res) => srv.close(res)));
      return { client, server };
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim.server).toEqual(['got "hello"']);
    expect(r.sim.client).toContain('end "bye"');
  });

  it('a refused connect is an error from syscall connect, then close with hadError', async () => {
    const r = await both(async (env) => {
      const srv = env.server.createServer();
      const port = await listening(env, srv, 0, env.host);
      await env.drive(new Promise((res) => srv.close(res)));
      const events: string[] = [];
      const c = env.client.connect({ port, host: env.host });
      c.on('connect', () => events.push('connect'));
      c.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code} syscall=${e.syscall}`));
      await env.drive(new Promise<void>((res) => c.on('close', (hadError) => (events.push(`close hadError=${hadError}`), res()))));
      return events;
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toEqual(['error ECONNREFUSED syscall=connect', 'close hadError=true']);
  });

  it("server.close() waits for the open connections before 'close'; getConnections counts them", async () => {
    const r = await both(async (env) => {
      const events: string[] = [];
      let serverSide: nodeNet.Socket | undefined;
      const srv = env.server.createServer((s) => {
        serverSide = s;
        events.push('connection');
        s.on('end', () => s.end());
        s.on('close', () => events.push('server socket close'));
      });
      const port = await listening(env, srv, { port: 0, host: env.host, backlog: 8 });
      const c = env.client.connect(port, env.host);
      await env.drive(new Promise((res) => srv.once('connection', res)));
      events.push(`connections=${await env.drive(new Promise<number>((res) => srv.getConnections((_e, n) => res(n))))}`);
      const closed = new Promise<void>((res) => srv.close(() => (events.push('server close'), res())));
      events.push(`listening=${srv.listening}`);
      c.on('data', () => {});
      c.end();
      await env.drive(closed);
      expect(serverSide).toBeDefined();
      return events;
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toEqual(['connection', 'connections=1', 'listening=false', 'server close', 'server socket close']);
  });

  it("listen's call forms give the same listening server; bad arguments throw the same errors", async () => {
    const r = await both(async (env) => {
      const out: string[] = [];
      for (const args of [[], [0], [0, env.host], [0, env.host, 16], [0, 16], [{ port: 0, host: env.host }], [{ port: '0' }]]) {
        const srv = env.server.createServer();
        const port = await listening(env, srv, ...args);
        const a = srv.address() as nodeNet.AddressInfo;
        out.push(`${JSON.stringify(args).replaceAll(env.host, 'HOST')}: ${a.family} ${port > 0} listening=${srv.listening}`);
        await env.drive(new Promise((res) => srv.close(res)));
      }
      const errs: string[] = [];
      for (const bad of [[{ port: 70000 }], [-1], [{ port: 1.5 }]]) {
        const srv = env.server.createServer();
        try {
          (srv.listen as (...a: unknown[]) => void)(...bad);
          errs.push('no throw');
          srv.close();
        } catch (e) {
          errs.push(`${(e as Error).name} ${(e as NodeJS.ErrnoException).code}`);
        }
      }
      const srv = env.server.createServer();
      const notRunning = await new Promise<string>((res) => srv.close((e) => res(`${(e as NodeJS.ErrnoException | undefined)?.code}`)));
      return { out, errs, notRunning };
    });
    // Node listens on '::' without a host; the stack has IPv4 only.
    r.node.out = r.node.out.map((l) => l.replace('IPv6', 'IPv4'));
    expect(r.sim).toEqual(r.node);
    expect(r.sim.notRunning).toBe('ERR_SERVER_NOT_RUNNING');
  });

  it('connect takes (port, host, cb), ({ port, host }, cb) and a numeric string port; bad ports throw', async () => {
    const r = await both(async (env) => {
      const srv = env.server.createServer((s) => s.end('x'));
      const port = await listening(env, srv, 0, env.host);
      const out: string[] = [];
      for (const mk of [
        (cb: () => void) => env.client.connect(port, env.host, cb),
        (cb: () => void) => env.client.connect({ port, host: env.host }, cb),
        (cb: () => void) => env.client.connect(String(port) as unknown as number, env.host, cb),
      ]) {
        let remote: number | undefined;
        const c = mk(() => (remote = c.remotePort));
        c.on('data', () => {});
        await env.drive(new Promise((res) => c.on('close', res)));
        out.push(`cb remote=${remote === port} after close=${c.remotePort === port}`);
      }
      for (const bad of [[70000, env.host], [{ host: env.host }], [{ port: 'abc', host: env.host }]]) {
        try {
          const c = (env.client.connect as (...a: unknown[]) => nodeNet.Socket)(...bad);
          c.on('error', () => {});
          c.destroy();
          out.push('no throw');
        } catch (e) {
          out.push(`${(e as Error).name}`);
        }
      }
      await env.drive(new Promise((res) => srv.close(res)));
      return out;
    });
    expect(r.sim).toEqual(r.node);
  });

  it('maxConnections closes the connections beyond it at once; connect(port) with no host reaches this host', async () => {
    const r = await both(async (env) => {
      const events: string[] = [];
      const srv = env.server.createServer((s) => s.on('data', () => {}));
      srv.maxConnections = 1;
      const port = await listening(env, srv, 0, env.host);
      const first = env.client.connect(port, env.host);
      await env.drive(new Promise((res) => srv.once('connection', res)));
      const second = env.client.connect(port, env.host);
      second.on('connect', () => events.push('second: connect'));
      second.on('end', () => events.push('second: end'));
      second.on('error', (e: NodeJS.ErrnoException) => events.push(`second: error ${e.code}`));
      second.resume();
      await env.drive(new Promise<void>((res) => second.on('close', (hadError) => (events.push(`second: close hadError=${hadError}`), res()))));
      first.destroy();
      await env.drive(new Promise((res) => srv.close(res)));
      // No host: Node's default is localhost, and the stack's localhost is its own address.
      const self = env.server.createServer((s) => s.end('self'));
      const selfPort = await listening(env, self, 0);
      const c = env.server.connect(selfPort);
      let got = '';
      c.on('data', (d) => (got += d));
      await env.drive(new Promise((res) => c.on('close', res)));
      events.push(`no host: ${got}`);
      await env.drive(new Promise((res) => self.close(res)));
      return events;
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toEqual(['second: connect', 'second: end', 'second: close hadError=false', 'no host: self']);
  });

  it('bytesRead and bytesWritten count what crossed; readyState follows half-close', async () => {
    const r = await both(async (env) => {
      const states: string[] = [];
      const srv = env.server.createServer({ allowHalfOpen: true }, (s) => {
        s.on('data', () => {});
        s.on('end', () => s.end(Buffer.alloc(3000, 1)));
      });
      const port = await listening(env, srv, 0, env.host);
      const c = env.client.connect(port, env.host);
      c.setNoDelay(true);
      await env.drive(new Promise((res) => c.on('connect', res)));
      states.push(`open: ${c.readyState}`);
      c.write(Buffer.alloc(5000, 2));
      c.end();
      await env.drive(new Promise((res) => c.on('finish', res)));
      states.push(`after finish: ${c.readyState}`);
      c.on('data', () => {});
      await env.drive(new Promise((res) => c.on('close', res)));
      states.push(`closed: ${c.readyState} read=${c.bytesRead} written=${c.bytesWritten}`);
      await env.drive(new Promise((res) => srv.close(res)));
      return states;
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toContain('after finish: readOnly');
    expect(r.sim).toContain('closed: closed read=3000 written=5000');
  });

  it("http.Agent with keep-alive reuses one connection (it unref's idle sockets)", async () => {
    const r = await both(async (env) => {
      let connections = 0;
      const app = http.createServer((req, res) => res.end(`hi ${req.url}`));
      const srv = env.server.createServer((s) => {
        connections++;
        app.emit('connection', s);
      });
      const port = await listening(env, srv, 0, env.host);
      const agent =
        env.name === 'node'
          ? new http.Agent({ keepAlive: true })
          : new (httpAgent((env as ReturnType<typeof simEnv>).sim.a.net))({ keepAlive: true });
      const bodies: string[] = [];
      for (const path of ['/one', '/two', '/three']) {
        bodies.push(
          await env.drive(
            new Promise<string>((resolve, reject) => {
              http
                .get({ host: env.host, port, path, agent }, (res) => {
                  let b = '';
                  res.on('data', (d) => (b += d));
                  res.on('end', () => resolve(b));
                })
                .on('error', reject);
            }),
          ),
        );
      }
      agent.destroy();
      app.closeAllConnections();
      await env.drive(new Promise((res) => srv.close(res)));
      return { bodies, connections };
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toEqual({ bodies: ['hi /one', 'hi /two', 'hi /three'], connections: 1 });
  });

  /** 200,000 bytes of a pattern no two reads' bytes could fake by being swapped. */
  const onreadPayload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

  it("onread: every read lands in the caller's one buffer and goes to the callback, never to 'data'; then 'end' and 'close'", async () => {
    const r = await both(async (env) => {
      const srv = env.server.createServer((s) => s.end(onreadPayload));
      const port = await listening(env, srv, 0, env.host);
      const sockBuf = Buffer.alloc(8192);
      const got: Buffer[] = [];
      const events: string[] = [];
      let sameBuffer = true;
      const c = env.client.connect({
        port,
        host: env.host,
        onread: {
          buffer: sockBuf,
          callback: (n: number, buf: Uint8Array) => {
            sameBuffer &&= buf === sockBuf && n > 0 && n <= sockBuf.length;
            got.push(Buffer.from(buf.subarray(0, n)));
            return true;
          },
        },
      });
      c.on('data', () => events.push('data'));
      c.on('end', () => events.push('end'));
      await env.drive(new Promise<void>((res) => c.on('close', (hadError) => (events.push(`close hadError=${hadError}`), res()))));
      await env.drive(new Promise((res) => srv.close(res)));
      return { sameBuffer, intact: Buffer.concat(got).equals(onreadPayload), severalReads: got.length > 1, events, bytesRead: c.bytesRead };
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toEqual({ sameBuffer: true, intact: true, severalReads: true, events: ['end', 'close hadError=false'], bytesRead: 200_000 });
  });

  it('onread with a buffer function: asked once before the first read and after each, and each read fills the last one given', async () => {
    const r = await both(async (env) => {
      const srv = env.server.createServer((s) => s.end(onreadPayload));
      const port = await listening(env, srv, 0, env.host);
      const bufs = [Buffer.alloc(4096), Buffer.alloc(6000)];
      let asked = 0;
      let given: Buffer | null = null;
      let reads = 0;
      let filledLastGiven = true;
      const got: Buffer[] = [];
      const c = env.client.connect({
        port,
        host: env.host,
        onread: {
          buffer: () => (given = bufs[asked++ % 2]!),
          callback: (n: number, buf: Uint8Array) => {
            reads++;
            filledLastGiven &&= buf === given && n <= buf.length;
            got.push(Buffer.from(buf.subarray(0, n)));
            return true;
          },
        },
      });
      await env.drive(new Promise((res) => c.on('close', res)));
      await env.drive(new Promise((res) => srv.close(res)));
      return { askedOncePerReadPlusOne: asked === reads + 1, filledLastGiven, intact: Buffer.concat(got).equals(onreadPayload) };
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim).toEqual({ askedOncePerReadPlusOne: true, filledLastGiven: true, intact: true });
  });
});

/** Several times a receive buffer, so that a reader that stops leaves the sender held by the window. */
const onreadPayloadBig = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => (i * 13 + (i >> 9)) & 0xff));

/**
 * A client reading `onreadPayloadBig` through `onread` from a server that sends it and
 * closes; `step(reads, c)` runs in each callback and gives its return value.
 */
async function onreadReader(step: (reads: number, c: nodeNet.Socket) => boolean) {
  const env = simEnv();
  const srv = env.server.createServer((s) => s.end(onreadPayloadBig));
  const port = await listening(env, srv, 0, env.host);
  const r = { env, srv, reads: 0, got: [] as Buffer[], c: null as unknown as nodeNet.Socket };
  r.c = env.client.connect({
    port,
    host: env.host,
    onread: {
      buffer: Buffer.alloc(16384),
      callback: (n: number, buf: Uint8Array) => {
        r.got.push(Buffer.from(buf.subarray(0, n)));
        return step(++r.reads, r.c);
      },
    },
  });
  return r;
}

describe('onread on the stack (on the simulated clock)', () => {
  it('a callback returning false stops reading: the peer is held by the closed window until resume(), and nothing is lost', async () => {
    const r = await onreadReader((reads) => reads > 1); // the first read stops the reading
    let ended = false;
    r.c.on('end', () => (ended = true));
    await r.env.sim.net.runFor(2_000);
    expect(r.reads).toBe(1);
    expect(ended).toBe(false);
    // The stack kept receiving into the connection's buffer until the window closed.
    const info = (r.c as unknown as TcpStream).info()!;
    expect(info.recvQueue).toBeGreaterThan(0);
    expect(info.rcvWnd).toBe(0);
    r.c.resume();
    await r.env.drive(new Promise((res) => r.c.on('close', res)));
    expect(ended).toBe(true);
    expect(Buffer.concat(r.got).equals(onreadPayloadBig)).toBe(true);
    await r.env.drive(new Promise((res) => r.srv.close(res)));
  });

  it('pause() stops the reads and resume() restarts them, as with a paused data stream', async () => {
    const r = await onreadReader((reads, c) => {
      if (reads === 2) c.pause();
      return true;
    });
    await r.env.sim.net.runFor(2_000);
    expect(r.reads).toBe(2);
    r.c.resume();
    await r.env.drive(new Promise((res) => r.c.on('close', res)));
    expect(Buffer.concat(r.got).equals(onreadPayloadBig)).toBe(true);
    await r.env.drive(new Promise((res) => r.srv.close(res)));
  });

  it('a malformed onread is a TypeError at once (Node ignores it and emits data instead); a buffer function giving no buffer destroys the socket', async () => {
    const env = simEnv();
    const connect = env.client.connect as (o: object) => nodeNet.Socket;
    expect(() => connect({ port: 1, host: env.host, onread: { buffer: Buffer.alloc(16) } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('options.onread.callback') }),
    );
    expect(() => connect({ port: 1, host: env.host, onread: { buffer: Buffer.alloc(0), callback: () => {} } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('non-empty Uint8Array') }),
    );
    const srv = env.server.createServer((s) => s.end('hello'));
    const port = await listening(env, srv, 0, env.host);
    const c = connect({ port, host: env.host, onread: { buffer: () => 'not a buffer', callback: () => {} } });
    const err = await env.drive(new Promise<NodeJS.ErrnoException>((res) => c.on('error', res)));
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toContain('options.onread.buffer()');
    await env.drive(new Promise((res) => srv.close(res)));
  });
});

describe('node:dgram parity', () => {
  it("send's forms: (msg, port, host), the offset form, an array as one datagram, strings; callbacks get the byte count", async () => {
    const r = await both(async (env) => {
      const got: string[] = [];
      const server = env.serverDgram.createSocket('udp4');
      await env.drive(new Promise<void>((res) => server.bind(0, env.host, () => res())));
      const port = server.address().port;
      server.on('message', (m, rinfo) => got.push(`${m.toString()} (${rinfo.size} ${rinfo.family})`));
      const client = env.clientDgram.createSocket('udp4');
      const sent: string[] = [];
      const cb = (err: Error | null, n: number): void => void sent.push(`${err?.message ?? 'ok'} ${n}`);
      client.send(Buffer.from('plain'), port, env.host, cb);
      client.send(Buffer.from('xxOFFSETyy'), 2, 6, port, env.host, cb);
      client.send([Buffer.from('arr'), 'ay', new Uint8Array([0x21])], port, env.host, cb);
      client.send('string', port, env.host, cb);
      await env.drive(
        new Promise<void>((res) => {
          const t = (): void => void (got.length >= 4 ? res() : setImmediate(t));
          server.on('message', () => got.length >= 4 && res());
          t();
        }),
      );
      const errs: string[] = [];
      for (const bad of [[Buffer.from('x'), 0, env.host], [Buffer.from('x'), 70000, env.host], [Buffer.from('x'), 0, 5, port, env.host]]) {
        try {
          (client.send as (...a: unknown[]) => void)(...bad);
          errs.push('no throw');
        } catch (e) {
          errs.push(`${(e as Error).name} ${(e as NodeJS.ErrnoException).code}`);
        }
      }
      client.close();
      server.close();
      return { got: got.sort(), sent, errs };
    });
    expect(r.sim).toEqual(r.node);
    expect(r.sim.got).toEqual(['OFFSET (6 IPv4)', 'array! (6 IPv4)', 'plain (5 IPv4)', 'string (6 IPv4)']);
  });

  it('bind(port, cb), bind({ port }), connect/disconnect and remoteAddress', async () => {
    const r = await both(async (env) => {
      const out: string[] = [];
      const a = env.serverDgram.createSocket('udp4');
      await env.drive(new Promise<void>((res) => a.bind({ port: 0, address: env.host }, () => res())));
      const b = env.clientDgram.createSocket('udp4');
      await env.drive(new Promise<void>((res) => b.bind(0, () => res())));
      out.push(`bound ${b.address().family} ${b.address().port > 0}`);
      await env.drive(new Promise<void>((res) => b.connect(a.address().port, env.host, () => res())));
      out.push(`remote ${b.remoteAddress().port === a.address().port}`);
      b.disconnect();
      try {
        b.remoteAddress();
      } catch (e) {
        out.push(`after disconnect: ${(e as NodeJS.ErrnoException).code}`);
      }
      a.close();
      b.close();
      return out;
    });
    expect(r.sim).toEqual(r.node);
  });
});

describe('ref/unref: what keeps the process alive', () => {
  it('a BSD facade socket holds the host while open (as a Python program runs while it waits), until unref() or close()', async () => {
    const { net, a, b } = SimNetwork.pair();
    const l = b.api.socket(AF_INET, SOCK_STREAM);
    expect(b.alive.alive).toBe(true);
    l.bind(['', 7]);
    l.listen(1);
    expect(l.unref()).toBe(l);
    expect(b.alive.alive).toBe(false);
    l.ref();
    expect(b.alive.alive).toBe(true);
    const c = a.api.socket(AF_INET, SOCK_STREAM);
    const accepted = l.accept();
    await net.until(c.connect(['10.7.0.2', 7]));
    const [srv] = (await net.until(accepted)) as Awaited<typeof accepted>;
    // Closed with data the peer has not acknowledged yet: held until it is, so that a
    // program ending right after close() does not lose what it sent.
    await net.until(c.send(new Uint8Array(1000)));
    c.close();
    expect(a.alive.alive).toBe(true);
    await net.runFor(50);
    expect(a.alive.alive).toBe(false);
    srv.close();
    l.close();
    await net.runFor(50);
    expect(b.alive.alive).toBe(false);
    // The net face's sockets are held by the face alone: unref() on the stream lets go.
    const u = a.api.socket(AF_INET, SOCK_DGRAM);
    expect(a.alive.alive).toBe(true);
    u.close();
    expect(a.alive.alive).toBe(false);
  });

  it('open, ref’ed sockets and servers hold the host; unref and close let it go', async () => {
    const { net, a, b } = SimNetwork.pair();
    expect(a.alive.alive).toBe(false);
    const srv: TcpServer = b.net.createServer((s) => s.pipe(s));
    srv.listen(7);
    expect(b.alive.alive).toBe(true);
    srv.unref();
    expect(b.alive.alive).toBe(false);
    srv.ref();
    expect(b.alive.alive).toBe(true);
    const c: TcpStream = a.net.connect(7, '10.7.0.2');
    expect(a.alive.alive).toBe(true);
    c.unref();
    expect(a.alive.alive).toBe(false);
    c.ref();
    await net.until(new Promise((r) => c.once('connect', r)));
    c.destroy();
    // Closed, but its FIN is not acknowledged yet: like a kernel socket, the connection
    // still holds the process until what it was given is delivered.
    expect(a.alive.alive).toBe(true);
    await net.runFor(10);
    expect(a.alive.alive).toBe(false);
    const u = a.dgram.createSocket('udp4');
    u.bind(0);
    expect(a.alive.alive).toBe(true); // the UDP socket
    u.unref();
    expect(a.alive.alive).toBe(false);
    u.close();
    srv.close();
    await net.runFor(10);
    expect(b.alive.alive).toBe(false);
  });

  it('unref() before connect() holds; a UDP socket closed right after send() or connect() lets go', async () => {
    const { net, a, b } = SimNetwork.pair();
    b.net.createServer((s) => s.pipe(s)).listen(7).unref();
    const c = new a.net.Socket();
    c.unref();
    c.connect(7, '10.7.0.2');
    expect(a.alive.alive).toBe(false);
    await net.until(new Promise((r) => c.once('connect', r)));
    expect(a.alive.alive).toBe(false);
    c.destroy();
    const u = a.dgram.createSocket('udp4');
    u.send('x', 9, '10.7.0.2');
    u.close();
    const v = a.dgram.createSocket('udp4');
    v.connect(9, '10.7.0.2');
    v.close();
    await net.runFor(100);
    expect(a.alive.alive).toBe(false);
  });

  it('a closed socket whose peer went silent holds the process 30 s at most; unref() lets go at once', async () => {
    const { net, a, b } = SimNetwork.pair();
    b.net.createServer((s) => s.resume()).listen(9);
    const c = a.net.connect(9, '10.7.0.2');
    await net.until(new Promise((r) => c.once('connect', r)));
    a.link.peer = null; // the wire is cut: nothing a sends arrives any more
    c.end('never acknowledged');
    c.destroy();
    const t0 = net.clock.now();
    await net.runFor(29_000);
    expect(a.alive.alive).toBe(true);
    await net.runFor(2_000);
    expect(net.clock.now() - t0).toBeGreaterThanOrEqual(31_000);
    expect(a.alive.alive).toBe(false);
    const d = a.net.connect(9, '10.7.0.2'); // (its SYN goes nowhere either)
    d.on('error', () => {});
    await net.runFor(1);
    d.destroy();
    d.unref();
    expect(a.alive.alive).toBe(false);
  });

  it('listen({ signal }): aborting closes the server; a later listen is not affected', async () => {
    const { net, b } = SimNetwork.pair();
    const ac = new AbortController();
    const srv = b.net.createServer();
    srv.listen({ port: 7000, signal: ac.signal });
    await net.runFor(1);
    expect(srv.listening).toBe(true);
    ac.abort();
    await net.runFor(1);
    expect(srv.listening).toBe(false);
    srv.listen(7001);
    ac.abort();
    await net.runFor(1);
    expect(srv.listening).toBe(true);
    srv.close();
    const early = b.net.createServer();
    const closed = new Promise((r) => early.on('close', r));
    early.listen({ port: 7002, signal: AbortSignal.abort() });
    await net.until(closed);
    expect(early.listening).toBe(false);
  });

  it('a closed socket with data still in flight holds the process until it is delivered, then lets go', async () => {
    const { net, a, b } = SimNetwork.pair();
    let got = 0;
    b.net.createServer((s) => s.on('data', (d: Buffer) => (got += d.length))).listen(9);
    const c = a.net.connect(9, '10.7.0.2');
    await net.until(new Promise((r) => c.once('connect', r)));
    c.end(Buffer.alloc(200_000, 1));
    await net.until(new Promise((r) => c.once('finish', r)));
    c.destroy();
    expect(a.alive.alive).toBe(true); // 200,000 bytes queued, not yet acknowledged
    await net.runFor(5000);
    expect(got).toBe(200_000);
    expect(a.alive.alive).toBe(false);
  });

  it('writes and end() while connecting fail with ERR_SOCKET_CLOSED_BEFORE_CONNECTION when the connect does; connect() after destroy() is refused', async () => {
    const { net, a } = SimNetwork.pair();
    const c = a.net.connect(4444, '10.7.0.2'); // nothing listens
    const results: string[] = [];
    c.on('error', () => {});
    c.write('a', (e) => results.push(`write: ${(e as NodeJS.ErrnoException | null)?.code}`));
    await net.until(new Promise((r) => c.on('close', r)));
    expect(results).toEqual(['write: ERR_SOCKET_CLOSED_BEFORE_CONNECTION']);
    const d = a.net.connect(4444, '10.7.0.2');
    d.on('error', () => {});
    const ended: string[] = [];
    d.end('b', () => ended.push('end callback'));
    d.on('finish', () => ended.push('finish'));
    await net.until(new Promise((r) => d.on('close', r)));
    expect(ended).toEqual(['end callback']); // called (as Node's), but the FIN never went: no 'finish'
    expect(d.writableFinished).toBe(false);
    expect(() => c.connect(4444, '10.7.0.2')).toThrow(/Socket is closed/);
    expect(a.alive.alive).toBe(false);
  });

  it('the faces are typed as net.Socket and net.Server (no casts for ws, http, tls)', () => {
    const { a } = SimNetwork.pair();
    const s: nodeNet.Socket = a.net.connect(7, '10.7.0.2');
    const srv: nodeNet.Server = a.net.createServer();
    s.on('error', () => {});
    s.destroy();
    expect(srv.listening).toBe(false);
  });
});
