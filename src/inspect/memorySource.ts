import { openTarget } from '../procmem/target';
import { DEFAULT_LIMITS, RawSnapshot, snapshotWithRetries } from '../procmem/walker';
import { Snapshot, TaskSource } from './model';

export interface ReadLimits {
  maxTasks?: number;
  maxFrames?: number;
}

export function fromRaw(raw: RawSnapshot): Snapshot {
  const warnings = [...raw.warnings];
  if (!raw.asyncioLoaded) warnings.push('asyncio is not loaded in this process: it has no tasks');
  if (raw.truncated) warnings.push('the task limit was reached: the list is incomplete (see --max-tasks)');
  return {
    pid: raw.pid,
    source: 'memory',
    pythonVersion: raw.pythonVersion,
    truncated: raw.truncated,
    warnings,
    // The walker's tasks already have the model's shape (and the fields in the JSON order).
    tasks: raw.tasks,
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
