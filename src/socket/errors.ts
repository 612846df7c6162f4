/**
 * Socket errors carry a POSIX `code` (and Linux `errno`) and a message that says which
 * call on which socket failed and why, e.g.
 *   recvfrom fd 3 (udp 10.7.0.2:7): ETIMEDOUT (timed out after 1000 ms)
 */
import { constants } from 'node:os';

/** The POSIX error codes a socket call can fail with. */
export type Errno =
  | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EAFNOSUPPORT' | 'EAGAIN' | 'EALREADY' | 'EBADF' | 'ECONNABORTED'
  | 'ECONNREFUSED' | 'ECONNRESET' | 'EDESTADDRREQ' | 'EHOSTUNREACH' | 'EINPROGRESS' | 'EINVAL' | 'EISCONN'
  | 'EMSGSIZE' | 'ENETUNREACH' | 'ENOBUFS' | 'ENOPROTOOPT' | 'ENOTCONN' | 'EOPNOTSUPP' | 'EPIPE' | 'EPROTO'
  | 'EPROTONOSUPPORT' | 'ETIMEDOUT' | 'EACCES'
  // getaddrinfo's errors (Python's socket.gaierror; glibc's numbers)
  | 'EAI_NONAME' | 'EAI_AGAIN' | 'EAI_FAIL' | 'EAI_FAMILY' | 'EAI_SERVICE';

/** glibc's EAI_* values (negative, as Python's gaierror.errno). */
const EAI_ERRNO: Partial<Record<Errno, number>> = { EAI_NONAME: -2, EAI_AGAIN: -3, EAI_FAIL: -4, EAI_FAMILY: -6, EAI_SERVICE: -8 };

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
  EAI_NONAME: 'name or service not known',
  EAI_AGAIN: 'temporary failure in name resolution',
  EAI_FAIL: 'non-recoverable failure in name resolution',
  EAI_FAMILY: 'address family not supported',
  EAI_SERVICE: 'service not supported',
};

/**
 * The error a socket call fails with, shaped like Node's system errors:
 * `code`, `errno` and `syscall`, and a message naming the call, the socket and the reason.
 */
export class SocketError extends Error {
  /** The POSIX error code, e.g. `'ECONNREFUSED'`. */
  readonly code: Errno;
  /** The numeric errno for `code`, from `os.constants.errno` (0 if the platform has none). */
  readonly errno: number;
  /** The call that failed, e.g. `'connect'` or `'recvfrom'`. */
  readonly syscall: string;

  /** `who` names the socket (e.g. `fd 3 (udp 10.7.0.2:7)`); `detail` replaces the code's standard description in the message. */
  constructor(code: Errno, syscall: string, who: string, detail?: string) {
    super(`${syscall} ${who}: ${code} (${detail ?? DESCRIPTIONS[code]})`);
    this.name = 'SocketError';
    this.code = code;
    this.syscall = syscall;
    this.errno = EAI_ERRNO[code] ?? (constants.errno as Record<string, number>)[code] ?? 0;
  }
}
