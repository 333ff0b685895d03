// The task table of a program run under `tasklens run`, asked of its agent: connect, greet
// read-only, `taskTable`, leave. One short visit on the agent's client socket; the program never
// stops, and an attached debugger keeps its state.
import * as net from 'node:net';
import { AgentClient } from '../agent/client';
import { AgentDeadlock, AgentTask, HelloBody, PROTOCOL_VERSION } from '../agent/protocol';
import type { AgentAddress } from './agentDiscovery';
import type { ReadLimits } from './memorySource';
import { Frame, Snapshot, Task, TaskSource, TaskState } from './model';

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

function connect(a: AgentAddress, client: (socket: net.Socket) => AgentClient): Promise<{ c: AgentClient; hello: HelloBody }> {
  const socket = net.connect({ host: a.host, port: a.port });
  let failure: AgentUnavailable | undefined;
  // Registered before the client's own listeners, which turn an error into a bare `close`.
  socket.once('error', (err: NodeJS.ErrnoException) => {
    failure = new AgentUnavailable(err.code === 'ECONNREFUSED'
      ? `nothing listens on ${a.host}:${a.port} (the discovery file ${a.file} is stale)`
      : `cannot connect to ${a.host}:${a.port}: ${err.message}`);
  });
  const c = client(socket);
  return new Promise((resolve, reject) => {
    c.once('hello', (hello) => resolve({ c, hello }));
    c.once('close', () => reject(failure ?? new AgentUnavailable(`the agent at ${a.host}:${a.port} closed the connection before greeting`)));
  });
}

async function leave(c: AgentClient): Promise<void> {
  // `disconnect` without terminate, as a debugger leaves: the agent lets the program run on.
  await within(LEAVE_TIMEOUT_MS, 'disconnect', c.request('disconnect', { terminate: false }, LEAVE_TIMEOUT_MS)).catch(() => undefined);
  c.destroy();
}

export async function askAgent(pid: number, a: AgentAddress, limits: ReadLimits = {}): Promise<Snapshot> {
  let client: AgentClient | undefined;
  const start = connect(a, (socket) => (client = new AgentClient(socket, () => undefined)));
  try {
    const { c, hello } = await within(CONNECT_TIMEOUT_MS, `the agent at ${a.host}:${a.port}`, start);
    if (hello.pid !== pid) throw new AgentUnavailable(`the agent at ${a.host}:${a.port} runs in process ${hello.pid}, not ${pid}`);
    if (hello.protocol !== PROTOCOL_VERSION) {
      throw new AgentUnavailable(`the agent speaks protocol ${hello.protocol}, this tasklens speaks ${PROTOCOL_VERSION}`);
    }
    try {
      await within(CONNECT_TIMEOUT_MS, 'handshake', c.request('handshake', { token: a.token, protocol: PROTOCOL_VERSION, readOnly: true }, CONNECT_TIMEOUT_MS));
    } catch (err) {
      throw new AgentUnavailable(`the agent refused the connection: ${reason(err)}`);
    }
    let body: { tasks: AgentTask[]; deadlocks?: AgentDeadlock[] };
    try {
      body = await within(TABLE_TIMEOUT_MS, 'taskTable', c.request('taskTable', {}, TABLE_TIMEOUT_MS));
    } catch (err) {
      throw new AgentUnavailable(`the agent did not give its task table: ${reason(err)}`);
    } finally {
      await leave(c);
    }
    return toSnapshot(pid, hello.pythonVersion, body.tasks, limits, body.deadlocks);
  } catch (err) {
    client?.destroy();
    // A connection that never came up may still fail later; nobody listens any more.
    start.catch(() => undefined);
    if (err instanceof AgentUnavailable) throw err;
    throw new AgentUnavailable(reason(err));
  }
}

/** Throws AgentUnavailable rather than resolving to null: the caller says why it fell back. */
export function agentSource(a: AgentAddress, limits: ReadLimits = {}): TaskSource {
  return { kind: 'agent', snapshot: (pid) => askAgent(pid, a, limits) };
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
