// What `tasklens dump` reads: every thread of a CPython process with its Python stack, what the
// kernel says it is blocked in, the GIL holder, the event loop it runs and that loop's tasks.
// The kernel's view (/proc/PID/task/TID) is read first, memory after: a thread seen in a futex
// is then shown with the stack that led there, not with one it reached later.
import * as fs from 'node:fs';
import { BadRead } from './mem';
import { exitedMidRead, ProcError, processGone } from './errors';
import { Limits, ObjectReader } from './objects';
import type { Target } from './target';
import { PyThread, ThreadReader } from './threads';
import { RawSnapshot, snapshotWithRetries } from './walker';

export interface KernelView {
  /** The scheduler state letter and its word: `S (sleeping)`. */
  state: string;
  /** The system call the thread waits in (`futex`, `epoll_wait`…), when it waits in one. */
  syscall?: string;
  /** The kernel function it sleeps in, when the kernel tells. */
  wchan?: string;
  /** The kernel's name of the thread (comm). */
  name: string;
}

export interface DumpThread extends PyThread {
  kernel: KernelView | null;
  /** Address (`0x…`) of the event loop the thread runs, when it runs one. */
  loop?: string;
}

export interface RawDump {
  threads: DumpThread[];
  tasks: RawSnapshot;
}

// x86-64 numbers of the calls a stuck Python thread usually waits in.
const SYSCALLS_X64: Record<number, string> = {
  0: 'read', 1: 'write', 7: 'poll', 23: 'select', 34: 'pause', 35: 'nanosleep', 43: 'accept', 45: 'recvfrom',
  47: 'recvmsg', 61: 'wait4', 202: 'futex', 230: 'clock_nanosleep', 232: 'epoll_wait', 247: 'waitid',
  270: 'pselect6', 271: 'ppoll', 281: 'epoll_pwait', 288: 'accept4', 441: 'epoll_pwait2',
};
const STATES: Record<string, string> = { R: 'running', S: 'sleeping', D: 'disk sleep', T: 'stopped', t: 'traced', Z: 'zombie' };

function readProc(path: string): string | null {
  try {
    return fs.readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

export function kernelView(pid: number, tid: number): KernelView | null {
  const dir = `/proc/${pid}/task/${tid}`;
  const stat = readProc(`${dir}/stat`);
  if (stat === null) return null;
  const letter = /\) (\S) /.exec(stat)?.[1] ?? '?';
  const view: KernelView = { state: `${letter} (${STATES[letter] ?? 'unknown'})`, name: (readProc(`${dir}/comm`) ?? '').trim() };
  // `syscall` needs the same ptrace permission as the memory; without it the call is not named.
  const sc = readProc(`${dir}/syscall`)?.trim();
  if (sc && /^\d+ /.test(sc)) {
    const nr = Number(sc.split(' ')[0]);
    view.syscall = process.arch === 'x64' ? (SYSCALLS_X64[nr] ?? `syscall ${nr}`) : `syscall ${nr}`;
  }
  const wchan = readProc(`${dir}/wchan`)?.trim();
  if (wchan && wchan !== '0') view.wchan = wchan;
  return view;
}

export interface DumpOptions {
  locals: boolean;
}

export function readDump(t: Target, limits: Limits, o: DumpOptions): RawDump {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return readOnce(t, limits, o);
    } catch (err) {
      if (err instanceof ProcError && err.code === 'no-such-process') throw exitedMidRead(t.pid);
      if (!(err instanceof BadRead)) throw err;
      last = err;
      t.mem.invalidate();
    }
  }
  if (processGone(t.pid)) throw exitedMidRead(t.pid);
  throw new ProcError('read-failed', `the process changed too fast to be read consistently: ${String(last)}`);
}

function readOnce(t: Target, limits: Limits, o: DumpOptions): RawDump {
  t.mem.invalidate();
  const kernel = new Map<number, KernelView | null>();
  let tids: number[];
  try {
    tids = fs.readdirSync(`/proc/${t.pid}/task`).map(Number);
  } catch {
    throw exitedMidRead(t.pid);
  }
  for (const tid of tids) kernel.set(tid, kernelView(t.pid, tid));
  const r = new ObjectReader(t.mem, t.layout, limits);
  const threads = new ThreadReader(t.mem, t.layout, r, t.runtimeAddr).threads({ maxFrames: limits.maxFrames, locals: o.locals });
  const tasks = snapshotWithRetries(t, limits);
  const loops = new Map(tasks.threads.filter((x) => x.runningLoop !== 0).map((x) => [x.threadId, x.runningLoop]));
  return {
    threads: threads.map((th): DumpThread => {
      const loop = loops.get(th.threadId);
      const d: DumpThread = { ...th, kernel: kernel.get(th.threadId) ?? kernelView(t.pid, th.threadId) };
      if (loop !== undefined) d.loop = `0x${loop.toString(16)}`;
      return d;
    }),
    tasks,
  };
}
