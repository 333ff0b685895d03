"""When and where each task was created, recorded as it is created, for `taskTable`.

The loop hook (tasks.py) calls `watch` when it first sees a loop run. `watch` puts a wrapper of
the loop's own `create_task` on the loop instance: every task made through the loop
(`asyncio.create_task`, `ensure_future`, `gather`, TaskGroup, a task factory the program set
before or sets later, eager tasks on 3.12+) passes through it, and the loop's task factory is
left alone (3.13 renames unnamed tasks "None" whenever any factory is set). The tasks that
exist when the loop is first seen (`asyncio.run`'s main task) are dated then and placed at the
user line that started the loop. Loops without an instance dict (uvloop's) are not watched.

Per task: `time.monotonic()` and the first user frame's file and line, in a
WeakKeyDictionary, so nothing outlives its task. That costs about 3-4 us per task (the weak
reference, the record, and the frame objects the walk to a user frame materializes): 15-20 %
on a program that creates tasks doing little each. So only programs run by `tasklens run`
(listen modes, where `ps` asks) are watched, not those launched by a debugger (`enabled`).
"""
import sys
import time
import weakref

from . import paths

_MAX_DEPTH = 16
enabled = False     # set by main before the loop hook is installed
_created = weakref.WeakKeyDictionary()
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
    own = getattr(loop, "__dict__", None)
    if own is None or getattr(own.get("create_task"), "_tasklens", False):
        return
    original = loop.create_task
    created, monotonic, getframe, kinds, kind = _created, _monotonic, _getframe, _kinds, _kind

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
            created[task] = (started, site)
        except TypeError:   # a factory's object that cannot be weakly referenced
            pass
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
        if task not in _created:
            _created[task] = (now, site)


def clock():
    return _monotonic()


def age_seconds(task, now=None):
    """Seconds since `task` was created, as of `now` (one `now` for a whole table keeps the ages
    of tasks created in one burst in creation order: `ps` sorts by them)."""
    record = _created.get(task)
    return None if record is None else round((_monotonic() if now is None else now) - record[0], 6)


def created_at(task):
    """{path, line} of the user line that created the task, or None if unknown."""
    record = _created.get(task)
    if record is None or record[1] is None:
        return None
    filename, line = record[1]
    return {"path": paths.display(filename), "line": line}
