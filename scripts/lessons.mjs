#!/usr/bin/env node
// Writes docs/lessons: each lesson's ladder diagram as SVG (shown in the docs) and as the
// step-through HTML page, and docs/lessons/README.md listing them. The lessons run on the
// simulator's clock and seeds, so the output is the same on every run; a test checks that
// the committed files are up to date. Run after `npm run build`: npm run docs:lessons
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ladderHtml, ladderSvg } from '../dist/src/observe/ladder.js';
import { LESSONS, lessonLadder } from '../dist/src/observe/lessons.js';

const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'docs', 'lessons');
mkdirSync(dir, { recursive: true });
const index = [
  '# Lessons: RFC 9293\'s scenarios played by the stack',
  '',
  'Each diagram is drawn from the traces of two of our stacks playing the scenario on the simulator\'s clock',
  '(`src/observe/lessons.ts`); nothing is drawn from a model. Rerun them with `tcpip lesson NAME -o NAME.html`',
  '(the HTML page steps through the segments with both sides\' states); regenerate this folder with',
  '`npm run build && npm run docs:lessons`. `test/observe/lessons.test.ts` asserts each exchange against the RFC\'s figure.',
  '',
];
for (const l of LESSONS) {
  const ladder = await lessonLadder(l);
  const opts = { title: l.title, intro: l.intro, absolute: true };
  writeFileSync(join(dir, `${l.name}.svg`), ladderSvg(ladder, opts));
  writeFileSync(join(dir, `${l.name}.html`), ladderHtml(ladder, opts));
  index.push(`## ${l.title}`, '', `${l.intro}`, '', `![${l.name}](${l.name}.svg)`, '', `Step through it: [${l.name}.html](${l.name}.html) · \`tcpip lesson ${l.name}\``, '');
  console.log(`docs/lessons/${l.name}.svg, .html`);
}
writeFileSync(join(dir, 'README.md'), index.join('\n'));
