/**
 * HTTP on port 80: Node's own `http` module serving over this stack's streams (keep-alive
 * included). `/` is a page with the stack's live connections and counters that refreshes
 * itself; `/stats.json` is the same as JSON.
 */
import http from 'node:http';
import { createServer } from '../socket/net.js';
import type { SocketApi } from '../socket/socket-api.js';
import type { TcpInfo } from '../socket/stream-socket.js';
import type { StackReport } from '../observe/report.js';
import type { Service } from './udp-services.js';

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function renderPage(r: StackReport): string {
  const cols: (keyof TcpInfo)[] = ['state', 'local', 'remote', 'srttMs', 'rtoMs', 'cwnd', 'sndWnd', 'rcvWnd', 'sendQueue', 'recvQueue', 'retransmits', 'bytesIn', 'bytesOut'];
  const rows = r.connections
    .map((c) => `<tr>${cols.map((k) => `<td>${esc(String(typeof c[k] === 'number' ? Math.round(c[k] as number) : c[k]))}</td>`).join('')}</tr>`)
    .join('\n');
  const counters = Object.entries(r.counters)
    .map(([layer, c]) => `<h3>${esc(layer)}</h3><table>${Object.entries(c).filter(([, v]) => v !== 0).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('')}</table>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tcpip-ts: live</title>
<meta http-equiv="refresh" content="2">
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-family:monospace}</style>
</head><body>
<h1>tcpip-ts</h1>
<p>This page is served by Node's <code>http</code> module over a TCP/IP stack written in TypeScript.</p>
<h2>Connections (${r.connections.length})</h2>
<table><tr>${cols.map((k) => `<th>${k}</th>`).join('')}</tr>
${rows}
</table>
<h2>Counters</h2>
${counters}
</body></html>
`;
}

export function httpService(api: SocketApi, snapshot: () => StackReport, port = 80): Service {
  const server = http.createServer((req, res) => {
    const report = snapshot();
    if (req.url === '/stats.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderPage(report));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  const tcp = createServer(api, (stream) => server.emit('connection', stream));
  tcp.listen(port);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  return {
    name: 'http',
    port,
    stop: () => {
      tcp.close(resolveDone);
      server.closeAllConnections();
    },
    done,
  };
}
