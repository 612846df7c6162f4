/**
 * Outgoing HTTP through a stack: an `http.Agent` and an `https.Agent` whose connections
 * are this stack's TCP streams (keep-alive included: the agents `unref` idle sockets as
 * Node's do), and a `connect` function for undici, so `fetch` goes out through it too.
 *
 *   const agent = new (httpAgent(host.net))({ keepAlive: true });
 *   http.get({ host: '10.7.0.1', port: 8080, agent }, ...);
 *   const dispatcher = new undici.Agent({ connect: undiciConnector(host.net) });
 *   await fetch('http://10.7.0.1:8080/', { dispatcher });
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { NetFace, TcpConnectOptions, TcpStream } from './net.js';

/** The options undici passes to a `connect` function. */
export interface UndiciConnectOptions {
  /** The host to dial (an IPv4 address or `localhost` here). */
  hostname: string;
  /** `hostname:port`, as undici passes it. */
  host?: string;
  /** `'http:'` or `'https:'` (TLS). */
  protocol: string;
  /** The port ('' for the protocol's default). */
  port: string | number;
  /** SNI name for TLS. */
  servername?: string | null;
  /** Unused here. */
  localAddress?: string | null;
}

/** undici's `connect` option (`new undici.Agent({ connect })`). */
export type UndiciConnector = (
  options: UndiciConnectOptions,
  callback: (err: Error | null, socket: net.Socket | tls.TLSSocket | null) => void,
) => void;

function hostOf(o: { host?: string | null; hostname?: string | null }): string {
  const h = o.hostname ?? o.host ?? 'localhost';
  return h.startsWith('[') ? h.slice(1, -1) : h;
}

/** SNI carries names, never addresses (RFC 6066 §3). */
function serverName(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host;
}

/** The agent's connection options Node's own agents pass on: no Nagle by default (Node 20's agents set noDelay), keep-alive, timeout. */
function dialOptions(o: http.ClientRequestArgs & { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number }, dflt: number): TcpConnectOptions {
  return {
    port: Number(o.port ?? o.defaultPort ?? dflt),
    host: hostOf(o),
    noDelay: o.noDelay ?? true,
    keepAlive: o.keepAlive,
    keepAliveInitialDelay: o.keepAliveInitialDelay,
    timeout: o.timeout,
  };
}

/**
 * A TLS socket over one of our streams is a JS stream wrapper: its ref/unref (which
 * agents call on idle keep-alive sockets) must reach the stream, or an idle connection
 * would keep the process alive.
 */
function forwardRef(t: tls.TLSSocket, under: TcpStream): tls.TLSSocket {
  t.ref = () => (under.ref(), t);
  t.unref = () => (under.unref(), t);
  return t;
}

/** An `http.Agent` class whose connections go through the stack behind `face`. */
export function httpAgent(face: NetFace): new (options?: http.AgentOptions) => http.Agent {
  return class StackHttpAgent extends http.Agent {
    override createConnection(o: http.ClientRequestArgs): Duplex {
      return face.connect(dialOptions(o, 80));
    }
  };
}

/** An `https.Agent` class: TLS (Node's `tls`) over the stack's TCP streams. */
export function httpsAgent(face: NetFace): new (options?: https.AgentOptions) => https.Agent {
  return class StackHttpsAgent extends https.Agent {
    override createConnection(o: https.RequestOptions): Duplex {
      const socket = face.connect(dialOptions(o, 443));
      return forwardRef(tls.connect({ ...(o as tls.ConnectionOptions), socket, host: hostOf(o), servername: o.servername || serverName(hostOf(o)) }), socket);
    }
  };
}

/**
 * A `connect` function for undici (`new undici.Agent({ connect })`): plain TCP for
 * `http:`, TLS for `https:` (`tlsOptions` such as `ca` or `rejectUnauthorized` apply).
 */
export function undiciConnector(face: NetFace, tlsOptions: tls.ConnectionOptions = {}): UndiciConnector {
  return (o, callback) => {
    let done = false;
    const finish = (err: Error | null, s: net.Socket | tls.TLSSocket | null): void => {
      if (done) return;
      done = true;
      callback(err, s);
    };
    const secure = o.protocol === 'https:';
    const port = Number(o.port) || (secure ? 443 : 80);
    const sock = face.connect({ port, host: o.hostname, noDelay: true }); // as undici sets on its own sockets
    if (!secure) {
      sock.once('connect', () => finish(null, sock));
      sock.once('error', (e) => finish(e, null));
      return;
    }
    // `host` is what the certificate is checked against (tls defaults it to localhost).
    const t = tls.connect({ ALPNProtocols: ['http/1.1'], ...tlsOptions, socket: sock, host: o.hostname, servername: o.servername || serverName(o.hostname) });
    forwardRef(t, sock);
    t.once('secureConnect', () => finish(null, t));
    t.once('error', (e) => finish(e, null));
  };
}
