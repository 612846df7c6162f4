/**
 * Where the time goes: a CPU profile of this process for a few seconds (V8's sampling
 * profiler through `node:inspector`), summarised as the functions with the most self time.
 * `tcpip stat --profile SECONDS` asks a running demo for it; `npm run bench` prints it for
 * the row furthest below Linux.
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
