/**
 * The lesson pages in a real headless browser (Debian's chromium, driven by playwright-core):
 * the step-through works (next/prev, the panel shows the segment and both states, later
 * arrows dimmed), and screenshots are written to test-results/ladder-*.png for a person to
 * look at. Needs /usr/bin/chromium (CI installs it); skipped with the reason otherwise.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const unavailable = existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (Debian package chromium)`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe.skipIf(unavailable !== null)('lesson pages in a browser', () => {
  it('steps through old-duplicate-syn with both sides\' states, and draws the other lessons', async () => {
    const out = join(ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
      await page.goto(`file://${ROOT}docs/lessons/old-duplicate-syn.html`);
      expect(await page.locator('#count').innerText()).toBe('6 segments');
      for (let i = 0; i < 4; i++) await page.click('#next');
      expect(await page.locator('#count').innerText()).toBe('4 / 6');
      const info = await page.locator('#info').innerText();
      expect(info).toMatch(/A \(client\) sends at [\d.]+ s/);
      expect(info).toContain('RST seq=91');
      expect(info).toMatch(/B \(server\)\s+LISTEN/); // the RST took B back to LISTEN
      expect(await page.locator('.step.on').count()).toBe(1);
      expect(await page.locator('.step.dim').count()).toBe(2);
      await page.keyboard.press('ArrowLeft');
      expect(await page.locator('#count').innerText()).toBe('3 / 6');
      await page.screenshot({ path: join(out, 'ladder-old-duplicate-syn.png') });
      for (const name of ['handshake', 'close', 'keepalive', 'zero-window']) {
        await page.goto(`file://${ROOT}docs/lessons/${name}.html`);
        await page.click('#next');
        await page.screenshot({ path: join(out, `ladder-${name}.png`), fullPage: true });
        expect(await page.locator('svg text').filter({ hasText: 'ESTABLISHED' }).count()).toBeGreaterThan(0);
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
