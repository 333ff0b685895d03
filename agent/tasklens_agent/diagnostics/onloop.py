"""Heap walks on the loop's own thread, between two of its steps.

`gc.get_objects()` and `gc.get_referrers()` hand back lists that hold every object they found,
and one of them may be a tuple the program is still building from a generator (`tuple(g)`,
`gather(*(create_task(c) for c in cs))`): CPython grows or shrinks such a tuple in place, which
it refuses while anything else holds it, and the program's code then fails with "SystemError:
bad argument to internal function". From the watchdog or the control thread the walk races the
loop's thread (the interpreter switches threads while the walk's Python code runs). Between two
steps of the loop, on its own thread, no tuple of that thread is half-built.

`post` schedules a function there (`call_soon_threadsafe`) and returns a Job that the caller
reads when it is done: the caller never blocks on a loop that does not run (blocked by a step,
or closed). The time the function takes is excused from the step that runs it, so the
blocked-loop diagnostic does not blame the program for the agent's own walk.
"""
import threading
import time

from .. import looptime


class Job:
    """The outcome of a posted function: `done` once it ran; `result` or `error` then."""

    def __init__(self):
        self.finished = threading.Event()
        self.result = None
        self.error = None

    @property
    def done(self):
        return self.finished.is_set()

    def wait(self, seconds):
        """Whether it ran within `seconds` (0: only whether it has run)."""
        return self.finished.wait(seconds) if seconds > 0 else self.finished.is_set()


def post(loop, fn, *args):
    """Run `fn(*args)` on `loop`'s thread between two steps; a Job, or None when the loop is
    closed (or otherwise refuses the callback)."""
    job = Job()

    def run():
        ident = threading.get_ident()
        started = looptime.excusing[ident] = time.monotonic()
        try:
            job.result = fn(*args)
        except Exception as e:      # a program that bends asyncio: the caller decides
            job.error = e
        finally:
            looptime.excused[ident] = looptime.excused.get(ident, 0.0) + time.monotonic() - started
            looptime.excusing.pop(ident, None)
            job.finished.set()

    try:
        loop.call_soon_threadsafe(run)
    except Exception:       # closed meanwhile
        return None
    return job
