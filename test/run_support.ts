// Shared by the `tasklens run` tests: processes started through bin/tasklens (or beside it,
// plain python), their output and end, and the guarantee that none outlives its test.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './support/paths';

export const BIN = path.join(ROOT, 'bin', 'tasklens');

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  ended: Promise<Ended>;
}

const live = new Set<ChildProcess>();

/** Starts a command in its own process group (so that cleanup can end all of it). */
export function start(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Started {
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const ended = new Promise<Ended>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return { child, stdout: () => out, stderr: () => err, ended };
}

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Ended> {
  return start(command, args, { input: '', ...options }).ended;
}

/** Ends every process group a test started and did not see end (pass or fail). */
export function killAll(): void {
  for (const child of live) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** The PID a fixture prints as "ready PID". */
export async function ready(s: Started, ms = 30_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = /ready (\d+)\n/.exec(s.stdout());
    if (m) return Number(m[1]);
    if (Date.now() > deadline || s.child.exitCode !== null || s.child.signalCode !== null) {
      throw new Error(`no "ready" line; stdout ${JSON.stringify(s.stdout())}, stderr ${JSON.stringify(s.stderr())}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the main thread of `pid` sleeps in the kernel (so a signal finds it there). */
export async function asleep(pid: number, ms = 10_000): Promise<void> {
  const state = () => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  };
  const deadline = Date.now() + ms;
  for (let quiet = 0; quiet < 3; ) {
    if (Date.now() > deadline) throw new Error(`process ${pid} never went to sleep`);
    quiet = state() === 'S' ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Gone, or a zombie nobody has reaped yet: either way it runs no more. */
export function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A private XDG_RUNTIME_DIR, so that discovery files are the test's alone. */
export function privateRuntime(): { env: NodeJS.ProcessEnv; files: () => string[]; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-run-'));
  fs.chmodSync(dir, 0o700);
  return {
    env: { ...process.env, XDG_RUNTIME_DIR: dir },
    files: () => {
      try {
        return fs.readdirSync(path.join(dir, 'tasklens'));
      } catch {
        return [];
      }
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** VmRSS of a process, in kB. */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}
