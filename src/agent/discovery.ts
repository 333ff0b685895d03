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

export async function readDiscoveryToken(host: string, port: number): Promise<string | undefined> {
  const records = await listDiscoveryRecords();
  const sameHost = (a: string) => a === host || (LOOPBACK.has(a) && LOOPBACK.has(host));
  return records.find((r) => r.port === port && sameHost(r.host))?.token ?? records.find((r) => r.port === port)?.token;
}
