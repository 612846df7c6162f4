/**
 * Socket errors carry a POSIX `code` (and Linux `errno`) and a message that says which
 * call on which socket failed and why, e.g.
 *   recvfrom fd 3 (udp 10.7.0.2:7): ETIMEDOUT (timed out after 1000 ms)
 */
import { constants } from 'node:os';

export type Errno =
  | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EAFNOSUPPORT' | 'EAGAIN' | 'EALREADY' | 'EBADF' | 'ECONNABORTED'
  | 'ECONNREFUSED' | 'ECONNRESET' | 'EDESTADDRREQ' | 'EHOSTUNREACH' | 'EINPROGRESS' | 'EINVAL' | 'EISCONN'
  | 'EMSGSIZE' | 'ENETUNREACH' | 'ENOBUFS' | 'ENOPROTOOPT' | 'ENOTCONN' | 'EOPNOTSUPP' | 'EPIPE' | 'EPROTO'
  | 'EPROTONOSUPPORT' | 'ETIMEDOUT' | 'EACCES';

const DESCRIPTIONS: Record<Errno, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EAFNOSUPPORT: 'address family not supported',
  EAGAIN: 'operation would block',
  EALREADY: 'operation already in progress',
  EBADF: 'socket is closed',
  ECONNABORTED: 'connection aborted',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EDESTADDRREQ: 'destination address required',
  EHOSTUNREACH: 'no route to host',
  EINPROGRESS: 'operation in progress',
  EINVAL: 'invalid argument',
  EISCONN: 'socket is already connected',
  EMSGSIZE: 'message too long',
  ENETUNREACH: 'network is unreachable',
  ENOBUFS: 'no buffer space available',
  ENOPROTOOPT: 'protocol option not available',
  ENOTCONN: 'socket is not connected',
  EOPNOTSUPP: 'operation not supported on this socket',
  EPIPE: 'broken pipe',
  EPROTO: 'protocol error',
  EPROTONOSUPPORT: 'protocol not supported',
  ETIMEDOUT: 'timed out',
  EACCES: 'permission denied',
};

export class SocketError extends Error {
  readonly code: Errno;
  readonly errno: number;
  readonly syscall: string;

  constructor(code: Errno, syscall: string, who: string, detail?: string) {
    super(`${syscall} ${who}: ${code} (${detail ?? DESCRIPTIONS[code]})`);
    this.name = 'SocketError';
    this.code = code;
    this.syscall = syscall;
    this.errno = (constants.errno as Record<string, number>)[code] ?? 0;
  }
}
