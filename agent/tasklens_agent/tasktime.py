"""Per-task step timing for `tasklens top` and `--trace`: exact counters, on only while asked.

looptime.py samples the loops from outside and never runs per step; counting each task's steps
exactly needs a hook per step, which costs about as much as a short step, so it is switched on
only while someone asks (a `top` connection holds a lease, `--trace` holds one for the whole
run) and off again when the last lease ends: a plain run pays nothing.

The hook is where the loop schedules a callback, replaced on the loop's class while counting
(once per class, restored exactly when the last lease ends; a class that takes no attribute
gets it on the loop object). Every task step, C Task or Python, asyncio's loops or uvloop's, is
scheduled there (the task's first step, each wake-up from a future, `sleep(0)`), with a
callback whose `__self__` is the task. On asyncio's own loops that place is `_call_soon`, and
the step runs in a handle that times it inline (tasktime_handle.py: no frame of ours per
step). Elsewhere (uvloop, whose handles are its own, or a loop class of its own) it is the
loop's `call_soon`, and the callback is wrapped in a `_Step` that times the step
(tasktime_wrap.py). Timers set through `call_later`/`call_at` are wrapped too, so a wake from
inside one is told apart (a timer) from one made by a task step or by I/O. Tasks that existed
before the hook are adopted at their next wake; an eager task's first step (3.12+) runs inside
its creator's step and is counted there, as the loop sees it. Times are `looptime`'s clock.
"""
import collections
import itertools
import sys
import types
import weakref

from . import forksafe
from . import looptime
from . import tasks as taskmod
from . import tasktime_auto
from . import tasktime_handle
from . import tasktime_wrap

_clock = clock = looptime._monotonic
by_task = {}            # id(task) -> TaskTimes, of every loop counted: the hook's one lookup
_leases = set()
_lock = forksafe.lock()
_timed = {}             # id(loop) -> LoopTimes, while counting
_NAMES = ("call_soon", "call_later", "call_at")
_ASYNCIO_NAMES = ("_call_soon", "call_later", "call_at")
_asyncio_hooks = {}     # (trace sink or None, sample_every) -> tasktime_handle's _call_soon
HIST_FIRST = 8          # buckets a task's histogram starts with: steps under 128 µs
_classes = {}           # loop class wrapped -> {name: method before} of the names wrapped
_owned = {}             # loop class wrapped -> those of them its own dict held before
_serials = itertools.count(1)
FINISHED_KEPT = 256
LAG_PROBE_S = 0.1
TIMER = "timer"         # LoopTimes.current while a timer callback runs
trace_sink = None       # trace.Recorder while --trace records
sample_every = 1        # while counting: 1 exact; N: one wake in about N timed (tasktime_handle)
auto = False            # while counting: exact until it costs too much, then sampled (tasktime_auto)
AUTO = "auto"


def _gone(st):
    """A task went (a task dropped while pending never finishes): its counters leave the
    lookups, so that an id in `by_task` always names its task and the hook needs no check."""
    if by_task.get(st.key) is st:
        by_task.pop(st.key, None)
        st.lt.forget(st)


