#!/usr/bin/env node
// One loopback measurement for `npm run bench`: a server and a client in this process,
// talking over 127.0.0.1 either through the stack's own loopback interface (a stack on a
// device that carries nothing: every byte goes round inside the stack) or through the
// kernel's (Node's own sockets). Prints one JSON line: { value, unit }.
//   node scripts/loopback-bench.mjs --on stack|kernel --test bulk|rr --seconds 3
import nodeNet from 'node:net';
import { parseArgs } from 'node:util';
import { createStack } from '../dist/src/index.js';

const { values } = parseArgs({ options: { on: { type: 'string', default: 'stack' }, test: { type: 'string', default: 'bulk' }, seconds: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);

let net = nodeNet;
let host = null;
if (values.on === 'stack') {
  // A device with nothing on the other end: loopback traffic never reaches it.
  const link = { name: 'null0', medium: 'ip', mtu: 1500, mac: null, send() {}, flush() {}, setReceiver() {}, close: async () => {} };
  host = createStack({ link, addr: '10.99.0.2/24' });
  net = host.net;
}

function done(result) {
  console.log(JSON.stringify(result));
  process.exit(0);
}

if (values.test === 'bulk') {
  // The client writes 1 MiB chunks for SECONDS; the server counts what arrives.
  let got = 0;
  let t0 = 0n;
  const server = net.createServer((s) => {
    s.on('data', (d) => { got += d.length; });
    s.on('error', () => {});
  });
  server.listen(9, '127.0.0.1', () => {
    const buf = Buffer.alloc(1 << 20, 7);
    let stop = false;
    const c = net.connect(9, '127.0.0.1', () => {
      t0 = process.hrtime.bigint();
      setTimeout(() => {
        stop = true;
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        done({ value: (got * 8) / ms / 1e6, unit: 'Gbit/s' });
      }, SECONDS * 1000);
      const pump = () => {
        while (!stop) if (!c.write(buf)) return c.once('drain', pump);
      };
      pump();
    });
    c.on('error', (e) => done({ error: e.message }));
  });
} else {
  // 1-byte ping-pong, no Nagle, for SECONDS.
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  server.listen(7, '127.0.0.1', () => {
    let n = 0;
    let t0 = 0n;
    const one = Buffer.from('x');
    const c = net.connect(7, '127.0.0.1', () => {
      c.setNoDelay(true);
      t0 = process.hrtime.bigint();
      c.write(one);
    });
    c.on('data', (d) => {
      n += d.length;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms >= SECONDS * 1000) done({ value: (n / ms) * 1000, unit: 'transactions/s' });
      c.write(one);
    });
    c.on('error', (e) => done({ error: e.message }));
  });
}
