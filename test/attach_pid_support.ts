// Targets for attach by process id: programs started with plain python in their own process
// group (killed with it, pass or fail), and the DAP steps of attaching to one. Each target is
// also tied to the test process by the kernel (setpriv's parent-death signal, which survives
// the exec of python): a test runner killed before its `finally` leaves none behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { sleep, type Harness } from './support/harness';
import type { Python } from './support/pythons';
import { needsGdbFor } from './support/gdb';
import { rawRequest } from './support/responses';

export interface Target {
  pid: number;
  child: ChildProcess;
  stdout(): string;
  kill(): void;
}

const started = new Set<Target>();

/** setpriv's arguments that run `command args…` (same process id) killed when this process dies. */
export function tied(command: string, ...args: string[]): string[] {
  return ['--pdeathsig', 'KILL', command, ...args];
}

/** Starts `python fixture args…` and waits for its "ready" line (or `ready`). */
export async function startTarget(python: string, program: string, args: string[] = [], pythonArgs: string[] = [], ready = /ready/): Promise<Target> {
  needsGdbFor(python);
  return startProgram(python, program, args, pythonArgs, ready);
}

/** startTarget for a test that never loads the agent into it (a refusal): gdb does not matter. */
export async function startProgram(python: string, program: string, args: string[] = [], pythonArgs: string[] = [], ready = /ready/): Promise<Target> {
  const child = spawn('setpriv', tied(python, ...pythonArgs, program, ...args), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  const target: Target = {
    pid: child.pid!,
    child,
    stdout: () => out,
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
      started.delete(target);
    },
  };
  started.add(target);
  const deadline = Date.now() + 15_000;
  while (!ready.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      target.kill();
      throw new Error(`${program} did not get ready: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return target;
}

export function killAllTargets(): void {
  for (const t of [...started]) t.kill();
}

/** initialize → attach {processId} → initialized → (configure) → configurationDone. */
export async function attachTo(h: Harness, pid: number, configure?: () => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
  const since = h.mark();
  await h.dc.initializeRequest();
  await h.dc.attachRequest({ processId: pid, ...extra } as DebugProtocol.AttachRequestArguments);
  await h.waitFor('initialized', since);
  if (configure) await configure();
  await h.dc.configurationDoneRequest();
}

/** The process's thread count, from the kernel. */
export function threadCount(pid: number): number {
  const m = /^Threads:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : -1;
}

/** The thread count once it is `expected`, or what it is after 5 s. */
export async function settledThreadCount(pid: number, expected: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let n = threadCount(pid);
  while (n !== expected && Date.now() < deadline) {
    await sleep(50);
    n = threadCount(pid);
  }
  return n;
}

export function hasUvloop(py: Python): boolean {
  try {
    execFileSync(py.path, ['-c', 'import uvloop'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function fixtureLine(file: string, marker: string): number {
  const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`no ${marker} in ${file}`);
  return index + 1;
}

/** The failed attach's DAP error code and message, for the error tests. */
export async function attachError(h: Harness, args: Record<string, unknown>): Promise<{ code?: number; message: string }> {
  await h.dc.initializeRequest();
  return failure(await rawRequest(h, 'attach', args));
}

export function failure(response: DebugProtocol.Response): { code?: number; message: string } {
  if (response.success) throw new Error('attach succeeded where it should have failed');
  const body = response.body as { error?: { id?: number; format?: string } } | undefined;
  return { code: body?.error?.id, message: body?.error?.format ?? response.message ?? '' };
}
