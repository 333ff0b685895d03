// The task table of a program run under `tasklens run`, asked of its agent: connect, greet
// read-only, `taskTable`, leave. One short visit on the agent's client socket; the program never
// stops, and an attached debugger keeps its state.
import type { AgentClient } from '../agent/client';
import { AgentConnectError, connectAgent } from '../agent/connect';
import type { AgentAddress } from '../agent/discovery';
import type { AgentDeadlock, AgentTask } from '../agent/protocol';
import type { ReadLimits } from './memorySource';
import { Frame, NO_ASYNCIO, Snapshot, Task, TaskSource, TaskState } from './model';

/** Connecting, the agent's greeting and the handshake: a live agent answers in milliseconds. */
export const CONNECT_TIMEOUT_MS = 1000;
/** The table itself: the agent walks every task, which takes a while with thousands of them. */
export const TABLE_TIMEOUT_MS = 5000;
const LEAVE_TIMEOUT_MS = 200;

/** The agent could not be asked; `message` says why, fit for a user. */
export class AgentUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentUnavailable';
  }
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentUnavailable(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function leave(c: AgentClient): Promise<void> {
  // `disconnect` without terminate, as a debugger leaves: the agent lets the program run on.
  await within(LEAVE_TIMEOUT_MS, 'disconnect', c.request('disconnect', { terminate: false }, LEAVE_TIMEOUT_MS)).catch(() => undefined);
  c.destroy();
}

export async function askAgent(pid: number, a: AgentAddress, limits: ReadLimits = {}): Promise<Snapshot> {
  let c: AgentClient;
  let pythonVersion: string;
  try {
    const connected = await connectAgent(a.host, a.port, () => undefined, {
      token: a.token, greetMs: CONNECT_TIMEOUT_MS, handshakeMs: CONNECT_TIMEOUT_MS, readOnly: true, pid,
    });
    c = connected.client;
    pythonVersion = connected.hello.pythonVersion;
  } catch (err) {
    throw unavailable(a, err);
  }
  let body: { tasks: AgentTask[]; deadlocks?: AgentDeadlock[]; asyncioLoaded?: boolean };
  try {
    body = await within(TABLE_TIMEOUT_MS, 'taskTable', c.request('taskTable', {}, TABLE_TIMEOUT_MS));
  } catch (err) {
    throw new AgentUnavailable(`the agent did not give its task table: ${reason(err)}`);
  } finally {
    await leave(c);
  }
  const snapshot = toSnapshot(pid, pythonVersion, body.tasks, limits, body.deadlocks);
  if (body.asyncioLoaded === false) snapshot.warnings.push(NO_ASYNCIO);   // as a memory read says
  return snapshot;
}

function unavailable(a: AgentAddress, err: unknown): AgentUnavailable {
  if (!(err instanceof AgentConnectError)) return new AgentUnavailable(reason(err));
  switch (err.stage) {
    case 'connect':
      return new AgentUnavailable(err.errno === 'ECONNREFUSED'
        ? `nothing listens on ${a.host}:${a.port} (the discovery file ${a.file} is stale)`
        : `cannot connect to ${a.host}:${a.port}: ${err.message}`);
    case 'timeout':
      return new AgentUnavailable(`the agent at ${a.host}:${a.port}: ${err.message}`);
    case 'closed':
      return new AgentUnavailable(`the agent at ${a.host}:${a.port} closed the connection before greeting`);
    case 'handshake':
      return new AgentUnavailable(`the agent refused the connection: ${err.message}`);
    default:
      return new AgentUnavailable(err.message);
  }
}

/** Throws AgentUnavailable rather than resolving to null: the caller says why it fell back. */
export function agentSource(a: AgentAddress, limits: ReadLimits = {}): TaskSource {
  // Each snapshot is one short visit: a connection kept open would hold a client slot of the agent.
  return { kind: 'agent', open: async (pid) => ({ snapshot: () => askAgent(pid, a, limits), close: () => undefined }) };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const STATES: Record<AgentTask['state'], TaskState> = {
  pending: 'suspended',
  running: 'running',
  done: 'done',
  cancelled: 'done',
};

/** The agent's rows in the model of a memory read: ids are object addresses, as there. */
export function toSnapshot(pid: number, pythonVersion: string, rows: AgentTask[], limits: ReadLimits = {}, deadlocks?: AgentDeadlock[]): Snapshot {
  const maxTasks = limits.maxTasks ?? Infinity;
  const maxFrames = limits.maxFrames ?? Infinity;
  const idOf = new Map<number, string>();
  for (const r of rows) idOf.set(r.threadId, `0x${r.taskId.toString(16)}`);
  const truncated = rows.length > maxTasks;
  const tasks = (truncated ? rows.slice(0, maxTasks) : rows).map((r): Task => {
    const stack: Frame[] = r.stack.slice(0, maxFrames).map((f) => ({ function: f.name, file: f.path, line: f.line > 0 ? f.line : -1 }));
    const task: Task = {
      id: idOf.get(r.threadId)!,
      name: r.name,
      threadId: r.osThreadId ?? 0,
      interpreterId: 0,
      state: STATES[r.state] ?? 'unknown',
      stack,
      // An awaiter missing from the table finished while it was built: named by its agent id.
      awaitedBy: r.awaitedBy.map((t) => idOf.get(t) ?? `#${t}`),
    };
    if (r.createdAt) task.createdAt = { file: r.createdAt.path, line: r.createdAt.line };
    if (r.waitingOn !== undefined) task.waitingOn = r.waitingOn;
    if (r.ageSeconds !== undefined) task.ageSeconds = r.ageSeconds;
    addDiagnostics(task, r, idOf);
    return task;
  });
  const warnings = truncated ? ['the task limit was reached: the list is incomplete (see --max-tasks)'] : [];
  const snapshot: Snapshot = { pid, source: 'agent', pythonVersion, tasks, truncated, warnings };
  if (deadlocks !== undefined) {
    const name = (t: number): string => idOf.get(t) ?? `#${t}`;
    snapshot.deadlocks = deadlocks.map((d) => ({ ...d, tasks: d.tasks.map(name), cycles: d.cycles.map((c) => c.map(name)) }));
  }
  return snapshot;
}

/** The fields `--diagnose` adds to a row (docs/diagnostics.md). */
function addDiagnostics(task: Task, r: AgentTask, idOf: Map<number, string>): void {
  if (r.waitedSeconds !== undefined) task.waitedSeconds = r.waitedSeconds;
  if (r.stuck) task.stuck = true;
  if (r.lockHolders) {
    task.lockHolders = r.lockHolders.map((h) => ({
      ...(h.threadId !== undefined && idOf.has(h.threadId) ? { task: idOf.get(h.threadId) } : {}),
      name: h.name,
      finished: h.finished,
      ...(h.acquiredAt ? { acquiredAt: { file: h.acquiredAt.path, line: h.acquiredAt.line } } : {}),
    }));
  }
}
