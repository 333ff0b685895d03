"""An `await` typed in the console while stopped on an asyncio loop's own thread runs on that
loop: the loop is turned by hand, from inside the stopped callback, until the console's code is
done or `awaitTimeout` passes. The paused loop's futures, tasks, queues and locks can be awaited
this way, and the program's other tasks advance meanwhile (the answer says which).

Who runs where: the evaluate request is served on the loop's thread, parked in the middle of
one of the loop's callbacks (a task's step stopped at a breakpoint, or the pause's wake-up).
Inside the debugger's call there no trace event comes, so the loop is turned by a thread of its
own (`_Turner`; unlisted, unannounced), where a breakpoint another task meets stops as
any does: that thread is parked with the task held at its line, a new turner goes on, and the
stop is reported after the answer. Turning the loop is safe only on asyncio's own loop
classes, at that place (`_run_once` calling `Handle._run`):
- the stopped task is the loop's current task: it is set aside while other tasks step, and
  put back; so is a held task (3.11-3.13 keep the current task per loop);
- the outer `_run_once` still has callbacks to pop from the ready queue that the turns may have
  run already: the queue is topped up with empty callbacks to the length it had; a held
  turner's own `_run_once` gets the same when its step ends (`baton`);
- the program's own futures are never cancelled by a timeout: the console's task waits on a
  stand-in that follows the awaited future (await_eval.Watched).
Other threads stay parked. uvloop, another loop class, or a thread parked elsewhere falls back
on a fresh loop (await_eval.py), where the paused loop's pending futures are refused.
"""
import sys
import threading
import time

from . import looptime
from . import usercode
from .saferepr import safe_str
from .threads import hidden

_RUNNING_TASK_PER_THREAD = sys.version_info >= (3, 14)
_held = []      # turners held at a stop whose step has not ended yet


def drivable(asyncio, loop):
    """Whether `loop` may be turned from here (see the module's comment)."""
    if _held or getattr(type(loop), "_run_once", None) is not asyncio.BaseEventLoop._run_once \
            or getattr(loop, "_thread_id", None) != threading.get_ident() or loop.is_closed():
        return False
    frame, child = sys._getframe(1), None
    while frame is not None:
        if frame.f_code is asyncio.BaseEventLoop._run_once.__code__:
            return child is not None and (child.f_code is asyncio.events.Handle._run.__code__
                                          or child.f_code in looptime.STEP_CODES)
        frame, child = frame.f_back, frame
    return False


def run(asyncio, loop, coro, watched_type, limit, grace, core):
    """Run the console's `coro` as a task of the paused `loop`. Returns (task, watched,
    note, changed): note names the program's tasks that ran meanwhile (None if none did);
    changed is (tasks started, tasks ended) for the client's thread list."""
    tasks = asyncio.tasks
    before = _positions(asyncio, loop)
    queued = len(loop._ready)
    saved = swap_current(tasks, loop, None)
    owner = loop._thread_id
    started = time.monotonic()
    watched = watched_type(coro, loop)
    left = usercode.time_left()
    watched.deadline = None if left is None else started + left
    task = None
    held = []
    failure = None
    try:
        with usercode.exempt():     # the program's callbacks run: not interrupted
            task = loop.create_task(_guarded(watched), name="console await")
            turning = _Turning(asyncio, loop, task, watched, limit, grace)
            while True:
                turner = _Turner(core, asyncio, loop, turning)
                if turner.run_until_held_or_done():
                    failure = turner.error
                    break
                held.append(turner.hold(tasks))
    finally:
        missing = queued - len(loop._ready)
        if missing > 0:
            loop._ready.extendleft(asyncio.events.Handle(_nothing, (), loop)
                                   for _ in range(missing))
        for turner in reversed(held):   # each held step ends first thing when the loop goes on
            loop._ready.appendleft(asyncio.events.Handle(turner.baton, (), loop))
        loop._thread_id = owner
        swap_current(tasks, loop, saved)
        if task is not None and not task.done():
            task._log_destroy_pending = False
    if failure is not None:
        raise failure
    _report_after_answer(core, held)
    ran, changed = _advanced(asyncio, loop, before, task)
    note = None
    if ran:
        names = ", ".join(ran[:3]) + (" and %d more" % (len(ran) - 3) if len(ran) > 3 else "")
        note = "the paused event loop ran %.2f s for this; meanwhile %s ran: %s" % (
            time.monotonic() - started,
            "1 other task" if len(ran) == 1 else "%d other tasks" % len(ran), names)
        if held:
            note += "; %d stopped at a breakpoint, shown next" % len(held) if len(held) == 1 \
                else "; %d stopped at breakpoints, shown next" % len(held)
    return task, watched, note, changed


class _Turning:
    """How long the loop is turned: to `limit`, then, the console's task cancelled, `grace`
    more. Shared by the turners of one evaluation, each taking over where the last was held."""

    def __init__(self, asyncio, loop, task, watched, limit, grace):
        self.asyncio, self.loop, self.task, self.watched = asyncio, loop, task, watched
        self.grace = grace
        self.cancelled = False
        self.end = loop.time() + limit
        self.wake = loop.call_at(self.end, _nothing)     # the selector never waits past it

    def turn(self, turner):
        loop, task = self.loop, self.task
        try:
            while not turner.retired and not task.done():
                if loop.time() >= self.end:
                    if self.cancelled:
                        return
                    self.cancelled = self.watched.timed_out = True
                    task.cancel()
                    self.wake.cancel()
                    self.end = loop.time() + self.grace
                    self.wake = loop.call_at(self.end, _nothing)
                    continue
                loop._run_once()
        finally:
            if not turner.retired:
                self.wake.cancel()


