/**
 * An iperf3 server (TCP tests) on port 5201, so that `iperf3 -c 10.7.0.2` and `iperf3 -c
 * 10.7.0.2 -R` measure the stack with the tool people trust, unmodified. Written on the
 * socket facade like the other services.
 *
 * The iperf3 protocol, as the iperf3 client speaks it (esnet/iperf, iperf_api.c): a control
 * connection opens with a 37-byte cookie; the server drives it with one-byte states
 * (PARAM_EXCHANGE, then the client's parameters as a 4-byte length and JSON;
 * CREATE_STREAMS, then the data connections, each opening with the same cookie;
 * TEST_START, TEST_RUNNING). Data flows one way (client to server, or server to client with
 * -R) until the client sends TEST_END; the server answers EXCHANGE_RESULTS, reads the
 * client's results and sends its own (length and JSON), then DISPLAY_RESULTS, and the
 * client ends with IPERF_DONE. One test at a time: another client gets ACCESS_DENIED, as
 * from iperf3 -s. UDP and bidirectional tests are refused (the control connection closes).
 */
import { AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../socket/constants.js';
import type { SocketApi } from '../socket/socket-api.js';
import type { StreamSocket } from '../socket/stream-socket.js';
import type { Service } from './udp-services.js';

const COOKIE_SIZE = 37;
const TEST_START = 1;
const TEST_RUNNING = 2;
const TEST_END = 4;
const PARAM_EXCHANGE = 9;
const CREATE_STREAMS = 10;
const CLIENT_TERMINATE = 12;
const EXCHANGE_RESULTS = 13;
const DISPLAY_RESULTS = 14;
const IPERF_DONE = 16;
const ACCESS_DENIED = 0xff; // -1 as a signed byte
/** Streams must connect within this after CREATE_STREAMS. */
const STREAMS_TIMEOUT_MS = 10_000;
/** The largest parameter or result message we read (iperf3's are a few hundred bytes). */
const MAX_JSON = 64 * 1024;

/** Reads exactly `n` bytes; throws at end of stream. */
async function recvExact(s: StreamSocket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const b = await s.recv(n - got);
    if (b.length === 0) throw new Error('iperf3: the peer closed the connection');
    out.set(b, got);
    got += b.length;
  }
  return out;
}

async function recvJson(s: StreamSocket): Promise<Record<string, unknown>> {
  const len = new DataView((await recvExact(s, 4)).buffer).getUint32(0);
  if (len > MAX_JSON) throw new Error(`iperf3: a ${len}-byte message`);
  return JSON.parse(Buffer.from(await recvExact(s, len)).toString('utf8')) as Record<string, unknown>;
}

async function sendJson(s: StreamSocket, v: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify(v));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  await s.sendall(Buffer.concat([head, body]));
}

/**
 * The data phase on each stream, both ends: the sender writes `blockLen`-byte blocks while
 * `running()` holds, counting each as written; the receiver counts what arrives while it
 * holds, and reads on to the end of the stream. `bytes[i]` is stream i's count.
 */
/** Where received test data goes (it is counted, not kept). */
const SINK = new Uint8Array(262144);

function dataFlows(streams: StreamSocket[], sending: boolean, blockLen: number, running: () => boolean, bytes: number[]): Promise<void>[] {
  const block = new Uint8Array(blockLen);
  return streams.map(async (s, i) => {
    try {
      if (sending) {
        while (running()) {
          bytes[i]! += block.length; // written: it goes out and is counted by the receiver
          await s.sendall(block);
        }
      } else {
        // Into one buffer every stream shares (recv_into): no array per read; the bytes
        // are only counted.
        for (;;) {
          const n = await s.recv_into(SINK);
          if (n === 0) break;
          if (running()) bytes[i]! += n;
        }
      }
    } catch {
      // the other end closed or reset its stream at the end
    }
  });
}

interface Test {
  cookie: string;
  ctrl: StreamSocket;
  want: number;
  streams: StreamSocket[];
  /** Called when every stream has connected. */
  ready: () => void;
}

