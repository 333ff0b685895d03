// The adapter side of docs/agent-protocol.md (version 1). Every message that crosses the socket
// is typed here and nowhere else.

export const PROTOCOL_VERSION = 1;

export type AgentErrorCode =
  | 'unknownCommand'
  | 'badArguments'
  | 'notStopped'
  | 'invalidHandle'
  | 'timeout'
  | 'evalError'
  | 'internal';

export interface AgentRequest {
  type: 'request';
  seq: number;
  command: string;
  arguments: object;
}

export interface AgentResponse {
  type: 'response';
  request_seq: number;
  command: string;
  success: boolean;
  body?: unknown;
  message?: string;
  error?: AgentErrorCode;
  /** With `internal`: the agent's traceback, for the log only (never shown to the user). */
  traceback?: string;
}

export interface AgentEvent {
  type: 'event';
  event: string;
  body?: unknown;
}

export type AgentMessage = AgentResponse | AgentEvent;

/** The agent's tracing backends (agent/tasklens_agent/backend.py), as `hello` names them. */
export type AgentBackend = 'monitoring' | 'hooked' | 'settrace';

export interface HelloBody {
  protocol: number;
  token?: string;
  pid: number;
  pythonVersion: string;
  versionInfo: number[];
  executable: string;
  backend: AgentBackend;
  mode: 'launch' | 'listen' | 'attach';
  /** The program's absolute path, or `-m NAME` for a module. */
  program?: string;
  /** Attach mode: another session holds the agent (a claiming handshake will be refused). */
  claimed?: boolean;
}

