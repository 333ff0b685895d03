// Discovery files (docs/agent-protocol.md): one JSON file per process that runs the agent.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface DiscoveryRecord {
  pid: number;
  host: string;
  port: number;
  token: string;
  python?: string;
  program?: string;
  protocol?: number;
  /** The `tasklens run` process that started this one and could not exec (docs/agent-protocol.md). */
  wrapper?: number;
}

export function discoveryDir(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) return path.join(runtime, 'tasklens');
  return path.join(os.tmpdir(), `tasklens-${os.userInfo().uid}`);
}

export async function listDiscoveryRecords(): Promise<DiscoveryRecord[]> {
  const dir = discoveryDir();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const records: DiscoveryRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const record = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as DiscoveryRecord;
      if (typeof record.port === 'number' && typeof record.token === 'string') records.push(record);
    } catch {
      // A file being written or removed right now: skip it.
    }
  }
  return records;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Whether the process a record names still exists (a killed one leaves its file behind). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readDiscoveryToken(host: string, port: number): Promise<string | undefined> {
  // A file left by a killed program may name a port that a live agent uses now.
  const records = (await listDiscoveryRecords()).filter((r) => alive(r.pid));
  const sameHost = (a: string) => a === host || (LOOPBACK.has(a) && LOOPBACK.has(host));
  return records.find((r) => r.port === port && sameHost(r.host))?.token ?? records.find((r) => r.port === port)?.token;
}
