"""Per-task step timing for `tasklens top` and `--trace`: exact counters, on only while asked.

looptime.py samples the loops from outside and never runs per step; counting each task's steps
exactly needs a hook per step, which costs about as much as a short step, so it is switched on
only while someone asks (a `top` connection holds a lease, `--trace` holds one for the whole
run) and off again when the last lease ends: a plain run pays nothing.

The hook is the loop's own `call_soon`, replaced on the loop instance (asyncio's loops and
uvloop's both take instance attributes). Every task step, C Task or Python, is scheduled
through it by a method lookup on the loop (the task's first step, each wake-up from a future,
`sleep(0)`), with a callback whose `__self__` is the task. The callback is wrapped in a `_Step`
(a `functools.partial`: made in C, no Python frame to create it) that times the step; the
wrapper's `__self__` and repr stay those of the callback, as the diagnostics read
them. Timers set through `call_later`/`call_at` are wrapped too, so a wake from inside one is
told apart (a timer) from one made by a task step or by I/O. Tasks that existed before the
hook are adopted at their next wake; an eager task's first step (3.12+) runs inside its
creator's step and is counted there, as the loop sees it. Times are `looptime`'s clock.
"""
import collections
import functools
import itertools
import sys
import threading
import weakref

from . import looptime
from . import tasks as taskmod

_clock = looptime._monotonic
_leases = set()
_lock = threading.Lock()
_timed = {}             # id(loop) -> LoopTimes, while counting
_serials = itertools.count(1)
FINISHED_KEPT = 256
LAG_PROBE_S = 0.1
TIMER = "timer"         # LoopTimes.current while a timer callback runs
trace_sink = None       # trace.Recorder while --trace records


class TaskTimes:
    """One task's counters. `ref` is a weak reference: a record never keeps its task alive."""
    __slots__ = ("ref", "key", "serial", "busy", "sched", "polls", "wakes", "self_wakes", "ready_at",
                 "first_seen", "last_end", "max_step", "hist", "finished", "outcome", "name",
                 "__weakref__")

    def __init__(self, task, now):
        self.ref = weakref.ref(task)
        self.key = id(task)                 # for lookups: ids are reused once a task is gone
        self.serial = next(_serials)        # for records that outlive the task (trace.py)
        self.busy = self.sched = self.max_step = 0.0
        self.polls = self.wakes = self.self_wakes = 0
        self.ready_at = None
        self.first_seen = now
        self.last_end = None
        self.hist = [0] * 32        # step times by power of two of microseconds
        self.finished = None
        self.outcome = None
        self.name = None


class LoopTimes:
    def __init__(self, loop, record):
        self.loop_ref = record.loop_ref
        self.record = record            # looptime's record of the same loop
        self.stats = {}                 # id(task) -> TaskTimes
        self.finished = collections.deque(maxlen=FINISHED_KEPT)
        self.current = None             # TaskTimes of the step running, TIMER, or None
        self.current_since = None
        self.current_seq = 0            # the running step's number (0: none, I/O, a thread)
        self.seq = 0
        self.steps = 0
        self.busy = 0.0
        self.longest = 0.0              # longest step since the last snapshot
        self.longest_key = None
        self.lag = self.lag_max = 0.0   # how late the probe timer ran (last, max since snapshot)
        self.started = _clock()
        self.originals = {}
        self.active = True

    def adopt(self, task, now):
        st = TaskTimes(task, now)
        self.stats[id(task)] = st
        if trace_sink is not None:
            trace_sink.task_seen(self, st, task, now)
        return st


class _Step(functools.partial):
    """A scheduled step or timer callback, timed; looks like the callback it wraps."""
    __slots__ = ()

    @property
    def __self__(self):
        return getattr(self.args[0], "__self__", None)

    def __repr__(self):
        return repr(self.args[0])


def _run_step(fn, task, st, lt, waker, *args):
    start = _clock()
    ready = st.ready_at
    if ready is not None:
        st.sched += start - ready
        st.ready_at = None
    lt.seq = seq = lt.seq + 1
    lt.current, lt.current_since, lt.current_seq = st, start, seq
    try:
        return fn(*args)
    finally:
        end = _clock()
        took = end - start
        lt.current = lt.current_seq = None
        st.busy += took
        st.polls += 1
        st.last_end = end
        if took > st.max_step:
            st.max_step = took
        if took > lt.longest:
            lt.longest, lt.longest_key = took, st.key
        lt.steps += 1
        lt.busy += took
        st.hist[min(int(took * 1e6).bit_length(), 31)] += 1
        sink = trace_sink
        if sink is not None:
            sink.step(lt, st, seq, start, end, waker, ready)
        if task.done():
            _finish(lt, st, task, end)


def _run_timer(fn, lt, *args):
    start = _clock()
    lt.seq = seq = lt.seq + 1
    lt.current, lt.current_since, lt.current_seq = TIMER, start, seq
    try:
        return fn(*args)
    finally:
        lt.current = lt.current_seq = None
        sink = trace_sink
        if sink is not None:
            sink.callback(lt, seq, start, _clock(), getattr(fn, "__qualname__", "timer"))


