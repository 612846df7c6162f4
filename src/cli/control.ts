/**
 * The control socket of a running `tcpip demo`: a Unix socket that answers every
 * connection with a JSON StackReport and closes. `tcpip stat` is its client.
 * Its path names the namespace and device, so several demos can run side by side:
 *   /run/tcpip/<netns or "default">-<device>.sock   (TCPIP_CONTROL_DIR overrides the folder)
 */
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export function controlPath(netns: string | undefined, dev: string): string {
  const dir = process.env.TCPIP_CONTROL_DIR ?? '/run/tcpip';
  return join(dir, `${netns ?? 'default'}-${dev}.sock`);
}

export function serveControl(path: string, report: () => unknown): { close(): void } {
  mkdirSync(join(path, '..'), { recursive: true });
  rmSync(path, { force: true }); // a stale socket from a demo that was killed
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.end(`${JSON.stringify(report())}\n`);
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

export function queryControl(path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = net.connect(path);
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
