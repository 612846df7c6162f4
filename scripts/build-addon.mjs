#!/usr/bin/env node
// Builds the TUN/TAP addon (native/tuntap.c) with node-gyp at `npm install`.
// node-gyp is pointed at the headers of the Node.js that runs this script, so it
// never tries to download them (the machines this project runs on reach only the
// npm registry).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
// npm puts its bundled node-gyp on PATH for lifecycle scripts and names it here too.
// Run by hand, fall back to the node-gyp that ships inside npm.
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const cmd = gyp ? process.execPath : 'node-gyp';
const full = gyp ? [gyp, ...args] : args;
const r = spawnSync(cmd, full, { stdio: 'inherit' });
if (r.error) {
  console.error(`tcpip: could not run node-gyp to build the TUN/TAP addon: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