/** The iperf3 server. `now` is wall-clock ms (for the test's duration and CPU share). */
export function iperf3Service(api: SocketApi, port = 5201, now: () => number = () => performance.now()): Service {
  const l = api.socket(api.host.stack.ip6 !== null ? AF_INET6 : AF_INET, SOCK_STREAM); // both families
  l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  l.bind(['', port]);
  l.listen(64);
  let test: Test | null = null;
  const open = new Set<StreamSocket>();

  const runTest = async (t: Test): Promise<void> => {
    const ctrl = t.ctrl;
    await ctrl.sendall(Uint8Array.of(PARAM_EXCHANGE));
    const params = await recvJson(ctrl);
    if (params.udp || params.sctp || params.bidirectional) throw new Error('iperf3: only TCP tests, one direction at a time');
    t.want = Math.max(1, Math.min(128, Number(params.parallel ?? 1) || 1));
    const reverse = Boolean(params.reverse);
    const blockLen = Math.max(1, Math.min(1 << 20, Number(params.len ?? 131072) || 131072));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const streamsIn = new Promise<void>((resolve, reject) => {
      t.ready = resolve;
      timer = setTimeout(() => reject(new Error('iperf3: the streams did not connect')), STREAMS_TIMEOUT_MS);
    });
    if (t.streams.length >= t.want) t.ready();
    await ctrl.sendall(Uint8Array.of(CREATE_STREAMS));
    try {
      await streamsIn;
    } finally {
      clearTimeout(timer);
    }
    await ctrl.sendall(Uint8Array.of(TEST_START));
    await ctrl.sendall(Uint8Array.of(TEST_RUNNING));
    const start = now();
    const cpu0 = process.cpuUsage();
    let running = true;
    const bytes = t.streams.map(() => 0);
    const flows = dataFlows(t.streams, reverse, blockLen, () => running, bytes);
    // The control connection: TEST_END ends the data phase.
    const state = (await recvExact(ctrl, 1))[0];
    running = false;
    const seconds = (now() - start) / 1000;
    if (state === CLIENT_TERMINATE) return;
    if (state !== TEST_END) throw new Error(`iperf3: unexpected state ${state}`);
    const cpu = process.cpuUsage(cpu0);
    // As iperf3 -s does on TEST_END: the data streams close before EXCHANGE_RESULTS. A -R
    // client may be in a blocking read of its data socket, which only our FIN ends.
    const retransmits = t.streams.map((s) => (reverse ? (s.tcpInfo()?.retransmits ?? 0) : -1));
    for (const s of t.streams) s.close();
    await ctrl.sendall(Uint8Array.of(EXCHANGE_RESULTS));
    const theirs = await recvJson(ctrl);
    const ids = Array.isArray(theirs.streams) ? (theirs.streams as { id?: number }[]).map((s, i) => s.id ?? i + 1) : [];
    const wallUs = Math.max(1, seconds * 1e6);
    await sendJson(ctrl, {
      cpu_util_total: ((cpu.user + cpu.system) / wallUs) * 100,
      cpu_util_user: (cpu.user / wallUs) * 100,
      cpu_util_system: (cpu.system / wallUs) * 100,
      sender_has_retransmits: reverse ? 1 : 0,
      streams: t.streams.map((_, i) => ({
        id: ids[i] ?? i + 1,
        bytes: bytes[i],
        retransmits: retransmits[i],
        jitter: 0,
        errors: 0,
        packets: 0,
        start_time: 0,
        end_time: seconds,
      })),
    });
    await ctrl.sendall(Uint8Array.of(DISPLAY_RESULTS));
    // IPERF_DONE (or the client just closing) ends the test.
    await recvExact(ctrl, 1).catch(() => undefined);
    for (const s of t.streams) s.close();
    await Promise.allSettled(flows);
  };

  const done = (async () => {
    for (;;) {
      let conn: StreamSocket;
      try {
        [conn] = await l.accept();
      } catch {
        return; // the listening socket was closed
      }
      open.add(conn);
      void (async () => {
        const cookie = Buffer.from(await recvExact(conn, COOKIE_SIZE)).toString('latin1');
        const cur = test as Test | null;
        if (cur && cur.cookie === cookie && cur.streams.length < cur.want) {
          // A data stream of the running test.
          cur.streams.push(conn);
          if (cur.streams.length >= cur.want) cur.ready();
          return;
        }
        if (cur) {
          await conn.sendall(Uint8Array.of(ACCESS_DENIED));
          conn.close();
          open.delete(conn);
          return;
        }
        const t: Test = { cookie, ctrl: conn, want: Infinity, streams: [], ready: () => {} };
        test = t;
        try {
          await runTest(t);
        } finally {
          for (const s of t.streams) {
            s.close();
            open.delete(s);
          }
          conn.close();
          open.delete(conn);
          if (test === t) test = null;
        }
      })().catch(() => {
        conn.close();
        open.delete(conn);
      });
    }
  })();
  return {
    name: 'iperf3',
    port,
    stop: () => {
      l.close();
      for (const c of open) c.close();
    },
    done,
  };
}

/** What a client test measured: bytes each side counted, over how long. */
export interface Iperf3Result {
  /** The stack sent (false: -R, the server sent). */
  weSent: boolean;
  streams: number;
  seconds: number;
  /** Bytes the sender sent and the receiver received (the server's figure for its side). */
  sentBytes: number;
  receivedBytes: number;
  /** Retransmissions by the sender, when it reports them. */
  retransmits: number | null;
}

const SERVER_ERROR = 0xfe; // -2 as a signed byte

/** A random iperf3 cookie: 36 characters of the base-32 alphabet iperf3 uses, and a NUL. */
function makeCookie(): Uint8Array {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const out = new Uint8Array(COOKIE_SIZE);
  for (let i = 0; i < COOKIE_SIZE - 1; i++) out[i] = alphabet.charCodeAt(Math.floor(Math.random() * 32));
  return out;
}

