"""`await` typed in the debug console: the coroutine the console's code becomes is run to its
end on a fresh event loop, on the thread that serves the request, within `awaitTimeout`.

Who runs where: the evaluation runs on the stopped thread that owns the frame (often the thread
of the paused event loop, stopped in the middle of a task's step). That loop cannot run: its
thread is here, inside one of its callbacks. So for the length of the evaluation this thread's
running loop (and, 3.12+, its current task) is set aside and a new loop runs the coroutine;
both are put back before the answer leaves.

Awaiting a future, task, queue or lock of the paused loop is refused (docs/async-semantics.md,
"`await` in the debug console"): only that loop can complete it, and running it from here would
mean starting another task's step inside the stopped one, which asyncio (its ready queue, its
current-task record) and uvloop do not allow. Whatever is already done needs no loop and is
answered (`await finished_task`). asyncio is imported only when the console first awaits.
"""
import ast

from . import usercode
from .protocol import AgentError, EVAL_ERROR, TIMEOUT
from .saferepr import safe_repr

FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
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


def run(coro, text):
    """The value of `coro` (the console's code made a coroutine), run on a fresh loop."""
    import asyncio      # the program may not use asyncio at all: only now, for this request
    usercode.allow(LIMIT + _CANCEL_GRACE + 0.5)
    paused = asyncio.events._get_running_loop()
    swap = getattr(asyncio.tasks, "_swap_current_task", None)
    # 3.14 keeps the current task per thread: the paused task must not look like the running
    # one to the new loop's tasks (3.12-3.13 key it by loop, where the swap changes nothing).
    saved = swap(paused, None) if paused is not None and swap is not None else None
    asyncio.events._set_running_loop(None)
    loop = None
    try:
        loop = asyncio.SelectorEventLoop()
        return _drive(asyncio, loop, coro, text)
    finally:
        if loop is not None:
            loop.close()
        asyncio.events._set_running_loop(paused)
        if paused is not None and swap is not None:
            swap(paused, saved)


def _drive(asyncio, loop, coro, text):
    task = loop.create_task(_guarded(coro, loop))
    try:
        loop.run_until_complete(asyncio.wait([task], timeout=LIMIT))
        timed_out = not task.done()
        if timed_out:
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
    if timed_out:
        raise AgentError(TIMEOUT, "%s was still waiting after %s s: cancelled (the launch "
                         "argument awaitTimeout sets how long an `await` may wait)"
                         % (usercode.short(text), usercode.seconds(LIMIT)))
    if task.cancelled():
        raise AgentError(EVAL_ERROR, "CancelledError: the awaited code was cancelled")
    exc = task.exception()
    if isinstance(exc, LoopBound):
        raise AgentError(EVAL_ERROR, refusal(exc.awaited))
    if exc is not None:
        raise exc
    return task.result()


async def _guarded(coro, loop):
    return await _Watched(coro, loop)


class _Watched:
    """Steps the console's coroutine itself, to see each future it waits on before the
    task running it does: one of another loop is refused instead of waited for forever."""

    def __init__(self, coro, loop):
        self.coro, self.loop = coro, loop

    def __await__(self):
        coro, value, exc = self.coro, None, None
        while True:
            try:
                item = coro.send(value) if exc is None else coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            value = exc = None
            get_loop = getattr(item, "get_loop", None)
            if get_loop is not None and get_loop() is not self.loop:
                # Set by the future's own __await__ for the task that waits; still set, the
                # program's next await of it would fail ("await wasn't used with future").
                item._asyncio_future_blocking = False
                coro.close()
                raise LoopBound(item)
            try:
                value = yield item
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as e:      # the cancel of a timeout, handed on to the code
                exc = e


def refusal(awaited):
    return ("cannot wait for %s here: it belongs to the paused event loop, which only runs "
            "when the program does. Continue to a breakpoint after it completes, or read it "
            "without waiting (.done(), .result() once done)" % safe_repr(awaited, 120))