class TaskTimes(weakref.ref):
    """One task's counters, and the task's weak reference (a record never keeps its task
    alive; `_gone` is its callback): one object for the garbage collector per task, not two, as
    a task-heavy program adopts thousands a second and each one kept adds to the collections.
    Its steps are counted once, in `hist` (step times by power of two of microseconds)."""
    __slots__ = ("key", "serial", "busy", "sched", "self_wakes", "ready_at",
                 "first_seen", "last_end", "max_step", "hist", "finished", "outcome", "name",
                 "lt", "waker", "shown")

    def __new__(cls, task, now, lt):
        return weakref.ref.__new__(cls, task, _gone)

    def __init__(self, task, now, lt):
        self.key = id(task)                 # for lookups: ids are reused once a task is gone
        self.lt = lt                        # its loop's LoopTimes
        self.waker = 0.0                    # the start of the step (or timer callback) that
                                            # made it ready last, 0.0 none (trace)
        self.serial = next(_serials)        # for records that outlive the task (trace.py)
        self.busy = self.sched = self.max_step = 0.0
        self.self_wakes = 0
        self.ready_at = None
        self.first_seen = now
        self.last_end = None
        # a list: its item is updated for a third of an array's cost (the cyclic garbage
        # collector walks it, once per full collection); as long as the longest step needs
        # (`grow`), most tasks' steps fit in the first few (slots h0-h7 instead were tried:
        # more instructions, 1921 M against 1878 M on docs/bench-top.md's 3.11 count)
        self.hist = [0] * HIST_FIRST
        self.finished = None
        self.outcome = None
        self.name = None
        self.shown = None                   # its state in top's last screenful answer

    @property
    def ref(self):
        """The task's weak reference: the record itself (`st.ref()` is the task, or None)."""
        return self

    @property
    def polls(self):
        return sum(self.hist)

    @property
    def wakes(self):
        """Each wake schedules one step, which runs later: the steps, and the one ready now.
        (Two wakes pending at once count as one until the second step runs.)"""
        return self.polls + (self.ready_at is not None)


class LoopTimes:
    def __init__(self, loop, record):
        self.loop_ref = record.loop_ref
        self.record = record            # looptime's record of the same loop
        self.stats = {}                 # id(task) -> TaskTimes
        self.finished = collections.deque(maxlen=FINISHED_KEPT)
        self.current = None             # TaskTimes of the step running, TIMER, or None
        self.current_since = None       # when it began: also the step's name in a trace's
                                        # wake edges (trace.py)
        # a step that began before the counting and still runs (topview.mark_early): the loop
        # has not run since (`probed`: the lag probe, posted as counting starts, never ran)
        self.early = None
        self.probed = False
        # sampled counting: the task whose step, not sampled, a snapshot saw running, since when
        # (at least), and that step's frame (topview._see_unsampled)
        self.unsampled = self.unsampled_frame = self.unsampled_since = None
        self.auto_mark = None           # tasktime_auto's last check: (when, steps, adopted)
        self.adopted = 0                # tasks given counters here (tasktime_auto)
        self.burst_mark = None          # when its last BURST of them was judged (tasktime_auto)
        self.done_steps = 0             # the steps and busy time of tasks no longer in `stats`
        self.done_busy = 0.0
        self.longest = 0.0              # longest step since the last snapshot
        self.longest_key = None
        self.lag = self.lag_max = 0.0   # how late the probe timer ran (last, max since snapshot)
        self.started = _clock()
        self.key = id(self)             # the loop's in trace records
        self.later = None               # the loop's call_later, not wrapped (for the lag probe)
        self.on_object = False          # wrapped on the loop object, not on its class
        self.active = True

    def of(self, task, now):
        """`task`'s counters, adopted now if it is new to them (or its id named another task)."""
        st = self.stats.get(id(task))
        return st if st is not None and st.ref() is task else self.adopt(task, now)

    def adopt(self, task, now):
        st = TaskTimes(task, now, self)
        self.stats[id(task)] = by_task[id(task)] = st
        self.adopted += 1
        if auto and not self.adopted % tasktime_auto.BURST:     # a burst of new tasks: judged
            tasktime_auto.check(sys.modules[__name__], self, now, True)     # as it comes
        if trace_sink is not None:
            trace_sink.task_seen(self, st, task, now)
        return st

    def forget(self, st):
        """`st`'s task finished or went: its counts go into the loop's totals."""
        if self.stats.get(st.key) is st:
            self.done_steps += st.polls
            self.done_busy += st.busy
            del self.stats[st.key]

    # the loop's totals, summed when asked rather than counted per step
    @property
    def steps(self):
        return self.done_steps + sum(st.polls for st in list(self.stats.values()))

    @property
    def busy(self):
        return self.done_busy + sum(st.busy for st in list(self.stats.values()))


