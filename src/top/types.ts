// What the agent's `taskTimes` answers (agent/tasklens_agent/topview.py) and what `top --json`
// prints: one place for both shapes, so the screen, the JSON and the tests read the same names.
import type { AgentTask } from '../agent/protocol';

/**
 * `detail`: the tasks (ids) to give full rows (stack, awaiters, where it waits), or "all"; else the agent's first 100.
 * `limit`: only the first `limit` tasks in the order of `sort` (a column, the largest first; `reverse`), of those
 * `filter` lets through, all with full rows, plus those of `detail` (the live screen: the rows it can show).
 */
export interface TaskTimesArgs {
  slowMs?: number;
  stuckS?: number;
  detail?: number[] | 'all';
  limit?: number;
  sort?: string;
  reverse?: boolean;
  filter?: string;
  /** Sampled counting, if the counting starts with this ask: one wake in about N timed. */
  sample?: number | 'auto';
}

export type TopState = 'running' | 'ready' | 'waiting' | 'done';

/** A task's state and step counters (seconds and counts), as the agent and the screen both hold them. */
export interface TaskCounters {
  state: TopState;
  busy: number;
  sched: number;
  idle: number;
  polls: number;
  wakes: number;
  selfWakes: number;
}

export interface AgentTimes extends TaskCounters {
  tracked: number;
  maxStep: number;
  p50?: number;
  p90?: number;
  p99?: number;
  /** Steps by duration: entry i counts steps under 2^i µs (and at least 2^(i-1)). Full rows only, as the percentiles. */
  histogram?: number[];
}

export interface Site { path: string; line: number }

export interface AgentTimedTask extends AgentTask {
  loopId?: number;
  coroutineAt?: Site;
  /** The innermost user frame of the task: where it waits (or runs). */
  waitsAt?: Site & { name: string };
  times?: AgentTimes;
  /** Counters only: no stack, awaiters, or where it waits (not asked for in `detail`). */
  compact?: boolean;
}

export interface AgentLoop {
  loopId: number;
  thread: string | null;
  osThreadId: number | null;
  kind: string;
  tasks: Record<TopState, number>;
  steps: number;
  busy: number;
  since: number;
  longestStep: number;
  longestTask?: string;
  lag: number;
  lagMax: number;
  runningFor: number;
  runningForAtLeast?: true;
}

export interface TopWarning {
  kind: 'neverYields' | 'blockedLoop' | 'stuck' | 'selfWaking' | 'exceptionNotRetrieved' | 'cancelledRunning';
  task: string | null;
  taskId: number | null;
  at: { name?: string; path: string; line: number } | null;
  message: string;
  /** The live screen's: how many more tasks are stuck the same way as this one (the same line,
   * wait, reason, creation site and coroutine: docs/top.md). */
  alike?: number;
  /** The live screen's: this task is one of those `alike` on that task's warning (its own is
   * for its details, not the list's). */
  alikeOf?: number;
}

export interface FinishedTask {
  taskId: number;
  name: string;
  outcome: 'ok' | 'cancelled' | 'exception';
  busy: number;
  polls: number;
  finishedAgo: number;
}

export interface AgentTaskTimes {
  tasks: AgentTimedTask[];
  loops: AgentLoop[];
  finished: FinishedTask[];
  warnings: TopWarning[];
  now: number;
  wall: number;
  /** 1: every step timed; N: one in about N, the counters estimates (`top --sample N`). */
  sampled?: number;
  /** The counting was asked `auto`: exact until too costly, then sampled (`sampled` says which). */
  auto?: boolean;
  /** With `limit`: how many tasks the filter let through (the rows are the first of them). */
  matched?: number;
  /** With `limit`: tasks' warnings left out of `warnings` (counted, not built: each needs the
   *  task's full row; `top --once` asks without a limit and gets them all). */
  warningsLeftOut?: number;
}
