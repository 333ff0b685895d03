// Shared by the ps tests: start a fixture program and wait for its "ready" line, run
// `tasklens ps|pstree` on it, and parse CPython's own `python -m asyncio ps` table.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { MAIN_JS } from './support/paths';

export interface Running {
  pid: number;
  stop(): Promise<void>;
}

export async function startReady(cmd: string, args: string[], readyTimeoutMs = 30_000): Promise<Running> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "ready" from ${args.join(' ')} in ${readyTimeoutMs} ms: ${err}`)), readyTimeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code}) before it was ready: ${err}`));
    });
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    },
  };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function tasklens(args: string[], prefix: string[] = []): Promise<Result> {
  return prefix.length > 0
    ? run(prefix[0], [...prefix.slice(1), process.execPath, MAIN_JS, ...args])
    : run(process.execPath, [MAIN_JS, ...args]);
}

/** One row of CPython's task table, fields as printed. */
export interface CpyRow {
  tid: string;
  taskId: string;
  taskName: string;
  stack: string;
  awaiterChain: string;
  awaiterName: string;
  awaiterId: string;
}

// CPython pads its columns but lets long cells overflow, so the row is split on whitespace and
// rebuilt: chains are words joined by "->", and the last one or two words are the awaiter.
// Fixture task and function names contain no spaces.
export function parseCpythonTable(text: string): CpyRow[] {
  const rows: CpyRow[] = [];
  for (const line of text.split('\n').slice(2)) {
    const w = line.trim().split(/\s+/);
    if (w.length < 4) continue;
    const [tid, taskId, taskName] = w;
    const awaiterId = w[w.length - 1];
    const rest = w.slice(3, awaiterId === '0x0' ? -1 : -2);
    const chains: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '->') chains[chains.length - 1] += ` -> ${rest[++i]}`;
      else chains.push(rest[i]);
    }
    rows.push({
      tid, taskId, taskName, stack: chains[0] ?? '', awaiterChain: chains[1] ?? '',
      awaiterName: awaiterId === '0x0' ? '' : w[w.length - 2], awaiterId,
    });
  }
  return rows;
}
