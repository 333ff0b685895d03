"""tasktime's hook where a loop's handles are not asyncio's (uvloop's, a loop class of its own),
and the timers' on every loop: the loop's `call_soon`, `call_later` and `call_at` wrapped.

A task's step or wake-up scheduled through `call_soon` is wrapped in a `_Step` (a
`functools.partial`: made in C, no Python frame to create it) that times the step when the loop
runs it; a timer's callback in one that marks it running, so that a wake from inside it is told
apart (a timer) from one made by a task step or by I/O. The wrapper's `__self__` and repr stay
those of the callback, as the diagnostics read them. On asyncio's own loops tasktime_handle.py
times the steps instead, without a wrapper.

Sampled counting (tasktime.sample_every > 1): `call_soon` wraps one task wake in about N, at
random gaps, and the step's counts are weighted by N, as tasktime_handle's SampledHandle does.

Who runs where: on the loop's thread (tasktime.py).
"""
import functools
import random

from . import looptime

clock = looptime._monotonic
tt = None       # tasktime, which imports this module: given by `build`


class _Step(functools.partial):
    """A scheduled step or timer callback, timed; looks like the callback it wraps."""
    __slots__ = ()

    @property
    def __self__(self):
        return getattr(self.args[0], "__self__", None)

    def __repr__(self):
        return repr(self.args[0])


def _run_step(fn, task, st, lt, waker, *args):
    """A step scheduled through a wrapped `call_soon` (not asyncio's own loops: those time it
    in tasktime_handle's handle, as this does)."""
    start = clock()
    weight = tt.sample_every
    ready = st.ready_at
    if ready is not None:
        st.sched += (start - ready) * weight
        st.ready_at = None
    lt.current, lt.current_since = st, start
    try:
        return fn(*args) if args else fn()
    finally:
        end = clock()
        took = end - start
        lt.current = None
        st.busy += took * weight
        st.last_end = end
        if took > st.max_step:
            st.max_step = took
        if took > lt.longest:
            lt.longest, lt.longest_key = took, st.key
        if took < 1.6e-05:      # int(took * 1e6).bit_length(), as in tasktime_handle.py
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
            tt.grow(st.hist, bucket, weight)
        sink = tt.trace_sink
        if sink is not None:    # a packed record in its ring buffer (trace.STEP)
            sink.add_step(sink.pack_step(start, end, st.serial, waker,
                                         -1.0 if ready is None else ready))
        if task.done():
            tt.finish(lt, st, task, end)


def _run_timer(fn, lt, *args):
    start = clock()
    lt.current, lt.current_since = tt.TIMER, start
    try:
        return fn(*args)
    finally:
        lt.current = None
        sink = tt.trace_sink
        if sink is not None:
            sink.add_callback((lt.key, start, clock(), getattr(fn, "__qualname__", "timer")))


def build(tasktime, originals, asyncio_call_soon):
    """{name: wrapper} of call_soon (or, given `asyncio_call_soon`, asyncio's _call_soon),
    call_later, call_at in front of `originals` (the class's), over `tasktime`'s records:
    each passes straight through for a loop not counted."""
    global tt
    tt = tasktime
    running_task = tt.taskmod.running_task_of_loop
    timed_get, step, run_step, run_timer = tt._timed.get, _Step, _run_step, _run_timer
    by_task_get, adopt_at_wake, probe = tt.by_task.get, tt.adopt_at_wake, tt._probe
    original, later, at = originals.get("call_soon"), originals["call_later"], originals["call_at"]
    sample = tt.sample_every
    draw = random.Random().randrange
    left = draw(1, 2 * sample) if sample > 1 else 1

    def call_soon(self, callback, *args, context=None):
        nonlocal left
        owner = None
        if sample == 1:
            owner = getattr(callback, "__self__", None)
        else:
            left -= 1
            if not left:
                left = draw(1, 2 * sample)
                owner = getattr(callback, "__self__", None)
        if owner is not None:
            st = by_task_get(id(owner))
            if st is None:
                st = adopt_at_wake(owner, self)
            if st is not None:
                lt = st.lt
                if lt.current is st if sample == 1 else running_task(self) is owner:
                    st.self_wakes += sample
                if st.ready_at is None:
                    st.ready_at = clock()
                callback = step(run_step, callback, owner, st, lt,
                                lt.current_since if lt.current is not None else 0.0)
        if args:
            return original(self, callback, *args, context=context)
        return original(self, callback, context=context)    # no tuple and dict made to call it

    def call_later(self, delay, callback, *args, context=None):
        if type(callback) is not step:
            lt = timed_get(id(self))
            if lt is not None:
                callback = step(run_timer, callback, lt)
        return later(self, delay, callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        if type(callback) is not step and callback is not probe:     # asyncio's call_later
            lt = timed_get(id(self))
            if lt is not None:
                callback = step(run_timer, callback, lt)
        return at(self, when, callback, *args, context=context)
    wrappers = {"call_later": call_later, "call_at": call_at}
    if "_call_soon" in originals:
        wrappers["_call_soon"] = asyncio_call_soon
    else:
        wrappers["call_soon"] = call_soon
    for fn in wrappers.values():
        fn._tasklens_time = True
    return wrappers
