/**
 * The load test at a size CI can afford: 2,000 concurrent connections held for 5 s with
 * data flowing. `npm run load -- --conns 100000` runs the full 100,000-for-a-minute version (its
 * last figures are in the README).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, integrationUnavailable } from './harness.js';

const unavailable = integrationUnavailable();

describe.skipIf(unavailable !== null)('load', () => {
  it('2000 concurrent connections echo every message for 5 s', () => {
    const r = spawnSync(process.execPath, [`${ROOT}scripts/load.mjs`, '--conns', '2000', '--seconds', '5', '--interval', '1'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout, r.stderr).toMatch(/load: PASSED/);
    expect(r.stdout).toMatch(/established 2000, errors 0/);
    expect(r.status).toBe(0);
  }, 130_000);
});
