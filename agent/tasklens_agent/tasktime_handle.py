"""tasktime's hook on asyncio's own loops: a task step costs no Python frame of ours.

asyncio runs each ready callback through `Handle._run`, a Python frame it pays anyway, and
schedules it through `BaseEventLoop._call_soon`, another. While counting, `_call_soon` is
replaced on the loop's class by the `call_soon` below, which does what asyncio's does (make the
handle, append it to the ready queue) and, for a task's step or wake-up, notes when the task
became ready; such a handle is a `TimedHandle`, asyncio's Handle with one slot more (the task's
counters) and a `_run` that times the step inline. So a counted step costs its clock reads and
counter updates, not a wrapper object and two calls (tasktime's `_Step` path, kept for uvloop
and loop classes of their own, whose handles are not asyncio's). Every other callback gets
asyncio's own Handle and runs as it would without tasklens. While a trace records, the
`TracedHandle` and its `call_soon` also hand each step to the trace, packed as bytes
(trace.STEP), with the step or timer callback that woke it, known by its start time (the
loop's `current_since`): the counting alone carries no test of whether a trace records.

Sampled counting (`top --sample N`, tasktime.sample_every > 1): the `call_soon` below counts
down every callback scheduled and, once in about N (a random gap, so that no program's rhythm
lines up with it), takes the exact path for that one wake and its step, in a `SampledHandle`
whose counts are weighted by N: busy, sched, the histogram's steps and the self-wakes are then
estimates of the whole, and a step not sampled costs one decrement and a test. Tasks get their
counters at their first sampled wake (or when `top` lists them).

Who runs where: both run on the loop's thread; topview reads the counters from the control
thread (tasktime.py).
"""
import random
import sys

from . import looptime


