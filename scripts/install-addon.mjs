#!/usr/bin/env node
// The package's install step: makes the TUN/TAP addon (native/tuntap.c) available.
//  1. A prebuilt binary shipped for this platform (prebuilds/<platform>-<arch>/, the
//     prebuildify layout) that loads here: nothing to build.
//  2. Otherwise node-gyp builds it, pointed at the headers of the Node.js that runs this
//     script, so it never downloads them (the machines this project runs on reach only
//     the npm registry).
//  3. If that fails too (no compiler), the install still succeeds: the simulator and
//     every in-memory link work; opening a device then fails with a message saying what
//     to install.
// `--build` (npm run build:addon) always builds; `--prebuild` (prepack) copies the build
// into prebuilds/ for `npm pack`, building first unless the build is newer than its source.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const forceBuild = args.includes('--build') || args.includes('--prebuild') || process.env.TCPIP_TS_BUILD_FROM_SOURCE === '1';
const platformDir = `${process.platform}-${process.arch}`;
const prebuilt = join(root, 'prebuilds', platformDir, 'tcpip-ts.napi.node');
const built = join(root, 'build', 'Release', 'tuntap.node');
const require = createRequire(import.meta.url);

function loads(file) {
  try {
    require(file);
    return true;
  } catch {
    return false;
  }
}

if (process.platform !== 'linux') {
  console.warn(`tcpip-ts: no TUN/TAP addon on ${process.platform} (Linux only); the simulator and in-memory links work.`);
  process.exit(0);
}

function copyPrebuild() {
  mkdirSync(dirname(prebuilt), { recursive: true });
  copyFileSync(built, prebuilt);
  console.log(`tcpip-ts: prebuilt addon written to prebuilds/${platformDir}/`);
}

const newer = (a, b) => existsSync(a) && statSync(a).mtimeMs >= statSync(join(root, b)).mtimeMs;
if (args.includes('--prebuild') && newer(built, 'native/tuntap.c') && newer(built, 'binding.gyp') && loads(built)) {
  copyPrebuild();
  process.exit(0);
}

if (!forceBuild && existsSync(prebuilt) && loads(prebuilt)) {
  console.log(`tcpip-ts: using the prebuilt TUN/TAP addon for ${platformDir}`);
  process.exit(0);
}

const prefix = dirname(dirname(process.execPath));
const gypArgs = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) gypArgs.push(`--nodedir=${prefix}`);
// npm puts its bundled node-gyp on PATH for lifecycle scripts and names it here too.
// Run by hand, fall back to the node-gyp that ships inside npm.
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...gypArgs], { stdio: 'inherit', cwd: root })
  : spawnSync('node-gyp', gypArgs, { stdio: 'inherit', cwd: root });

if (r.status === 0 && existsSync(built)) {
  if (args.includes('--prebuild')) copyPrebuild();
  process.exit(0);
}
const why = r.error ? r.error.message : `node-gyp exited with ${r.status}`;
if (forceBuild) {
  console.error(`tcpip-ts: building the TUN/TAP addon failed (${why})`);
  process.exit(1);
}
console.warn(
  `tcpip-ts: the TUN/TAP addon could not be built (${why}) and no prebuilt binary fits ${platformDir}.\n` +
    '  The package is installed: the simulator and in-memory links work. To open TUN/TAP devices,\n' +
    '  install python3, make and a C compiler (Debian: apt-get install python3 make g++), then\n' +
    '  run `npm rebuild tcpip-ts`.',
);
process.exit(0);
