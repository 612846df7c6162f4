/**
 * `tcpip-ts/sim`: the deterministic simulator, for property tests of TCP and of your
 * own protocols over it. Whole stacks run in one process over in-memory wires on one
 * manual clock; nothing waits in real time, and every run replays from its seed.
 *
 * ```ts
 * import { SimNetwork, FaultLink } from 'tcpip-ts/sim';
 *
 * const { net, a, b } = SimNetwork.pair();          // 10.7.0.1 and 10.7.0.2
 * b.net.createServer((s) => s.pipe(s)).listen(7);     // echo on b
 * const c = a.net.connect(7, '10.7.0.2');
 * ```
 *
 * @packageDocumentation
 */
export { SimNetwork, settle, type SimHost } from './sim-network.js';
export { KeepAliveCount } from '../socket/host.js';
export { FaultLink, NO_FAULTS, parseFaultSpec, type FaultConfig, type FaultCounters } from '../link/fault-link.js';
export { MemoryLink } from '../link/memory-link.js';
export { ManualClock, type Clock } from '../core/clock.js';
export { SeededRand, type Rand } from '../core/rand.js';
export { PcapLink, PcapWriter, LINKTYPE_RAW, LINKTYPE_ETHERNET } from '../link/pcap.js';
