/**
 * Every state suite again, with the stack's defaults: timestamps (RFC 7323) and SACK
 * (RFC 2018) on, and the remote offering both as Linux does. The suites spell segments
 * without options; in this mode the harness adds them on both sides and expects them on
 * ours (`sackOK,TS` on a SYN, `TS` on every other segment of the connection).
 */
(globalThis as { __tcpStateDefaults?: boolean }).__tcpStateDefaults = true;
await import('./handshake.test.js');
await import('./closed-listen.test.js');
await import('./established.test.js');
await import('./closing.test.js');
await import('./timers.test.js');
// (pmtu.test.ts stays as it is: its byte counts are MSS arithmetic, which timestamps only shift by 12.)