def build(tt, traced, sample=1):
    """A `_call_soon` for asyncio's loop classes over tasktime `tt`'s records (numbering steps
    for the trace if `traced`; timing one wake in about `sample` if more than 1); made once
    asyncio is loaded."""
    events = sys.modules["asyncio.events"]
    helpers = sys.modules["asyncio.format_helpers"]
    handle_type = events.Handle
    by_task_get = tt.by_task.get
    adopt = tt.adopt_at_wake
    finish = tt.finish
    grow = tt.grow
    clock = tt.clock
    takes_debug = "debug" in helpers._format_callback_source.__code__.co_varnames
    # the trace's deque append, made once: a trace records for the rest of the process
    add_step = tt.trace_sink.add_step if traced else None
    pack = tt.trace_sink.pack_step if traced else None

    def report(handle, exc):
        """What asyncio's Handle._run does with a callback that raised (a step never does:
        a task keeps its exception; only a task's other method scheduled by hand could)."""
        loop = handle._loop
        kw = {"debug": loop.get_debug()} if takes_debug else {}
        context = {"message": "Exception in callback %s" % helpers._format_callback_source(
            handle._callback, handle._args, **kw), "exception": exc, "handle": handle}
        if handle._source_traceback:
            context["source_traceback"] = handle._source_traceback
        loop.call_exception_handler(context)

    class TimedHandle(handle_type):
        __slots__ = ("_tasklens",)

        def _run(self):
            st = self._tasklens
            lt = st.lt
            callback = self._callback
            start = clock()
            ready = st.ready_at
            if ready is not None:
                st.sched += start - ready
                st.ready_at = None
            lt.current = st
            lt.current_since = start
            try:
                self._context.run(callback, *self._args)
            except (SystemExit, KeyboardInterrupt):
                lt.current = None
                raise
            except BaseException as exc:
                report(self, exc)
            end = clock()
            lt.current = None
            took = end - start
            st.busy += took
            st.last_end = end
            if took > st.max_step:
                st.max_step = took
            if took > lt.longest:
                lt.longest = took
                lt.longest_key = st.key
            # the bucket, int(took * 1e6).bit_length(), by comparisons up to 128 µs (most
            # steps): a third of the instructions of the arithmetic on 3.11
            if took < 1.6e-05:
                if took < 4e-06:
                    bucket = 0 if took < 1e-06 else 1 if took < 2e-06 else 2
                else:
                    bucket = 3 if took < 8e-06 else 4
            elif took < 0.000128:
                bucket = 5 if took < 3.2e-05 else 6 if took < 6.4e-05 else 7
            else:
                bucket = int(took * 1e6).bit_length()
            try:
                st.hist[bucket] += 1
            except IndexError:      # a step longer than any before it
                grow(st.hist, bucket)
            task = callback.__self__
            if task.done():
                finish(lt, st, task, end)
            self = None     # as asyncio's: no cycle through a traceback

    # TimedHandle._run's counting again, with the trace's record: written out twice on
    # purpose, as a shared helper would cost a call per step, the cost this module exists to
    # avoid. A change to one is a change to both (and to call_soon_traced below).
    class TracedHandle(TimedHandle):
        __slots__ = ()

        def _run(self):
            st = self._tasklens
            lt = st.lt
            callback = self._callback
            start = clock()
            ready = st.ready_at
            if ready is not None:
                st.sched += start - ready
                st.ready_at = None
            else:
                ready = -1.0    # none known (trace.STEP holds floats only)
            lt.current = st
            lt.current_since = start
            try:
                self._context.run(callback, *self._args)
            except (SystemExit, KeyboardInterrupt):
                lt.current = None
                raise
            except BaseException as exc:
                report(self, exc)
            end = clock()
            lt.current = None
            took = end - start
            st.busy += took
            st.last_end = end
            if took > st.max_step:
                st.max_step = took
            if took > lt.longest:
                lt.longest = took
                lt.longest_key = st.key
            # the bucket, int(took * 1e6).bit_length(), by comparisons up to 128 µs (most
            # steps): a third of the instructions of the arithmetic on 3.11
            if took < 1.6e-05:
                if took < 4e-06:
                    bucket = 0 if took < 1e-06 else 1 if took < 2e-06 else 2
                else:
                    bucket = 3 if took < 8e-06 else 4
            elif took < 0.000128:
                bucket = 5 if took < 3.2e-05 else 6 if took < 6.4e-05 else 7
            else:
                bucket = int(took * 1e6).bit_length()
            try:
                st.hist[bucket] += 1
            except IndexError:
                grow(st.hist, bucket)
            add_step(pack(start, end, st.serial, st.waker, ready))
            task = callback.__self__
            if task.done():
                finish(lt, st, task, end)
            self = None

    weight = sample

    # TimedHandle._run's counting a third time, each count weighted: the step stands for the
    # `weight` steps of the sample it was drawn from (see TracedHandle for why it is repeated)
    class SampledHandle(TimedHandle):
        __slots__ = ()

        def _run(self):
            st = self._tasklens
            lt = st.lt
            callback = self._callback
            start = clock()
            ready = st.ready_at
            if ready is not None:
                st.sched += (start - ready) * weight
                st.ready_at = None
            lt.current = st
            lt.current_since = start
            try:
                self._context.run(callback, *self._args)
            except (SystemExit, KeyboardInterrupt):
                lt.current = None
                raise
            except BaseException as exc:
                report(self, exc)
            end = clock()
            lt.current = None
            took = end - start
            st.busy += took * weight
            st.last_end = end
            if took > st.max_step:
                st.max_step = took
            if took > lt.longest:
                lt.longest = took
                lt.longest_key = st.key
            if took < 1.6e-05:
                if took < 4e-06:
                    bucket = 0 if took < 1e-06 else 1 if took < 2e-06 else 2
                else:
                    bucket = 3 if took < 8e-06 else 4
            elif took < 0.000128:
                bucket = 5 if took < 3.2e-05 else 6 if took < 6.4e-05 else 7
            else:
                bucket = int(took * 1e6).bit_length()
            try:
                st.hist[bucket] += weight
            except IndexError:
                grow(st.hist, bucket, weight)
            task = callback.__self__
            if task.done():
                finish(lt, st, task, end)
            self = None

    # asyncio's repr names the class: these are asyncio's handles to whoever looks
    for kind in (TimedHandle, TracedHandle, SampledHandle):
        kind.__name__ = kind.__qualname__ = handle_type.__name__
        looptime.STEP_CODES.add(kind._run.__code__)     # where a step starts, to the sampler

    def call_soon(self, callback, args, context):
        owner = getattr(callback, "__self__", None)
        st = None
        if owner is not None:
            st = by_task_get(id(owner))
            if st is None:
                st = adopt(owner, self)     # None: not a task, or a loop not counted
        if st is not None:
            if st.lt.current is st:
                st.self_wakes += 1
            if st.ready_at is None:
                st.ready_at = clock()
            handle = TimedHandle(callback, args, self, context)
            handle._tasklens = st
        else:
            handle = handle_type(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        self._ready.append(handle)
        return handle

    def call_soon_traced(self, callback, args, context):
        owner = getattr(callback, "__self__", None)
        st = None
        if owner is not None:
            st = by_task_get(id(owner))
            if st is None:
                st = adopt(owner, self)
        if st is not None:
            lt = st.lt
            running = lt.current
            if running is st:
                st.self_wakes += 1
            if st.ready_at is None:
                st.ready_at = clock()
            st.waker = lt.current_since if running is not None else 0.0
            handle = TracedHandle(callback, args, self, context)
            handle._tasklens = st
        else:
            handle = handle_type(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        self._ready.append(handle)
        return handle
    current_task = sys.modules["asyncio.tasks"].current_task
    # the gaps between sampled wakes: 1 .. 2N-1 at random, N on average
    draw = random.Random().randrange
    left = draw(1, 2 * weight)

    def call_soon_sampled(self, callback, args, context):
        nonlocal left
        left -= 1
        if left:
            handle = handle_type(callback, args, self, context)
        else:
            left = draw(1, 2 * weight)
            owner = getattr(callback, "__self__", None)
            st = None
            if owner is not None:
                st = by_task_get(id(owner))
                if st is None:
                    st = adopt(owner, self)
            if st is not None:
                # the step running may not be sampled: asyncio knows which task runs
                if current_task(self) is owner:
                    st.self_wakes += weight
                if st.ready_at is None:
                    st.ready_at = clock()
                handle = SampledHandle(callback, args, self, context)
                handle._tasklens = st
            else:
                handle = handle_type(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        self._ready.append(handle)
        return handle
    if traced:
        return call_soon_traced
    return call_soon_sampled if sample > 1 else call_soon
