/** BSD socket constants, with Linux's values so that numbers read the same as in C. */

/** Address family: IPv4. */
export const AF_INET = 2;
/** Address family: IPv6 (Linux's 10). */
export const AF_INET6 = 10;
/** Socket type: a TCP byte stream. */
export const SOCK_STREAM = 1;
/** Socket type: UDP datagrams. */
export const SOCK_DGRAM = 2;

/** Option level of the socket itself (`setsockopt(SOL_SOCKET, ...)`). */
export const SOL_SOCKET = 1;
/** Bind a port that connections in TIME-WAIT still use (Linux semantics). */
export const SO_REUSEADDR = 2;
/** Read-only: the socket's type (SOCK_STREAM or SOCK_DGRAM). */
export const SO_TYPE = 3;
/** Read-only: the pending error (as an errno number), cleared when read. */
export const SO_ERROR = 4;
/** Allow sending to a broadcast address (UDP). */
export const SO_BROADCAST = 6;
/** Send buffer size in bytes (doubled and clamped, as Linux does). */
export const SO_SNDBUF = 7;
/** Receive buffer size in bytes (doubled and clamped, as Linux does). */
export const SO_RCVBUF = 8;
/** TCP keepalive probes on an idle connection (RFC 1122 §4.2.3.6). */
export const SO_KEEPALIVE = 9;
/** `{ onoff, linger }`: with linger 0, close() resets the connection. */
export const SO_LINGER = 13;

/** Option level of TCP (`setsockopt(IPPROTO_TCP, ...)`). */
export const IPPROTO_TCP = 6;
/** Protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** Turn off Nagle's algorithm (RFC 896): small segments go at once. */
export const TCP_NODELAY = 1;
/** Read-only here: the connection's send MSS. */
export const TCP_MAXSEG = 2;
/** Seconds of idle time before the first keepalive probe. */
export const TCP_KEEPIDLE = 4;
/** Seconds between keepalive probes. */
export const TCP_KEEPINTVL = 5;
/** Keepalive probes unanswered before the connection is dropped. */
export const TCP_KEEPCNT = 6;

/** `shutdown()`: no more receiving. */
export const SHUT_RD = 0;
/** `shutdown()`: no more sending (a FIN follows the queued data). */
export const SHUT_WR = 1;
/** `shutdown()`: both. */
export const SHUT_RDWR = 2;

/** Linux TCP_USER_TIMEOUT (RFC 5482): ms that sent data may stay unacknowledged before the connection fails (0: the retry counts decide). */
export const TCP_USER_TIMEOUT = 18;
/** `setsockopt` level for IP options. */
export const IPPROTO_IP = 0;
/** `setsockopt` level for IPv6 options (Linux's 41). */
export const IPPROTO_IPV6 = 41;
/** IPV6_V6ONLY (RFC 3493 §5.3): an AF_INET6 socket on `::` takes IPv6 only. Off by default, as on Linux (net.ipv6.bindv6only = 0). */
export const IPV6_V6ONLY = 26;
/** IPV6_TCLASS (RFC 3542 §6.5): the traffic class of the socket's packets (IP_TOS's IPv6 twin). */
export const IPV6_TCLASS = 67;
/** IPV6_UNICAST_HOPS (RFC 3493 §5.1): the hop limit of the socket's unicast packets. */
export const IPV6_UNICAST_HOPS = 16;
/** IP_TOS: the type-of-service byte of the socket's datagrams (DSCP, RFC 2474; RFC 9293 MUST-48 for TCP). */
export const IP_TOS = 1;

/** `poll()` events (Python's select.POLL*, Linux's values): data to read (or a connection to accept). */
export const POLLIN = 0x001;
/** Urgent data (never: RFC 6093 advises against urgent data, and the stack ignores it). */
export const POLLPRI = 0x002;
/** Room to write (or a connect that finished). */
export const POLLOUT = 0x004;
/** An error is pending (the next call reports it). */
export const POLLERR = 0x008;
/** The connection is closed both ways, or reset. */
export const POLLHUP = 0x010;
/** The descriptor is not open. */
export const POLLNVAL = 0x020;
