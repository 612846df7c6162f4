/**
 * Every script in test/packetdrill/scripts runs as its own test (STYLE.md §6 item 4).
 * A failure names the script, the line, and both segments in one-line form.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { runScriptFile } from './runner.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
const scripts = readdirSync(dir).filter((f) => f.endsWith('.pkt')).sort();

describe('packetdrill scripts', () => {
  for (const name of scripts) {
    it(name, async () => {
      await runScriptFile(join(dir, name));
    });
  }
});
