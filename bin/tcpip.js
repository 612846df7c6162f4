#!/usr/bin/env node
// The `tcpip` command. The TypeScript is compiled to dist/ by `npm run build` (which
// `npm install` runs in a checkout; the published package ships it built).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error(
    'tcpip: dist/ is missing, so there is nothing to run. In a checkout of the repository run `npm install` ' +
      '(or `npm run build`); an installed package ships dist/ built, so reinstall it (npm install tcpip-ts).',
  );
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
