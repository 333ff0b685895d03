// The awaiter edges of a CPython 3.11–3.13 process's tasks, rebuilt from what memory holds,
// since those versions record no awaiter (legacyTasks.ts reads the tasks; this joins them):
//   - a task suspended in `await other_task` has `other_task` as its fut_waiter;
//   - one in `await gather(...)` has the _GatheringFuture, whose `_children` are the children;
//   - a TaskGroup child carries the group's `_on_task_done` as a done callback, and the group
//     knows its `_parent_task`;
//   - a task awaited directly has the awaiter's wakeup as a done callback.
// Shapes that leave no such trace (asyncio.wait, shield, as_completed, 3.11's wait_for) leave
// the task with "awaiter unknown" instead of a guessed edge (docs/ps.md).
import type { Task } from '../inspect/model';
import { AddrMap } from './addrtable';
import { BadRead, type ProcessMemory } from './mem';
import type { ObjectReader } from './objects';
import type { DebugOffsets } from './offsets';
import type { PyObjects } from './pyobj';

/** What legacyTasks.ts read of one task, kept for the joins. */
export interface TaskFields {
  task: Task;
  loop: number;
  waiter: number;
  /** The waiter's type when the coroutine chain already read it, else 0. */
  waiterType: number;
  /** The first done callback (fut_callback0), and the list of the others (fut_callbacks). */
  callback0: number;
  callbackList: number;
}

/** The readers of one walk. */
export interface WalkContext {
  mem: ProcessMemory;
  L: DebugOffsets;
  py: PyObjects;
  r: ObjectReader;
  hex: (n: number) => string;
}

/** Which asyncio helper left a done callback that names no awaiter (by the callback's qualname). */
function unknownShape(qualname: string): string | null {
  if (qualname.includes('shield')) return 'asyncio.shield';
  if (qualname.startsWith('_wait.')) return 'asyncio.wait';
  if (qualname.includes('as_completed') || qualname.includes('AsCompleted')) return 'asyncio.as_completed';
  if (qualname === '_release_waiter') return 'asyncio.wait_for';
  if (qualname.startsWith('gather.')) return 'asyncio.gather';
  return null;
}

export function linkAwaiters(ctx: WalkContext, fields: AddrMap<TaskFields>, order: readonly number[]): void {
  const { mem, L, py, r, hex } = ctx;
  // Child → its awaiters; most children have one, and the hundred children of one awaiter
  // then share one `[awaiter]` list.
  const edges = new AddrMap<number[]>();
  const add = (child: number, awaiter: number): void => {
    if (fields.get(child) === undefined || child === awaiter) return;
    const list = edges.get(child);
    if (!list) edges.set(child, [awaiter]);
    else if (!list.includes(awaiter)) list.push(awaiter);
  };
  const onlyAwaiter = new AddrMap<readonly string[]>();
  const gatherChildren = (fut: number, awaiter: number, depth: number): void => {
    const children = py.attr(fut, '_children');
    if (children === 0) return;
    for (const c of py.items(children)) {
      if (fields.get(c) !== undefined) add(c, awaiter);
      else if (depth < 8 && py.typeName(c) === '_GatheringFuture') gatherChildren(c, awaiter, depth + 1);
    }
  };
  const shapes = new AddrMap<string>();
  // A hundred children share one TaskGroup: its parent is looked up once.
  const groupParent = new AddrMap<number>();
  // The futures awaited and the callbacks are scattered objects: visited in address order,
  // the page cache serves them in runs.
  const guarded = (addr: number, read: () => void): void => {
    try {
      read();
    } catch (err) {
      if (!(err instanceof BadRead)) throw err;
      const task = fields.get(addr)!.task;
      task.error ??= `its awaiters could not be read: ${err.message}`;
    }
  };
  const waiters: Array<[number, number]> = [];
  const known = new AddrMap<number>();
  const callbacks: Array<[number, number]> = [];
  for (const addr of order) {
    const tf = fields.get(addr)!;
    if (tf.waiter !== 0) waiters.push([tf.waiter, addr]);
    if (tf.waiterType !== 0) known.set(tf.waiter, tf.waiterType);
    if (tf.callback0 !== 0) callbacks.push([tf.callback0, addr]);
    if (tf.callbackList !== 0) {
      guarded(addr, () => {
        for (const pair of py.items(tf.callbackList)) {
          const cb = py.items(pair)[0];
          if (cb !== undefined) callbacks.push([cb, addr]);
        }
      });
    }
  }
  const byObject = (a: [number, number], b: [number, number]): number => a[0] - b[0];
  for (const [waiter, addr] of waiters.sort(byObject)) {
    if (fields.get(waiter) !== undefined) add(waiter, addr);
    else {
      guarded(addr, () => {
        const type = known.get(waiter) ?? py.typeOf(waiter);
        if (py.nameOfType(type) === '_GatheringFuture') gatherChildren(waiter, addr, 0);
      });
    }
  }
  for (const [cb, addr] of callbacks.sort(byObject)) guarded(addr, () => callback(cb, addr));
  for (const addr of order) {
    const task = fields.get(addr)!.task;
    const by = edges.get(addr);
    if (by && by.length === 1) {
      let list = onlyAwaiter.get(by[0]);
      if (list === undefined) onlyAwaiter.set(by[0], (list = [hex(by[0])]));
      task.awaitedBy = list;
    } else if (by) task.awaitedBy = by.map(hex);
    else {
      const shape = shapes.get(addr);
      if (shape !== undefined) task.awaiterUnknown = shape;
    }
  }

  function callback(cb: number, addr: number): void {
    const kind = py.typeName(cb);
    if (kind === 'TaskWakeupMethWrapper') add(addr, mem.ptr(cb + 16));
    else if (kind === 'builtin_function_or_method') add(addr, mem.ptr(cb + L.cfunction.m_self));
    else if (kind === 'method') {
      const self = mem.ptr(cb + L.method.im_self);
      if (py.typeName(self) === 'TaskGroup') {
        let parent = groupParent.get(self);
        if (parent === undefined) groupParent.set(self, (parent = py.attr(self, '_parent_task')));
        if (parent !== 0) add(addr, parent);
      } else {
        noteShape(addr, mem.ptr(cb + L.method.im_func));
      }
    } else if (kind === 'function') noteShape(addr, cb);
    else if (kind === 'functools.partial') noteShape(addr, mem.ptr(cb + 16));
  }

  function noteShape(addr: number, fn: number): void {
    if (fn === 0 || py.typeName(fn) !== 'function') return;
    const shape = unknownShape(r.str(mem.ptr(fn + L.function.qualname)));
    if (shape !== null) shapes.set(addr, shape);
  }
}
