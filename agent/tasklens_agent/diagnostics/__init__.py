"""Diagnostics that name the line: blocked loop, coroutine never awaited, task exception never
retrieved, deadlock, stuck task (docs/diagnostics.md).

`start` runs on the main thread before the program: it hooks what must be hooked (the
unawaited-coroutine warning, each loop's selector through looptime.py, each task's end through
task_origins.py, asyncio's Lock and Semaphore once asyncio is imported) and starts the
watchdog thread that decides, from samples, what to report.

In a program attached to by process id, `start` runs in the session's `configure`, while the
program runs: `watch_running_loops` adopts the loops and tasks that exist already, and `stop`
(the session's end) takes every hook back out and ends the watchdog thread.
"""
import atexit
import gc
import sys
import threading
import time

from .. import looptime
from .. import task_origins
from .. import tasks as taskmod
from ..threads import AgentThread
from . import locks
from . import onloop
from . import unawaited
from .debugger import Bridge
from .report import Reporter
from .watchdog import Watchdog

DEFAULT_SLOW = 0.1
DEFAULT_STUCK = 10.0
ADOPT_WAIT = 1.0    # seconds an attach waits for its loop to walk the heap before walking here
_state = {}


def start(core, slow=DEFAULT_SLOW, stuck=DEFAULT_STUCK, json_path=None, stderr=True,
          hold=False):
    """Start diagnosing; returns the Reporter. With `hold` (a session attached to a running
    program, configured before its client has set the exception filters) the watchdog judges
    nothing until the session starts."""
    if "reporter" in _state:
        return _state["reporter"]
    reporter = Reporter(json_path, stderr)
    watchdog = Watchdog(core, reporter, slow, stuck)
    bridge = Bridge(core)
    reporter.listeners.append(bridge.on_report)
    _state.update(reporter=reporter, watchdog=watchdog, bridge=bridge)
    looptime.use(__name__)
    unawaited.install(reporter)
    task_origins.enabled = True
    task_origins.done_callback = watchdog.lost.install()
    task_origins.loop_watchers.append(_on_loop)
    atexit.register(watchdog.final)
    AgentThread(lambda: _run(watchdog, core if hold else None), "tasklens-diagnostics").start()
    return reporter


def _run(watchdog, held_for):
    while held_for is not None and held_for.conn is None and watchdog.running:
        time.sleep(0.02)
    # The walk for tasks that failed before runs on the loop's thread, between two steps
    # (onloop.py: on this thread, gc.get_objects()' list held a tuple the program was building
    # from a generator, which then failed to grow, seen in a child's first loop's
    # `gather(*(create_task(...) for ...))`). Off the attach's path, not in `configure`.
    once = _Once()
    loops = taskmod.known_loops()
    job = onloop.post(loops[0], once.run, _failed_before, watchdog.lost) if loops else None
    if held_for is not None:
        # Attached to a loop that may not run (blocked, or hung): on this thread, then, if the
        # loop has not walked within ADOPT_WAIT (the loop skips it if it gets to it later).
        watchdog.later.append((time.monotonic() + (ADOPT_WAIT if job is not None else 0.0),
                               lambda: once.run(_failed_before, watchdog.lost)))
    watchdog.run()


class _Once:
    """Runs a function the first time only, whichever thread asks first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ran = False

    def run(self, fn, *args):
        with self.lock:
            if self.ran:
                return
            self.ran = True
        fn(*args)


def stop():
    """Take back everything `start` put in (an attached debugger leaving): the hooks, the
    wrappers on classes, the tool id, the records; the watchdog thread ends within a tick."""
    watchdog = _state.get("watchdog")
    if watchdog is None:
        task_origins.enabled = False
        task_origins.unwatch()
        return
    watchdog.running = False
    _state["bridge"].active = False
    atexit.unregister(watchdog.final)
    unawaited.uninstall()
    locks.uninstall()
    watchdog.lost.uninstall()
    if _on_loop in task_origins.loop_watchers:
        task_origins.loop_watchers.remove(_on_loop)
    callback = task_origins.done_callback
    task_origins.enabled = False
    task_origins.unwatch()
    if callback is not None:
        _post_to_loops(_take_callback, callback)
    looptime.leave(__name__)
    _state.clear()


def reporter():
    return _state.get("reporter")


def active():
    """Whether diagnostics run (this package is also imported by `top`, for its stuck verdict)."""
    return "reporter" in _state


def bridge(core):
    return _state.get("bridge")


def watch_running_loops():
    """Diagnostics started while the program runs (attach): the loops already running, whose
    tasks have no creation record (their waits count from now). The rest is done on each
    loop's own thread (`_adopt`; `add_done_callback` is not thread-safe, and
    `call_soon_threadsafe` wakes even an idle loop)."""
    threads = taskmod.loop_threads()
    for loop in taskmod.known_loops():
        rec = looptime.watch(loop, None, threads.get(id(loop)))
        rec.adopted = True
        task_origins.watch(loop, adopted=True)
        onloop.post(loop, _adopt, rec, task_origins.done_callback)


def _failed_before(lost):
    """Tasks the program still holds that failed before the attach with an exception nothing
    took (asyncio reports one only when it is collected): reported as lost now."""
    mod = sys.modules.get("asyncio.tasks")     # not loaded yet: the program starts now
    classes = tuple(c for c in (getattr(mod, "Task", None), getattr(mod, "_PyTask", None))
                    if isinstance(c, type))
    if not classes:
        return
    # Diagnostics that start with a loop (a child, diagnostics_options.defer_to_first_loop)
    # may walk the heap after a task of that loop failed: the hooks noted it already.
    noted = {id(e[0] if type(e) is tuple else e) for e in list(lost.finished)}
    for obj in gc.get_objects():
        try:    # by its type: isinstance would call a `__class__` property of the program's
            if (issubclass(type(obj), classes) and obj.done() and obj._log_traceback
                    and id(obj) not in noted):
                lost.earlier.add(id(obj))
                lost.finished.append(obj)
        except Exception:
            continue


def _adopt(rec, callback):
    """On the loop's thread: which thread that is (uvloop's native run_forever is on no stack
    the agent can scan; until now the record names the agent's own), the frame that started
    the loop (uvloop's steps are told apart by it), and, on 3.11, the tasks' done callback."""
    rec.ident = threading.get_ident()
    if not rec.selector and rec.base_frame is None:
        rec.base_frame = sys._getframe(1)
    if callback is not None:
        for task in _pending(rec.loop):
            task.remove_done_callback(callback)     # tasks made since the hook have it already
            task.add_done_callback(callback)


def _post_to_loops(fn, callback):
    for loop in taskmod.known_loops():
        onloop.post(loop, fn, loop, callback)


def _pending(loop):
    mod = sys.modules.get("asyncio.tasks")
    return [t for t in mod.all_tasks(loop) if not t.done()] if mod is not None else []


def _take_callback(loop, callback):
    for task in _pending(loop):
        task.remove_done_callback(callback)


def _on_loop(loop, base_frame):
    looptime.watch(loop, base_frame)
    asyncio_locks = sys.modules.get("asyncio.locks")
    if asyncio_locks is not None:
        locks.install(asyncio_locks)
