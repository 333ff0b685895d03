// Which request is legal in which run state: one table, read in one place (Session.register).

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
