"""Who outside the loop's tasks can still end a wait: a timer or ready callback of the loop, or
another running thread, that holds what a task waits on; a timeout that will cancel a task
awaiting the waiting one (`cancelled_by_timeout`). An Event set by `call_later(2,
ev.set)`, or a Queue that a worker thread feeds through `call_soon_threadsafe`, will be woken:
the task waiting there is not stuck, though no other task refers to it.

The loop's handles are its ready queue, its timers, its signal handlers and the readers and
writers registered with its selector (`add_reader(fd, callback)` over a future); the program's
other loops' handles count too (another thread's loop, asleep in `select()`, whose reader
completes the object through `call_soon_threadsafe`). Found by a
short walk from each of them, made once per stuck check and only when a wait of an
Event, Queue, Condition or plain future asks (waits.can_wake): a callback's bound object,
arguments, closure cells, defaults and a partial's parts; a thread's target and arguments and
the locals of its frames; then a few levels into the containers and plain objects those hold.
Tasks, futures, loops, threads, frames, modules and classes are reached but not entered (what a
task holds is the task analysis' business, and a loop holds everything). No code of the program
runs: attributes are read from instance dictionaries only. Runs where referrers.py runs.
"""
import functools
import gc
import sys
import types

from .. import awaits
from .. import paths
from .. import task_origins
from .. import threads
from . import referrers

DEPTH = 5           # levels below a callback or a thread's frame (a reader's bound method,
                    # its transport, the protocol, its dict of pending futures, a future)
UP = 4              # levels above a waited object to look for a handle (uvloop)
BUDGET = 20000      # objects looked at in one walk, at most
ITEMS = 256         # items of one container looked at, at most
_OPAQUE = (type, types.ModuleType, types.FrameType, types.CodeType, types.CoroutineType,
           types.GeneratorType, str, bytes, int, float, bool, type(None))


class OutsideRefs:
    def __init__(self, loop, threads, others=()):
        self.loop = loop
        self.threads = threads      # other threads that can still run (verdicts.wakers)
        # the program's other event loops: a callback of theirs (a reader's, asleep in
        # select() for its I/O) may complete the object through call_soon_threadsafe
        self.others = [other for other in others if other is not loop]
        self._ids = None
        self._primed = self._held = frozenset()

    def prime(self, objs, ours=lambda: ()):
        """Looks up, for many of the objects `refer_to` will be asked about at once, whether a
        handle holds them, where that takes a walk up from each (`_held_by_handle`). `ours()`:
        the verdict's own objects that hold them, not ways up (all the Waits share one
        context, which would lead each walk to every Wait); asked only when it looks up."""
        if len(objs) > referrers.ONE_BY_ONE and self._handles_in_c():
            self._held = held_by_handles(objs, ours())
            self._primed = frozenset(map(id, objs))

    def tasks_in_timeouts(self, count):
        """For `count` tasks to judge on a loop whose timers cannot be listed: the ids of all
        the tasks an `asyncio.timeout()` will cancel, found at once (None: asked one by one,
        `_in_timeout`)."""
        if count > referrers.ONE_BY_ONE and self._handles_in_c():
            return timeout_tasks()
        return None

    def _handles_in_c(self):
        return any(not hasattr(loop, "_scheduled") for loop in [self.loop] + self.others)

    def refer_to(self, obj):
        """Whether a pending callback of the loop or a running thread holds `obj`."""
        if self._ids is None:
            self._ids = _reached(self._roots())
        if id(obj) in self._ids:
            return True
        if id(obj) in self._primed:
            return id(obj) in self._held
        # uvloop keeps its ready queue and timers in C: its handles are found from `obj` up
        return self._handles_in_c() and _held_by_handle(obj)

    def _roots(self):
        roots = []
        for loop in [self.loop] + self.others:
            for handle in _handles(loop):
                if getattr(handle, "_cancelled", False):
                    continue
                roots.append(getattr(handle, "_callback", None))
                roots.extend(getattr(handle, "_args", None) or ())
        if self.threads:
            frames = threads.other_frames()
            for thread in self.threads:
                roots.extend(_instance_dict(thread).get(name) for name in ("_target", "_args", "_kwargs"))
                frame = frames.get(thread.ident)
                while frame is not None:
                    if not paths.is_agent(frame.f_code.co_filename):
                        try:
                            roots.extend(list(frame.f_locals.values()))
                        except Exception:
                            pass
                    frame = frame.f_back
        return roots


