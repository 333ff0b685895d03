"""What the protocol shows of asyncio tasks: the threads list, a task's stack, the task table.

A task's own frames: a running task's real stack cut at its top coroutine (the event loop below
is not its caller), taken from its parked thread (or read live when that thread is in native
code); a suspended task's coroutine chain. Then, for each task awaiting it, a label and that
task's own frames, recursively, as in `pstree`.
"""
import sys

from . import awaits
from . import frames as framemod
from . import paths
from . import task_origins
from . import tasks as taskmod
from .protocol import AgentError, INVALID_HANDLE
from .threads import thread_id, user_threads

DEFAULT_MAX_TASK_THREADS = 1000
_MAX_STACK = 400


class Separator:
    """What the frame id of an "awaited by" line stands for: a place in the stack that an
    editor can select, with nothing to inspect."""
    __slots__ = ("label",)

    def __init__(self, label):
        self.label = label


def stopped_tasks(core):
    return [ts.task for ts in list(core.states.values()) if ts.parked and ts.task is not None]


def threads_body(core, args):
    body = {"threads": [{"id": thread_id(t), "name": t.name} for t in user_threads()]}
    cap = args.get("maxTaskThreads")
    cap = DEFAULT_MAX_TASK_THREADS if not isinstance(cap, int) or cap < 0 else cap
    live = taskmod.live_tasks()
    shown = live[:cap]
    if len(live) > cap:
        # The cap holds with the stopped tasks in it: they take the places of the last ones.
        listed = {id(t) for t in shown}
        extra = [t for t in stopped_tasks(core) if id(t) not in listed]
        if extra:
            place = {id(t): i for i, t in enumerate(live)}
            shown = live[:max(cap - len(extra), 0)] + extra
            shown.sort(key=lambda t: place.get(id(t), len(live)))
        body["tasksOmitted"] = len(live) - len(shown)
    body["threads"].extend({"id": taskmod.task_id(t), "name": taskmod.task_name(t)}
                           for t in shown)
    return body


def loop_thread(task):
    """Ident of the thread running the task's loop now, or None."""
    try:
        loop = task.get_loop()
    except Exception:
        return None
    return taskmod.loop_threads().get(id(loop))


def state_of(core, task):
    """The ThreadState that owns requests about this task's frames (its loop's thread)."""
    ident = loop_thread(task)
    return core.states.get(ident) if ident is not None else None


def is_running(task):
    try:
        return taskmod.running_task_of_loop(task.get_loop()) is task
    except Exception:
        return False


def own_frames(core, task):
    """The task's own frames, innermost first, without the agent's."""
    if is_running(task):
        ts = resolve(core, taskmod.task_id(task))[1]    # held off its loop's thread too
        if ts is not None and ts.parked and ts.frames:
            stack = ts.frames
        else:
            stack = framemod.thread_stack(sys._current_frames().get(loop_thread(task)))
        top = taskmod.top_frame(task)
        for i, frame in enumerate(stack):
            if frame is top:
                return stack[:i + 1]
        return stack
    return [f for f in awaits.coroutine_chain(task)
            if not paths.is_agent(f.f_code.co_filename)]


def resolve(core, tid):
    """(task, ThreadState or None) for a task pseudo-thread id: the parked thread running the
    task, else its loop's thread; (None, None) once the task is gone."""
    task = taskmod.task_by_id(tid)
    if task is None:
        return None, None
    for ts in list(core.states.values()):
        if ts.parked and ts.task is task:
            return task, ts
    return task, state_of(core, task)


def stack_items(core, task):
    """[(frame or None, label or None, task it belongs to)] innermost first: the task, then
    who awaits it."""
    items = [(f, None, task) for f in own_frames(core, task)]
    ts = state_of(core, task)
    if ts is not None and ts.native and is_running(task):   # its thread is in native code
        items.insert(0, (None, ts.native, task))
    seen = {id(task)}
    pending = [(task, 0)]
    while pending and len(items) < _MAX_STACK:
        current, depth = pending.pop()
        for awaiter in awaits.awaiters(current) if depth < 32 else ():
            if id(awaiter) in seen:
                continue
            seen.add(id(awaiter))
            items.append((None, "awaited by " + taskmod.task_name(awaiter), awaiter))
            items.extend((f, None, awaiter) for f in own_frames(core, awaiter))
            pending.append((awaiter, depth + 1))
    return items


