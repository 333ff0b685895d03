// `top`'s one connection to the agent of a program under `tasklens run`, found the way `ps`
// finds it (the discovery file of the PID, or of the program behind a `tasklens run` wrapper).
// Unlike `ps` it stays connected: the agent counts per-task steps only while a `top` is
// connected (each step then costs a little), and stops when this connection ends.
import type { AgentClient } from '../agent/client';
import { AgentConnectError, connectAgent } from '../agent/connect';
import { locateAgent, processStartMs, removeStaleDiscoveryFiles } from '../agent/discovery';
import { CliError } from '../cli/failure';
import { programBehind } from '../inspect/runWrapper';
import type { AgentTaskTimes, TaskTimesArgs } from './types';

export const EXIT_NO_PROCESS = 3;
export const EXIT_NO_AGENT = 8;
const CONNECT_MS = 1000;
// A sample of thousands of tasks is built while the program's loop runs on (both want the GIL).
const SAMPLE_MS = 15_000;

export interface TopConnection {
  pid: number;
  pythonVersion: string;
  sample(args?: TaskTimesArgs): Promise<AgentTaskTimes>;
  request<T>(command: 'traceDump'): Promise<T>;
  close(): Promise<void>;
  closed: Promise<void>;
}

export async function connectTop(asked: number): Promise<TopConnection> {
  const pid = await programBehind(asked);
  if (processStartMs(pid) === null) throw new CliError(`no process ${asked}`, EXIT_NO_PROCESS, 'no-such-process');
  removeStaleDiscoveryFiles();
  const found = locateAgent(pid);
  if (!found?.address) {
    throw new CliError(found?.problem
      ? `cannot ask the tasklens agent of process ${pid}: ${found.problem}`
      : `process ${pid} has no tasklens agent; run the program under \`tasklens run\``, EXIT_NO_AGENT, 'no-agent');
  }
  const a = found.address;
  let client: AgentClient;
  let pythonVersion: string;
  try {
    const c = await connectAgent(a.host, a.port, () => undefined, {
      token: a.token, greetMs: CONNECT_MS, handshakeMs: CONNECT_MS, readOnly: true, pid,
    });
    client = c.client;
    pythonVersion = c.hello.pythonVersion;
  } catch (err) {
    const why = err instanceof AgentConnectError && err.stage === 'connect' && err.errno === 'ECONNREFUSED'
      ? `nothing listens on ${a.host}:${a.port}` : (err as Error).message;
    throw new CliError(`cannot reach the tasklens agent of process ${pid}: ${why}`, EXIT_NO_AGENT, 'no-agent');
  }
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return {
    pid,
    pythonVersion,
    closed,
    sample: (args = {}) => client.request('taskTimes', args, SAMPLE_MS),
    request: <T>(command: 'traceDump') => client.request(command, {}, SAMPLE_MS) as Promise<T>,
    close: async () => {
      await client.request('disconnect', { terminate: false }, 200).catch(() => undefined);
      client.destroy();
    },
  };
}
