"""When and where each task was created, recorded as it is created, for `taskTable`.

The loop hook (tasks.py) calls `watch` when it first sees a loop run. `watch` puts a wrapper of
the loop's own `create_task` on the loop's class (loop_patch.py): every task made through the loop
(`asyncio.create_task`, `ensure_future`, `gather`, TaskGroup, a task factory the program set
before or sets later, eager tasks on 3.12+) passes through it, and the loop's task factory is
left alone (3.13 renames unnamed tasks "None" whenever any factory is set). The tasks that
exist when the loop is first seen (`asyncio.run`'s main task) are dated then and placed at the
user line that started the loop. Loops whose class takes no attribute (uvloop's) are not watched.

Per task: `time.monotonic()`, the first user frame's code object and instruction offset (its
line is worked out only when asked: `f_lineno` walks the line table, a third of the record's
cost on the asyncio throughput benchmark), and the id of its coroutine, in a dict keyed by
`id(task)`: an int key and a tuple are the cheapest record there is
(a weak reference per task, or a WeakKeyDictionary's Python code, cost more than the task's own
creation on 3.14). A lookup checks the coroutine's id, so a record outliving its task is never
taken for a new task with the same id; every `_limit` records, those of tasks no longer alive
are dropped (amortised: the limit is four times the live tasks, at least 16,384 records, about
3 MB: below that a program never pays for the scan, which costs as much per live task as its
record on 3.12, where `all_tasks` walks a WeakSet in Python). Only programs run by `tasklens
run` (listen modes, where `ps` asks) or diagnosed are watched, not those launched by a debugger
(`enabled`). With diagnostics on, each task also gets `done_callback` (lost.py, 3.11) and each
loop is passed to `loop_watchers` (looptime.py).
"""
import sys
import time
import weakref

from . import loop_patch
from . import paths

_MAX_DEPTH = 16
_MIN_LIMIT = 16384
enabled = False     # set by main before the loop hook is installed
done_callback = None
loop_watchers = []
_created = {}       # id(task) -> (created at, code or None, offset, id(coroutine))
_limit = [_MIN_LIMIT]
_watched = weakref.WeakSet()
_monotonic = time.monotonic
_getframe = sys._getframe
_kinds = paths._kind
_kind = paths.kind


def _site_frame(frame):
    """The innermost user frame from `frame` outward (at most _MAX_DEPTH), or None."""
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return None
        filename = frame.f_code.co_filename
        if (_kinds.get(filename) or _kind(filename)) == "user":
            return frame
        frame = frame.f_back
    return None


def _line(code, offset):
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line
    return code.co_firstlineno


def watch(loop, adopted=False):
    """Record the tasks `loop` creates from now on, and date those it already has (not when
    `adopted`: a loop found running long after its tasks were made, by an attached agent)."""
    for watcher in loop_watchers:
        watcher(loop, _getframe(2))
    if loop in _watched:
        return
    try:
        _watched.add(loop)
    except TypeError:
        return
    created, monotonic, getframe, kinds, kind = _created, _monotonic, _getframe, _kinds, _kind
    limit = _limit

    def make(original):
        def create_task(self, coro, **kwargs):
            # (asyncio.create_task and gather pass no keywords: a call without ** is cheaper)
            task = original(self, coro, **kwargs) if kwargs else original(self, coro)
            started = monotonic()   # after: an eager task's own tasks come before it (task_ids.py)
            # _site_frame, inlined for the first two frames: this runs for every task the
            # program creates, and the creating user frame is one or two frames out
            # (asyncio.create_task, gather)
            frame = getframe(1)
            code = frame.f_code
            if (kinds.get(code.co_filename) or kind(code.co_filename)) != "user":
                frame = frame.f_back
                code = frame.f_code if frame is not None else None
                if code is not None and (kinds.get(code.co_filename)
                                         or kind(code.co_filename)) != "user":
                    frame = _site_frame(frame.f_back)
                    code = frame.f_code if frame is not None else None
            created[id(task)] = (started, code, frame.f_lasti if code is not None else 0,
                                 id(coro))
            if len(created) > limit[0]:
                _forget_dead()
            if done_callback is not None:
                task.add_done_callback(done_callback)
            return task
        return create_task
    if loop_patch.wrap(loop, "origins", make) and not adopted:
        _date_existing(loop)


def unwatch():
    """Take the wrappers off and forget every record (an attached debugger leaving)."""
    global done_callback
    for loop in list(_watched):
        loop_patch.unwrap(loop, "origins")
    _watched.clear()
    _created.clear()
    done_callback = None


def _forget_dead():
    from . import tasks
    mod = sys.modules.get("asyncio.tasks")
    alive = set()
    for loop in list(tasks._loops.values()):
        try:
            alive.update(id(t) for t in mod.all_tasks(loop))
        except (RuntimeError, AttributeError):
            return      # changing under us in another thread: next time
    for key in [k for k in _created if k not in alive]:
        _created.pop(key, None)
    _limit[0] = max(_MIN_LIMIT, 4 * len(_created))


def _date_existing(loop):
    tasks = sys.modules.get("asyncio.tasks")
    if tasks is None:
        return
    try:
        existing = tasks.all_tasks(loop)
    except RuntimeError:
        return
    if not existing:
        return
    now, frame = _monotonic(), _site_frame(_getframe(1))
    code, offset = (frame.f_code, frame.f_lasti) if frame is not None else (None, 0)
    for task in existing:
        if _record(task) is None:
            _created[id(task)] = (now, code, offset, id(task.get_coro()))
            if done_callback is not None:
                task.add_done_callback(done_callback)


def _record(task):
    record = _created.get(id(task))
    if record is None or record[3] != id(task.get_coro()):
        return None
    return record


def clock():
    return _monotonic()


def age_seconds(task, now=None):
    """Seconds since `task` was created, as of `now` (one `now` for a whole table keeps the ages
    of tasks created in one burst in creation order: `ps` sorts by them)."""
    record = _record(task)
    return None if record is None else round((_monotonic() if now is None else now) - record[0], 6)


def created_clock(task):
    """The monotonic time `task` was recorded at (creation order, for task_ids.py), or None."""
    record = _record(task)
    return None if record is None else record[0]


def created_at(task):
    """{path, line} of the user line that created the task, or None if unknown."""
    record = _record(task)
    if record is None or record[1] is None:
        return None
    _, code, offset, _ = record
    return {"path": paths.display(code.co_filename), "line": _line(code, offset)}
