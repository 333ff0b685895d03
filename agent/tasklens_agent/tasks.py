"""Asyncio tasks as pseudo-threads: every loop of every thread, every live task, which one runs.

The agent never imports asyncio itself. `install` (before user code runs) wraps
`asyncio.events._set_running_loop` as soon as asyncio is imported, so each loop that starts
running, the thread it runs on, and uvloop's loops (uvloop binds `asyncio._set_running_loop` at
its own import, after ours) are known, and under `tasklens run` each loop's tasks are dated as
they are created (task_origins.py). The wrapper runs twice per `run_forever`.
Loops started before the hook are found by scanning thread stacks for `run_forever` frames.

Where live tasks are: 3.11 `tasks._all_tasks` (every loop); 3.12-3.13 `_scheduled_tasks` plus
`_eager_tasks`; 3.14+ C tasks sit on per-thread lists that only `all_tasks(loop)` walks, once per
known loop. Their stable ids, and the order they are listed in, are task_ids.py's.
"""
import gc
import sys
import threading

from . import paths
from . import task_ids
from . import task_origins
# The pseudo-threads' ids: the rest of the agent names tasks through this module.
from .task_ids import has_id, is_task_id, task_by_id, task_id  # noqa: F401

_PER_LOOP = sys.version_info >= (3, 14)

_loops = {}         # id(loop) -> loop, until the loop is closed
_running = {}       # thread ident -> the loop running on it
_get_ident = threading.get_ident
_hooks = {"get_loop": None, "current_task": None}


# --- finding loops ---
class _EventsImportHook:
    """A meta-path finder that only waits for `asyncio.events` to be executed, then wraps."""

    searching = False

    def find_spec(self, name, path=None, target=None):
        # Other finders that also ask the rest of sys.meta_path come back here: not again.
        if name != "asyncio.events" or self.searching:
            return None
        self.searching = True
        try:
            spec = None
            for finder in list(sys.meta_path):
                if finder is not self and hasattr(finder, "find_spec"):
                    spec = finder.find_spec(name, path, target)
                    if spec is not None:
                        break
        finally:
            self.searching = False
        if spec is None:
            return None
        loader = spec.loader
        original = getattr(loader, "exec_module", None)
        if original is None:
            return None

        def exec_module(module):
            original(module)
            _wrap_events(module)
        loader.exec_module = exec_module   # an instance attribute: __loader__ stays the same
        return spec


