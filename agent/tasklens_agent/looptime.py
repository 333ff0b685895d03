"""Per-loop timing: the one record of where each event loop is, shared by every diagnostic.

Who runs where: the loop's own thread updates `LoopRecord` only at the selector's `select` call
(once per loop iteration, never per task step: a per-step wrapper costs as much as the step on
a task-heavy program); a watchdog thread samples everything else from outside:
- `sample_step` reads the loop thread's stack (`sys._current_frames()`): the step running now is
  identified by the frame object of asyncio's `Handle._run` (a new object per callback, for
  Python and C tasks and eager tasks alike); uvloop runs handles in C, so there the step is the
  outermost frame above the frame that started the loop, and a heartbeat posted with
  `call_soon_threadsafe` tells one long step from the same task stepping again;
- `sample_waits` records, per pending task, the future it waits on (`_fut_waiter`) and since
  when it has been seen waiting on that same object: a task resumes only when that future
  completes, so an unchanged waiter means not resumed since (to the sampling interval).
Tasks that existed before tracking began are sampled like any other.

Who uses the records (`use`/`leave`): the diagnostics and `top`'s counting. When the last one
leaves (an attached debugger detaching), every `select` wrapper comes off its class again.
"""
import sys
import threading
import time
import weakref

from . import forksafe
from . import tasks

_monotonic = time.monotonic
_records = {}       # id(loop) -> LoopRecord
_records_lock = forksafe.lock()
_HANDLE_RUN = None  # the code object of asyncio.events.Handle._run
STEP_CODES = set()  # other handles' `_run` that steps start in (tasktime_handle.py's)
excused = {}        # thread ident -> seconds the agent itself spent inside steps there
excusing = {}       # thread ident -> since when the agent runs inside a step there
_users = {}         # who needs the records now -> whether it counts iterations (use/leave)


class LoopRecord:
    def __init__(self, loop, ident, base_frame):
        self.loop_ref = weakref.ref(loop)
        self.ident = ident
        self.base_frame = base_frame    # uvloop: the frame that started the loop
        self.selector = False           # iterations are seen (asyncio's selector loops)
        # asyncio's own loop: callbacks run in Handle._run (uvloop runs them in C)
        self.handles = hasattr(loop, "_ready")
        self.iterations = 0
        self.idle = False               # inside select()
        self.idle_since = self.busy_since = _monotonic()
        self.entered_before = None      # when select() was entered before `idle_since`
        self.timeout = None             # select()'s timeout of the current idle period
        # the step the watchdog sees running (see sample_step)
        self.step_key = None
        self.step_since = None
        self.step_iterations = None     # the loop's iterations when the step was last seen
        self.step_excused = 0.0
        self.step_task = None
        self.step_paused = False
        self.step_reported = False
        self.step_who = self.step_where = self.step_thread = None
        self.saturated_iteration = None
        self.saturated_at = -1e9
        self.beat_posted = None
        self.beat_ran = 0
        self.waits = {}                 # weakref(task) -> [waiter, since, reported stuck]
        self.waits_sampled = -1e9       # when `waits` was sampled last
        self.deadlock_iteration = None  # the idle period already reported as a deadlock
        self.deadlock_key = None        # which tasks waited on what in the last one reported
        self.deadlock_checked = -1e9
        self.cycles_reported = set()
        self.verdicts = []              # deadlocks reported, for ps (diagnostics/table.py)
        self.long_steps = 0
        self.closed = False
        self.adopted = False            # found running (attach): its tasks waited before
        self.first_waits = None         # when sample_waits first ran for it

    @property
    def loop(self):
        return self.loop_ref()


def watch(loop, base_frame, ident=None):
    """Called on the loop's thread when it starts running (tasks.py's loop hook), or with
    the `ident` of the thread running it (loops found running when diagnostics start)."""
    key = id(loop)
    rec = _records.get(key)
    here = threading.get_ident()
    if rec is not None and rec.loop is loop:
        if tasks._running.get(here) is loop:    # run again, maybe on another thread
            rec.ident, rec.base_frame = here, base_frame
        if not rec.selector and any(_users.values()):    # a user that counts iterations came
            _hook_select(loop, rec)
            if rec.ident != here:
                seen_sleeping(rec, sys._current_frames().get(rec.ident))
        return rec
    rec = LoopRecord(loop, ident or here, base_frame)
    with _records_lock:
        _records[key] = rec
    if any(_users.values()):
        _hook_select(loop, rec)
    if ident is not None and ident != here:
        seen_sleeping(rec, sys._current_frames().get(ident))
    return rec


def use(user, iterations=True):
    """`user` needs the records; with `iterations`, the loops' iterations too (the selector's
    select() wrapped: the diagnostics). `top`'s counters and the trace need only the records
    (the thread, the step running), and a loop iteration then costs nothing more."""
    _users[user] = iterations


def leave(user):
    """`user` needs the records no more; the last one to leave takes the wrappers off."""
    _users.pop(user, None)
    if _users:
        return
    with _records_lock:
        _records.clear()
        _selectors.clear()
        wrapped = list(_wrapped.items())
        _wrapped.clear()
    excused.clear()
    excusing.clear()
    for cls, (original, own) in wrapped:
        if getattr(cls.__dict__.get("select"), "_tasklens", False):
            if own:
                cls.select = original
            else:
                del cls.select


