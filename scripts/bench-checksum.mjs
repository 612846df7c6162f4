#!/usr/bin/env node
// Measures the Internet checksum over 1500-byte packets: the aligned 32-bit-word path
// and the byte loop (npm run build first).
import { sumBytes, sumBytesSlow, finishChecksum } from '../dist/src/ip/checksum.js';

const buf = new Uint8Array(1 << 20);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
const N = 200_000;
for (const [name, fn, off] of [['aligned 32-bit words', sumBytes, 0], ['byte loop', sumBytesSlow, 0], ['unaligned (falls back)', sumBytes, 2]]) {
  let x = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < N; k++) x ^= finishChecksum(fn(buf, off + ((k * 1504) % 900000), 1500));
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${name.padEnd(24)} ${ns.toFixed(0).padStart(6)} ns per 1500 bytes  (${(1500 / ns).toFixed(2)} GB/s)  ${x}`);
}
