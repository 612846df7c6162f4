/**
 * Names (src/socket/names.ts): gethostname, local names, the hosts table, and the DNS stub
 * resolver (RFC 1035) against a server played by another simulated host, on the manual clock.
 */
import { describe, expect, it } from 'vitest';
import { readU16, writeU16, writeU32 } from '../../src/core/bytes.js';
import { parseIpv4 } from '../../src/ip/address.js';
import { encodeQuery, parseAnswer } from '../../src/dns/message.js';
import { AF_INET, SOCK_DGRAM, SOCK_STREAM } from '../../src/socket/constants.js';
import { SocketApi } from '../../src/socket/socket-api.js';
import { netFace } from '../../src/socket/net.js';
import { SimNetwork, type SimHost } from '../../src/sim/sim-network.js';

/** Hosts a (10.7.0.1, the resolver's) and b (10.7.0.2), which plays the name server too. */
function setup(names: ConstructorParameters<typeof SocketApi>[1] = {}): { net: SimNetwork; a: SimHost; b: SimHost; dns: SimHost; api: SocketApi } {
  const { net, a, b } = SimNetwork.pair();
  const api = new SocketApi(a.host, { nameservers: ['10.7.0.2'], dnsTimeoutMs: 1000, dnsAttempts: 2, ...names });
  return { net, a, b, dns: b, api };
}

interface Zone {
  [name: string]: { a?: string[]; cname?: string; nx?: boolean; servfail?: boolean };
}

