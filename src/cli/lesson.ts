/**
 * `tcpip lesson [NAME] [-o FILE.html|FILE.svg] [--text]`: one of RFC 9293's scenarios played
 * by two of our stacks on the simulator's clock, drawn as a ladder diagram. With no name,
 * the list. Nothing needs root or a device.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ladderHtml, ladderSvg } from '../observe/ladder.js';
import { LESSONS, ladderScript, lessonLadder, lessonList } from '../observe/lessons.js';

export async function runLesson(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string', short: 'o' }, text: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length > 1) {
    console.log('usage: tcpip lesson                      the lessons, one line each\n       tcpip lesson NAME [-o FILE.html|FILE.svg] [--text]');
    return values.help ? 0 : 2;
  }
  const name = positionals[0];
  if (name === undefined) {
    console.log(lessonList());
    return 0;
  }
  const lesson = LESSONS.find((l) => l.name === name);
  if (!lesson) throw new Error(`no lesson "${name}"; the lessons are:\n${lessonList()}`);
  const ladder = await lessonLadder(lesson);
  if (values.text || !values.out) console.log(`${lesson.title}\n\n${ladderScript(ladder).join('\n')}`);
  if (values.out) {
    const out = values.out;
    const opts = { title: lesson.title, intro: lesson.intro, absolute: true };
    writeFileSync(out, out.endsWith('.svg') ? ladderSvg(ladder, opts) : ladderHtml(ladder, opts));
    console.log(`wrote ${out}`);
  }
  return 0;
}