def grow(hist, bucket, n=1):
    """Count a step (`n`: a sampled one's weight) in a bucket past the end of `hist`,
    lengthening it."""
    hist.extend([0] * (bucket + 1 - len(hist)))
    hist[bucket] += n


def finish(lt, st, task, now):
    st.finished = now
    try:
        st.name = task.get_name()
        # `_exception`, not exception(): that would mark the exception retrieved
        st.outcome = "cancelled" if task.cancelled() else \
            "exception" if getattr(task, "_exception", None) is not None else "ok"
    except Exception:
        st.outcome = "ok"
    if by_task.get(st.key) is st:
        by_task.pop(st.key, None)
    lt.forget(st)
    lt.finished.append(st)
    if trace_sink is not None:
        trace_sink.task_done(lt, st, now)


def _task_types():
    mod = sys.modules.get("asyncio.tasks")
    kinds = [getattr(mod, "Task", None), getattr(mod, "_PyTask", None)]
    return tuple(k for k in kinds if isinstance(k, type))


def adopt_at_wake(owner, loop):
    """The counters of `owner`, a callback's `__self__` seen as it is scheduled on `loop`: a
    task first seen now gets them if its loop is counted; anything else gets None."""
    if not isinstance(owner, _task_kinds):
        return None
    lt = _timed.get(id(loop))
    if lt is None or lt.loop_ref() is not loop:
        return None
    return lt.adopt(owner, _clock())


_task_kinds = ()    # asyncio's task classes, once loaded


def _names(cls):
    """The methods to wrap on `cls`: `_call_soon` where it is asyncio's BaseEventLoop's own
    (tasktime_handle.py), `call_soon` anywhere else; and the timers'."""
    global _task_kinds
    _task_kinds = _task_types()
    base = getattr(sys.modules.get("asyncio.base_events"), "BaseEventLoop", None)
    inner = base.__dict__.get("_call_soon") if base is not None else None
    if inner is None or getattr(cls, "_call_soon", None) is not inner:
        return _NAMES
    return _ASYNCIO_NAMES


def _wrappers(originals):
    """tasktime_wrap's wrappers in front of `originals`, for the counting on now."""
    key = (trace_sink, sample_every)
    if "_call_soon" in originals and key not in _asyncio_hooks:
        # a traced hook appends to its recorder's buffers, bound once: a recording that ended
        # (`trace PID --for S`) lets go of its hook and, with it, of its buffers
        for old in [k for k in _asyncio_hooks if k[0] is not None]:
            del _asyncio_hooks[old]
        _asyncio_hooks[key] = tasktime_handle.build(sys.modules[__name__], key[0] is not None,
                                                    key[1])
    return tasktime_wrap.build(sys.modules[__name__], originals, _asyncio_hooks.get(key))


def _install(loop, lt):
    """Put the wrappers on the loop's class, once per class while counting: an attribute on the
    loop object would cost every `self.…` lookup in asyncio's hot paths its specialisation on
    3.11 (loop_patch.py). A class that takes no attribute gets them on the loop object."""
    cls = type(loop)
    # a subclass of a class wrapped already inherits the wrappers, which find any loop
    originals = next((_classes[c] for c in cls.__mro__ if c in _classes), None)
    if originals is None:
        names = _names(cls)
        originals = {name: getattr(cls, name, None) for name in names}
        if any(fn is None or getattr(fn, "_tasklens_time", False) for fn in originals.values()):
            return False
        wrappers = _wrappers(originals)
        own = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        try:
            for name in names:
                setattr(cls, name, wrappers[name])
            _classes[cls] = originals
            _owned[cls] = own
        except (TypeError, AttributeError):
            _restore(cls, own)
            try:
                for name in names:
                    setattr(loop, name, types.MethodType(wrappers[name], loop))
            except (TypeError, AttributeError):
                return False
            lt.on_object = True
    lt.later = types.MethodType(originals["call_later"], loop)
    try:
        loop.call_soon_threadsafe(_probe, lt, None)
    except RuntimeError:    # closed meanwhile
        pass
    return True


