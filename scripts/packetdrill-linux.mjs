#!/usr/bin/env node
// Runs Linux's packetdrill scripts (a checkout of github.com/google/packetdrill) through
// our interpreter: npm run packetdrill:linux -- /path/to/packetdrill
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = process.argv[2];
if (!dir || !existsSync(join(dir, 'gtests/net/tcp'))) {
  console.error('usage: npm run packetdrill:linux -- DIR   (DIR: a checkout of https://github.com/google/packetdrill, with gtests/net/tcp)');
  process.exit(2);
}
const r = spawnSync('npx', ['vitest', 'run', '-c', 'test/packetdrill/linux.config.ts', '--reporter', 'dot'], {
  stdio: 'inherit',
  env: { ...process.env, PACKETDRILL_DIR: resolve(dir) },
});
process.exit(r.status ?? 1);
