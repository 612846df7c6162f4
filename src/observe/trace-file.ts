/**
 * `--trace FILE`: TCP trace records as JSON lines, written in chunks. Times are
 * milliseconds of the stack's clock; `tcpip plot` reads this file.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { TraceRecord, Tracer } from '../tcp/trace.js';

export function traceFile(path: string): { tracer: Tracer; close: () => void } {
  const fd = openSync(path, 'w');
  let lines: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (lines.length === 0) return;
    writeSync(fd, lines.join(''));
    lines = [];
    size = 0;
  };
  const timer = setInterval(flush, 200);
  timer.unref();
  return {
    tracer: (r: TraceRecord) => {
      const line = `${JSON.stringify(r)}\n`;
      lines.push(line);
      size += line.length;
      if (size > 1 << 20) flush();
    },
    close: () => {
      clearInterval(timer);
      flush();
      closeSync(fd);
    },
  };
}
