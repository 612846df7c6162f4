/**
 * The demo's HTTP page in a real headless browser (Debian's chromium driven by
 * playwright-core), as a user would see it: the live connection table shows the
 * browser's own connection, and the page refreshes itself with new counters.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationUnavailable, startDemo, uniqueNetns, type Demo } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const unavailable = integrationUnavailable() ?? (existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (Debian package chromium)`);
if (unavailable) console.warn(`browser test skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('the HTTP page in headless Chromium', () => {
  let demo: Demo;
  let dir: string;
  beforeAll(async () => {
    demo = await startDemo(uniqueNetns('browser'), []);
    dir = mkdtempSync(join(tmpdir(), 'tcpip-browser-'));
  });
  afterAll(async () => {
    if (demo) expect((await demo.stop()).code).toBe(0);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows its own connection and refreshes the counters by itself', async () => {
    // The browser must live in the demo's namespace to reach 10.7.0.2: a wrapper enters it.
    const wrapper = join(dir, 'chromium-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${demo.netns} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: wrapper,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto('http://10.7.0.2/', { timeout: 15_000 });
      expect(await page.title()).toBe('tcpip-ts: live');
      const rows = await page.locator('table').first().locator('tr').allInnerTexts();
      expect(rows.some((r) => /ESTABLISHED\s+10\.7\.0\.2:80\s+10\.7\.0\.1:\d+/.test(r))).toBe(true);
      const segsIn = async (): Promise<number> => {
        const text = await page.locator('h3:text("tcp") + table').innerText();
        return Number(/segsIn\s+(\d+)/.exec(text)?.[1] ?? NaN);
      };
      const before = await segsIn();
      expect(before).toBeGreaterThan(0);
      // The page reloads itself every 2 s (meta refresh): wait for the next load.
      await page.waitForEvent('load', { timeout: 10_000 });
      const after = await segsIn();
      expect(after).toBeGreaterThan(before);
      await page.screenshot({ path: join(dir, 'page.png'), fullPage: true });
      if (process.env.TCPIP_SCREENSHOT) await page.screenshot({ path: process.env.TCPIP_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
