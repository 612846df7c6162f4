/**
 * The two things the tutorial programs do besides sockets: print(), and input() from the
 * terminal. Tests pass their own; on a device they are the console and a readline.
 */
import { createInterface } from 'node:readline';

export interface Io {
  print(...args: unknown[]): void;
  /** Resolves to the next line, or '' at end of input (as Python's input() loop ends). */
  input(prompt: string): Promise<string>;
}

export function consoleIo(): Io {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    print: (...args) => console.log(...args),
    input: async (prompt) => {
      process.stdout.write(prompt);
      const r = await lines.next();
      return r.done ? '' : r.value;
    },
  };
}

/** Io for tests: scripted input lines, printed lines collected. */
export function scriptedIo(lines: string[]): Io & { output: string[] } {
  const output: string[] = [];
  return {
    output,
    print: (...args) => void output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')),
    input: async () => lines.shift() ?? '',
  };
}
