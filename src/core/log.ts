/**
 * Logging through `debug`, one namespace per layer (`tcpip:link`, `tcpip:ip`, ...).
 * Hot paths test `log.enabled` before building any string, so a disabled logger
 * costs one property read per packet.
 *
 *   DEBUG=tcpip:* npx tcpip demo
 */
import createDebug from 'debug';

export type Logger = createDebug.Debugger;

export function logger(layer: string): Logger {
  return createDebug(`tcpip:${layer}`);
}
