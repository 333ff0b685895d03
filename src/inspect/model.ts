// The task model shared by every way of looking at a process: read from its memory (procmem),
// or — for programs run under tasklens — asked of its agent. Renderers only see this model.

export interface Frame {
  function: string;
  file: string;
  /** 1-based; -1 when the location table has no line for the instruction. */
  line: number;
}

export type TaskState = 'running' | 'suspended' | 'not-started' | 'done' | 'unknown';

export interface Task {
  /** Stable for the snapshot: the object address (0x…) when read from memory. */
  id: string;
  name: string;
  /** Native thread id of the thread owning the task's loop; 0 once that thread has ended. */
  threadId: number;
  interpreterId: number;
  state: TaskState;
  /** Coroutine frames, innermost first; tasks with the same stack may share one array. */
  stack: readonly Frame[];
  /** Ids of the tasks (or futures) awaiting this one; tasks with the same awaiters may share it. */
  awaitedBy: readonly string[];
  /**
   * Set (to the helper's name, e.g. `asyncio.wait`) when the task is awaited in a way its
   * Python does not record in memory (3.11–3.13): it then has no awaitedBy, rightly or not.
   */
  awaiterUnknown?: string;
  /** Set when the task could not be read completely; the other fields are then best effort. */
  error?: string;
  /** Only the program's agent knows these (source `agent`), and only when it could tell. */
  createdAt?: { file: string; line: number };
  /** What a suspended task waits for: a sleep and its deadline, a future, a queue, a lock… */
  waitingOn?: string;
  ageSeconds?: number;
  /** Under `tasklens run --diagnose`: seconds since the task last ran (to the sampling interval). */
  waitedSeconds?: number;
  /** Reported as a stuck task: waiting on what nothing will complete. */
  stuck?: boolean;
  /** The tasks holding the asyncio Lock or Semaphore this task waits for, and where they took it. */
  lockHolders?: LockHolder[];
}

export interface LockHolder {
  /** Task id as in `Task.id`, when the holder is still alive. */
  task?: string;
  name: string | null;
  finished: boolean;
  acquiredAt?: { file: string; line: number };
}

/** A deadlock the program's diagnostics reported and that still holds. */
export interface Deadlock {
  message: string;
  thread: string;
  likely: boolean;
  /** Every task of the loop waits (else: only the tasks of the cycles). */
  wholeLoop: boolean;
  tasks: string[];
  cycles: string[][];
}

export interface Snapshot {
  pid: number;
  source: 'memory' | 'agent';
  pythonVersion: string;
  tasks: Task[];
  truncated: boolean;
  warnings: string[];
  /** Only from the agent of a program run with `--diagnose`. */
  deadlocks?: Deadlock[];
}

/** One process, open for as many snapshots as wanted (a live view refreshes without reopening). */
export interface OpenSource {
  snapshot(): Promise<Snapshot>;
  close(): void;
}

export interface TaskSource {
  readonly kind: Snapshot['source'];
  /** Resolves to null when this source does not apply to the process (e.g. no agent there). */
  open(pid: number): Promise<OpenSource | null>;
}

export function frameLabel(f: Frame): string {
  return `${f.function} ${f.file}:${f.line}`;
}

/** The warning of a process without asyncio, whichever source read it. */
export const NO_ASYNCIO = 'asyncio is not loaded in this process: it has no tasks';
