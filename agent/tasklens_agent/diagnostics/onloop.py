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
blocked-loop diagnostic does not blame the program for the agent's own walk; the Job says how
long it took, and `next_post` when the next walk may come.
"""
import gc
import threading
import time

from .. import looptime

PACE = 20       # a walk posted again waits this many times the last one's length (next_post)


class Job:
    """The outcome of a posted function: `done` once it ran; `result` or `error` then."""

    def __init__(self):
        self.finished = threading.Event()
        self.result = None
        self.error = None
        self.took = 0.0         # seconds of the loop's it took
        self.ended = None       # monotonic time it ended

    @property
    def done(self):
        return self.finished.is_set()

    def wait(self, seconds):
        """Whether it ran within `seconds` (0: only whether it has run)."""
        return self.finished.wait(seconds) if seconds > 0 else self.finished.is_set()


def next_post(job):
    """When a walk like `job` (done) may be posted again: a walk pauses the loop (0.2-0.3 s
    with 10,000 tasks), and one posted every time tasks newly wait long would take a service
    whose tasks keep doing so a tenth of its time or more; walks take at most 1/PACE of it."""
    return job.ended + job.took * PACE


def post(loop, fn, *args):
    """Run `fn(*args)` on `loop`'s thread between two steps; a Job, or None when the loop is
    closed (or otherwise refuses the callback)."""
    job = Job()

    def run():
        ident = threading.get_ident()
        started = looptime.excusing[ident] = time.monotonic()
        # The walk's own objects (an index of every task's frames: tens of thousands of tuples)
        # would start the program's collections, a full one a pass over the whole heap: the
        # walk waits for none, and what it made is freed as it ends.
        collecting = gc.isenabled()
        gc.disable()
        try:
            job.result = fn(*args)
        except Exception as e:      # a program that bends asyncio: the caller decides
            job.error = e
        finally:
            if collecting:
                gc.enable()
            job.ended = time.monotonic()
            job.took = job.ended - started
            looptime.excused[ident] = looptime.excused.get(ident, 0.0) + job.took
            looptime.excusing.pop(ident, None)
            job.finished.set()

    try:
        loop.call_soon_threadsafe(run)
    except Exception:       # closed meanwhile
        return None
    return job
