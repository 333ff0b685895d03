"""`await` typed in the debug console: the coroutine the console's code becomes is run to its
end within `awaitTimeout`, on the paused event loop when it can be turned from here
(paused_loop.py: its futures, tasks, queues and locks can then be awaited, and its other tasks
advance meanwhile), else on a fresh loop.

Who runs where: the evaluation runs on the stopped thread that owns the frame (often the thread
of the paused loop, stopped in the middle of a task's step). For a fresh loop, that thread's
running loop (and, 3.12+, its current task) is set aside for the length of the evaluation and
put back before the answer leaves. On a fresh loop a pending future of the paused loop cannot
complete, and is refused with why (docs/console.md). asyncio is imported only when the console
first awaits.
"""
import sys
import threading
import time

from . import paused_loop
from . import tasks as taskmod
from . import usercode
from .errors import AgentError, EVAL_ERROR, TIMEOUT
from .saferepr import safe_repr
from .threads import agent_idents

FLAGS = 0x2000     # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, without importing ast at start-up
_CO_COROUTINE = 0x80
LIMIT = 5.0         # seconds; configure's `awaitTimeout`
_CANCEL_GRACE = 1.0  # what a cancelled coroutine may take to unwind (finally blocks)


class LoopBound(Exception):
    """The console's coroutine waits for something only the paused loop can complete."""

    def __init__(self, awaited):
        Exception.__init__(self)
        self.awaited = awaited


def is_async(code):
    return bool(code.co_flags & _CO_COROUTINE)


def run(coro, text, core):
    """(value, note) of `coro` (the console's code made a coroutine); note says what else ran
    meanwhile, or is None."""
    import asyncio      # the program may not use asyncio at all: only now, for this request
    usercode.allow(LIMIT + _CANCEL_GRACE + 0.5)
    paused = asyncio.events._get_running_loop()
    if paused is not None and paused_loop.drivable(asyncio, paused):
        task, watched, note, changed = paused_loop.run(asyncio, paused, coro, Watched, LIMIT,
                                                       _CANCEL_GRACE, core)
        _tell_threads(core, *changed)
        return _outcome(task, watched, text), note
    frame = coro.cr_frame
    spaces = (frame.f_locals, frame.f_globals)
    swap = getattr(asyncio.tasks, "_swap_current_task", None)
    # 3.14 keeps the current task per thread: the paused task must not look like the running
    # one to the new loop's tasks (3.12-3.13 key it by loop, where the swap changes nothing).
    saved = (paused_loop.swap_current(asyncio.tasks, paused, None)
             if paused is not None and swap is not None else None)
    asyncio.events._set_running_loop(None)
    loop = None
    try:
        loop = asyncio.SelectorEventLoop()
        return _on_fresh_loop(asyncio, loop, coro, text), None
    finally:
        if loop is not None:
            loop.close()
            _unbind(asyncio, spaces, loop)
        asyncio.events._set_running_loop(paused)
        if paused is not None and swap is not None:
            paused_loop.swap_current(asyncio.tasks, paused, saved)


def _on_fresh_loop(asyncio, loop, coro, text):
    watched = Watched(coro, loop)
    task = loop.create_task(_guarded(watched))
    try:
        loop.run_until_complete(asyncio.wait([task], timeout=LIMIT))
        if not task.done():
            watched.timed_out = True
            task.cancel()
            loop.run_until_complete(asyncio.wait([task], timeout=_CANCEL_GRACE))
        rest = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in rest:      # tasks the console's code started and left behind
            t.cancel()
        if rest:
            loop.run_until_complete(asyncio.wait(rest, timeout=_CANCEL_GRACE))
    finally:
        if not task.done():     # interrupted at its deadline: no "destroyed but pending" later
            task._log_destroy_pending = False
            coro.close()
    return _outcome(task, watched, text)