/** Builds the answer to `q` from `zone` (compression pointer to the question's name). */
function answer(q: Uint8Array, zone: Zone): Uint8Array {
  // The question name.
  let o = 12;
  const labels: string[] = [];
  while (q[o]! !== 0) {
    labels.push(String.fromCharCode(...q.subarray(o + 1, o + 1 + q[o]!)));
    o += 1 + q[o]!;
  }
  const qend = o + 5;
  const name = labels.join('.').toLowerCase();
  const rrs: Uint8Array[] = [];
  let rcode = 0;
  let cur = name;
  let ownerPtr: number[] = [0xc0, 12];
  for (let hop = 0; hop < 10; hop++) {
    const z = zone[cur];
    if (!z || z.nx) {
      if (hop === 0) rcode = 3;
      break;
    }
    if (z.servfail) {
      rcode = 2;
      break;
    }
    if (z.cname) {
      const target = z.cname.split('.').flatMap((l) => [l.length, ...[...l].map((c) => c.charCodeAt(0))]).concat(0);
      const rr = new Uint8Array(ownerPtr.length + 10 + target.length);
      rr.set(ownerPtr, 0);
      writeU16(rr, ownerPtr.length, 5);
      writeU16(rr, ownerPtr.length + 2, 1);
      writeU32(rr, ownerPtr.length + 4, 300);
      writeU16(rr, ownerPtr.length + 8, target.length);
      rr.set(target, ownerPtr.length + 10);
      rrs.push(rr);
      ownerPtr = target;
      cur = z.cname.toLowerCase();
      continue;
    }
    for (const addr of z.a ?? []) {
      const rr = new Uint8Array(ownerPtr.length + 14);
      rr.set(ownerPtr, 0);
      writeU16(rr, ownerPtr.length, 1);
      writeU16(rr, ownerPtr.length + 2, 1);
      writeU32(rr, ownerPtr.length + 4, 60);
      writeU16(rr, ownerPtr.length + 8, 4);
      writeU32(rr, ownerPtr.length + 10, parseIpv4(addr));
      rrs.push(rr);
    }
    break;
  }
  const out = new Uint8Array(qend + rrs.reduce((n, r) => n + r.length, 0));
  out.set(q.subarray(0, qend), 0);
  writeU16(out, 2, 0x8180 | rcode);
  writeU16(out, 6, rrs.length);
  let at = qend;
  for (const r of rrs) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** A name server on `h` port 53; `mangle` may change or drop (null) each answer. Returns the queries it saw. */
function serve(h: SimHost, zone: Zone, mangle?: (a: Uint8Array, q: Uint8Array, n: number, from: import("../../src/socket/address.js").SockAddr) => Uint8Array | Uint8Array[] | null): { queries: { id: number; port: number }[] } {
  const seen: { id: number; port: number }[] = [];
  const s = h.api.socket(AF_INET, SOCK_DGRAM);
  s.bind(['', 53]);
  void (async () => {
    for (;;) {
      let q: Uint8Array;
      let from: import("../../src/socket/address.js").SockAddr;
      try {
        [q, from] = await s.recvfrom(4096);
      } catch {
        return;
      }
      seen.push({ id: readU16(q, 0), port: from[1] });
      const a = answer(q, zone);
      const out = mangle ? mangle(a, q, seen.length, from) : a;
      if (out === null) continue;
      for (const x of Array.isArray(out) ? out : [out]) await s.sendto(x, from);
    }
  })();
  return { queries: seen };
}

describe('names without DNS', () => {
  it('gethostname is the host name given, or the device name; an invalid one is refused', () => {
    const { a } = SimNetwork.pair();
    expect(a.api.gethostname()).toBe('a');
    expect(new SocketApi(a.host, { hostName: 'box-7' }).gethostname()).toBe('box-7');
    expect(() => new SocketApi(a.host, { hostName: 'bad_name!' })).toThrow(/not a valid name/);
    expect(() => new SocketApi(a.host, { hosts: { printer: 'not-an-ip' } })).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => new SocketApi(a.host, { nameservers: ['10.7.0.x'] })).toThrow(/not an IPv4 address/);
  });

  it('localhost, the host name, the hosts table and numbers resolve at once', async () => {
    const { net, a } = SimNetwork.pair();
    const api = new SocketApi(a.host, { hostName: 'alpha', hosts: { 'Printer.LAN': '10.7.0.9' } });
    expect(await net.until(api.gethostbyname('localhost'))).toBe('127.0.0.1');
    expect(await net.until(api.gethostbyname('alpha'))).toBe('10.7.0.1');
    expect(await net.until(api.gethostbyname('printer.lan'))).toBe('10.7.0.9');
    expect(await net.until(api.gethostbyname('10.1.2.3'))).toBe('10.1.2.3');
    await expect(net.until(api.gethostbyname('nowhere.example'))).rejects.toMatchObject({ code: 'EAI_NONAME', errno: -2 });
    expect(await net.until(api.getaddrinfo('alpha', 80))).toEqual([
      [AF_INET, SOCK_STREAM, 6, '', ['10.7.0.1', 80]],
      [AF_INET, SOCK_DGRAM, 17, '', ['10.7.0.1', 80]],
    ]);
    expect(await net.until(api.getaddrinfo(null, '8080', 0, SOCK_STREAM))).toEqual([[AF_INET, SOCK_STREAM, 6, '', ['0.0.0.0', 8080]]]);
    await expect(net.until(api.getaddrinfo('alpha', 'http'))).rejects.toMatchObject({ code: 'EAI_SERVICE' });
  });

  it("the tutorial's server binds gethostname(); a client on the same stack connects to it by name (through the loopback interface)", async () => {
    const { net, a } = SimNetwork.pair();
    const api = a.api;
    const srv = api.socket(AF_INET, SOCK_STREAM);
    srv.bind([api.gethostname(), 9999]);
    srv.listen(5);
    const acc = srv.accept();
    const cli = api.socket(AF_INET, SOCK_STREAM);
    await net.until(cli.connect([api.gethostname(), 9999]));
    const [conn] = await net.until(acc);
    await net.until(conn.send('hello'));
    expect(Buffer.from(await net.until(cli.recv(100))).toString()).toBe('hello');
    expect(a.stack.ip.counters.sent).toBe(a.stack.ip.counters.loopback);
  });

  it('bind refuses a name the host does not know (EAI_NONAME) and an address not its own (EADDRNOTAVAIL)', () => {
    const { a } = SimNetwork.pair();
    const s = a.api.socket(AF_INET, SOCK_STREAM);
    expect(() => s.bind(['elsewhere.example', 80])).toThrow(expect.objectContaining({ code: 'EAI_NONAME' }));
    expect(() => s.bind(['10.7.0.99', 80])).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    s.bind(['127.0.0.1', 80]);
  });
});

