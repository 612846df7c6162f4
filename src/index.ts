/**
 * tcpip-ts: a userspace TCP/IP stack for Node.js.
 *
 * ```ts
 * import http from 'node:http';
 * import { openTun } from 'tcpip-ts';
 *
 * const host = await openTun({ dev: 'tcpip0', addr: '10.7.0.2/24' });   // kernel side 10.7.0.1
 * const app = http.createServer((req, res) => res.end('hello from tcpip-ts\n'));
 * host.net.createServer({ noDelay: true }, (sock) => app.emit('connection', sock)).listen(80);
 * ```
 *
 * - `openTun` / `createStack` put a stack on a TUN/TAP device or on a `LinkDevice` of
 *   your own and return a {@link StackHost}: `host.net` (like `node:net`), `host.dgram`
 *   (like `node:dgram`), `host.socket` (BSD sockets shaped like Python's `socket`),
 *   `host.http.Agent` / `host.https.Agent` / `host.connector()` for outgoing HTTP.
 * - `tcpip-ts/sim` has the deterministic simulator for tests: stacks on an in-memory
 *   wire, a manual clock, seeded randomness and the fault injector.
 *
 * @packageDocumentation
 */
export {
  openTun, createStack, StackHost, TunHost,
  type OpenTunOptions, type CreateStackOptions, type StackOptions,
  type HttpAgentOptions, type HttpsAgentOptions,
} from './host.js';
export { httpAgent, httpsAgent, undiciConnector, type UndiciConnector, type UndiciConnectOptions } from './socket/http-agents.js';

// The node:net and node:dgram faces.
// (Build them for any SocketApi with netFace/dgramFace; a StackHost and a SimHost carry them.)
export {
  TcpStream, TcpServer, netFace,
  type NetFace, type TcpConnectOptions, type ListenOptions, type ServerOptions, type SocketOptions, type OnReadOptions,
} from './socket/net.js';
export {
  UdpSocket, dgramFace,
  type DgramFace, type RemoteInfo, type BindOptions, type UdpSocketOptions, type SendCallback,
} from './socket/dgram.js';

// The BSD socket facade.
export { SocketApi } from './socket/socket-api.js';
export { StreamSocket, type TcpInfo, type Linger } from './socket/stream-socket.js';
export { DgramSocket } from './socket/dgram-socket.js';
export { Socket } from './socket/socket.js';
export { SocketError, type Errno } from './socket/errors.js';
export type { SockAddr } from './socket/address.js';
export type { NameOptions, AddrInfo } from './socket/names.js';
export { Poll, type Selectable } from './socket/select.js';
export { SocketFile } from './socket/socket-file.js';
export type { SocketHost, KeepAlive } from './socket/host.js';
export * from './socket/constants.js';

// The stack and what it runs on.
export { Stack, type StackConfig, type Pollable } from './stack.js';
// Addresses of either family, as the stack holds them (IPv4: a number; IPv6: an Ipv6Addr).
export { Ipv6Addr, parseIpv6, formatIpv6 } from './ip/ipv6-address.js';
export { parseIp, formatIp, formatEndpoint, ipEqual, type IpAddr } from './ip/ip-address.js';
export type { NdpOptions } from './link/neighbor-discovery.js';
export type { NeighborLimits } from './link/neighbor-cache.js';
export { Runtime, CryptoRand, realClock } from './runtime.js';
export type { LinkDevice, LinkReceiver, Medium } from './link/link-device.js';
export { TunDevice, type TunOptions, type TunDeviceCounters } from './link/tun-device.js';
export { PcapLink, PcapWriter, LINKTYPE_RAW, LINKTYPE_ETHERNET, type PcapSink } from './link/pcap.js';
export { DEFAULT_TCP_CONFIG, type TcpConfig } from './tcp/config.js';
export type { Tracer, TraceRecord, TraceEvent } from './tcp/trace.js';
export type { Clock } from './core/clock.js';
export type { Rand } from './core/rand.js';
