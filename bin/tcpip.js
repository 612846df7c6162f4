#!/usr/bin/env node
// The `tcpip` command. The TypeScript is compiled to dist/ by `npm install`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('tcpip: not built yet: run `npm install` in the checkout first');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
