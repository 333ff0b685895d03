import type { Frame, Task, TaskState } from '../inspect/model';
import { AddrMap } from './addrtable';
import { exitedMidRead, ProcError, processGone } from './errors';
import { BadRead, ptrAt, wordsU64, wordsU8 } from './mem';
import { DEFAULT_MAX_FRAMES, DEFAULT_MAX_TASKS } from './limits';
import { namesToReadAgain, type NameSeen } from './nameCheck';
import { Limits, ObjectReader, untag } from './objects';
import { StackInterner } from './stacks';
import { walkLegacy } from './legacyTasks';
import { Target } from './target';

// Walks interpreters → threads → per-thread task lists (and each interpreter's list of tasks
// whose thread has ended) → each task's coroutine chain and awaited-by set. The target keeps
// running meanwhile, so every list is bounded and checked for loops, and a task whose objects
// change under us is re-read a few times before it is reported with an error instead.

export interface RawThread {
  interpreterId: number;
  threadId: number;
  pthreadId: number;
  runningTask: number;
  /** The event loop running in the thread (its address), 0 when none. */
  runningLoop: number;
}

export interface RawSnapshot {
  pid: number;
  pythonVersion: string;
  executable: string;
  asyncioLoaded: boolean;
  threads: RawThread[];
  tasks: Task[];
  truncated: boolean;
  warnings: string[];
  memoryReads: number;
}

// Frame states from Include/internal/pycore_frame.h: 3.15 renumbered them (and dropped
// COMPLETED, added YIELD_FROM_LOCKED for free-threaded builds).
// `suspended` and `yieldFrom` are inclusive ranges.
type Range = readonly [number, number];
interface FrameStates { created: number; yieldFrom: Range; executing: number; cleared: number; suspended: Range }
const STATES_314: FrameStates = { created: -3, suspended: [-2, -1], yieldFrom: [-1, -1], executing: 0, cleared: 4 };
const STATES_315: FrameStates = { created: 0, suspended: [1, 3], yieldFrom: [2, 3], executing: 4, cleared: 5 };
const FRAME_OWNED_BY_GENERATOR = 1;
const MAX_INTERPRETERS = 256;
const MAX_THREADS = 8192;
const TASK_RETRIES = 3;
const NO_FRAMES: readonly Frame[] = [];
const NO_AWAITERS: readonly string[] = [];

/** The task and coroutine fields are read as whole words: a layout that misaligns one is refused. */
function checkAlignment(t: Target): void {
  const g = t.debug.gen_object;
  const f = t.debug.interpreter_frame;
  const a = t.asyncio;
  const pointers = [
    t.debug.pyobject.ob_type, g.gi_iframe + f.executable, g.gi_iframe + f.instr_ptr, g.gi_iframe + f.stackpointer,
    ...(a ? [a.task.name, a.task.coro, a.task.awaitedBy, a.task.node] : []),
  ];
  if (pointers.some((o) => o % 8 !== 0)) {
    throw new ProcError('bad-layout', `the task or coroutine fields of this Python ${t.version} are not 8-byte aligned`);
  }
}

/**
 * `0x…` of an address. Number#toString(16) on a 47-bit value takes V8's slow double path, and a
 * snapshot names 20,000 addresses; they share their top bits, so only the low 24 are converted.
 */
export function hexer(): (n: number) => string {
  const prefixes = new Map<number, string>();
  return (n) => {
    const hi = Math.floor(n / 0x1000000);
    let p = prefixes.get(hi);
    if (p === undefined) prefixes.set(hi, (p = hi === 0 ? '0x' : `0x${hi.toString(16)}`));
    const lo = n - hi * 0x1000000;
    return hi === 0 ? p + lo.toString(16) : p + (lo + 0x1000000).toString(16).slice(1);
  };
}

export const DEFAULT_LIMITS: Limits = { maxTasks: DEFAULT_MAX_TASKS, maxFrames: DEFAULT_MAX_FRAMES, maxString: 1024 };

