/**
 * Where the time and the memory go: a CPU profile of this process for a few seconds (V8's
 * sampling profiler through `node:inspector`), summarised as the functions with the most
 * self time; and the bytes allocated meanwhile (V8's sampling heap profiler, counting what
 * the garbage collector has already freed too), by allocating function.
 * `tcpip stat --profile SECONDS` / `--alloc SECONDS` ask a running demo for them;
 * `npm run bench` prints the profile of the row furthest below Linux and the bytes
 * allocated per MiB and per request/response.
 */
import { Session } from 'node:inspector/promises';

export interface ProfileEntry {
  /** `functionName file:line`, or `(idle)`, `(garbage collector)`, `(program)`. */
  fn: string;
  /** Share of the samples, 0-100. */
  pct: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Profiles this process for `seconds` and returns the `top` functions by self time. */
export async function profileSelf(seconds: number, top = 15): Promise<ProfileEntry[]> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    return summarise(profile, top);
  } finally {
    session.disconnect();
  }
}

/** Self time per function (by name and place), as shares of all samples. */
export function summarise(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, top: number): ProfileEntry[] {
  const name = new Map<number, string>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const file = f.url ? `${f.url.split('/').pop()}:${f.lineNumber + 1}` : '';
    name.set(n.id, file ? `${f.functionName || '(anonymous)'} ${file}` : f.functionName || '(program)');
  }
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const k = name.get(id) ?? '?';
    self.set(k, (self.get(k) ?? 0) + dt);
    total += dt;
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, t]) => ({ fn, pct: total > 0 ? Math.round((t / total) * 1000) / 10 : 0 }));
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** What was allocated over `seconds`: the estimated total, and the `top` allocating functions. */
export async function allocationsSelf(seconds: number, top = 10): Promise<{ bytes: number; top: { fn: string; bytes: number }[] }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    // Every 4 KiB allocated, a sample (V8 scales each to the bytes it stands for);
    // objects the collector freed meanwhile count too.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as object);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
    const by = new Map<string, number>();
    let bytes = 0;
    const walk = (n: HeapNode): void => {
      if (n.selfSize > 0) {
        const f = n.callFrame;
        const k = f.url ? `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}` : f.functionName || '(root)';
        by.set(k, (by.get(k) ?? 0) + n.selfSize);
        bytes += n.selfSize;
      }
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    return { bytes, top: [...by].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, b]) => ({ fn, bytes: b })) };
  } finally {
    session.disconnect();
  }
}
