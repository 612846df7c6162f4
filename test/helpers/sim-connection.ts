/**
 * One established TCP connection between two simulated hosts: b listens on `port`, a
 * connects to it. Returns the listening socket, the client's socket and the accepted one.
 */
import { SimNetwork, type SimHost } from '../../src/sim/sim-network.js';
import { connect, createServer, type TcpStream } from '../../src/socket/net.js';
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../../src/socket/constants.js';
import type { StreamSocket } from '../../src/socket/stream-socket.js';

export async function connectedPair(net: SimNetwork, a: SimHost, b: SimHost, port: number, backlog = 8): Promise<{ srv: StreamSocket; cli: StreamSocket; conn: StreamSocket }> {
  const srv = b.api.socket(AF_INET, SOCK_STREAM);
  srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  srv.bind(['', port]);
  srv.listen(backlog);
  const cli = a.api.socket(AF_INET, SOCK_STREAM);
  const accepted = srv.accept();
  await net.until(cli.connect([b.cidr.split('/')[0]!, port]));
  const [conn] = await net.until(accepted);
  return { srv, cli, conn };
}

/** Everything `s` receives until the peer's FIN, concatenated (the simulation runs meanwhile). */
export async function recvToEnd(net: SimNetwork, s: StreamSocket): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const d = await net.until(s.recv(65536));
    if (d.length === 0) return Buffer.concat(parts);
    parts.push(d);
  }
}

/**
 * Two simulated hosts (SimNetwork.pair with `opts`), an echo server on b's port 7 through
 * the node:net face, and a client stream from a connecting to it (not yet connected).
 */
export async function netEchoPair(opts: Parameters<typeof SimNetwork.pair>[0] = {}) {
  const pair = SimNetwork.pair(opts);
  const server = createServer(pair.b.api, (s: TcpStream) => s.pipe(s));
  server.listen(7);
  await pair.net.runFor(1);
  const c = connect(pair.a.api, 7, '10.7.0.2');
  return { ...pair, server, c };
}
