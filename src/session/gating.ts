// Which request is legal in which run state (GATES, read in Session.register) and which run state
// may follow which (TRANSITIONS, read in Session.setState): two tables, each read in one place.

export type RunState = 'idle' | 'starting' | 'configuring' | 'running' | 'stopped' | 'ended';

const ALL: readonly RunState[] = ['idle', 'starting', 'configuring', 'running', 'stopped', 'ended'];
const LIVE: readonly RunState[] = ['configuring', 'running', 'stopped'];
const STOPPED: readonly RunState[] = ['stopped'];

export const GATES: Readonly<Record<string, readonly RunState[]>> = {
  initialize: ALL,
  launch: ['idle'],
  attach: ['idle'],
  configurationDone: ['configuring'],
  disconnect: ALL,
  terminate: LIVE,
  restart: LIVE,
  setBreakpoints: ALL,
  setFunctionBreakpoints: ALL,
  setExceptionBreakpoints: ALL,
  threads: ALL,
  pause: ['running'],
  continue: STOPPED,
  next: STOPPED,
  stepIn: STOPPED,
  stepOut: STOPPED,
  // While running, only the stack of an asyncio task (stack.ts checks the thread id).
  stackTrace: ['running', 'stopped'],
  scopes: STOPPED,
  variables: STOPPED,
  setVariable: STOPPED,
  evaluate: STOPPED,
  completions: STOPPED,
  exceptionInfo: STOPPED,
  source: ALL,
  loadedSources: LIVE,
  'tasklens/taskTable': LIVE,
};

/**
 * Every change of run state the session makes. Besides the requests' own (launch/attach start,
 * configurationDone runs, a resume runs, restart starts again), the agent's events may arrive
 * whenever a program is connected: a stop (an attached program that runs already can hit a
 * breakpoint while the session is still starting or configuring) and the program's end.
 */
export const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  // a program adopted by an attach that failed afterwards still ends
  idle: ['starting', 'ended'],
  // connected, or failed (ready for another try)
  starting: ['configuring', 'idle', 'stopped', 'ended'],
  configuring: ['running', 'stopped', 'starting', 'ended'],
  // stopped; or a resume the agent refused
  running: ['stopped', 'starting', 'ended'],
  // resumed; `configuring` or `idle` when the stop came while an attach was still connecting
  stopped: ['running', 'configuring', 'idle', 'starting', 'ended'],
  // restart; or a start that failed while its program ended
  ended: ['starting', 'idle'],
};

const WHY_NOT: Record<RunState, string> = {
  idle: 'no program is being debugged yet (send launch or attach first)',
  starting: 'the program is still starting',
  configuring: 'the program has not started yet (send configurationDone first)',
  running: 'the program is running (pause it first)',
  stopped: 'the program is stopped',
  ended: 'the program has ended',
};

export function refusal(command: string, state: RunState): string {
  if ((command === 'launch' || command === 'attach') && state !== 'idle') {
    return `Cannot ${command}: this session already debugs a program; start a new session instead.`;
  }
  if (command === 'pause' && state === 'stopped') return 'Cannot pause: the program is already stopped.';
  return `Cannot ${command}: ${WHY_NOT[state]}.`;
}
