// `tasklens ps PID` where PID is a `tasklens run` that could not exec (Node started directly
// keeps the program as its child): the program's discovery file names that PID as its wrapper,
// and the program is still that process's child, so `ps` reads the program instead.
import * as fs from 'node:fs';
import { discoveryFile, listDiscoveryRecords } from '../agent/discovery';


function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The program behind `pid` when `pid` is its `tasklens run` wrapper; otherwise `pid`. */
export async function programBehind(pid: number): Promise<number> {
  if (fs.existsSync(discoveryFile(pid))) return pid;
  const records = await listDiscoveryRecords();
  const child = records.find((r) => r.wrapper === pid && parentOf(r.pid) === pid);
  return child?.pid ?? pid;
}