def _outcome(task, watched, text):
    if watched.timed_out:
        raise AgentError(TIMEOUT, "%s was still waiting after %s s: cancelled (the launch "
                         "argument awaitTimeout sets how long an `await` may wait)"
                         % (usercode.short(text), usercode.seconds(LIMIT)))
    if not task.done() or task.cancelled():
        raise AgentError(EVAL_ERROR, "CancelledError: the awaited code was cancelled")
    exc = task.exception()
    if isinstance(exc, LoopBound):
        raise AgentError(EVAL_ERROR, refusal(exc.awaited))
    if isinstance(exc, RuntimeError) and "bound to a different event loop" in str(exc):
        # a queue's or lock's own words: "<Queue …> is bound to a different event loop"
        what = str(exc).replace(" is bound to a different event loop", "")
        raise AgentError(EVAL_ERROR, refusal(None, what))
    if exc is not None:
        raise exc
    return task.result()


async def _guarded(watched):
    return await watched


class Watched:
    """Steps the console's coroutine itself, to see each future it waits on before the task
    running it does. One of another loop is refused instead of waited for forever; for the
    others the task waits on a stand-in, so that cancelling the task at the timeout cancels
    the stand-in, never a future of the program."""

    def __init__(self, coro, loop):
        self.coro, self.loop = coro, loop
        self.timed_out = False
        self.deadline = None    # on a thread turning the paused loop: when the code must end

    def _step(self, value, exc):
        def send():
            return self.coro.send(value) if exc is None else self.coro.throw(exc)

        def untraced():
            # A trace function here would be where the deadline's exception lands, and the
            # agent's own code must not swallow it; the console's code never stops anyway.
            trace = sys.gettrace()
            sys.settrace(None)
            try:
                return send()
            finally:
                sys.settrace(trace)
        if self.deadline is None:
            return send()
        # On a thread turning the paused loop (paused_loop._Turner): a deadline of its own,
        # and, like all code run for the console, no stops (the agent's threads never stop).
        ident = threading.get_ident()
        agent_idents.add(ident)
        try:
            kind, result, run = usercode.call(untraced, "await",
                                              max(self.deadline - time.monotonic(), 0.01))
        finally:
            agent_idents.discard(ident)
        if kind == "late":
            kind, result = run.late
        if kind == "ok":
            return result
        if kind == "raised":
            raise result
        raise usercode.Interrupted()

    def __await__(self):
        coro, value, exc = self.coro, None, None
        while True:
            try:
                item = self._step(value, exc)
            except StopIteration as stop:
                return stop.value
            value = exc = None
            get_loop = getattr(item, "get_loop", None)
            if get_loop is None:    # a bare yield (sleep(0)), or what the task will judge
                try:
                    value = yield item
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as e:
                    exc = e
                continue
            # Set by the future's own __await__ for the task that waits; left set, the
            # program's next await of it would fail ("await wasn't used with future").
            item._asyncio_future_blocking = False
            if get_loop() is not self.loop:
                coro.close()
                raise LoopBound(item)
            stand_in = self.loop.create_future()
            follow = _follower(stand_in)
            item.add_done_callback(follow)
            stand_in._asyncio_future_blocking = True
            try:
                yield stand_in
            except GeneratorExit:
                item.remove_done_callback(follow)
                coro.close()
                raise
            except BaseException as e:      # the cancel of a timeout, handed on to the code
                item.remove_done_callback(follow)
                exc = e


def _follower(stand_in):
    def follow(_):
        if not stand_in.done():
            stand_in.set_result(None)
    return follow


def _unbind(asyncio, spaces, loop):
    """A queue, lock or event of the program that first waited in the console was bound to
    the fresh loop: free the ones the console's namespace names, for the program's loop."""
    mixin = asyncio.mixins._LoopBoundMixin
    for space in spaces:
        for value in list(space.values()):
            if isinstance(value, mixin) and getattr(value, "_loop", None) is loop:
                value._loop = None


def _tell_threads(core, started, ended):
    for task in started:
        core.event("thread", {"reason": "started", "threadId": taskmod.task_id(task)})
    for task in ended:
        core.event("thread", {"reason": "exited", "threadId": taskmod.task_id(task)})


def refusal(awaited, why=None):
    what = safe_repr(awaited, 120) if why is None else why
    return ("cannot wait for %s here: it belongs to a paused event loop that cannot run from "
            "this thread (docs/console.md). Continue to a breakpoint after it completes, or "
            "read it without waiting (.done(), .result() once done)" % what)
