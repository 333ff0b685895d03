// Validation of launch/attach arguments: every wrong field gets an error that names it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, UserError } from '../dap/errors';

/** Where the program's stdin/stdout/stderr are: a terminal of the client, or the debug console. */
export type ConsoleKind = 'integratedTerminal' | 'externalTerminal' | 'internalConsole';
const CONSOLES: readonly ConsoleKind[] = ['integratedTerminal', 'externalTerminal', 'internalConsole'];

export interface LaunchConfig {
  program?: string;
  module?: string;
  args: string[];
  cwd: string;
  env: Record<string, string | null>;
  /** Undefined: found on PATH (agent/findPython.ts). */
  python?: string;
  stopOnEntry: boolean;
  justMyCode: boolean;
  terminateOnDisconnect: boolean;
  maxTaskThreads: number;
  evaluateTimeout: number;
  awaitTimeout: number;
  /** Undefined: a terminal when the client can run one (decided at launch). */
  console?: ConsoleKind;
  /** Asyncio diagnostics shown as important output events (docs/diagnostics.md). */
  diagnose: boolean;
  /** The blocked-loop and stuck-task thresholds (docs/diagnostics.md), as `--slow-ms`/`--stuck-s`. */
  slowMs: number;
  stuckS: number;
  /** Record the asyncio timeline to this file (docs/trace.md); absolute. */
  trace?: string;
  /** Python children debugged too, each in a session of its own (docs/children.md). */
  subProcess: boolean;
}

/** Set by tasklens in the session it opens for a child process (src/session/children.ts). */
export interface ParentSession {
  pid: number;
  /** The parent's program was launched: ending the child's session ends the child. */
  launched: boolean;
}

export interface AttachConfig {
  /** Attach by process id (src/inject/): the agent is loaded into a program started without it. */
  processId?: number;
  host: string;
  port: number;
  token?: string;
  justMyCode: boolean;
  maxTaskThreads: number;
  evaluateTimeout: number;
  awaitTimeout: number;
  diagnose: boolean;
  slowMs: number;
  stuckS: number;
  subProcess: boolean;
  parentSession?: ParentSession;
}

export const DEFAULT_MAX_TASK_THREADS = 1000;
/** Seconds user code run for the debugger (evaluate, conditions, logpoints) may take. */
export const DEFAULT_EVALUATE_TIMEOUT = 2;
/** Seconds an `await` typed in the console may wait before it is cancelled. */
export const DEFAULT_AWAIT_TIMEOUT = 5;
/** The diagnostics' own defaults (agent/tasklens_agent/diagnostics). */
export const DEFAULT_SLOW_MS = 100;
export const DEFAULT_STUCK_S = 10;

function bad(message: string): UserError {
  return new UserError(ErrorCode.BadArguments, message);
}

function optional<T>(args: Record<string, unknown>, name: string, type: string, fallback: T): T {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== type) throw bad(`Argument "${name}" must be a ${type}, not ${JSON.stringify(value)}.`);
  return value as T;
}

function maxTaskThreads(args: Record<string, unknown>): number {
  const value = optional(args, 'maxTaskThreads', 'number', DEFAULT_MAX_TASK_THREADS);
  if (!Number.isInteger(value) || value < 0) throw bad(`Argument "maxTaskThreads" must be a whole number ≥ 0, not ${value}.`);
  return value;
}

function seconds(args: Record<string, unknown>, name: 'evaluateTimeout' | 'awaitTimeout', fallback: number): number {
  const value = optional(args, name, 'number', fallback);
  if (!Number.isFinite(value) || value < 0.1 || value > 3600) {
    throw bad(`Argument "${name}" must be a number of seconds from 0.1 to 3600, not ${value}.`);
  }
  return value;
}

/** A positive threshold of the diagnostics: milliseconds for slowMs, seconds for stuckS. */
function threshold(args: Record<string, unknown>, name: 'slowMs' | 'stuckS', fallback: number): number {
  const value = optional(args, name, 'number', fallback);
  if (!Number.isFinite(value) || value <= 0) throw bad(`Argument "${name}" must be a positive number, not ${value}.`);
  return value;
}

function record(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('The arguments must be an object.');
  return value as Record<string, unknown>;
}

