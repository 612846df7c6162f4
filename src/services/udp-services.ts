/**
 * The classic small UDP services, written on the socket facade exactly as a Python
 * program would be: echo (RFC 862, port 7), discard (RFC 863, port 9) and daytime
 * (RFC 867, port 13). Each runs until its socket is closed.
 */
import type { SockAddr } from '../socket/address.js';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../socket/constants.js';
import type { DgramSocket } from '../socket/dgram-socket.js';
import type { SocketApi } from '../socket/socket-api.js';
import { ctime } from './ctime.js';

export interface Service {
  name: string;
  port: number;
  stop(): void;
  /** Settles when the service's loop has ended. */
  done: Promise<void>;
}

async function serve(s: DgramSocket, handle: (data: Uint8Array, addr: SockAddr) => Promise<void>): Promise<void> {
  for (;;) {
    let got: [Uint8Array, SockAddr];
    try {
      got = await s.recvfrom(65535);
    } catch (e) {
      if ((e as { code?: string }).code === 'EBADF') return; // closed: the service stops
      continue; // an ICMP error reported on the socket: UDP servers carry on
    }
    try {
      await handle(got[0], got[1]);
    } catch {
      // A reply that cannot be sent (no route, EMSGSIZE) is not the server's end.
    }
  }
}

function start(api: SocketApi, name: string, port: number, handle: (s: DgramSocket, data: Uint8Array, addr: SockAddr) => Promise<void>): Service {
  // Both families: an AF_INET6 socket on :: takes IPv4 too (IPV6_V6ONLY off), as a Linux server's.
  const s = api.socket(api.host.stack.ip6 !== null ? AF_INET6 : AF_INET, SOCK_DGRAM);
  s.bind(['', port]);
  const done = serve(s, (d, a) => handle(s, d, a));
  return { name, port, stop: () => s.close(), done };
}

/** RFC 862: every datagram is sent back to its sender. */
export function udpEcho(api: SocketApi, port = 7): Service {
  return start(api, 'udp echo', port, async (s, data, addr) => {
    await s.sendto(data, addr);
  });
}

/** RFC 863: every datagram is thrown away. */
export function udpDiscard(api: SocketApi, port = 9): Service {
  return start(api, 'udp discard', port, async () => {});
}

/** RFC 867: any datagram is answered with the date and time as one line. */
export function udpDaytime(api: SocketApi, port = 13, wallNow: () => number = Date.now): Service {
  return start(api, 'udp daytime', port, async (s, _data, addr) => {
    await s.sendto(`${ctime(wallNow())}\n`, addr);
  });
}