def seen_sleeping(rec, top):
    """A loop found running: if its thread sits in the selector's select() already (a hung
    program attached to), the record starts idle, with that call's timeout."""
    code = getattr(top, "f_code", None)
    if rec.selector and code is not None and code.co_name == "select" \
            and code.co_filename.endswith("selectors.py"):
        rec.idle = True
        rec.idle_since = _monotonic()
        timeout = top.f_locals.get("timeout")
        # selectors turn "no timeout" into -1 (epoll, poll) before they wait
        rec.timeout = None if timeout is None or timeout < 0 else timeout


def records(keep_closed=False):
    """Records of the loops still open (and, with `keep_closed`, of those closed since the
    last call, each returned once more so that a step in progress can be closed too)."""
    out = []
    for key, rec in list(_records.items()):
        loop = rec.loop
        closed = loop is None
        if not closed:
            try:
                closed = loop.is_closed()
            except Exception:
                closed = True
        if closed:
            with _records_lock:
                _records.pop(key, None)
                for sid, (_, counted) in list(_selectors.items()):
                    if counted is rec:
                        del _selectors[sid]
            rec.closed = True
            if keep_closed:
                out.append(rec)
        else:
            out.append(rec)
    return out


def record_of(loop):
    rec = _records.get(id(loop))
    return rec if rec is not None and rec.loop is loop else None


_selectors = {}     # id(selector) -> (selector, LoopRecord): the selectors whose select() counts
_wrapped = {}       # selector class -> (its select before, whether its own dict held it)


def _hook_select(loop, rec):
    """Counts the loop's iterations at its selector's select(). The wrapper goes on the
    selector's class, once: an attribute on the selector object would give it an instance
    dict of its own, and 3.11 then stops specialising every attribute load inside select()
    (about 4 % of an asyncio throughput program under --diagnose, counted in instructions).
    Selectors of that class that no loop record names pass straight through."""
    selector = getattr(loop, "_selector", None)
    cls = type(selector)
    original = getattr(cls, "select", None)
    if selector is None or original is None:
        return
    if not getattr(original, "_tasklens", False):
        own = "select" in cls.__dict__
        try:
            cls.select = _counting_select(original)
        except (TypeError, AttributeError):     # a class that takes no attribute
            return
        _wrapped[cls] = (original, own)
    with _records_lock:
        # The selector itself is held here, so its id cannot name another one while it is.
        _selectors[id(selector)] = (selector, rec)
    rec.selector = True


def _counting_select(original):
    monotonic = _monotonic
    counted = _selectors.get

    def select(self, timeout=None):
        entry = counted(id(self))
        if entry is None:
            return original(self, timeout)
        rec = entry[1]
        rec.timeout = timeout
        rec.entered_before = rec.idle_since
        rec.idle_since = monotonic()
        rec.idle = True
        try:
            return original(self, timeout)
        finally:
            rec.idle = False
            rec.iterations += 1
            rec.busy_since = monotonic()
    select._tasklens = True
    return select


def _handle_run_code():
    global _HANDLE_RUN
    if _HANDLE_RUN is None:
        events = sys.modules.get("asyncio.events")
        run = getattr(getattr(events, "Handle", None), "_run", None)
        _HANDLE_RUN = getattr(run, "__code__", None)
    return _HANDLE_RUN


def step_frames(rec, frame):
    """(key, frames of the step innermost first) for the loop thread's top `frame`, or
    (None, []) when the loop runs no step (idle, or between callbacks)."""
    handle_run = _handle_run_code()
    frames = []
    base = rec.base_frame
    while frame is not None:
        if rec.handles and (frame.f_code is handle_run or frame.f_code in STEP_CODES):
            return frame, frames
        if not rec.handles and frame.f_back is base and base is not None:
            frames.append(frame)
            return frame, frames
        frames.append(frame)
        frame = frame.f_back
    return None, []


def beat(rec, mark):
    """Run by the loop: the step seen when `mark` was posted has ended."""
    rec.beat_ran = mark


def sample_waits(rec, tasks, now):
    """Update, for each pending task of the loop, since when it waits on its current future."""
    old = rec.waits
    new = {}
    if rec.first_waits is None:
        rec.first_waits = now
    for task in tasks:
        try:
            waiter = task._fut_waiter
            key = weakref.ref(task)
        except (AttributeError, TypeError):
            continue
        if waiter is None:
            continue
        entry = old.get(key)
        if entry is None or entry[0] is not waiter:
            entry = [waiter, now, False]    # the waiter, since when, stuck (CHECKED, True)
        new[key] = entry
    rec.waits = new


def waited_before(task, since):
    """Whether `task`'s wait may have begun before tracking did (a loop found running)."""
    rec = record_of(task.get_loop())
    return rec is not None and rec.adopted and since <= (rec.first_waits or since)


def waited_since(task):
    """Monotonic time since which `task` has waited on its current future, or None."""
    try:
        loop = task.get_loop()
        key = weakref.ref(task)
    except Exception:
        return None
    rec = record_of(loop)
    entry = rec.waits.get(key) if rec is not None else None
    if entry is None or entry[0] is not getattr(task, "_fut_waiter", None):
        return None
    return entry[1]