def _handles(loop):
    """A selector loop's pending handles: ready, timers, signal handlers, readers, writers."""
    handles = list(getattr(loop, "_ready", ()) or ()) + list(getattr(loop, "_scheduled", ()) or ())
    handles += list((getattr(loop, "_signal_handlers", None) or {}).values())
    selector = getattr(loop, "_selector", None)
    if selector is not None:
        try:
            for key in list(selector.get_map().values()):
                handles.extend(h for h in key.data or () if h is not None)  # (reader, writer)
        except Exception:
            pass
    return handles


def _instance_dict(obj):
    try:
        d = object.__getattribute__(obj, "__dict__")
    except Exception:
        return {}
    return d if type(d) is dict else {}


def _parts(obj):
    """What `obj` holds that a walk goes on to, without running the program's code."""
    kind = type(obj)    # type(), not isinstance(): that may ask the object its __class__
    if issubclass(kind, (types.MethodType, types.BuiltinMethodType)):
        return [getattr(obj, "__self__", None), getattr(obj, "__func__", None)]
    if issubclass(kind, types.FunctionType):
        out = []
        for cell in obj.__closure__ or ():
            try:
                out.append(cell.cell_contents)
            except ValueError:      # an empty cell
                pass
        out.extend(obj.__defaults__ or ())
        out.extend((obj.__kwdefaults__ or {}).values())
        return out
    if issubclass(kind, functools.partial):
        return [obj.func, *obj.args, *obj.keywords.values()]
    if kind is dict:
        return list(obj.values())[:ITEMS]
    if issubclass(kind, (list, tuple, set, frozenset)) and kind.__iter__ in (
            list.__iter__, tuple.__iter__, set.__iter__, frozenset.__iter__):
        out = []
        for item in obj:
            out.append(item)
            if len(out) >= ITEMS:
                break
        return out
    return list(_instance_dict(obj).values())[:ITEMS]


def _opaque(obj):
    """Reached, not entered: futures and tasks (what they hold is the task analysis' business),
    loops (they hold everything), threading's objects. asyncio's other objects are entered: a
    transport leads to its protocol, which may hold the futures its `data_received` completes
    (`self.pending[request_id]`, the usual RPC client)."""
    kind = type(obj)
    if issubclass(kind, _OPAQUE):
        return True
    name = referrers.package_of(kind)
    if name == "threading":
        return True
    return name in ("asyncio", "_asyncio", "uvloop") and (
        hasattr(kind, "_asyncio_future_blocking") or hasattr(kind, "run_forever"))


class DoneCallbacks:
    """Which pending tasks will complete an object when they end, through a done callback that
    holds it: `asyncio.wait()`'s waiter, `shield()`'s outer future, `as_completed()`'s queue,
    a future a callback of the program's sets (`task.add_done_callback(lambda _:
    fut.set_result(1))`). Walked once, on first use, from every pending task's callbacks."""

    def __init__(self, tasks):
        self.tasks = tasks
        self._by_id = None

    def enders(self, obj):
        if self._by_id is None:
            self._by_id = {}
            ours = task_origins.done_callback   # lost.py's, on every task on 3.11: it ends nothing
            for task in self.tasks:
                try:
                    entries = list(task._callbacks or ())
                except Exception:
                    continue
                roots = [cb for cb in (e[0] if type(e) is tuple else e for e in entries)
                         if cb is not ours]
                if roots:
                    for key in _reached(roots, PER_TASK):
                        self._by_id.setdefault(key, []).append(task)
        return self._by_id.get(id(obj), [])


PER_TASK = 200      # objects looked at from one task's done callbacks, at most


def _reached(roots, budget=BUDGET):
    """ids of everything the walk reaches from `roots`."""
    held = []       # what was reached stays alive during the walk: its id names it alone
    ids = set()
    todo = [(root, 0) for root in roots if root is not None]
    while todo and len(held) < budget:
        obj, depth = todo.pop()
        if id(obj) in ids:
            continue
        ids.add(id(obj))
        held.append(obj)
        if depth >= DEPTH or _opaque(obj):
            continue
        try:
            parts = _parts(obj)
        except Exception:
            continue
        todo.extend((part, depth + 1) for part in parts if part is not None)
    return ids


def _handle_kinds():
    kinds = [getattr(sys.modules.get("asyncio.events"), "Handle", None)]
    uv = sys.modules.get("uvloop.loop")
    kinds += [getattr(uv, "Handle", None), getattr(uv, "TimerHandle", None)]
    return tuple(k for k in kinds if isinstance(k, type))


_LINKS = (types.MethodType, types.BuiltinMethodType, types.FunctionType, types.CellType,
          functools.partial, tuple, dict)


def _open_transport(ref):
    """A transport of asyncio's or uvloop's, not closing: its protocol gets the data."""
    kind = type(ref)
    if referrers.package_of(kind) not in ("asyncio", "uvloop") or not hasattr(kind, "get_protocol"):
        return False
    try:
        return not ref.is_closing()
    except Exception:
        return False


