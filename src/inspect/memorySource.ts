import { openTarget } from '../procmem/target';
import { DEFAULT_LIMITS, RawSnapshot, snapshotWithRetries } from '../procmem/walker';
import { Snapshot, TaskSource } from './model';

export interface ReadLimits {
  maxTasks?: number;
  maxFrames?: number;
}

/**
 * `0x…` of an address. Number#toString(16) on a 47-bit value takes V8's slow double path, and a
 * snapshot names 20,000 addresses; tasks share their top bits, so only the low 24 are converted.
 */
function hexer(): (n: number) => string {
  const prefixes = new Map<number, string>();
  return (n) => {
    const hi = Math.floor(n / 0x1000000);
    let p = prefixes.get(hi);
    if (p === undefined) prefixes.set(hi, (p = hi === 0 ? '0x' : `0x${hi.toString(16)}`));
    const lo = n - hi * 0x1000000;
    return hi === 0 ? p + lo.toString(16) : p + (lo + 0x1000000).toString(16).slice(1);
  };
}

export function fromRaw(raw: RawSnapshot): Snapshot {
  const hex = hexer();
  const ids = new Map<number, string>();
  for (const t of raw.tasks) ids.set(t.addr, hex(t.addr));
  const idOf = (addr: number): string => ids.get(addr) ?? hex(addr);
  const warnings = [...raw.warnings];
  if (!raw.asyncioLoaded) warnings.push('asyncio is not loaded in this process: it has no tasks');
  if (raw.truncated) warnings.push('the task limit was reached: the list is incomplete (see --max-tasks)');
  return {
    pid: raw.pid,
    source: 'memory',
    pythonVersion: raw.pythonVersion,
    truncated: raw.truncated,
    warnings,
    tasks: raw.tasks.map((t) => ({
      id: idOf(t.addr),
      name: t.name,
      threadId: t.threadId,
      interpreterId: t.interpreterId,
      state: t.state,
      stack: t.frames,
      awaitedBy: t.awaitedBy.map(idOf),
      ...(t.error ? { error: t.error } : {}),
    })),
  };
}

export function readFromMemory(pid: number, limits: ReadLimits = {}): Snapshot {
  const target = openTarget(pid);
  try {
    return fromRaw(snapshotWithRetries(target, { ...DEFAULT_LIMITS, ...limits }));
  } finally {
    target.mem.close();
  }
}

export function memorySource(limits: ReadLimits = {}): TaskSource {
  return { kind: 'memory', snapshot: async (pid) => readFromMemory(pid, limits) };
}
