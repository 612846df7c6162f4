#!/usr/bin/env node
// Runs Linux's packetdrill scripts (a checkout of github.com/google/packetdrill) through
// our interpreter: npm run packetdrill:linux -- /path/to/packetdrill [--ip_version=ipv6|ipv4-mapped-ipv6]
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
  env: { ...process.env, PACKETDRILL_DIR: resolve(dir), PACKETDRILL_IP_VERSION: (process.argv.find((a) => a.startsWith('--ip_version=')) ?? '').slice('--ip_version='.length) },
});
process.exit(r.status ?? 1);