describe('DNS stub resolver (RFC 1035, RFC 5452)', () => {
  it('resolves an A record, and a name behind CNAMEs', async () => {
    const { net, dns, api } = setup();
    serve(dns, { 'www.example.test': { a: ['10.7.0.2'] }, 'alias.example.test': { cname: 'mid.example.test' }, 'mid.example.test': { cname: 'www.example.test' } });
    expect(await net.until(api.gethostbyname('www.example.test'))).toBe('10.7.0.2');
    expect(await net.until(api.gethostbyname('ALIAS.example.test.'))).toBe('10.7.0.2');
  });

  it('NXDOMAIN is EAI_NONAME at once, without retries', async () => {
    const { net, dns, api } = setup();
    const srv = serve(dns, {});
    await expect(net.until(api.gethostbyname('missing.example.test'))).rejects.toMatchObject({ code: 'EAI_NONAME' });
    expect(srv.queries).toHaveLength(1);
  });

  it('a silent server: EAI_AGAIN after attempts x timeout, each try from a new port with a new ID', async () => {
    const { net, dns, api } = setup();
    const srv = serve(dns, { 'x.test': { a: ['1.2.3.4'] } }, () => null);
    const t0 = net.clock.now();
    await expect(net.until(api.gethostbyname('x.test'))).rejects.toMatchObject({ code: 'EAI_AGAIN', errno: -3 });
    expect(net.clock.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(net.clock.now() - t0).toBeLessThan(2100);
    expect(srv.queries).toHaveLength(2);
    expect(srv.queries[0]!.port).not.toBe(srv.queries[1]!.port);
    expect(srv.queries[0]!.id).not.toBe(srv.queries[1]!.id);
  });

  it('answers with the wrong ID, the wrong question, or malformed are ignored; the real answer is taken (RFC 5452 §9.1)', async () => {
    const { net, dns, api } = setup();
    serve(dns, { 'x.test': { a: ['1.2.3.4'] }, 'y.test': { a: ['6.6.6.6'] } }, (real, q) => {
      const wrongId = real.slice();
      writeU16(wrongId, 0, (readU16(real, 0) + 1) & 0xffff);
      const forged = wrongId.slice();
      forged.set([6, 6, 6, 6], forged.length - 4);
      const otherQuestion = answer(encodeQuery(readU16(q, 0), 'y.test'), { 'y.test': { a: ['6.6.6.6'] } });
      const garbage = real.slice(0, 20);
      const loop = real.slice();
      loop[loop.length - 16] = 0xc0; // a compression pointer pointing at itself
      loop[loop.length - 15] = loop.length - 16;
      return [forged, otherQuestion, garbage, loop, real];
    });
    expect(await net.until(api.gethostbyname('x.test'))).toBe('1.2.3.4');
  });

  it('a datagram from another port of the server is ignored', async () => {
    const { net, dns, api } = setup();
    const other = dns.api.socket(AF_INET, SOCK_DGRAM);
    other.bind(['', 5353]);
    serve(dns, { 'x.test': { a: ['1.2.3.4'] } }, (real, q, n, from) => {
      if (n > 1) return real;
      // The first query's answer comes from port 5353, to the right port with the right ID and question.
      void other.sendto(answer(q, { 'x.test': { a: ['6.6.6.6'] } }), from);
      return null;
    });
    expect(await net.until(api.gethostbyname('x.test'))).toBe('1.2.3.4');
  });

  it('SERVFAIL from the first server: the next is asked', async () => {
    const { net, a, dns } = setup();
    const api = new SocketApi(a.host, { nameservers: ['10.7.0.2', '10.7.0.2'], dnsTimeoutMs: 500, dnsAttempts: 1 });
    const srv = serve(dns, { 'x.test': { a: ['1.2.3.4'] } }, (real, q, n) => (n === 1 ? answer(q, { 'x.test': { servfail: true } }) : real));
    const t0 = net.clock.now();
    expect(await net.until(api.gethostbyname('x.test'))).toBe('1.2.3.4');
    expect(srv.queries).toHaveLength(2);
    expect(net.clock.now() - t0).toBeLessThan(100); // at once, not after a timeout
  });

  it('connect() and the Node face take a name', async () => {
    const { net, a, b, dns } = setup();
    serve(dns, { 'srv.example.test': { a: ['10.7.0.2'] } });
    const api = new SocketApi(a.host, { nameservers: ['10.7.0.2'] });
    const srv = b.api.socket(AF_INET, SOCK_STREAM);
    srv.bind(['', 7000]);
    srv.listen(1);
    const acc = srv.accept();
    const c = api.socket(AF_INET, SOCK_STREAM);
    await net.until(c.connect(['srv.example.test', 7000]));
    const [, peer] = await net.until(acc);
    expect(peer[0]).toBe('10.7.0.1');
    const bad = api.socket(AF_INET, SOCK_STREAM);
    await expect(net.until(bad.connect(['nope.example.test', 7000]))).rejects.toMatchObject({ code: 'EAI_NONAME', syscall: 'connect' });
    // The Node face: a name connects; an unknown one fails as Node's dns.lookup does.
    const face = netFace(api);
    const acc2 = srv.accept();
    const ok = face.connect(7000, 'srv.example.test');
    await net.until(new Promise((r) => ok.once('connect', r)));
    await net.until(acc2);
    const err = await net.until(new Promise<NodeJS.ErrnoException>((r) => face.connect(7000, 'nope.example.test').once('error', r)));
    expect(err).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nope.example.test' });
    ok.destroy();
  });
});

describe('DNS messages', () => {
  it('a query is what RFC 1035 §4.1 lays out', () => {
    const q = encodeQuery(0x1234, 'www.Example.test');
    expect(Buffer.from(q).toString('hex')).toBe('123401000001000000000000037777770745786' + '16d706c6504746573740000010001');
  });

  it('never reads outside the message, whatever the bytes (fuzz)', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 20000; i++) {
      const b = new Uint8Array(Math.floor(rnd() * 80));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
      if (b.length >= 4) { b[0] = 0x12; b[1] = 0x34; b[2] |= 0x80; }
      const r = parseAnswer(b, 0x1234, 'x.test');
      expect(r).toBeDefined();
    }
  });
});