def _restore(target, own):
    """Take our wrappers off `target` (a class, or a loop object), putting back what its own
    dict held before; a wrapper someone put over ours since is left where it is."""
    mine = getattr(target, "__dict__", None) or {}
    for name in _NAMES + _ASYNCIO_NAMES[:1]:
        if not getattr(mine.get(name), "_tasklens_time", False):
            continue
        if name in own:
            setattr(target, name, own[name])
        else:
            delattr(target, name)


def _probe(lt, due):
    """Loop lag: how late a timer set LAG_PROBE_S ahead runs, measured while counting."""
    lt.probed = True
    if due is not None:
        late = max(0.0, _clock() - due)
        lt.lag = late
        if late > lt.lag_max:
            lt.lag_max = late
        if trace_sink is not None:
            trace_sink.lag(lt, due, late)
    if auto:
        tasktime_auto.check(sys.modules[__name__], lt, _clock())
    if lt.active:
        try:
            lt.later(LAG_PROBE_S, _probe, lt, _clock() + LAG_PROBE_S)
        except RuntimeError:
            pass


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


def acquire(owner, sample=1):
    """Start counting (if not yet) for `owner`: a top session, or the trace. Loops that start
    later are counted from their start (task_origins' loop hook, under `tasklens run`).
    `sample`: time one wake in about that many (1: every one), if the counting starts now; a
    later lease gets the counting that is on (`sample_every` says which). A trace counts
    exactly: it starts with the program, or refuses while a top counts (trace_window.py).
    AUTO: exact until that costs the program too much, then sampled (tasktime_auto.py)."""
    global sample_every, auto
    from . import task_origins
    with _lock:
        if not _leases:
            auto = sample == AUTO and trace_sink is None
            sample_every = 1 if trace_sink is not None or auto else max(1, int(sample))
        _leases.add(owner)
        looptime.use(__name__, iterations=False)
        if watch not in task_origins.loop_watchers:
            task_origins.loop_watchers.append(watch)
    refresh()


def resample(n):
    """Count one wake in `n` from now on (tasktime_auto's switch), on every loop counted: the
    hooks on their classes (or loop objects) replaced by ones built for `n`."""
    global sample_every
    with _lock:
        if not _leases or trace_sink is not None or sample_every == n:
            return
        sample_every = n
        for cls, originals in _classes.items():
            for name, fn in _wrappers(originals).items():
                if getattr(cls.__dict__.get(name), "_tasklens_time", False):
                    setattr(cls, name, fn)
        for lt in _timed.values():
            loop = lt.loop_ref()
            if lt.on_object and loop is not None:
                originals = {name: getattr(type(loop), name) for name in _names(type(loop))}
                for name, fn in _wrappers(originals).items():
                    setattr(loop, name, types.MethodType(fn, loop))


def counting():
    """Whether anyone (a top, a trace) has the counters on."""
    return bool(_leases)


def release(owner):
    """`owner` no longer needs the counters; the last one switches them off."""
    global auto
    with _lock:
        if owner not in _leases:
            return
        _leases.discard(owner)
        if _leases:
            return
        auto = False
        timed = list(_timed.values())
        _timed.clear()
        by_task.clear()
        owned = list(_owned.items())
        _classes.clear()
        _owned.clear()
        looptime.leave(__name__)    # the last user of the records takes `select`'s wrapper off
    for cls, own in owned:
        _restore(cls, own)
    for lt in timed:
        lt.active = False
        loop = lt.loop_ref()
        if loop is not None and lt.on_object:
            _restore(loop, {})


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