def _held_by_handle(obj):
    """Whether a callback handle not cancelled, or an open transport, holds `obj`: as its
    callback's object or an argument (`call_later(2, ev.set)`), through a closure (`lambda:
    q.put_nowait(1)`) or a partial, or in its protocol (`self.pending[id] = future`). Walks
    referrers up, through methods, functions, cells, partials, tuples, dicts and the program's
    objects only, UP levels at most: each level is one walk of the heap, for all of its
    objects at once."""
    kinds = _handle_kinds()
    if not kinds:
        return False
    level, seen = [obj], {id(obj)}
    for _ in range(UP):
        nxt = []
        if _up_one(gc.get_referrers(*level), seen, kinds, nxt):
            return True
        level = nxt[:ITEMS]
        if not level:
            break
    return False


def held_by_handles(objs, ours=()):
    """The ids of `objs` that `_held_by_handle` finds held, for all of them at once: one pass
    over the heap per level (referrers._referrers_of), not a walk per level and object. Each
    object keeps its own record of what it has met, as `_held_by_handle` does: an object one
    walk met first is still a way up for the next."""
    kinds = _handle_kinds()
    held = set()
    if not kinds:
        return held
    frontier = {id(obj): [obj] for obj in objs}
    seen = {key: {key} for key in frontier}
    mine = list(frontier.values()) + list(ours)     # lists made here, and the caller's
    for _ in range(UP):
        found = referrers._referrers_of([x for xs in frontier.values() for x in xs], (), mine)
        nxt = {}
        for key, level in frontier.items():
            out = nxt[key] = []
            mine.append(out)
            if _up_one((r for x in level for r in found.get(id(x), ())), seen[key], kinds, out):
                held.add(key)
                out.clear()
            del out[ITEMS:]
        frontier = {key: level for key, level in nxt.items() if level}
        if not frontier:
            break
    return held


def _up_one(refs, seen, kinds, out):
    """One level up from an object: True if a handle not cancelled or an open transport is
    among `refs` (the referrers of the level below); the ways further up go into `out`."""
    for ref in refs:
        if id(ref) in seen:
            continue
        seen.add(id(ref))
        if issubclass(type(ref), kinds):
            try:
                if not ref.cancelled():
                    return True
            except Exception:
                pass
        elif _open_transport(ref):
            return True
        elif issubclass(type(ref), _LINKS) or referrers.program_object(ref):
            out.append(ref)
    return False


def timeout_tasks():
    """The ids of the tasks an `asyncio.timeout()` whose timer is set will cancel: one pass
    over the heap for its Timeout objects, where `_in_timeout` walks it once per task."""
    out = set()
    for obj in gc.get_objects():
        if _is_timeout(type(obj)):
            task = getattr(obj, "_task", None)
            handle = getattr(obj, "_timeout_handler", None)
            if task is not None and handle is not None and not handle.cancelled():
                out.add(id(task))
    return out


def _is_timeout(kind):
    return kind.__name__ == "Timeout" and kind.__module__ == "asyncio.timeouts"


def cancelled_by_timeout(w, graph, timed):
    """Whether a task awaiting `w.task` will be cancelled by a timeout, or cancel it on one
    (3.11's `wait_for(..., timeout)` runs its awaitable in a task of its own): that cancel
    reaches `w.task` and ends its wait. Or `w.task` itself waits inside an `asyncio.timeout()`
    (3.12+'s `wait_for` too) on a loop whose timers `timed` cannot list (uvloop)."""
    known = getattr(graph, "in_timeout", None)      # found for all the tasks judged at once
    inside = _in_timeout if known is None else (lambda task: id(task) in known)
    try:
        parents = awaits.awaiters(w.task)
        if not hasattr(w.task.get_loop(), "_scheduled") and inside(w.task):
            return True
    except Exception:
        return False
    for parent in parents:
        if id(parent) in timed or inside(parent):
            return True
        pw = graph.get(id(parent))
        if pw is not None and pw.kind == "timer" and pw.what.startswith("asyncio.wait_for("):
            return True
    return False


def _in_timeout(task):
    """Whether an `asyncio.timeout()` whose timer is set will cancel `task`: found from the
    task (a heap walk), for loops whose timers cannot be listed (uvloop)."""
    for ref in gc.get_referrers(task):
        if _is_timeout(type(ref)) and getattr(ref, "_task", None) is task:
            handle = getattr(ref, "_timeout_handler", None)
            if handle is not None and not handle.cancelled():
                return True
    return False
