#!/usr/bin/env node
// Long runs of the model-based TCP property (test/sim/tcp-model.test.ts):
//   npm run soak -- --runs 100000 [--seed N]
// Prints the outcome and, on a failure, the command that replays the counterexample.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('soak: --runs must be a positive integer');
  process.exit(2);
}
const env = { ...process.env, TCPIP_SIM_RUNS: String(runs) };
if (values.seed) env.TCPIP_SIM_SEED = values.seed;
const t0 = Date.now();
console.log(`soak: ${runs} simulated runs of the TCP model property...`);
const r = spawnSync('npx', ['vitest', 'run', 'test/sim/tcp-model.test.ts'], { env, stdio: 'inherit' });
const secs = ((Date.now() - t0) / 1000).toFixed(0);
console.log(`soak: ${r.status === 0 ? 'PASSED' : 'FAILED'}: ${runs} runs in ${secs} s (${new Date().toISOString()})`);
process.exit(r.status ?? 1);