def _finish(lt, st, task, now):
    st.finished = now
    try:
        st.name = task.get_name()
        # `_exception`, not exception(): that would mark the exception retrieved
        st.outcome = "cancelled" if task.cancelled() else \
            "exception" if getattr(task, "_exception", None) is not None else "ok"
    except Exception:
        st.outcome = "ok"
    lt.stats.pop(st.key, None)
    lt.finished.append(st)
    if trace_sink is not None:
        trace_sink.task_done(lt, st, now)


def _task_types():
    mod = sys.modules.get("asyncio.tasks")
    kinds = [getattr(mod, "Task", None), getattr(mod, "_PyTask", None)]
    return tuple(k for k in kinds if isinstance(k, type))


def _install(loop, lt):
    own = getattr(loop, "__dict__", None)
    if own is None or any(getattr(own.get(n), "_tasklens_time", False)
                          for n in ("call_soon", "call_later", "call_at")):
        return False
    task_types = _task_types()
    stats_get, clock, step, run_step, run_timer = lt.stats.get, _clock, _Step, _run_step, _run_timer
    original = loop.call_soon
    later, at = loop.call_later, loop.call_at
    lt.originals = {"call_soon": original, "call_later": later, "call_at": at}

    def call_soon(callback, *args, context=None):
        owner = getattr(callback, "__self__", None)
        if owner is not None and isinstance(owner, task_types):
            now = clock()
            st = stats_get(id(owner))
            if st is None or st.ref() is not owner:
                st = lt.adopt(owner, now)
            st.wakes += 1
            if lt.current is st:
                st.self_wakes += 1
            if st.ready_at is None:
                st.ready_at = now
            callback = step(run_step, callback, owner, st, lt, lt.current_seq or 0)
        return original(callback, *args, context=context)

    def call_later(delay, callback, *args, context=None):
        if type(callback) is not step:
            callback = step(run_timer, callback, lt)
        return later(delay, callback, *args, context=context)

    def call_at(when, callback, *args, context=None):
        if type(callback) is not step and callback is not _probe:     # asyncio's call_later
            callback = step(run_timer, callback, lt)
        return at(when, callback, *args, context=context)

    for fn in (call_soon, call_later, call_at):
        fn._tasklens_time = True
    loop.call_soon, loop.call_later, loop.call_at = call_soon, call_later, call_at
    try:
        loop.call_soon_threadsafe(_probe, lt, later, None)
    except RuntimeError:    # closed meanwhile
        pass
    return True


def _probe(lt, later, due):
    """Loop lag: how late a timer set LAG_PROBE_S ahead runs, measured while counting."""
    if due is not None:
        late = max(0.0, _clock() - due)
        lt.lag = late
        if late > lt.lag_max:
            lt.lag_max = late
        if trace_sink is not None:
            trace_sink.lag(lt, due, late)
    if lt.active:
        try:
            later(LAG_PROBE_S, _probe, lt, later, _clock() + LAG_PROBE_S)
        except RuntimeError:
            pass


def _uninstall(loop, lt):
    lt.active = False
    own = getattr(loop, "__dict__", None) or {}
    for name in ("call_soon", "call_later", "call_at"):
        if getattr(own.get(name), "_tasklens_time", False):
            del own[name]


def refresh():
    """Count on every loop seen running (a loop that starts later is added here, or at once
    through looptime's watch when a trace records)."""
    if not _leases:
        return
    for loop in taskmod.known_loops():
        watch(loop)


def watch(loop, *_):
    if not _leases:
        return None
    lt = _timed.get(id(loop))
    if lt is not None and lt.loop_ref() is loop:
        return lt
    try:
        if loop.is_closed():
            return None
    except Exception:
        return None
    lt = LoopTimes(loop, looptime.watch(loop, None, taskmod.loop_threads().get(id(loop))))
    if _install(loop, lt):
        _timed[id(loop)] = lt
        return lt
    return None


def acquire(owner):
    """Start counting (if not yet) for `owner`: a top session, or the trace. Loops that start
    later are counted from their start (task_origins' loop hook, under `tasklens run`)."""
    from . import task_origins
    with _lock:
        _leases.add(owner)
        if watch not in task_origins.loop_watchers:
            task_origins.loop_watchers.append(watch)
    refresh()


def release(owner):
    """`owner` no longer needs the counters; the last one switches them off."""
    with _lock:
        if owner not in _leases:
            return
        _leases.discard(owner)
        if _leases:
            return
        timed = list(_timed.values())
        _timed.clear()
    for lt in timed:
        loop = lt.loop_ref()
        if loop is not None:
            _uninstall(loop, lt)


def loops():
    """(loop, LoopTimes) of the loops counted, open ones only."""
    out = []
    for key, lt in list(_timed.items()):
        loop = lt.loop_ref()
        if loop is None or loop.is_closed():
            _timed.pop(key, None)
            continue
        out.append((loop, lt))
    return out


def percentile(hist, fraction, ceiling):
    """Upper bound (s) of the step time below which `fraction` of the steps fall."""
    total = sum(hist)
    if not total:
        return 0.0
    wanted, seen = fraction * total, 0
    for bucket, count in enumerate(hist):
        seen += count
        if seen >= wanted:
            return min((1 << bucket) / 1e6, ceiling)
    return ceiling
