// `top`'s one connection to the agent of a program under `tasklens run`, found the way `ps`
// finds it (the discovery file of the PID, or of the program behind a `tasklens run` wrapper).
// Unlike `ps` it stays connected: the agent counts per-task steps only while a `top` is
// connected (each step then costs a little), and stops when this connection ends.
// A process without an agent (started by plain python) gets one loaded the way the debugger
// attaches by PID (src/inject/): its session asks for the counters only, never sends `start`
// (so nothing in the program can stop), and its end unloads the agent (agent/attach.py).
import type { Debuggee } from '../agent/launcher';
import { noLog } from '../dap/log';
import { AgentConnectError, connectAgent, type Connected } from '../agent/connect';
import { locateAgent, processStartMs, removeStaleDiscoveryFiles, type AgentAddress } from '../agent/discovery';
import { CliError, EXIT } from '../cli/failure';
import { programBehind } from '../inspect/runWrapper';
import type { AgentTaskTimes, TaskTimesArgs } from './types';

export const EXIT_NO_PROCESS = EXIT.noProcess;
export const EXIT_NO_AGENT = 8;
const CONNECT_MS = 10_000;
// A sample of thousands of tasks is built while the program's loop runs on (both want the GIL).
const SAMPLE_MS = 15_000;
const WRITE_MS = 120_000;

export interface TopConnection {
  pid: number;
  pythonVersion: string;
  sample(args?: TaskTimesArgs): Promise<AgentTaskTimes>;
  request<T>(command: 'traceDump'): Promise<T>;
  /**
   * Records `seconds` of the program's timeline into `path` (absolute), answered once written;
   * `started` is called when the window has begun (not for a refusal).
   */
  record(path: string, seconds: number, started?: () => void): Promise<{ path: string; events: number; bytes: number; stoppedEarly?: boolean; seconds?: number }>;
  /** Ends `record`'s window now: the agent writes what it recorded so far and answers. */
  stopRecording(): void;
  close(): Promise<void>;
  closed: Promise<void>;
}

/**
 * `loadFor`: a program without an agent gets one for this connection (`top`, `trace --for`),
 * said so on stderr with this purpose; false (`trace` of a recording that started with the
 * program): the answer is that it has none.
 */
export async function connectTop(asked: number, loadFor: string | false = 'this top'): Promise<TopConnection> {
  const pid = await programBehind(asked);
  if (processStartMs(pid) === null) throw new CliError(`no process ${asked}`, EXIT_NO_PROCESS, 'no-such-process');
  removeStaleDiscoveryFiles();
  const found = locateAgent(pid);
  if (found?.problem) throw new CliError(`cannot ask the tasklens agent of process ${pid}: ${found.problem}`, EXIT_NO_AGENT, 'no-agent');
  if (!found?.address && loadFor === false) {
    throw new CliError(`process ${pid} has no tasklens agent, so it records no trace: record a window with \`tasklens trace ${pid} --for SECONDS\`, or run it under \`tasklens run --trace FILE.json\``, EXIT_NO_AGENT, 'no-agent');
  }
  const { client, hello: { pythonVersion } } = found?.address ? await reach(pid, found.address) : await loadAgent(pid, loadFor || 'this top');
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return {
    pid,
    pythonVersion,
    closed,
    sample: (args = {}) => client.request('taskTimes', args, SAMPLE_MS),
    request: <T>(command: 'traceDump') => client.request(command, {}, SAMPLE_MS) as Promise<T>,
    // the window, then the file written (a million steps take seconds to turn into JSON)
    record: (path, seconds, started) => {
      if (started) client.once('traceRecording', started);
      return client.request('traceRecord', { path, seconds }, seconds * 1000 + WRITE_MS);
    },
    stopRecording: () => client.endWriting(),
    close: async () => {
      await client.request('disconnect', { terminate: false }, 200).catch(() => undefined);
      client.destroy();
    },
  };
}

/** The agent of a program run under tasklens, read-only: a debugger may be attached meanwhile. */
async function reach(pid: number, a: AgentAddress): Promise<Connected> {
  try {
    return await connectAgent(a.host, a.port, () => undefined, {
      token: a.token, greetMs: CONNECT_MS, handshakeMs: CONNECT_MS, readOnly: true, pid,
    });
  } catch (err) {
    const why = err instanceof AgentConnectError && err.stage === 'connect' && err.errno === 'ECONNREFUSED'
      ? `nothing listens on ${a.host}:${a.port}` : (err as Error).message;
    throw new CliError(`cannot reach the tasklens agent of process ${pid}: ${why}`, EXIT_NO_AGENT, 'no-agent');
  }
}

/**
 * Loads the agent into `pid` for as long as this connection lasts (see the top of this file).
 * An agent loaded already for another session (a debugger attached by PID, another `top` or
 * `trace --for`) is read beside it instead, read-only: that session keeps the agent, and takes
 * it out when it ends (this connection then closes).
 */
async function loadAgent(pid: number, purpose: string): Promise<Debuggee> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { attachToPid } = require('../inject/attachPid') as typeof import('../inject/attachPid');
  try {
    const debuggee = await attachToPid(pid, noLog.sink, { readOnlyBeside: true });
    process.stderr.write(debuggee.shared
      ? `tasklens: process ${pid} has a tasklens agent loaded for another session (a debugger attached by PID, a top or a trace --for): ${purpose} reads it beside that session\n`
      : `tasklens: process ${pid} ran without tasklens: its agent is loaded for ${purpose} and removed when it ends\n`);
    return debuggee;
  } catch (err) {
    throw new CliError(`cannot load the tasklens agent into process ${pid}: ${(err as Error).message}`, EXIT_NO_AGENT, 'no-agent');
  }
}