export function parseLaunch(raw: unknown): LaunchConfig {
  const args = record(raw);
  const givenCwd = optional<string | undefined>(args, 'cwd', 'string', undefined);
  const base = path.resolve(givenCwd ?? process.cwd());
  if (!fs.existsSync(base) || !fs.statSync(base).isDirectory()) {
    throw new UserError(ErrorCode.BadArguments, `The working directory does not exist: ${base}`);
  }
  const program = optional<string | undefined>(args, 'program', 'string', undefined);
  const module = optional<string | undefined>(args, 'module', 'string', undefined);
  if (program === undefined && module === undefined) throw bad('Launch needs "program" (a path) or "module" (a module name).');
  if (program !== undefined && module !== undefined) throw bad('Launch takes "program" or "module", not both.');
  let programPath: string | undefined;
  if (program !== undefined) {
    programPath = path.resolve(base, program);
    if (!fs.existsSync(programPath) || !fs.statSync(programPath).isFile()) {
      throw new UserError(ErrorCode.ProgramNotFound, `Program not found: ${programPath}`);
    }
  }
  // Without a cwd a script runs in its own folder: where the adapter was started (somewhere
  // inside the editor) means nothing to the program. The VS Code extension passes the
  // workspace folder before it comes to this.
  const cwd = givenCwd === undefined && programPath !== undefined ? path.dirname(programPath) : base;
  if (module !== undefined && !/^[A-Za-z_][\w.]*$/.test(module)) throw bad(`"module" is not a module name: ${JSON.stringify(module)}.`);
  const argv = args.args ?? [];
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) throw bad('Launch argument "args" must be an array of strings.');
  const env = args.env ?? {};
  if (env === null || typeof env !== 'object' || Array.isArray(env) || Object.values(env).some((v) => v !== null && typeof v !== 'string')) {
    throw bad('Launch argument "env" must be an object of strings.');
  }
  return {
    program: programPath,
    module,
    args: argv as string[],
    cwd,
    env: env as Record<string, string | null>,
    python: optional<string | undefined>(args, 'python', 'string', undefined),
    stopOnEntry: optional(args, 'stopOnEntry', 'boolean', false),
    justMyCode: optional(args, 'justMyCode', 'boolean', true),
    terminateOnDisconnect: optional(args, 'terminateOnDisconnect', 'boolean', false),
    maxTaskThreads: maxTaskThreads(args),
    evaluateTimeout: seconds(args, 'evaluateTimeout', DEFAULT_EVALUATE_TIMEOUT),
    awaitTimeout: seconds(args, 'awaitTimeout', DEFAULT_AWAIT_TIMEOUT),
    console: consoleKind(args),
    diagnose: optional(args, 'diagnose', 'boolean', true),
    slowMs: threshold(args, 'slowMs', DEFAULT_SLOW_MS),
    stuckS: threshold(args, 'stuckS', DEFAULT_STUCK_S),
    trace: traceFile(args, cwd),
    subProcess: optional(args, 'subProcess', 'boolean', true),
  };
}

function traceFile(args: Record<string, unknown>, cwd: string): string | undefined {
  const file = optional<string | undefined>(args, 'trace', 'string', undefined);
  if (file === '') throw bad('Launch argument "trace" must name a file.');
  return file === undefined ? undefined : path.resolve(cwd, file);
}

function consoleKind(args: Record<string, unknown>): ConsoleKind | undefined {
  const value = optional<string | undefined>(args, 'console', 'string', undefined);
  if (value !== undefined && !CONSOLES.includes(value as ConsoleKind)) {
    throw bad(`Launch argument "console" must be one of ${CONSOLES.map((c) => `"${c}"`).join(', ')}, not ${JSON.stringify(value)}.`);
  }
  return value as ConsoleKind | undefined;
}

export function parseAttach(raw: unknown): AttachConfig {
  const args = record(raw);
  const common = { justMyCode: optional(args, 'justMyCode', 'boolean', true), maxTaskThreads: maxTaskThreads(args),
    evaluateTimeout: seconds(args, 'evaluateTimeout', DEFAULT_EVALUATE_TIMEOUT),
    awaitTimeout: seconds(args, 'awaitTimeout', DEFAULT_AWAIT_TIMEOUT), diagnose: optional(args, 'diagnose', 'boolean', true),
    slowMs: threshold(args, 'slowMs', DEFAULT_SLOW_MS), stuckS: threshold(args, 'stuckS', DEFAULT_STUCK_S),
    subProcess: optional(args, 'subProcess', 'boolean', true), parentSession: parentSession(args) };
  if (args.processId !== undefined && args.processId !== null) {
    if (args.connect !== undefined) throw bad('Attach takes "processId" or "connect", not both.');
    // A process picker gives the id as text.
    const pid = typeof args.processId === 'string' && /^\d+$/.test(args.processId) ? Number(args.processId) : args.processId;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) throw bad(`"processId" must be a process id, not ${JSON.stringify(args.processId)}.`);
    return { processId: pid, host: '127.0.0.1', port: 0, ...common };
  }
  const connect = args.connect;
  if (connect === undefined || connect === null || typeof connect !== 'object') {
    throw bad('Attach needs "processId" (a running Python process), or "connect": {"host", "port"} of a program started with `tasklens run --listen`.');
  }
  const c = connect as Record<string, unknown>;
  const port = c.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw bad(`"connect.port" must be a TCP port number, not ${JSON.stringify(port)}.`);
  }
  const host = c.host ?? '127.0.0.1';
  if (typeof host !== 'string') throw bad('"connect.host" must be a string.');
  if (c.token !== undefined && typeof c.token !== 'string') throw bad('"connect.token" must be a string.');
  return { host, port, token: c.token as string | undefined, ...common };
}

function parentSession(args: Record<string, unknown>): ParentSession | undefined {
  const value = args.parentSession;
  if (value === undefined || value === null) return undefined;
  const p = value as Record<string, unknown>;
  if (typeof value !== 'object' || !Number.isInteger(p.pid) || typeof p.launched !== 'boolean') {
    throw bad('Attach argument "parentSession" must be {"pid": N, "launched": true|false}; tasklens sets it in the sessions it opens for child processes.');
  }
  return { pid: p.pid as number, launched: p.launched };
}