export function walk(t: Target, limits: Limits = DEFAULT_LIMITS): RawSnapshot {
  // The target outlives one snapshot (TaskSource.open): nothing read before is trusted now.
  t.mem.invalidate();
  const r = new ObjectReader(t.mem, t.debug, limits);
  const d = t.debug;
  const snap: RawSnapshot = {
    pid: t.pid, pythonVersion: t.version, executable: t.executable, asyncioLoaded: t.asyncio !== null,
    threads: [], tasks: [], truncated: false, warnings: [], memoryReads: 0,
  };
  const readsBefore = t.mem.reads;
  // Task address → the list it was found in (1, 2, …): a task met again in the same list means
  // the list loops; met in another, it moved while we read. Sized for 10,000 tasks from the start.
  const listOf = new AddrMap<number>(15);
  let lists = 0;
  const frames = new AddrMap<{ code: number; frame: Frame }>();
  // 10,000 tasks parked at the same await share one stack array.
  const stacks = new StackInterner();
  // One string per address, shared by the task and every mention of it as an awaiter.
  const ids = new AddrMap<string>(15);
  const hex = hexer();
  const idOf = (addr: number): string => {
    let id = ids.get(addr);
    if (id === undefined) ids.set(addr, (id = hex(addr)));
    return id;
  };
  // The hundred children of a TaskGroup share one `[parent]` list.
  const onlyAwaiter = new AddrMap<readonly string[]>();
  const awaitedByOne = (addr: number): readonly string[] => {
    let list = onlyAwaiter.get(addr);
    if (list === undefined) onlyAwaiter.set(addr, (list = [idOf(addr)]));
    return list;
  };
  const chain: Frame[] = [];
  let chainLength = 0;
  // The names the walk saw, checked again once it is done (recheckNames), with each task's index in snap.tasks.
  const nameChecks: Array<NameSeen & { index: number }> = [];
  // The awaited object sits on the suspended frame's value stack: the top slot on 3.14, the one
  // below it on 3.15 (where SEND keeps one more value above it).
  const awaitSlot = t.minor >= 15 ? 2 : 1;
  const states = t.minor >= 15 ? STATES_315 : STATES_314;
  const yieldFrom = states.yieldFrom;
  const g = d.gen_object;
  const f = d.interpreter_frame;
  const genSize = g.gi_iframe + f.size;
  checkAlignment(t);

  const seenInterps = new Set<number>();
  let interp = t.mem.ptr(t.runtimeAddr + d.runtime_state.interpreters_head);
  while (interp !== 0 && !seenInterps.has(interp) && seenInterps.size < MAX_INTERPRETERS) {
    seenInterps.add(interp);
    const interpId = Number(t.mem.read(interp + d.interpreter_state.id, 8).readBigInt64LE(0));
    const seenThreads = new Set<number>();
    let ts = t.mem.ptr(interp + d.interpreter_state.threads_head);
    while (ts !== 0 && !seenThreads.has(ts) && seenThreads.size < MAX_THREADS) {
      seenThreads.add(ts);
      const tsBuf = t.mem.read(ts, d.thread_state.size);
      const thread: RawThread = {
        interpreterId: interpId,
        threadId: ptrAt(tsBuf, d.thread_state.native_thread_id),
        pthreadId: ptrAt(tsBuf, d.thread_state.thread_id),
        runningTask: 0,
        runningLoop: 0,
      };
      if (t.asyncio) {
        const a = t.asyncio.thread;
        const loop = t.mem.ptr(ts + a.runningLoop);
        thread.runningTask = loop !== 0 ? untag(t.mem.ptr(ts + a.runningTask)) : 0;
        thread.runningLoop = untag(loop);
        snap.threads.push(thread);
        walkList(ts + a.tasksHead, thread.threadId, interpId, thread.runningTask);
      } else {
        snap.threads.push(thread);
      }
      ts = ptrAt(tsBuf, d.thread_state.next);
    }
    if (t.asyncio) walkList(interp + t.asyncio.interp.tasksHead, 0, interpId, 0);
    interp = t.mem.ptr(interp + d.interpreter_state.next);
  }
  recheckNames();
  snap.memoryReads = t.mem.reads - readsBefore;
  return snap;

  /** See nameCheck.ts. */
  function recheckNames(): void {
    const nameOffset = t.asyncio!.task.name;
    const again = namesToReadAgain(t.mem, nameChecks, (task) => untag(t.mem.ptr(task + nameOffset)), (obj) => r.taskName(obj));
    for (const { task, index } of again) {
      const old = snap.tasks[index];
      snap.tasks[index] = readTaskWithRetry(task, old.threadId, old.interpreterId, old.state === 'running', true);
    }
  }

  function walkList(head: number, threadId: number, interpId: number, running: number): void {
    if (!t.asyncio) return;
    const list = ++lists;
    const nodeOffset = t.asyncio.task.node;
    const nextOffset = d.llist_node.next;
    let node = t.mem.ptr(head + nextOffset);
    while (node !== head) {
      const addr = node - nodeOffset;
      const seenIn = node === 0 ? list : listOf.get(addr);
      if (seenIn === list) {
        snap.warnings.push(`the task list of thread ${threadId} changed while it was read; some tasks may be missing`);
        return;
      }
      if (snap.tasks.length >= limits.maxTasks) {
        snap.truncated = true;
        return;
      }
      if (seenIn === undefined) {
        listOf.set(addr, list);
        snap.tasks.push(readTaskWithRetry(addr, threadId, interpId, addr === running, false));
      }
      try {
        node = t.mem.ptr(node + nextOffset);
      } catch (err) {
        if (!(err instanceof BadRead)) throw err;
        snap.warnings.push(`the task list of thread ${threadId} ended in unreadable memory; some tasks may be missing`);
        return;
      }
    }
  }

  function readTaskWithRetry(addr: number, threadId: number, interpId: number, running: boolean, checkNow: boolean): Task {
    let last = '';
    for (let attempt = 0; attempt < TASK_RETRIES; attempt++) {
      try {
        return readTask(addr, threadId, interpId, running, checkNow);
      } catch (err) {
        if (!(err instanceof BadRead)) throw err;
        last = err.message;
        t.mem.invalidate();
      }
    }
    return {
      id: idOf(addr), name: '?', threadId, interpreterId: interpId, state: 'unknown', stack: NO_FRAMES, awaitedBy: NO_AWAITERS,
      error: `task changed while being read: ${last}`,
    };
  }

  function readTask(addr: number, threadId: number, interpId: number, running: boolean, checkNow: boolean): Task {
    const a = t.asyncio!;
    const w = t.mem.words(addr, a.task.size);
    const wo = t.mem.woff;
    const nameAddr = untag(wordsU64(w, wo, a.task.name));
    const coro = untag(wordsU64(w, wo, a.task.coro));
    const ab = untag(wordsU64(w, wo, a.task.awaitedBy));
    const abIsSet = ab !== 0 && wordsU8(w, wo, a.task.awaitedByIsSet) !== 0;
    // See nameCheck.ts. A task read again checks its name field as it is now, then reads the
    // name through a cache emptied after that.
    if (nameAddr && checkNow) {
      if (untag(t.mem.freshPtr(addr + a.task.name)) !== nameAddr) throw new BadRead(addr, 8, 'the task name changed while it was read');
      t.mem.invalidate();
    }
    const name = nameAddr ? r.taskName(nameAddr) : '';
    if (nameAddr && !checkNow) nameChecks.push({ task: addr, nameObject: nameAddr, shown: name, index: snap.tasks.length });
    const task: Task = {
      id: idOf(addr), name, threadId, interpreterId: interpId,
      state: 'unknown', stack: NO_FRAMES, awaitedBy: ab === 0 ? NO_AWAITERS : abIsSet ? setMembers(ab).map(idOf) : awaitedByOne(ab),
    };
    if (coro !== 0) {
      task.state = coroChain(coro);
      task.stack = stacks.intern(chain, chainLength);
    }
    if (running) task.state = 'running';
    return task;
  }

  /**
   * Reads a coroutine and what it awaits into `chain` (outermost first, `chainLength` frames);
   * returns the outer coroutine's state.
   */
  function coroChain(coro: number): TaskState {
    chainLength = 0;
    let state: TaskState = 'unknown';
    for (let depth = 0; coro !== 0 && depth < limits.maxFrames; depth++) {
      const w = t.mem.words(coro, genSize);
      const wo = t.mem.woff;
      const frameState = (wordsU8(w, wo, g.gi_frame_state) << 24) >> 24;
      if (depth === 0) state = stateOf(frameState);
      if (frameState === states.cleared) return state;
      const exe = untag(wordsU64(w, wo, g.gi_iframe + f.executable));
      if (exe === 0 || wordsU8(w, wo, g.gi_iframe + f.owner) !== FRAME_OWNED_BY_GENERATOR) return state;
      const ip = wordsU64(w, wo, g.gi_iframe + f.instr_ptr);
      // Taken now: reading the code object below may recycle the page `w` views.
      const sp = untag(wordsU64(w, wo, g.gi_iframe + f.stackpointer));
      const type = wordsU64(w, wo, d.pyobject.ob_type);
      if (ip === 0) return state;
      // Tasks suspended at the same instruction share one frame record (and the garbage
      // collector is spared one object per frame of 10,000 identical stacks).
      let frame = frames.get(ip);
      if (!frame || frame.code !== exe) {
        const code = r.code(exe);
        frame = { code: exe, frame: { function: code.qualname, file: code.file, line: r.line(code, ip) } };
        frames.set(ip, frame);
      }
      chain[chainLength++] = frame.frame;
      if (frameState < yieldFrom[0] || frameState > yieldFrom[1]) return state;
      const awaited = sp ? untag(t.mem.ptr(sp - 8 * awaitSlot)) : 0;
      // Only a coroutine of the same type continues the chain; anything else (a Future, an
      // iterator) is where the chain ends, as in CPython's own tools.
      coro = awaited !== 0 && r.typeOf(awaited) === type ? awaited : 0;
    }
    return state;
  }

  function stateOf(frameState: number): TaskState {
    if (frameState === states.created) return 'not-started';
    if (frameState === states.executing) return 'running';
    if (frameState >= states.suspended[0] && frameState <= states.suspended[1]) return 'suspended';
    return 'done';
  }

  function setMembers(set: number): number[] {
    const s = d.set_object;
    const used = t.mem.ptr(set + s.used);
    const mask = t.mem.ptr(set + s.mask);
    const table = t.mem.ptr(set + s.table);
    if (mask >= 1 << 16 || used > mask + 1) throw new BadRead(set, 0, 'implausible awaited-by set');
    const entries = t.mem.read(table, (mask + 1) * 16);
    const out: number[] = [];
    for (let i = 0; i <= mask && out.length < used; i++) {
      const key = ptrAt(entries, i * 16);
      // A removed entry keeps a dummy key with hash -1.
      const hashIsMinusOne = entries.readInt32LE(i * 16 + 8) === -1 && entries.readInt32LE(i * 16 + 12) === -1;
      if (key !== 0 && !hashIsMinusOne) out.push(untag(key));
    }
    return out;
  }
}

export function snapshotWithRetries(t: Target, limits?: Limits): RawSnapshot {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return t.asyncio === null && t.minor <= 13 ? walkLegacy(t, limits ?? DEFAULT_LIMITS) : walk(t, limits);
    } catch (err) {
      if (err instanceof ProcError && err.code === 'no-such-process') throw exitedMidRead(t.pid);
      if (!(err instanceof BadRead)) throw err;
      lastErr = err;
      t.mem.invalidate();
    }
  }
  if (processGone(t.pid)) throw exitedMidRead(t.pid);
  throw new ProcError('read-failed', `the process changed too fast to be read consistently: ${String(lastErr)}`);
}
