/**
 * The demo's TCP services, written on the socket facade as a Python program would be:
 * echo (RFC 862, port 7), discard (RFC 863, port 9), daytime (RFC 867, port 13),
 * chargen (RFC 864, port 19) and a chat room (port 5000). Every service closes its side
 * once the client has closed its own, and survives clients that reset or vanish (each
 * connection is watched by keepalive).
 */
import type { SockAddr } from '../socket/address.js';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_REUSEADDR, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL,
} from '../socket/constants.js';
import type { SocketApi } from '../socket/socket-api.js';
import type { StreamSocket } from '../socket/stream-socket.js';
import { ctime } from './ctime.js';
import type { Service } from './udp-services.js';

/** Accepts connections until the listening socket is closed; one handler per connection. */
function serveTcp(api: SocketApi, name: string, port: number, handle: (conn: StreamSocket, peer: SockAddr) => Promise<void>): Service {
  // Both families: an AF_INET6 socket on :: takes IPv4 too (IPV6_V6ONLY off), as a Linux server's.
  const s = api.socket(api.host.stack.ip6 !== null ? AF_INET6 : AF_INET, SOCK_STREAM);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  // A client that vanishes is noticed: 60 s idle, then 5 probes 10 s apart.
  s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
  s.setsockopt(IPPROTO_TCP, TCP_KEEPIDLE, 60);
  s.setsockopt(IPPROTO_TCP, TCP_KEEPINTVL, 10);
  s.setsockopt(IPPROTO_TCP, TCP_KEEPCNT, 5);
  s.bind(['', port]);
  s.listen(512);
  const open = new Set<StreamSocket>();
  const done = (async () => {
    for (;;) {
      let conn: StreamSocket, peer: SockAddr;
      try {
        [conn, peer] = await s.accept();
      } catch {
        return; // the listening socket was closed
      }
      open.add(conn);
      void handle(conn, peer)
        .catch(() => {}) // ECONNRESET, ETIMEDOUT: that client's loss, not the service's
        .finally(() => {
          open.delete(conn);
          conn.close();
        });
    }
  })();
  return {
    name,
    port,
    stop: () => {
      s.close();
      for (const c of open) c.close();
    },
    done,
  };
}

/** RFC 862: everything received is sent back; EOF from the client closes. */
export function tcpEcho(api: SocketApi, port = 7): Service {
  return serveTcp(api, 'tcp echo', port, async (conn) => {
    for (;;) {
      const data = await conn.recv(65536);
      if (data.length === 0) return;
      await conn.sendall(data);
    }
  });
}

/** RFC 863: everything received is thrown away. */
export function tcpDiscard(api: SocketApi, port = 9): Service {
  // Every connection reads into this one buffer (recv_into): no array per read, and no
  // buffer per idle connection; what lands in it is thrown away.
  const sink = new Uint8Array(65536);
  return serveTcp(api, 'tcp discard', port, async (conn) => {
    while ((await conn.recv_into(sink)) > 0);
  });
}

/** RFC 867: one line with the date and time, then the server closes. */
export function tcpDaytime(api: SocketApi, port = 13, wallNow: () => number = Date.now): Service {
  return serveTcp(api, 'tcp daytime', port, async (conn) => {
    await conn.sendall(`${ctime(wallNow())}\r\n`);
  });
}

/** The RFC 864 line `i`: 72 printable characters starting at the i-th, then CR LF. */
export function chargenLine(i: number): string {
  let s = '';
  for (let k = 0; k < 72; k++) s += String.fromCharCode(32 + ((i + k) % 95));
  return `${s}\r\n`;
}

/** RFC 864: the rotating pattern, sent until the client closes or goes away. */
export function tcpChargen(api: SocketApi, port = 19): Service {
  // The pattern's whole cycle (95 lines), nine times over: 63 KiB per sendall, so that the
  // per-call cost (a promise or two) is paid per 63 KiB rather than per 7 KiB.
  const block = Buffer.from(Array.from({ length: 95 * 9 }, (_, i) => chargenLine(i % 95)).join(''));
  return serveTcp(api, 'tcp chargen', port, async (conn) => {
    let clientGone = false;
    const reader = (async () => {
      try {
        while ((await conn.recv(65536)).length > 0);
      } finally {
        clientGone = true;
      }
    })();
    reader.catch(() => {});
    while (!clientGone) await conn.sendall(block);
  });
}

/** A chat room: each line from one client goes to all the others, tagged with its sender. */
export function tcpChat(api: SocketApi, port = 5000): Service {
  const members = new Set<StreamSocket>();
  const broadcast = (from: StreamSocket, text: string): void => {
    for (const m of members) if (m !== from) m.sendall(text).catch(() => {});
  };
  return serveTcp(api, 'tcp chat', port, async (conn, [host, p]) => {
    const who = host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`; // RFC 5952 §6
    members.add(conn);
    await conn.sendall(`welcome to the chat, ${who}; ${members.size - 1} other(s) here\n`);
    broadcast(conn, `* ${who} joined\n`);
    let pending = '';
    try {
      for (;;) {
        const data = await conn.recv(65536);
        if (data.length === 0) break;
        pending += Buffer.from(data).toString('utf8');
        if (pending.length > 64 * 1024) break; // a "line" this long is not chat: the client goes
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl + 1);
          pending = pending.slice(nl + 1);
          broadcast(conn, `[${who}] ${line}`);
        }
      }
    } finally {
      members.delete(conn);
      broadcast(conn, `* ${who} left\n`);
    }
  });
}
