// Whether `tasklens ps PID` may ask the agent of PID: its discovery file must exist, be ours and
// private, and have been written by the process that holds PID now. Everything here is a few
// synchronous system calls, because `ps` runs it before every read, agent or not.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoveryDir } from '../agent/discovery';

export interface AgentAddress {
  file: string;
  host: string;
  port: number;
  token: string;
}

/** `address` to ask; `problem` when a file is there but must not be used; null when there is none. */
export type Located = { address: AgentAddress; problem?: undefined } | { address?: undefined; problem: string } | null;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
// /proc/stat gives the boot time in whole seconds and the start time in clock ticks.
const START_SLACK_MS = 2000;
const CLOCK_TICKS_PER_S = 100;

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

export function discoveryFile(pid: number): string {
  return path.join(discoveryDir(), `${pid}.json`);
}

export function locateAgent(pid: number): Located {
  const file = discoveryFile(pid);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return null;
  }
  // The token inside lets whoever reads it drive the program: only a file that nobody else
  // could have written or read is trusted.
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
  return { address: { file, host, port, token } };
}
