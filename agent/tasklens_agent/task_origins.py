"""When and where each task was created, recorded as it is created, for `taskTable`.

The loop hook (tasks.py) calls `watch` when it first sees a loop run. `watch` puts a wrapper of
the loop's own `create_task` on the loop instance: every task made through the loop
(`asyncio.create_task`, `ensure_future`, `gather`, TaskGroup, a task factory the program set
before or sets later, eager tasks on 3.12+) passes through it, and the loop's task factory is
left alone (3.13 renames unnamed tasks "None" whenever any factory is set). The tasks that
exist when the loop is first seen (`asyncio.run`'s main task) are dated then and placed at the
user line that started the loop. Loops without an instance dict (uvloop's) are not watched.

Per task: `time.monotonic()` and the first user frame's file and line, in a dict keyed by a
weak reference to the task whose callback (`dict.pop`, a C call) drops the entry with the task:
no Python code runs to record or forget it (a WeakKeyDictionary runs two Python functions per
task). Only programs run by `tasklens run` (listen modes, where `ps` asks) or diagnosed are
watched, not those launched by a debugger (`enabled`). With diagnostics on, each task also
gets `done_callback` (lost.py) and each loop is passed to `loop_watchers` (looptime.py).
"""
import sys
import time
import weakref

from . import paths

_MAX_DEPTH = 16
enabled = False     # set by main before the loop hook is installed
done_callback = None
loop_watchers = []
_created = {}       # weakref(task) -> (created at, (filename, line) or None)
_forget = _created.pop
_ref = weakref.ref
_monotonic = time.monotonic
_getframe = sys._getframe
_kinds = paths._kind
_kind = paths.kind


def _site(frame):
    """(filename, line) of the innermost user frame from `frame` outward, or None."""
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return None
        filename = frame.f_code.co_filename
        k = _kinds.get(filename) or _kind(filename)
        if k == "user":
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def watch(loop):
    """Record the tasks `loop` creates from now on, and date those it already has."""
    for watcher in loop_watchers:
        watcher(loop, _getframe(2))
    own = getattr(loop, "__dict__", None)
    if own is None or getattr(own.get("create_task"), "_tasklens", False):
        return
    original = loop.create_task
    created, monotonic, getframe, kinds, kind = _created, _monotonic, _getframe, _kinds, _kind
    ref, forget = _ref, _forget

    def create_task(coro, **kwargs):
        started = monotonic()
        task = original(coro, **kwargs)
        # _site, inlined: this runs for every task the program creates
        frame = getframe(1)
        site = None
        for _ in range(_MAX_DEPTH):
            if frame is None:
                break
            filename = frame.f_code.co_filename
            if (kinds.get(filename) or kind(filename)) == "user":
                site = (filename, frame.f_lineno)
                break
            frame = frame.f_back
        try:
            created[ref(task, forget)] = (started, site)
        except TypeError:   # a factory's object that cannot be weakly referenced
            pass
        if done_callback is not None:
            task.add_done_callback(done_callback)
        return task
    create_task._tasklens = True
    try:
        loop.create_task = create_task
    except AttributeError:
        return
    _date_existing(loop)


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
    now, site = _monotonic(), _site(_getframe(1))
    for task in existing:
        try:
            if _ref(task) not in _created:
                _created[_ref(task, _forget)] = (now, site)
                if done_callback is not None:
                    task.add_done_callback(done_callback)
        except TypeError:
            pass


def _record(task):
    try:
        return _created.get(_ref(task))
    except TypeError:
        return None


def age_seconds(task):
    record = _record(task)
    return None if record is None else round(_monotonic() - record[0], 3)


def created_at(task):
    """{path, line} of the user line that created the task, or None if unknown."""
    record = _record(task)
    if record is None or record[1] is None:
        return None
    filename, line = record[1]
    return {"path": paths.display(filename), "line": line}
