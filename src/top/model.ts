// One `top` sample as rows and headers: what the screen draws and `top --json` prints, with the
// per-second rates taken between two samples (the agent's counters only grow).
import type { AgentLoop, AgentTaskTimes, AgentTimedTask, FinishedTask, Site, TaskCounters, TopState, TopWarning } from './types';

export interface TopRow extends TaskCounters {
  id: string;
  /** The agent's id of the task (the number behind `id`), to ask for its details. */
  taskId: number;
  /** Only counters came for it this time (docs/top.md): no stack, awaiters, or where it waits. */
  compact?: boolean;
  name: string;
  coroutine: string;
  coroutineAt?: Site;
  age: number;
  /** The task existed before the agent saw it (a program tasklens was loaded into): `age` is
   * the time since then, a lower bound. */
  ageAtLeast?: true;
  /** The innermost frame of its coroutine chain: where it waits (or runs). */
  at?: Site & { name: string };
  waitingOn?: string;
  createdAt?: Site;
  stepTimes: { p50: number; p90: number; p99: number; max: number; histogram: number[] };
  stack: Array<Site & { name: string }>;
  awaitedBy: string[];
  loop: string;
}

export interface LoopHeader {
  id: string;
  thread: string;
  kind: string;
  tasks: Record<TopState, number>;
  stepsPerSecond: number;
  busyShare: number;
  lag: number;
  lagMax: number;
  longestStep: number;
  longestTask?: string;
  runningFor: number;
  /** The step began before the counting: `runningFor` is a lower bound. */
  runningForAtLeast?: true;
}

