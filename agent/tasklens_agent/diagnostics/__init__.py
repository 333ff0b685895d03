"""Diagnostics that name the line: blocked loop, coroutine never awaited, task exception never
retrieved, deadlock, stuck task (docs/diagnostics.md).

`start` runs on the main thread before the program: it hooks what must be hooked (the
unawaited-coroutine warning, each loop's selector through looptime.py, each task's end through
task_origins.py, asyncio's Lock and Semaphore once asyncio is imported) and starts the
watchdog thread that decides, from samples, what to report.
"""
import atexit
import sys

from .. import looptime
from .. import task_origins
from .. import tasks as taskmod
from ..threads import AgentThread
from . import locks
from . import unawaited
from .debugger import Bridge
from .report import Reporter
from .watchdog import Watchdog

DEFAULT_SLOW = 0.1
DEFAULT_STUCK = 10.0
_state = {}


def start(core, slow=DEFAULT_SLOW, stuck=DEFAULT_STUCK, json_path=None, stderr=True):
    """Start diagnosing; returns the Reporter."""
    if "reporter" in _state:
        return _state["reporter"]
    reporter = Reporter(json_path, stderr)
    watchdog = Watchdog(core, reporter, slow, stuck)
    bridge = Bridge(core)
    reporter.listeners.append(bridge.on_report)
    _state.update(reporter=reporter, watchdog=watchdog, bridge=bridge)
    unawaited.install(reporter)
    task_origins.enabled = True
    task_origins.done_callback = watchdog.lost.install()
    task_origins.loop_watchers.append(_on_loop)
    atexit.register(watchdog.final)
    AgentThread(watchdog.run, "tasklens-diagnostics").start()
    return reporter


def reporter():
    return _state.get("reporter")


def bridge(core):
    return _state.get("bridge")


def watch_running_loops():
    """Diagnostics started while the program runs (attach): the loops already running."""
    threads = taskmod.loop_threads()
    current = sys._current_frames()
    for loop in taskmod.known_loops():
        ident = threads.get(id(loop))
        rec = looptime.watch(loop, None, ident)
        looptime.seen_sleeping(rec, current.get(ident))
        task_origins.watch(loop)


def _on_loop(loop, base_frame):
    looptime.watch(loop, base_frame)
    asyncio_locks = sys.modules.get("asyncio.locks")
    if asyncio_locks is not None:
        locks.install(asyncio_locks)
