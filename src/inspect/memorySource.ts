// The memory source: a process's tasks read from outside, without running code in it. `open`
// reads the maps, the ELF facts and the layout once; each snapshot then only walks memory.
import { Limits } from '../procmem/objects';
import { openTarget, Target } from '../procmem/target';
import { DEFAULT_LIMITS, RawSnapshot, snapshotWithRetries } from '../procmem/walker';
import { programTasks } from './agentFrames';
import { NO_ASYNCIO, OpenSource, Snapshot, TaskSource } from './model';

export interface ReadLimits {
  maxTasks?: number;
  maxFrames?: number;
}

export function fromRaw(raw: RawSnapshot): Snapshot {
  const warnings = [...raw.warnings];
  if (!raw.asyncioLoaded) warnings.push(NO_ASYNCIO);
  if (raw.truncated) warnings.push('the task limit was reached: the list is incomplete (see --max-tasks)');
  return {
    pid: raw.pid,
    source: 'memory',
    pythonVersion: raw.pythonVersion,
    truncated: raw.truncated,
    warnings,
    tasks: programTasks(raw.tasks),
  };
}

/** An open target, for callers that read more than tasks (`dump`). */
export interface OpenMemory extends OpenSource {
  readonly target: Target;
  readonly limits: Limits;
  /** The snapshot in the reader's own form (threads included). */
  raw(): RawSnapshot;
}

export function openMemory(pid: number, limits: ReadLimits = {}): OpenMemory {
  const target = openTarget(pid);
  const all: Limits = { ...DEFAULT_LIMITS, ...limits };
  const raw = (): RawSnapshot => snapshotWithRetries(target, all);
  return {
    target,
    limits: all,
    raw,
    snapshot: async () => fromRaw(raw()),
    close: () => target.mem.close(),
  };
}

export function readFromMemory(pid: number, limits: ReadLimits = {}): Snapshot {
  const open = openMemory(pid, limits);
  try {
    return fromRaw(open.raw());
  } finally {
    open.close();
  }
}

export function memorySource(limits: ReadLimits = {}): TaskSource {
  return { kind: 'memory', open: async (pid) => openMemory(pid, limits) };
}