export interface SourceBreakpointArg {
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface AgentBreakpoint {
  id: number;
  verified: boolean;
  line?: number;
  message?: string;
}

export interface FunctionBreakpointArg {
  name: string;
  condition?: string;
  hitCondition?: string;
}

export interface AgentFrame {
  id: number;
  name: string;
  /** Absent on label frames ("awaited by Task: …"), which have no source. */
  path?: string;
  line: number;
  column?: number;
  sourceReference?: number;
  library?: boolean;
  presentationHint?: 'normal' | 'label' | 'subtle';
}

export interface AgentThread {
  id: number;
  name: string;
}

export interface AgentTask {
  threadId: number;
  taskId: number;
  name: string;
  coroutine: string;
  state: 'pending' | 'running' | 'done' | 'cancelled';
  osThreadId: number;
  threadIdOfLoop?: number;
  stack: Array<{ name: string; path: string; line: number }>;
  awaitedBy: number[];
  createdAt?: { path: string; line: number };
  waitingOn?: string;
  ageSeconds?: number;
  /** Under `--diagnose` (docs/diagnostics.md): seconds since the task last ran, to the sampling interval. */
  waitedSeconds?: number;
  stuck?: boolean;
  lockHolders?: AgentLockHolder[];
}

export interface AgentLockHolder {
  name: string | null;
  threadId?: number;
  finished: boolean;
  acquiredAt?: { path: string; line: number };
}

export interface AgentDeadlock {
  message: string;
  thread: string;
  likely: boolean;
  wholeLoop: boolean;
  /** Agent task ids (threadId of the rows). */
  tasks: number[];
  cycles: number[][];
}

export interface AgentValue {
  variablesReference: number;
  indexedVariables?: number;
  namedVariables?: number;
  type?: string;
}

export interface AgentVariable extends AgentValue {
  name: string;
  value: string;
  evaluateName?: string;
}

export interface AgentScope {
  name: 'Locals' | 'Globals';
  variablesReference: number;
  namedVariables?: number;
  expensive: boolean;
}

/** Request name → [arguments, response body]. */
export interface AgentRequests {
  handshake: [{ token: string; protocol: number; readOnly?: boolean }, object];
  configure: [{ justMyCode: boolean; stopOnEntry: boolean; terminateOnDisconnect: boolean; evaluateTimeout: number; awaitTimeout?: number; diagnose?: boolean; slowMs?: number; stuckS?: number; subProcess?: { host: string; port: number; token: string; launched: boolean } }, object];
  setBreakpoints: [{ source: { path: string }; breakpoints: SourceBreakpointArg[] }, { breakpoints: AgentBreakpoint[] }];
  setFunctionBreakpoints: [{ breakpoints: FunctionBreakpointArg[] }, { breakpoints: AgentBreakpoint[] }];
  setExceptionBreakpoints: [{ filters: string[] }, object];
  start: [object, object];
  threads: [{ maxTaskThreads?: number }, { threads: AgentThread[]; tasksOmitted?: number }];
  pause: [{ threadId?: number }, object];
  continue: [{ threadId?: number }, { allThreadsContinued?: boolean }];
  next: [{ threadId: number }, object];
  stepIn: [{ threadId: number }, object];
  stepOut: [{ threadId: number }, object];
  stackTrace: [
    { threadId: number; startFrame?: number; levels?: number; justMyCode: boolean },
    { stackFrames: AgentFrame[]; totalFrames?: number },
  ];
  scopes: [{ frameId: number }, { scopes: AgentScope[] }];
  variables: [
    { variablesReference: number; filter?: 'indexed' | 'named'; start?: number; count?: number },
    { variables: AgentVariable[] },
  ];
  setVariable: [{ variablesReference: number; name: string; value: string }, AgentValue & { value: string }];
  evaluate: [{ expression: string; frameId?: number; context: string }, AgentValue & { result: string; loopRan?: boolean }];
  completions: [
    { text: string; column: number; frameId?: number },
    { targets: Array<{ label: string; type?: string; start?: number; length?: number }> },
  ];
  exceptionInfo: [
    { threadId: number },
    {
      exceptionId: string;
      description?: string;
      breakMode: 'always' | 'unhandled';
      details?: { message?: string; typeName?: string; fullTypeName?: string; stackTrace?: string };
    },
  ];
  source: [{ sourceReference: number }, { content: string }];
  loadedSources: [object, { sources: Array<{ path: string; name: string }> }];
  disconnect: [{ terminate: boolean }, object];
  taskTable: [object, { tasks: AgentTask[]; deadlocks?: AgentDeadlock[]; asyncioLoaded?: boolean }];
  /** `tasklens top` (src/top/types.ts); the first ask starts the counters, the connection's end stops them. */
  taskTimes: [import('../top/types').TaskTimesArgs, import('../top/types').AgentTaskTimes];
  /** `tasklens trace PID`: write the trace of a program run with `--trace` now. */
  traceDump: [object, { path: string; events: number; bytes: number }];
  /** `tasklens trace PID --for S`: record S seconds of a program that records none, then write. */
  traceRecord: [{ path: string; seconds: number }, { path: string; events: number; bytes: number }];
}

export type AgentCommand = keyof AgentRequests;

export interface StoppedBody {
  reason: string;
  threadId: number;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  allThreadsStopped?: boolean;
}

export interface AgentEvents {
  hello: HelloBody;
  stopped: StoppedBody;
  continued: { threadId: number; allThreadsContinued?: boolean };
  thread: { reason: 'started' | 'exited'; threadId: number; name?: string };
  output: { category: 'console' | 'important'; output: string };
  breakpoint: { reason: string; breakpoint: AgentBreakpoint };
  programExited: { exitCode: number };
  /** To the connection that asked `traceRecord`, once its window has begun. */
  traceRecording: { path: string; seconds: number };
}

// Runtime lists of the names above; the Record types make the compiler keep them complete.
const COMMANDS: Record<AgentCommand, true> = {
  handshake: true, configure: true, setBreakpoints: true, setFunctionBreakpoints: true,
  setExceptionBreakpoints: true, start: true, threads: true, pause: true, continue: true, next: true,
  stepIn: true, stepOut: true, stackTrace: true, scopes: true, variables: true, setVariable: true,
  evaluate: true, completions: true, exceptionInfo: true, source: true, loadedSources: true, disconnect: true,
  taskTable: true, taskTimes: true, traceDump: true, traceRecord: true,
};
const EVENTS: Record<keyof AgentEvents, true> = {
  hello: true, stopped: true, continued: true, thread: true, output: true, breakpoint: true, programExited: true, traceRecording: true,
};
const BACKENDS: Record<AgentBackend, true> = { monitoring: true, hooked: true, settrace: true };
export const AGENT_COMMANDS = Object.keys(COMMANDS) as AgentCommand[];
export const AGENT_EVENTS = Object.keys(EVENTS) as Array<keyof AgentEvents>;
export const AGENT_BACKENDS = Object.keys(BACKENDS) as AgentBackend[];
