// The asyncio tasks of a CPython 3.11–3.13 process. Those versions keep no task list in the
// runtime (3.14 added one): their tasks live in Python containers of the asyncio.tasks module —
// `_all_tasks` (3.11) or `_scheduled_tasks` and `_eager_tasks` (3.12+), the first a WeakSet —
// and they record no awaiter: legacyAwaiters.ts rebuilds the edges from what memory does hold.
import type { Frame, Task, TaskState } from '../inspect/model';
import { AddrMap } from './addrtable';
import { ProcError } from './errors';
import { BadRead, wordsU64, wordsU8 } from './mem';
import { namesToReadAgain, type NameSeen } from './nameCheck';
import { Limits, ObjectReader, untag } from './objects';
import { StackInterner } from './stacks';
import type { Target } from './target';
import { ThreadReader } from './threads';
import { linkAwaiters, type TaskFields } from './legacyAwaiters';
import { hexer, type RawSnapshot, type RawThread } from './walker';

const TASK_RETRIES = 3;
const NO_FRAMES: readonly Frame[] = [];
const NO_AWAITERS: readonly string[] = [];
const TP_BASE = 256;

export function walkLegacy(t: Target, limits: Limits): RawSnapshot {
  t.mem.invalidate();
  const L = t.layout;
  const r = new ObjectReader(t.mem, L, limits);
  const tr = new ThreadReader(t.mem, L, r, t.runtimeAddr);
  const py = tr.py;
  const mem = t.mem;
  const snap: RawSnapshot = {
    pid: t.pid, pythonVersion: t.version, executable: t.executable, asyncioLoaded: false,
    threads: [], tasks: [], truncated: false, warnings: [], memoryReads: 0,
  };
  const readsBefore = mem.reads;
  const isTaskType = new AddrMap<boolean>();
  const isCoroType = new AddrMap<boolean>();
  // Per instruction address: its frame record, and whether the next instruction is a RESUME
  // after an await (3.11/3.12 tell a suspended `await` by that).
  const frames = new AddrMap<{ code: number; frame: Frame; resumeNext: boolean }>();
  const stacks = new StackInterner();
  const chain: Frame[] = [];
  let chainLength = 0;
  // The object the innermost coroutine awaits, and its type: usually the task's fut_waiter,
  // whose type the awaiter links then need without reading it again.
  let lastAwaited = 0;
  let lastAwaitedType = 0;
  const fields = new AddrMap<TaskFields>(15);
  const order: number[] = [];
  // The names the walk saw, checked again once it is done: recheckNames.
  const nameChecks: NameSeen[] = [];
  const gs = L.gen_object;
  const f = L.interpreter_frame;
  const st = L.frame_state;
  const genSize = gs.gi_iframe + f.localsplus;
  const hex = hexer();

  for (const interp of tr.interpreters()) {
    const identToNative = new Map<number, number>();
    for (const ts of tr.threadStates(interp.addr)) {
      const thread: RawThread = {
        interpreterId: interp.id,
        threadId: mem.ptr(ts + L.thread_state.native_thread_id),
        pthreadId: mem.ptr(ts + L.thread_state.thread_id),
        runningTask: 0,
        runningLoop: 0,
      };
      identToNative.set(thread.pthreadId, thread.threadId);
      snap.threads.push(thread);
    }
    const modules = mem.ptr(interp.addr + L.interpreter_state.imports_modules);
    if (modules === 0 || py.typeName(modules) !== 'dict') {
      throw new ProcError('bad-layout', `unsupported CPython build ${t.version}: sys.modules is not where this version keeps it`);
    }
    const g = py.moduleDict(modules, 'asyncio.tasks');
    if (g === 0) continue;
    snap.asyncioLoaded = true;
    const found: number[] = [];
    for (const name of t.minor === 11 ? ['_all_tasks'] : ['_scheduled_tasks', '_eager_tasks']) {
      const container = py.dictGet(g, name);
      if (container === 0) continue;
      const kind = py.typeName(container);
      found.push(...(kind === 'set' ? py.setMembers(container) : py.weakSetMembers(container)));
    }
    const running = new Set<number>();
    const current = py.dictGet(g, '_current_tasks');
    if (current !== 0) for (const [, task] of py.dictItems(current)) running.add(task);
    const loopThread = new AddrMap<number>();
    // Tasks and their coroutines are allocated together: read in address order, they come in
    // runs from the page cache, as 3.14's list order gives its walker.
    found.sort((a, b) => a - b);
    for (const addr of found) {
      if (fields.get(addr) !== undefined) continue;
      if (!isTask(addr)) continue;
      if (order.length >= limits.maxTasks) {
        snap.truncated = true;
        break;
      }
      readInto(addr, interp.id, running.has(addr), loopThread, identToNative, false);
      order.push(addr);
    }
    recheckNames(interp.id, running, loopThread, identToNative);
    // A thread's loop is the one its tasks name; its running task, the one _current_tasks names.
    const loopOf = new Map<number, number>();
    for (const addr of order) {
      const tf = fields.get(addr)!;
      if (tf.task.interpreterId === interp.id && tf.task.threadId !== 0) loopOf.set(tf.task.threadId, tf.loop);
    }
    for (const th of snap.threads) {
      if (th.interpreterId !== interp.id) continue;
      th.runningLoop = loopOf.get(th.threadId) ?? 0;
      for (const addr of running) if (fields.get(addr)?.task.threadId === th.threadId) th.runningTask = addr;
    }
  }
  linkAwaiters({ mem, L, py, r, hex }, fields, order);
  snap.tasks = order.map((a) => fields.get(a)!.task);
  const unknown = snap.tasks.filter((x) => x.awaiterUnknown !== undefined);
  if (unknown.length > 0) {
    const shapes = [...new Set(unknown.map((x) => x.awaiterUnknown))].join(', ');
    snap.warnings.push(`${unknown.length} task(s) are awaited through ${shapes}, which Python ${t.version} does not record in memory: awaiter unknown`);
  }
  snap.memoryReads = mem.reads - readsBefore;
  return snap;

  /** `_asyncio.Task` or a subclass of it: C tasks are the only ones whose fields we know. */
  function isTask(addr: number): boolean {
    const type = mem.ptr(addr + 8);
    let yes = isTaskType.get(type);
    if (yes === undefined) {
      yes = false;
      let ty = type;
      for (let depth = 0; ty !== 0 && depth < 32; depth++) {
        if (py.cstr(mem.ptr(ty + L.type_object.tp_name), 100) === '_asyncio.Task') {
          const size = mem.ptr(ty + L.type_object.tp_basicsize);
          if (size !== L.task.size) {
            throw new ProcError('bad-layout', `unsupported CPython build ${t.version}: _asyncio.Task is ${size} bytes, expected ${L.task.size}`);
          }
          yes = true;
          break;
        }
        ty = mem.ptr(ty + TP_BASE);
      }
      isTaskType.set(type, yes);
    }
    return yes;
  }

  function threadOfLoop(loop: number, cache: AddrMap<number>, identToNative: Map<number, number>): number {
    if (loop === 0) return 0;
    let tid = cache.get(loop);
    if (tid === undefined) {
      tid = 0;
      try {
        const ident = py.attr(loop, '_thread_id');
        if (ident !== 0 && py.typeName(ident) === 'int') tid = identToNative.get(r.int(ident)) ?? 0;
      } catch (err) {
        if (!(err instanceof BadRead)) throw err;
      }
      cache.set(loop, tid);
    }
    return tid;
  }

  function readInto(addr: number, interpId: number, running: boolean, loopThread: AddrMap<number>, identToNative: Map<number, number>, checkNow: boolean): void {
    const tf = readTaskWithRetry(addr, interpId, running, checkNow);
    tf.task.threadId = threadOfLoop(tf.loop, loopThread, identToNative);
    fields.set(addr, tf);
  }

  /** See nameCheck.ts. */
  function recheckNames(interpId: number, running: Set<number>, loopThread: AddrMap<number>, identToNative: Map<number, number>): void {
    const again = namesToReadAgain(mem, nameChecks, (task) => mem.ptr(task + L.task.name), (obj) => r.taskName(obj));
    for (const { task } of again) readInto(task, interpId, running.has(task), loopThread, identToNative, true);
    nameChecks.length = 0;
  }

  function readTaskWithRetry(addr: number, interpId: number, running: boolean, checkNow: boolean): TaskFields {
    let last = '';
    for (let attempt = 0; attempt < TASK_RETRIES; attempt++) {
      try {
        return readTask(addr, interpId, running, checkNow);
      } catch (err) {
        if (!(err instanceof BadRead)) throw err;
        last = err.message;
        mem.invalidate();
      }
    }
    return {
      task: {
        id: hex(addr), name: '?', threadId: 0, interpreterId: interpId, state: 'unknown', stack: NO_FRAMES,
        awaitedBy: NO_AWAITERS, error: `task changed while being read: ${last}`,
      },
      loop: 0, waiter: 0, waiterType: 0, callback0: 0, callbackList: 0,
    };
  }

  function readTask(addr: number, interpId: number, running: boolean, checkNow: boolean): TaskFields {
    const w = mem.words(addr, L.task.size);
    const wo = mem.woff;
    const loop = untag(wordsU64(w, wo, L.future.loop));
    const futState = w[wo + (L.future.state >> 2)];
    const cb0 = wordsU64(w, wo, L.future.callback0);
    const cbs = wordsU64(w, wo, L.future.callbacks);
    const waiter = wordsU64(w, wo, L.task.fut_waiter);
    const coro = wordsU64(w, wo, L.task.coro);
    const nameAddr = wordsU64(w, wo, L.task.name);
    // See nameCheck.ts. A task read again checks its name field as it is now, then reads the
    // name through a cache emptied after that.
    if (nameAddr && checkNow) {
      if (mem.freshPtr(addr + L.task.name) !== nameAddr) throw new BadRead(addr, 8, 'the task name changed while it was read');
      mem.invalidate();
    }
    const name = nameAddr ? r.taskName(nameAddr) : '';
    if (nameAddr && !checkNow) nameChecks.push({ task: addr, nameObject: nameAddr, shown: name });
    const task: Task = {
      id: hex(addr), name, threadId: 0, interpreterId: interpId,
      state: 'unknown', stack: NO_FRAMES, awaitedBy: NO_AWAITERS,
    };
    lastAwaited = 0;
    if (coro !== 0) {
      task.state = coroChain(coro);
      task.stack = stacks.intern(chain, chainLength);
    }
    if (futState !== L.fut_states.pending) task.state = 'done';
    else if (running) task.state = 'running';
    const waiterType = waiter !== 0 && waiter === lastAwaited ? lastAwaitedType : 0;
    return { task, loop, waiter, waiterType, callback0: cb0, callbackList: cbs };
  }

  function isCoroutine(obj: number): boolean {
    const type = mem.ptr(obj + 8);
    lastAwaited = obj;
    lastAwaitedType = type;
    let yes = isCoroType.get(type);
    if (yes === undefined) {
      const name = py.typeName(obj);
      yes = name === 'coroutine' || name === 'generator';
      isCoroType.set(type, yes);
    }
    return yes;
  }

  /** Reads a coroutine chain into `chain` (outermost first, `chainLength` frames); the outer one's state. */
  function coroChain(coro: number): TaskState {
    let state: TaskState = 'unknown';
    let length = 0;
    for (let depth = 0; coro !== 0 && depth < limits.maxFrames; depth++) {
      if (!isCoroutine(coro)) break;
      const w = mem.words(coro, genSize);
      const wo = mem.woff;
      const frameState = (wordsU8(w, wo, gs.gi_frame_state) << 24) >> 24;
      if (depth === 0) state = stateOf(frameState);
      if (frameState >= 1) break;
      const exe = untag(wordsU64(w, wo, gs.gi_iframe + f.executable));
      const ip = wordsU64(w, wo, gs.gi_iframe + f.instr_ptr);
      const stacktop = w[wo + ((gs.gi_iframe + f.stacktop) >> 2)] | 0;
      if (exe === 0 || ip === 0) break;
      let frame = frames.get(ip);
      if (!frame || frame.code !== exe) {
        if (py.typeName(exe) !== 'code') throw new BadRead(exe, 0, 'not a code object');
        const code = r.code(exe);
        frame = { code: exe, frame: { function: code.qualname, file: code.file, line: r.line(code, ip) }, resumeNext: resumeAfter(ip) };
        frames.set(ip, frame);
      }
      chain[length++] = frame.frame;
      if (!awaitsSubiterator(frameState, frame.resumeNext) || stacktop <= 0 || stacktop > 1 << 16) break;
      const awaited = untag(mem.ptr(coro + gs.gi_iframe + f.localsplus + (stacktop - 1) * 8));
      coro = awaited !== 0 && isCoroutine(awaited) ? awaited : 0;
    }
    chainLength = length;
    return state;
  }

  /** Suspended in `await` (yield from): the awaited object is then on top of the value stack. */
  function awaitsSubiterator(frameState: number, resumeNext: boolean): boolean {
    if (st.yield_from !== 99) return frameState === st.yield_from;
    return frameState >= st.suspended_lo && frameState <= st.suspended_hi && resumeNext;
  }

  /** 3.11/3.12 (`_PyGen_yf`): the instruction after the one last run is a RESUME with arg >= 2. */
  function resumeAfter(ip: number): boolean {
    if (st.yield_from !== 99) return false;
    const b = mem.at(ip + 2, 2);
    const op = L.opcodes;
    const code = b[mem.off];
    return (code === op.resume || code === op.resume_alt1 || code === op.resume_alt2) && b[mem.off + 1] >= 2;
  }

  function stateOf(frameState: number): TaskState {
    if (frameState === st.created) return 'not-started';
    if (frameState === st.executing) return 'running';
    if (frameState >= st.suspended_lo && frameState <= st.suspended_hi) return 'suspended';
    return 'done';
  }

}