class _Turner:
    """A thread that turns the paused loop for the console. Not the stopped thread itself:
    there, inside the debugger's call, no trace event comes, so a breakpoint in another task
    would pass unseen. Here one stops that thread as any breakpoint does; the task is held at
    that line (the thread parked in the middle of its step), a new turner goes on with the
    evaluation, and the stop is reported after the answer. When the program goes on, the held
    step ends first (`baton`, run by the loop's own thread), then the loop goes on as usual."""

    def __init__(self, core, asyncio, loop, turning):
        self.core, self.asyncio, self.loop, self.turning = core, asyncio, loop, turning
        self.retired = False
        self.error = None
        self.ts = None
        self.current = None     # the held task, as the loop's current task (3.11-3.13)
        self.pops_left = 0
        self.go, self.finished = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._body, name="tasklens console await",
                                       daemon=True)
        hidden.add(self.thread)     # not a thread of the program

    def _body(self):
        ident = threading.get_ident()
        self.core.console_threads.add(ident)
        # Not the agent's wrapper (tasks.py): to the Tasks view the loop's thread stays the one
        # stopped in it.
        set_running = self.asyncio.events._set_running_loop
        self.set_running = getattr(set_running, "original", set_running)
        self.set_running(self.loop)
        self.loop._thread_id = ident
        try:
            self.turning.turn(self)
        except BaseException as e:  # the console's code interrupted, or the program's own
            self.error = e
        finally:
            self.core.console_threads.discard(ident)
            self.set_running(None)
            self.finished.set()

    def run_until_held_or_done(self):
        """True once the turning is over; False if this thread was held at a stop."""
        self.thread.start()
        states = self.core.states
        while not self.finished.wait(0.005):
            ts = states.get(self.thread.ident)
            if ts is not None and ts.parked:
                self.ts = ts
                return False
        return True

    def hold(self, tasks):
        self.retired = True
        self.core.console_threads.discard(self.thread.ident)
        if not _RUNNING_TASK_PER_THREAD:
            self.current = swap_current(tasks, self.loop, None)
        self.pops_left = _pops_left(self.asyncio, self.thread.ident)
        self.ts.held = self.go.wait
        _held.append(self)
        return self

    def baton(self):
        """A callback of the loop: the held step ends now, while its thread waits."""
        self.loop._ready.extendleft(self.asyncio.events.Handle(_nothing, (), self.loop)
                                    for _ in range(self.pops_left))
        if self.current is not None:
            swap_current(self.asyncio.tasks, self.loop, self.current)
        self.go.set()
        self.finished.wait()
        _held.remove(self)


def _pops_left(asyncio, ident):
    """How many more callbacks the held thread's `_run_once` will take from the ready queue."""
    frame = sys._current_frames().get(ident)
    code = asyncio.BaseEventLoop._run_once.__code__
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    if frame is None:
        return 0
    names = frame.f_locals
    return max(0, names.get("ntodo", 0) - names.get("i", 0) - 1)


class _Report:
    """Queued on the stopped thread behind the evaluate it serves: runs after the answer."""
    user_code = False
    cmd = "stopped"

    def __init__(self, core, ts):
        self.core, self.ts = core, ts

    def __call__(self):
        ts = self.ts
        if ts.parked and self.core.stopped:
            self.core.report_stop(ts, ts.reason, ts.exc, ts.hit_ids)


def _report_after_answer(core, held):
    stopped = core.states.get(threading.get_ident())
    for turner in held:
        if stopped is not None:
            stopped.jobs.put(_Report(core, turner.ts))


async def _guarded(watched):
    return await watched


def _nothing():
    pass


def swap_current(tasks, loop, task):
    """Make `task` the loop's current task (None: no task); returns the one it was (3.11 has no
    swap). 3.12's swap raises KeyError taking the current task from a loop that has none (a
    stop in a loop callback, or a pause while the loop waits in select), changing nothing."""
    swap = getattr(tasks, "_swap_current_task", None)
    if swap is not None:
        try:
            return swap(loop, task)
        except KeyError:
            return None
    current = tasks._current_tasks
    previous = current.pop(loop, None)
    if task is not None:
        current[loop] = task
    return previous


def _positions(asyncio, loop):
    """Where each task of the loop is: a task whose place changed has run."""
    return {t: _place(t) for t in asyncio.all_tasks(loop)}


def _place(task):
    """Where a task is, and what it waits for: a task that went once round a `while True` is
    back at the same instruction, but waits on a new future (the old one is held in the place
    while the loop turns, so the new one cannot take its address)."""
    frame = getattr(task.get_coro(), "cr_frame", None)
    return (task.done(), frame.f_lasti if frame is not None else None,
            getattr(task, "_fut_waiter", None))


def _moved(task, place):
    done, lasti, waiter = _place(task)
    return (done, lasti) != place[:2] or waiter is not place[2]


def _advanced(asyncio, loop, before, console_task):
    now = set(asyncio.all_tasks(loop))
    now.discard(console_task)
    started = [t for t in now if t not in before]
    ended = [t for t in before if t.done()]
    ran = [t for t, place in before.items() if _moved(t, place)] + started
    return [safe_str(t.get_name(), 60) for t in ran], (started, ended)
