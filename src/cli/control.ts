/**
 * The control socket of a running `tcpip demo`: a Unix socket that answers a connection
 * with a JSON StackReport and closes (`counters`: without the connection table), or, when the client's first line is `profile N`,
 * with a CPU profile summary of the next N seconds, or with `alloc N` what was allocated
 * (cpu-profile.ts). `tcpip stat` is its client.
 * Its path names the namespace and device, so several demos can run side by side:
 *   /run/tcpip/<netns or "default">-<device>.sock   (TCPIP_CONTROL_DIR overrides the folder)
 */
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { allocationsSelf, profileSelf } from '../observe/cpu-profile.js';

export function controlPath(netns: string | undefined, dev: string): string {
  const dir = process.env.TCPIP_CONTROL_DIR ?? '/run/tcpip';
  return join(dir, `${netns ?? 'default'}-${dev}.sock`);
}

export function serveControl(path: string, report: (countersOnly: boolean) => unknown): { close(): void } {
  mkdirSync(join(path, '..'), { recursive: true });
  rmSync(path, { force: true }); // a stale socket from a demo that was killed
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let line = '';
    const answer = (): void => {
      const a = /^alloc (\d+(?:\.\d+)?)/.exec(line);
      if (a) {
        const seconds = Math.min(60, Number(a[1]));
        allocationsSelf(seconds).then((r) => s.end(`${JSON.stringify({ seconds, ...r })}\n`), (e: Error) => s.end(`${JSON.stringify({ error: e.message })}\n`));
        return;
      }
      const m = /^profile (\d+(?:\.\d+)?)/.exec(line);
      if (m) {
        const seconds = Math.min(60, Number(m[1]));
        profileSelf(seconds).then((top) => s.end(`${JSON.stringify({ seconds, top })}\n`), (e: Error) => s.end(`${JSON.stringify({ error: e.message })}\n`));
      } else {
        s.end(`${JSON.stringify(report(/^counters\b/.test(line)))}\n`);
      }
    };
    // The client's first line says what it wants: `report`, `counters`, `profile N` or `alloc N`.
    s.on('data', (d) => {
      if (line.includes('\n')) return;
      line += d;
      if (line.includes('\n')) answer();
    });
    s.on('end', () => {
      if (!line.includes('\n')) answer();
    });
  });
  server.on('error', () => {});
  server.listen(path);
  server.unref();
  return {
    close: () => {
      server.close();
      rmSync(path, { force: true });
    },
  };
}

export function queryControl(path: string, request = 'report'): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = net.connect(path, () => s.write(`${request}\n`));
    s.on('data', (d) => (text += d));
    s.on('end', () => {
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(e);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `no tcpip demo is running at ${path} (start one, or pass its --netns and --dev)` : e.message));
    });
  });
}