export interface TopView {
  schema: 1;
  pid: number;
  pythonVersion: string;
  interval: number;
  loops: LoopHeader[];
  tasks: TopRow[];
  finished: Array<FinishedTask & { id: string }>;
  warnings: Array<TopWarning & { id: string | null }>;
  /** The live screen's samples: how many tasks its filter lets through (`tasks` holds the first). */
  matched?: number;
  /** The live screen's samples: warnings counted but not sent. */
  warningsLeftOut?: number;
  /** 1: every step timed; N: one in about N, busy, sched, idle, polls and wakes estimates. */
  sampled: number;
  /** Counting asked `auto` (top's default): exact until that costs too much, then sampled. */
  auto: boolean;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function row(t: AgentTimedTask, idOf: Map<number, string>): TopRow {
  const z = t.times;
  const top = t.waitsAt ?? t.stack[0];
  return {
    id: hex(t.taskId),
    taskId: t.taskId,
    ...(t.compact ? { compact: true } : {}),
    name: t.name,
    coroutine: t.coroutine,
    ...(t.coroutineAt ? { coroutineAt: t.coroutineAt } : {}),
    state: t.state === 'done' || t.state === 'cancelled' ? 'done' : z?.state ?? (t.state === 'running' ? 'running' : 'waiting'),
    busy: z?.busy ?? 0,
    sched: z?.sched ?? 0,
    idle: z?.idle ?? 0,
    polls: z?.polls ?? 0,
    wakes: z?.wakes ?? 0,
    selfWakes: z?.selfWakes ?? 0,
    age: t.ageSeconds ?? z?.tracked ?? 0,
    ...(t.ageSeconds === undefined ? { ageAtLeast: true as const } : {}),
    ...(top ? { at: { name: top.name, path: top.path, line: top.line } } : {}),
    ...(t.waitingOn !== undefined ? { waitingOn: t.waitingOn } : {}),
    ...(t.createdAt ? { createdAt: t.createdAt } : {}),
    stepTimes: { p50: z?.p50 ?? 0, p90: z?.p90 ?? 0, p99: z?.p99 ?? 0, max: z?.maxStep ?? 0, histogram: z?.histogram ?? [] },
    stack: t.stack.map((f) => ({ name: f.name, path: f.path, line: f.line })),
    awaitedBy: t.awaitedBy.map((a) => idOf.get(a) ?? `#${a}`),
    loop: t.loopId !== undefined ? hex(t.loopId) : '',
  };
}

function header(l: AgentLoop, before: AgentLoop | undefined, interval: number): LoopHeader {
  const dt = before ? interval : l.since;
  const steps = before ? l.steps - before.steps : l.steps;
  const busy = before ? l.busy - before.busy : l.busy;
  return {
    id: hex(l.loopId),
    thread: l.thread ?? '?',
    kind: l.kind,
    tasks: l.tasks,
    stepsPerSecond: dt > 0 ? Math.round(steps / dt) : 0,
    busyShare: dt > 0 ? Math.min(1, busy / dt) : 0,
    lag: l.lag,
    lagMax: l.lagMax,
    longestStep: l.longestStep,
    ...(l.longestTask !== undefined ? { longestTask: l.longestTask } : {}),
    runningFor: l.runningFor,
    ...(l.runningForAtLeast ? { runningForAtLeast: true as const } : {}),
  };
}

export function toView(pid: number, pythonVersion: string, s: AgentTaskTimes, before: AgentTaskTimes | null): TopView {
  const idOf = new Map<number, string>(s.tasks.map((t) => [t.threadId, hex(t.taskId)]));
  const interval = before ? s.now - before.now : 0;
  const prev = new Map((before?.loops ?? []).map((l) => [l.loopId, l]));
  return {
    schema: 1,
    pid,
    pythonVersion,
    interval: Math.round(interval * 1000) / 1000,
    loops: s.loops.map((l) => header(l, prev.get(l.loopId), interval)),
    tasks: s.tasks.map((t) => row(t, idOf)),
    finished: s.finished.map((f) => ({ ...f, id: hex(f.taskId) })),
    warnings: s.warnings.map((w) => ({ ...w, id: w.taskId !== null ? hex(w.taskId) : null })),
    ...(s.matched !== undefined ? { matched: s.matched } : {}),
    ...(s.warningsLeftOut ? { warningsLeftOut: s.warningsLeftOut } : {}),
    sampled: s.sampled ?? 1,
    auto: s.auto ?? false,
  };
}

export type SortKey = 'name' | 'state' | 'busy' | 'sched' | 'idle' | 'polls' | 'wakes' | 'age';

/** Keys shown on screen: the letter that sorts by each column. */
export const SORT_KEYS: Record<string, SortKey> = { n: 'name', t: 'state', b: 'busy', s: 'sched', i: 'idle', p: 'polls', w: 'wakes', a: 'age' };

const STATE_RANK: Record<TopState, number> = { running: 0, ready: 1, waiting: 2, done: 3 };

export function sortRows(rows: TopRow[], key: SortKey, reverse = false): TopRow[] {
  const cmp = (a: TopRow, b: TopRow): number => {
    if (key === 'name') return a.name.localeCompare(b.name);
    if (key === 'state') return STATE_RANK[a.state] - STATE_RANK[b.state];
    return b[key] - a[key];     // the largest first: what a `top` user looks for
  };
  const sorted = [...rows].sort((a, b) => cmp(a, b) || a.name.localeCompare(b.name));
  return reverse ? sorted.reverse() : sorted;
}

export function filterRows(rows: TopRow[], filter: string): TopRow[] {
  if (!filter) return rows;
  const f = filter.toLowerCase();
  return rows.filter((r) => r.name.toLowerCase().includes(f) || r.coroutine.toLowerCase().includes(f));
}

/** 2.1h, 12m, 1.2s, 340ms, 56µs: six characters at most, fit for a narrow column. */
export function duration(s: number): string {
  if (s >= 86_400) return `${(s / 86_400).toFixed(1)}d`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)}h`;
  if (s >= 600) return `${Math.round(s / 60)}m`;
  if (s >= 100) return `${Math.round(s)}s`;
  if (s >= 1) return `${s.toFixed(s >= 10 ? 1 : 2)}s`;
  const ms = s * 1000;
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2)}ms`;
  return `${Math.round(ms * 1000)}µs`;
}
