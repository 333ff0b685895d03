// Discovery files (docs/agent-protocol.md): one JSON file per process that runs the agent with a
// listener, read by DAP attach (the token of the agent on HOST:PORT) and by `ps` (the agent of
// PID). The token inside lets whoever reads it drive the program, so a file is trusted only if
// nobody else could have written or read it and the process that holds its PID now wrote it.
// Everything here is a few synchronous system calls: `ps` runs it before every read, agent or not.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The only hosts an agent listens on (it binds loopback only). */
export const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1']);

/** Where to reach an agent, and the discovery file that said so. */
export interface AgentAddress {
  file: string;
  host: string;
  port: number;
  token: string;
}

export interface DiscoveryRecord extends AgentAddress {
  pid: number;
  python?: string;
  program?: string;
  protocol?: number;
  /** The `tasklens run` process that started this one and could not exec (docs/agent-protocol.md). */
  wrapper?: number;
}

/** `address` to use; `problem` when a file is there but must not be used; null when there is none. */
export type Located = { address: DiscoveryRecord; problem?: undefined } | { address?: undefined; problem: string } | null;

// /proc/stat gives the boot time in whole seconds and the start time in clock ticks.
const START_SLACK_MS = 2000;
const CLOCK_TICKS_PER_S = 100;
const FILE_NAME = /^(\d+)\.json$/;

export function discoveryDir(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) return path.join(runtime, 'tasklens');
  return path.join(os.tmpdir(), `tasklens-${os.userInfo().uid}`);
}

export function discoveryFile(pid: number): string {
  return path.join(discoveryDir(), `${pid}.json`);
}

/** When the process now holding `pid` started (ms since the epoch), or null if there is none. */
export function processStartMs(pid: number): number | null {
  let stat: string;
  let boot: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    boot = fs.readFileSync('/proc/stat', 'latin1');
  } catch {
    return null;
  }
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  const btime = /^btime (\d+)$/m.exec(boot);
  if (!Number.isFinite(ticks) || !btime) return null;
  return Number(btime[1]) * 1000 + (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** The agent of process `pid`, from its discovery file, if that file may be trusted. */
export function locateAgent(pid: number): Located {
  const file = discoveryFile(pid);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return null;
  }
  if (!st.isFile()) return { problem: `${file} is not a regular file` };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return { problem: `${file} belongs to user ${st.uid}, not to this user (${uid})` };
  const mode = st.mode & 0o777;
  if (mode !== 0o600) return { problem: `${file} has mode 0${mode.toString(8)}, not 0600` };
  const started = processStartMs(pid);
  if (started === null) return null;
  if (st.mtimeMs + START_SLACK_MS < started) {
    return { problem: `${file} is older than process ${pid}: an earlier process with the same id left it` };
  }
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return { problem: `${file} cannot be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  const { host, port, token } = record;
  if (record.pid !== pid) return { problem: `${file} names process ${String(record.pid)}, not ${pid}` };
  if (typeof host !== 'string' || !LOOPBACK.has(host)) return { problem: `${file} names host ${String(host)}, not a loopback address` };
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) return { problem: `${file} has no valid port` };
  if (typeof token !== 'string' || token === '') return { problem: `${file} has no token` };
  const optional = <T>(value: unknown, type: string): T | undefined => (typeof value === type ? (value as T) : undefined);
  return {
    address: {
      file, pid, host, port, token,
      python: optional(record.python, 'string'),
      program: optional(record.program, 'string'),
      protocol: optional(record.protocol, 'number'),
      wrapper: optional(record.wrapper, 'number'),
    },
  };
}

function discoveryPids(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(discoveryDir());
  } catch {
    return [];
  }
  return names.map((n) => FILE_NAME.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
}

/** Every discovery file that may be trusted, with a live process behind it. */
export async function listDiscoveryRecords(): Promise<DiscoveryRecord[]> {
  return discoveryPids().map(locateAgent).flatMap((found) => (found?.address ? [found.address] : []));
}

/**
 * The token of the agent listening on `host:port`: `token`, or `problem` when only files that
 * must not be used name that port, or null when no discovery file names it.
 */
export function findListener(host: string, port: number): { token: string; problem?: undefined } | { token?: undefined; problem: string } | null {
  if (!LOOPBACK.has(host)) return null;
  let problem: string | null = null;
  for (const pid of discoveryPids()) {
    const found = locateAgent(pid);
    if (found?.address) {
      if (found.address.port === port) return { token: found.address.token };
    } else if (found?.problem && problem === null && namesPort(pid, port)) {
      problem = found.problem;
    }
  }
  return problem === null ? null : { problem };
}

/** Whether an untrusted file names this port (only to say why it was not used). */
function namesPort(pid: number, port: number): boolean {
  try {
    return (JSON.parse(fs.readFileSync(discoveryFile(pid), 'utf8')) as { port?: unknown }).port === port;
  } catch {
    return false;
  }
}

function processGone(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes this user's discovery files of processes that no longer exist (an agent killed by
 * SIGKILL cannot remove its own). Returns the files removed.
 */
export function removeStaleDiscoveryFiles(): string[] {
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const pid of discoveryPids()) {
    const file = discoveryFile(pid);
    try {
      const st = fs.lstatSync(file);
      if (!st.isFile() || (uid !== undefined && st.uid !== uid) || !processGone(pid)) continue;
      fs.unlinkSync(file);
      removed.push(file);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}