def stack_trace(core, args, source_reference):
    """The stackTrace body for a task pseudo-thread."""
    task, _ = resolve(core, args.get("threadId"))
    if task is None or task.done():
        raise AgentError(INVALID_HANDLE, "task %r has finished" % args.get("threadId"))
    just_my_code = args.get("justMyCode", core.just_my_code)
    items = stack_items(core, task)
    if just_my_code:
        items = [i for i in items if i[0] is None or paths.is_user(i[0].f_code.co_filename)]
    start = int(args.get("startFrame") or 0)
    levels = int(args.get("levels") or 0)
    page = items[start:start + levels] if levels else items[start:]
    states = {}
    out = []
    for frame, label, owner in page:
        if id(owner) not in states:
            states[id(owner)] = resolve(core, taskmod.task_id(owner))[1]
        if frame is None:
            out.append(label_frame(core, states[id(owner)], label))
            continue
        info = framemod.describe(frame)
        on_disk = info.pop("on_disk")
        info["id"] = core.frame_handle(states[id(owner)], frame)
        if not on_disk:
            info["sourceReference"] = source_reference(frame.f_code.co_filename)
        if info["library"]:
            info["presentationHint"] = "subtle"
        out.append(info)
    return {"stackFrames": out, "totalFrames": len(items)}


def label_frame(core, ts, label):
    """A stack entry that only says something ("awaited by …", "blocked in native code …"):
    its id leads to a Separator, which has no scopes, so a click on it shows nothing."""
    return {"id": core.frame_handle(ts, Separator(label)), "name": label, "line": 0,
            "column": 0, "presentationHint": "label", "library": False}


def task_state(task):
    if task.done():
        return "cancelled" if task.cancelled() else "done"
    return "running" if is_running(task) else "pending"


def task_table(core):
    threads_by_ident = {t.ident: t for t in user_threads()}
    loop_threads = taskmod.loop_threads()
    rows = []
    now = task_origins.clock()
    for task in taskmod.live_tasks():
        try:
            rows.append(row(core, task, threads_by_ident, loop_threads, now))
        except Exception:   # finished or changed under us while the program runs
            continue
    body = {"tasks": rows, "asyncioLoaded": "asyncio.tasks" in sys.modules}
    diagnosed = diagnosed_table()
    if diagnosed is not None:
        body["deadlocks"] = diagnosed.verdicts()
    return body


def diagnosed_table():
    """diagnostics/table.py while diagnostics run, else None (the package may be imported
    without running: `top` uses its stuck-task verdict)."""
    diag = sys.modules.get("tasklens_agent.diagnostics")
    if diag is None or not diag.active():
        return None
    return sys.modules.get("tasklens_agent.diagnostics.table")


def row(core, task, threads_by_ident, loop_threads, now):
    """The table's row of one task (also `taskTimes`' full rows, topview.py)."""
    own = own_frames(core, task)
    thread = threads_by_ident.get(loop_threads.get(id(task.get_loop())))
    row = {
        "threadId": taskmod.task_id(task),
        "taskId": id(task),
        "name": task.get_name(),
        "coroutine": taskmod.coroutine_name(task),
        "state": task_state(task),
        "osThreadId": thread.native_id if thread is not None else None,
        "threadIdOfLoop": thread_id(thread) if thread is not None else None,
        "stack": [{"name": f.f_code.co_qualname, "path": paths.display(f.f_code.co_filename),
                   "line": f.f_lineno or 0} for f in own],
        "awaitedBy": [taskmod.task_id(a) for a in awaits.awaiters(task)],
    }
    created = task_origins.created_at(task) or awaits.created_at(task)
    if created is not None:
        row["createdAt"] = created
    age = task_origins.age_seconds(task, now)
    if age is not None:
        row["ageSeconds"] = age
    if row["state"] == "pending":
        waiting = awaits.waiting_on(task, awaits.coroutine_chain(task))
        if waiting:
            row["waitingOn"] = waiting
        diagnosed = diagnosed_table()
        if diagnosed is not None:
            row.update(diagnosed.task_fields(task))
    return row
