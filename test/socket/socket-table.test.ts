/**
 * The rest of the tutorials' socket table (../shared/seeds 000): connect_ex, fileno,
 * recv_into, makefile, and readiness with select() and poll(), on the manual clock.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET, POLLHUP, POLLIN, POLLNVAL, POLLOUT, SHUT_WR, SOCK_DGRAM, SOCK_STREAM } from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';

async function connected(): Promise<{ net: SimNetwork; a: ReturnType<typeof SimNetwork.pair>['a']; b: ReturnType<typeof SimNetwork.pair>['b']; cli: StreamSocket; srv: StreamSocket; conn: StreamSocket }> {
  const { net, a, b } = SimNetwork.pair();
  const srv = b.api.socket(AF_INET, SOCK_STREAM);
  srv.bind(['', 9000]);
  srv.listen(5);
  const acc = srv.accept();
  const cli = a.api.socket(AF_INET, SOCK_STREAM);
  await net.until(cli.connect(['10.7.0.2', 9000]));
  const [conn] = await net.until(acc);
  return { net, a, b, cli, srv, conn };
}

describe('connect_ex and fileno', () => {
  it('0 once connected; the errno when refused; EINPROGRESS when non-blocking; a bad name still rejects', async () => {
    const { net, a, b } = SimNetwork.pair();
    const srv = b.api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['', 9000]);
    srv.listen(1);
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    expect(s.fileno()).toBe(s.fd);
    expect(await net.until(s.connect_ex(['10.7.0.2', 9000]))).toBe(0);
    const refused = a.api.socket(AF_INET, SOCK_STREAM);
    expect(await net.until(refused.connect_ex(['10.7.0.2', 9001]))).toBe(111); // ECONNREFUSED
    const nb = a.api.socket(AF_INET, SOCK_STREAM);
    nb.setblocking(false);
    expect(await net.until(nb.connect_ex(['10.7.0.2', 9000]))).toBe(115); // EINPROGRESS
    const named = a.api.socket(AF_INET, SOCK_STREAM);
    await expect(net.until(named.connect_ex(['no.such.name', 80]))).rejects.toMatchObject({ code: 'EAI_NONAME' });
  });
});

describe('recv_into', () => {
  it('copies into the caller\'s buffer, at most nbytes; 0 at end of stream', async () => {
    const { net, cli, conn } = await connected();
    await net.until(cli.sendall('hello world'));
    const buf = new Uint8Array(8).fill(0xee);
    expect(await net.until(conn.recv_into(buf, 5))).toBe(5);
    expect(Buffer.from(buf).toString('latin1')).toBe('hello\xee\xee\xee');
    expect(await net.until(conn.recv_into(buf))).toBe(6);
    expect(Buffer.from(buf.subarray(0, 6)).toString()).toBe(' world');
    cli.shutdown(SHUT_WR);
    expect(await net.until(conn.recv_into(buf))).toBe(0);
    await expect(conn.recv_into(buf, 9)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('UDP: recvfrom_into and recv_into take one datagram, cut to the buffer', async () => {
    const { net, a, b } = SimNetwork.pair();
    const s = b.api.socket(AF_INET, SOCK_DGRAM);
    s.bind(['', 7000]);
    const c = a.api.socket(AF_INET, SOCK_DGRAM);
    await c.sendto('datagram one', ['10.7.0.2', 7000]);
    await c.sendto('two', ['10.7.0.2', 7000]);
    const buf = new Uint8Array(8);
    const [n, from] = await net.until(s.recvfrom_into(buf));
    expect([n, Buffer.from(buf.subarray(0, n)).toString(), from[0]]).toEqual([8, 'datagram', '10.7.0.1']);
    expect(await net.until(s.recv_into(buf))).toBe(3);
  });
});

describe('makefile', () => {
  it('text lines across segments, read(n) in characters across a split UTF-8 sequence, and lines to the end', async () => {
    const { net, cli, conn } = await connected();
    const f = conn.makefile('r');
    const w = cli.makefile('w');
    await w.write('first line\nsec');
    await net.until(w.flush());
    const line1 = net.until(f.readline());
    expect(await line1).toBe('first line\n');
    await net.until(cli.sendall(Buffer.from('ond\n你好, world\nlast')));
    expect(await net.until(f.readline())).toBe('second\n');
    expect(await net.until(f.read(3))).toBe('你好,');
    cli.shutdown(SHUT_WR);
    const rest: (string | Uint8Array)[] = [];
    await net.until((async () => {
      for await (const l of f) rest.push(l);
    })());
    expect(rest).toEqual([' world\n', 'last']);
    expect(await net.until(f.readline())).toBe('');
  });

  it('binary: read(n) waits for n bytes; read() to the end; writes buffer until flush', async () => {
    const { net, cli, conn } = await connected();
    const r = conn.makefile('rb');
    const w = cli.makefile('wb');
    await w.write(new Uint8Array([1, 2, 3]));
    await net.runFor(100);
    expect(conn.pollEvents() & POLLIN).toBe(0); // still in the write buffer
    await net.until(w.flush());
    await net.until(w.write(new Uint8Array([4, 5])));
    const five = net.until(r.read(5));
    await net.until(w.close()); // flushes
    expect([...((await five) as Uint8Array)]).toEqual([1, 2, 3, 4, 5]);
    await net.until(cli.sendall(new Uint8Array([6, 7])));
    cli.shutdown(SHUT_WR);
    expect([...((await net.until(r.read())) as Uint8Array)]).toEqual([6, 7]);
    await expect(w.write('x')).rejects.toMatchObject({ code: 'EBADF' });
    await expect(r.write('x')).rejects.toMatchObject({ code: 'EBADF' });
    expect(() => conn.makefile('rx')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('select and poll', () => {
  it('select: readable on data, on a waiting connection, and at end of stream; writable once connected; a timeout on the stack clock', async () => {
    const { net, a, b, cli, srv, conn } = await connected();
    // Nothing to read yet: a 1.5 s timeout returns empty lists 1.5 s later (simulated).
    const t0 = net.clock.now();
    expect(await net.until(a.api.select([cli], [], [], 1.5))).toEqual([[], [], []]);
    expect(net.clock.now() - t0).toBe(1500);
    // Writable at once; readable when data comes.
    expect(await net.until(a.api.select([cli], [cli], [], 0))).toEqual([[], [cli], []]);
    const wait = a.api.select([cli], [], []);
    await net.until(conn.sendall('x'));
    expect(await net.until(wait)).toEqual([[cli], [], []]);
    // A listener is readable when a connection waits for accept().
    const other = a.api.socket(AF_INET, SOCK_STREAM);
    expect(await net.until(b.api.select([srv], [], [], 0))).toEqual([[], [], []]);
    await net.until(other.connect(['10.7.0.2', 9000]));
    expect(await net.until(b.api.select([srv], [], [], 1))).toEqual([[srv], [], []]);
    // Descriptors work as well as sockets; a closed one is EBADF.
    expect(await net.until(a.api.select([cli.fd], [], [], 0))).toEqual([[cli.fd], [], []]);
    other.close();
    await expect(a.api.select([other], [], [], 0)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('the non-blocking connect idiom: writable once the handshake completes', async () => {
    const { net, a, b } = SimNetwork.pair();
    const srv = b.api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['', 9000]);
    srv.listen(1);
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    s.setblocking(false);
    expect(await net.until(s.connect_ex(['10.7.0.2', 9000]))).toBe(115);
    expect(s.pollEvents()).toBe(0); // SYN-SENT: neither
    const [, w] = await net.until(a.api.select([], [s], [], 5));
    expect(w).toEqual([s]);
  });

  it('poll: POLLIN on data, POLLHUP and POLLIN when the peer resets, POLLNVAL once closed; modify and unregister', async () => {
    const { net, a, cli, conn } = await connected();
    const p = a.api.poll();
    p.register(cli, POLLIN);
    expect(await net.until(p.poll(100))).toEqual([]);
    await net.until(conn.sendall('data'));
    expect(await net.until(p.poll())).toEqual([[cli.fd, POLLIN]]);
    p.modify(cli, POLLIN | POLLOUT);
    expect(await net.until(p.poll(0))).toEqual([[cli.fd, POLLIN | POLLOUT]]);
    conn.setsockopt(1, 13, { onoff: true, linger: 0 }); // SO_LINGER 0: close resets
    conn.close();
    await net.runFor(10);
    const [[fd, ev]] = (await net.until(p.poll(0))) as [[number, number]];
    expect(fd).toBe(cli.fd);
    expect(ev & POLLHUP).toBe(POLLHUP);
    cli.close();
    expect(await net.until(p.poll(0))).toEqual([[cli.fd, POLLNVAL]]);
    p.unregister(cli);
    expect(() => p.unregister(cli)).toThrow();
  });
});
