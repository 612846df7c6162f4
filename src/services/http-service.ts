/**
 * HTTP on port 80: Node's own `http` module serving over this stack's streams (keep-alive
 * included). `/` is a page with the stack's live connections and counters that refreshes
 * itself; `/stats.json` is the same as JSON. With the trace kept in memory (the demo's
 * `--trace`), each connection links to `/conn/ID/ladder` (its ladder diagram) and
 * `/conn/ID/graph` (time-sequence and congestion graphs), which refresh themselves too
 * while the connection runs.
 */
import http from 'node:http';
import { createServer } from '../socket/net.js';
import type { SocketApi } from '../socket/socket-api.js';
import type { TcpInfo } from '../socket/stream-socket.js';
import type { StackReport } from '../observe/report.js';
import { buildLadder, ladderHtml } from '../observe/ladder.js';
import { htmlPage } from '../observe/plot.js';
import type { TraceMemory } from '../observe/trace-memory.js';
import type { Service } from './udp-services.js';

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function renderPage(r: StackReport, traces: TraceMemory | null = null): string {
  const cols: (keyof TcpInfo)[] = ['state', 'local', 'remote', 'srttMs', 'rtoMs', 'cwnd', 'sndWnd', 'rcvWnd', 'sendQueue', 'recvQueue', 'retransmits', 'bytesIn', 'bytesOut'];
  const links = (id: number): string => (traces?.has(id) ? `<td><a href="/conn/${id}/ladder">ladder</a> · <a href="/conn/${id}/graph">graph</a></td>` : traces ? '<td></td>' : '');
  const rows = r.connections
    .map((c) => `<tr>${cols.map((k) => `<td>${esc(String(typeof c[k] === 'number' ? Math.round(c[k] as number) : c[k]))}</td>`).join('')}${links(c.id)}</tr>`)
    .join('\n');
  const counters = Object.entries(r.counters)
    .map(([layer, c]) => {
      const nz = Object.entries(c).filter(([, v]) => v !== 0);
      const body = nz.length ? nz.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('') : '<tr><td>(all zero)</td></tr>';
      return `<div class="layer"><h3>${esc(layer)}</h3><table>${body}</table></div>`;
    })
    .join('\n');
  const listeners = r.listeners.map((l) => `<tr><td>${esc(l.local)}</td><td>${l.backlog}</td><td>${l.synQueue}</td><td>${l.acceptQueue}</td></tr>`).join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tcpip-ts: live</title>
<meta http-equiv="refresh" content="2">
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-family:monospace}.layer{display:inline-block;vertical-align:top;margin-right:2em}</style>
</head><body>
<h1>tcpip-ts</h1>
<p>This page is served by Node's <code>http</code> module over a TCP/IP stack written in TypeScript. It reloads every 2 seconds.</p>
<h2>Connections (${r.connections.length}, and ${r.timeWait.count} in TIME-WAIT)</h2>
<table><tr>${cols.map((k) => `<th>${k}</th>`).join('')}${traces ? '<th>pictures</th>' : ''}</tr>
${rows}
</table>
<h2>Listening</h2>
<table><tr><th>local</th><th>backlog</th><th>SYN queue</th><th>accept queue</th></tr>${listeners}</table>
<h2>Counters</h2>
${counters}
<p><small>${esc(r.address)}${r.address6 ? ` ${esc(r.address6)}` : ''}, up ${Math.round(r.uptimeMs / 1000)} s, ${esc(r.time)}</small></p>
</body></html>
`;
}

export function httpService(api: SocketApi, snapshot: () => StackReport, port = 80, traces: TraceMemory | null = null): Service {
  const server = http.createServer((req, res) => {
    const report = snapshot();
    const conn = /^\/conn\/(\d+)\/(ladder|graph)$/.exec(req.url ?? '');
    if (conn && traces?.has(Number(conn[1]))) {
      const id = Number(conn[1]);
      const recs = traces.records(id);
      const open = report.connections.find((c) => c.id === id);
      const title = open ? `TCP ${open.local} ↔ ${open.remote} (${open.state})` : `TCP connection ${id} (closed)`;
      const opened = recs.find((r) => r.ev === 'open');
      const ladder = () => {
        const l = buildLadder([{ name: opened?.ev === 'open' ? `us ${opened.local}` : 'us', recs }]);
        if (opened?.ev === 'open') l.names[1] = `peer ${opened.remote}`;
        return ladderHtml(l, { title });
      };
      let page = conn[2] === 'ladder' ? ladder() : htmlPage(recs, id);
      // While the connection runs, the picture follows it.
      if (open) page = page.replace('<head>', '<head><meta http-equiv="refresh" content="2">');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    } else if (req.url === '/stats.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderPage(report, traces));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  // noDelay as http.Server's own sockets have it (it sets TCP_NODELAY on each connection):
  // a response written as headers then body must not wait for the client's delayed ACK.
  const tcp = createServer(api, { noDelay: true }, (stream) => server.emit('connection', stream));
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