/**
 * An iperf3 client test (TCP) from the stack to an iperf3 server (`iperf3 -s`): `seconds`
 * of data from us to it, or from it to us with `reverse`, over `parallel` streams.
 */
export async function iperf3Client(
  api: SocketApi,
  host: string,
  opts: { port?: number; seconds?: number; reverse?: boolean; parallel?: number; len?: number; now?: () => number } = {},
): Promise<Iperf3Result> {
  const seconds = opts.seconds ?? 10;
  const parallel = opts.parallel ?? 1;
  const len = opts.len ?? 131072;
  const reverse = opts.reverse ?? false;
  const now = opts.now ?? (() => performance.now());
  const port = opts.port ?? 5201;
  const cookie = makeCookie();
  // An IPv6 server is reached over IPv6 (`tcpip iperf3 -c fd00:8::1`).
  const family = host.includes(':') ? AF_INET6 : AF_INET;
  const ctrl = api.socket(family, SOCK_STREAM);
  const streams: StreamSocket[] = [];
  try {
    await ctrl.connect([host, port]);
    await ctrl.sendall(cookie);
    const bytes: number[] = [];
    let flows: Promise<void>[] = [];
    let running = false;
    let start = 0;
    let elapsed = 0;
    let theirs: Record<string, unknown> = {};
    let cpu0 = process.cpuUsage();
    for (;;) {
      const state = (await recvExact(ctrl, 1))[0]!;
      if (state === PARAM_EXCHANGE) {
        await sendJson(ctrl, { tcp: true, omit: 0, time: seconds, num: 0, blockcount: 0, parallel, len, pacing_timer: 1000, client_version: '3.12', ...(reverse ? { reverse: true } : {}) });
      } else if (state === CREATE_STREAMS) {
        for (let i = 0; i < parallel; i++) {
          const s = api.socket(family, SOCK_STREAM);
          streams.push(s);
          await s.connect([host, port]);
          await s.sendall(cookie);
          bytes.push(0);
        }
      } else if (state === TEST_START) {
        // nothing to do: TEST_RUNNING follows
      } else if (state === TEST_RUNNING) {
        running = true;
        start = now();
        cpu0 = process.cpuUsage();
        flows = dataFlows(streams, !reverse, len, () => running, bytes);
        await new Promise((r) => setTimeout(r, seconds * 1000));
        running = false;
        elapsed = (now() - start) / 1000;
        await ctrl.sendall(Uint8Array.of(TEST_END));
      } else if (state === EXCHANGE_RESULTS) {
        const cpu = process.cpuUsage(cpu0);
        const wallUs = Math.max(1, elapsed * 1e6);
        const ids = streams.map((_, i) => (i === 0 ? 1 : i + 2)); // iperf3's numbering: 1, 3, 4, ...
        await sendJson(ctrl, {
          cpu_util_total: ((cpu.user + cpu.system) / wallUs) * 100, cpu_util_user: (cpu.user / wallUs) * 100, cpu_util_system: (cpu.system / wallUs) * 100,
          sender_has_retransmits: reverse ? 0 : 1,
          streams: streams.map((s, i) => ({
            id: ids[i], bytes: bytes[i], retransmits: reverse ? -1 : (s.tcpInfo()?.retransmits ?? 0), jitter: 0, errors: 0, packets: 0, start_time: 0, end_time: elapsed,
          })),
        });
        theirs = await recvJson(ctrl);
      } else if (state === DISPLAY_RESULTS) {
        await ctrl.sendall(Uint8Array.of(IPERF_DONE));
        break;
      } else if (state === ACCESS_DENIED) {
        throw new Error('iperf3: the server is busy running a test; try later');
      } else if (state === SERVER_ERROR) {
        throw new Error('iperf3: the server reported an error');
      } else {
        throw new Error(`iperf3: unexpected state ${state} from the server`);
      }
    }
    for (const s of streams) s.close();
    await Promise.allSettled(flows);
    const theirStreams = Array.isArray(theirs.streams) ? (theirs.streams as { bytes?: number; retransmits?: number }[]) : [];
    const ours = bytes.reduce((a, b) => a + b, 0);
    const theirBytes = theirStreams.reduce((a, s) => a + (s.bytes ?? 0), 0);
    const theirRetx = theirStreams.reduce((a, s) => a + Math.max(0, s.retransmits ?? 0), 0);
    return {
      weSent: !reverse,
      streams: parallel,
      seconds: elapsed,
      sentBytes: reverse ? theirBytes : ours,
      receivedBytes: reverse ? ours : theirBytes,
      retransmits: reverse ? (theirs.sender_has_retransmits ? theirRetx : null) : streams.reduce((a, s) => a + (s.tcpInfo()?.retransmits ?? 0), 0),
    };
  } finally {
    for (const s of streams) s.close();
    ctrl.close();
  }
}
