"""An `await` typed in the console while stopped on an asyncio loop's own thread runs on that
loop: the loop is turned by hand, from inside the stopped callback, until the console's code is
done or `awaitTimeout` passes. The paused loop's futures, tasks, queues and locks can be awaited
this way, and the program's other tasks advance meanwhile (the answer says which).

Who runs where: everything here runs on the loop's thread, parked in the middle of one of the
loop's callbacks (a task's step stopped at a breakpoint, or the pause's wake-up), serving an
evaluate request. Other threads stay parked. Turning the loop there is safe only on asyncio's
own loop classes, at that place (`_run_once` calling `Handle._run`):
- the stopped task is the loop's current task: it is set aside while other tasks step, and
  put back;
- the outer `_run_once` still has callbacks to pop from the ready queue that the turns may have
  run already: the queue is topped up with empty callbacks to the length it had;
- the program's own futures are never cancelled by a timeout: the console's task waits on a
  stand-in that follows the awaited future (await_eval.Watched).
uvloop, another loop class, or a thread parked elsewhere falls back on a fresh loop
(await_eval.py), where the paused loop's pending futures are refused.
Breakpoints in the code the loop runs meanwhile do not stop: like all code run for the console,
it runs inside the stopped thread's debugger call, where no trace events come.
"""
import sys
import threading
import time

from . import usercode
from .saferepr import safe_str


def drivable(asyncio, loop):
    """Whether `loop` may be turned from here (see the module's comment)."""
    if getattr(type(loop), "_run_once", None) is not asyncio.BaseEventLoop._run_once \
            or getattr(loop, "_thread_id", None) != threading.get_ident() or loop.is_closed():
        return False
    frame, child = sys._getframe(1), None
    while frame is not None:
        if frame.f_code is asyncio.BaseEventLoop._run_once.__code__:
            return child is not None and child.f_code is asyncio.events.Handle._run.__code__
        frame, child = frame.f_back, frame
    return False


def run(asyncio, loop, coro, watched_type, limit, grace):
    """Run the console's `coro` as a task of the paused `loop`. Returns (task, watched,
    note, changed): note names the program's tasks that ran meanwhile (None if none did);
    changed is (tasks started, tasks ended) for the client's thread list."""
    tasks = asyncio.tasks
    before = _positions(asyncio, loop)
    queued = len(loop._ready)
    saved = _swap(tasks, loop, None)
    started = time.monotonic()
    watched = watched_type(coro, loop)
    task = None
    try:
        with usercode.exempt() as exemption:    # the program's callbacks run: not interrupted
            watched.exemption = exemption
            task = loop.create_task(_guarded(watched), name="console await")
            _turn(loop, task, limit)
            if not task.done():
                watched.timed_out = True
                task.cancel()
                _turn(loop, task, grace)
    finally:
        missing = queued - len(loop._ready)
        if missing > 0:
            loop._ready.extendleft(asyncio.events.Handle(_nothing, (), loop)
                                   for _ in range(missing))
        _swap(tasks, loop, saved)
        if task is not None and not task.done():
            task._log_destroy_pending = False
    ran, changed = _advanced(asyncio, loop, before, task)
    note = None
    if ran:
        names = ", ".join(ran[:3]) + (" and %d more" % (len(ran) - 3) if len(ran) > 3 else "")
        note = "the paused event loop ran %.2f s for this; meanwhile %s ran: %s" % (
            time.monotonic() - started,
            "1 other task" if len(ran) == 1 else "%d other tasks" % len(ran), names)
    return task, watched, note, changed


async def _guarded(watched):
    return await watched


def _turn(loop, task, seconds):
    end = loop.time() + seconds
    wake = loop.call_at(end, _nothing)     # the selector never waits past the end
    try:
        while not task.done() and loop.time() < end:
            loop._run_once()
    finally:
        wake.cancel()


def _nothing():
    pass


def _swap(tasks, loop, task):
    """Make `task` the loop's current task; returns the one it was (3.11 has no swap)."""
    swap = getattr(tasks, "_swap_current_task", None)
    if swap is not None:
        return swap(loop, task)
    current = tasks._current_tasks
    previous = current.pop(loop, None)
    if task is not None:
        current[loop] = task
    return previous


def _positions(asyncio, loop):
    """Where each task of the loop is: a task whose place changed has run."""
    return {t: _place(t) for t in asyncio.all_tasks(loop)}


def _place(task):
    frame = getattr(task.get_coro(), "cr_frame", None)
    return (task.done(), frame.f_lasti if frame is not None else None)


def _advanced(asyncio, loop, before, console_task):
    now = set(asyncio.all_tasks(loop))
    now.discard(console_task)
    started = [t for t in now if t not in before]
    ended = [t for t in before if t.done()]
    ran = [t for t, place in before.items() if _place(t) != place] + started
    return [safe_str(t.get_name(), 60) for t in ran], (started, ended)