def install():
    events = sys.modules.get("asyncio.events")
    if events is not None:
        _wrap_events(events)
    elif not any(isinstance(f, _EventsImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _EventsImportHook())


def _wrap_events(events):
    original = events._set_running_loop
    if getattr(original, "_tasklens", False):
        return
    running, loops, get_ident, watched = _running, _loops, _get_ident, task_ids._order_watched
    origins = task_origins      # `enabled` may change later: diagnostics started by an attach

    def _set_running_loop(loop):
        if loop is None:
            running.pop(get_ident(), None)
        else:
            running[get_ident()] = loop
            loops[id(loop)] = loop
            if not origins.enabled and loop not in watched:  # else its dates give the order
                task_ids._record_creation_order(loop)
            if origins.enabled:
                origins.watch(loop)
        original(loop)
    _set_running_loop._tasklens = True
    _set_running_loop.original = original
    events._set_running_loop = _set_running_loop
    package = sys.modules.get("asyncio")
    if package is not None and getattr(package, "_set_running_loop", None) is original:
        package._set_running_loop = _set_running_loop
    _hooks["get_loop"] = events._get_running_loop


def uninstall():
    """Undo `install` and the `create_task` wrappers of the loops' classes (an attached
    debugger leaving)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _EventsImportHook)]
    events = sys.modules.get("asyncio.events")
    wrapper = getattr(events, "_set_running_loop", None)
    original = getattr(wrapper, "original", None)
    if original is not None:
        events._set_running_loop = original
        package = sys.modules.get("asyncio")
        if package is not None and getattr(package, "_set_running_loop", None) is wrapper:
            package._set_running_loop = original
    task_ids.uninstall()


def _scan_running_loops():
    """Loops whose run_forever frame is on some thread's stack (started before the hook), or,
    for a loop whose run_forever is native code (uvloop), the frame of asyncio.run's Runner
    that runs it."""
    for ident, frame in list(sys._current_frames().items()):
        while frame is not None:
            code = frame.f_code
            if code.co_name in ("run_forever", "_run_forever_setup") \
                    and "asyncio" in code.co_filename:
                loop = frame.f_locals.get("self")
                if loop is not None:
                    _loops.setdefault(id(loop), loop)
                    _running.setdefault(ident, loop)
                break
            if code.co_name == "run" and code.co_filename.replace("\\", "/").endswith(
                    "asyncio/runners.py"):
                loop = getattr(frame.f_locals.get("self"), "_loop", None)
                if loop is not None and _is_running(loop):
                    _loops.setdefault(id(loop), loop)
                    _running.setdefault(ident, loop)
                    break
            frame = frame.f_back


def _is_running(loop):
    try:
        return loop.is_running()
    except Exception:
        return False


def adopt_running_loops():
    """Loops already running (an attached agent's look at the heap): the stack scan cannot see
    a loop whose `run_forever` is native code (uvloop). Found as the referrers of the loop
    classes (an instance of a class written in Python refers to it: asyncio's loops, uvloop's
    `Loop`), never by listing the whole heap from this thread, while the program runs: such a
    list can hold a tuple the program is still building, which then fails to grow
    (diagnostics/onloop.py)."""
    events = sys.modules.get("asyncio.events")
    if events is None:
        return
    classes = _subclasses(events.AbstractEventLoop)
    for obj in gc.get_referrers(*classes):
        if type(obj) in classes and _is_running(obj):
            _loops.setdefault(id(obj), obj)
            task_ids._record_creation_order(obj)
    # Which thread runs each one: a running task's own frames are read from that thread's stack.
    _scan_running_loops()


def _subclasses(cls):
    """`cls` and every class derived from it, as a set."""
    out, todo = set(), [cls]
    while todo:
        kind = todo.pop()
        if kind not in out:
            out.add(kind)
            try:
                todo.extend(type.__subclasses__(kind))
            except TypeError:
                pass
    return out


def known_loops():
    _scan_running_loops()
    for key, loop in list(_loops.items()):
        try:
            closed = loop.is_closed()
        except Exception:
            closed = True
        if closed:
            _loops.pop(key, None)
    return list(_loops.values())


def loop_threads():
    """id(loop) -> ident of the thread running it now."""
    return {id(loop): ident for ident, loop in list(_running.items())}


# --- the running task of a thread (hot: called on line events of a step) ---
def _current_task_fn():
    fn = _hooks["current_task"]
    if fn is None:
        mod = sys.modules.get("asyncio.tasks")
        if mod is None:
            return None
        fn = _hooks["current_task"] = mod.current_task
    return fn


def current_task():
    """The task running on the calling thread, or None."""
    get_loop = _hooks["get_loop"]
    if get_loop is None:
        events = sys.modules.get("asyncio.events")
        if events is None:
            return None
        get_loop = _hooks["get_loop"] = events._get_running_loop
    loop = get_loop()
    if loop is None:
        return None
    fn = _current_task_fn()
    return fn(loop) if fn is not None else None


def current_owner():
    """The logical thread running here: the current task, or the OS thread's ident."""
    task = current_task()
    return task if task is not None else _get_ident()


def top_frame(task):
    coro = task.get_coro()
    return getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)


def task_of_frame(frame):
    """The current task if `frame` runs inside its coroutine chain (not a loop callback)."""
    task = current_task()
    if task is None:
        return None
    top = top_frame(task)
    while frame is not None:
        if frame is top:
            return task
        frame = frame.f_back
    return None


def running_task_of_loop(loop):
    fn = _current_task_fn()
    try:
        return fn(loop) if fn is not None else None
    except Exception:
        return None


# --- enumerating tasks ---
def live_tasks():
    """Every task not yet done, of every loop, in creation order where the source keeps it."""
    return task_ids._ordered(live_tasks_unordered(), _loops)


def live_tasks_unordered():
    """Every task not yet done, of every loop, in no particular order; a task may come twice
    (live_tasks and top's screenful answer keep each once)."""
    mod = sys.modules.get("asyncio.tasks")
    if mod is None:
        return []
    if _PER_LOOP:
        found = []
        for loop in known_loops():
            for _ in range(3):      # a set changing in another thread mid-copy: try again
                try:
                    found.extend(mod.all_tasks(loop))
                    break
                except RuntimeError:
                    continue
        return found
    if sys.version_info < (3, 12):
        refs = list(mod._all_tasks.data)
        found = [r() for r in refs]
    else:
        refs = list(mod._scheduled_tasks.data)
        found = [r() for r in refs] + list(mod._eager_tasks)
    return [t for t in found if t is not None and not t.done()]


def coroutine_name(task, frames=None):
    """The task's coroutine; past a library wrapper (uvloop.run's) to the user's coroutine.
    A running wrapper has no `cr_await`: then `frames` (the stopped thread's, innermost first)
    show whom it called."""
    coro = task.get_coro()
    if coro is None:
        return "<no coroutine>"
    inner = coro
    for _ in range(4):
        code = getattr(inner, "cr_code", None)
        if code is None or paths.is_user(code.co_filename):
            break
        outer, inner = inner, inner.cr_await
        if inner is None and frames:
            called = next((f for f in frames if f.f_back is outer.cr_frame), None)
            if called is not None and paths.is_user(called.f_code.co_filename):
                return called.f_code.co_qualname
    if getattr(inner, "cr_code", None) is not None and paths.is_user(inner.cr_code.co_filename):
        coro = inner
    return getattr(coro, "__qualname__", None) or getattr(coro, "__name__", None) \
        or type(coro).__name__


def task_name(task, frames=None):
    return "Task: %s (%s)" % (coroutine_name(task, frames), task.get_name())
