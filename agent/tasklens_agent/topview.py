"""The `taskTimes` answer (`tasklens top`): the task table with each task's counters, a header
per loop, and the warnings someone chasing a slow service looks for first.

Runs on the control thread while the program runs: it reads tasktime's counters (written by
the loop threads) and the tasks themselves, never runs user code. A snapshot resets the
"longest step" and "max lag" of each loop: they are per interval between two snapshots.

Under sampled counting (`top --sample N`) the counters are estimates (tasktime_handle.py), and
what a step not sampled leaves unsaid is read from the program at the snapshot: which task
runs (asyncio's current task), whether a task is ready (it waits on no future) and, for a loop
held by one step, since when (the same step's frame seen by the snapshots before).
"""
import sys
import threading
import time

from . import looptime
from . import paths
from . import task_origins
from . import task_views
from . import tasks as taskmod
from . import tasktime
from . import topview_stuck
from .threads import other_frames, user_threads

DEFAULT_SLOW = 0.1      # as --diagnose's --slow-ms
DEFAULT_STUCK = 10.0    # as --diagnose's --stuck-s
SELF_WAKE_MIN = 10      # wakes seen before the self-waking share means anything
CANCEL_GRACE = 1.0      # seconds a cancelled task may run its clean-up before it is flagged
RETRIEVE_GRACE = 0.5    # seconds an awaiter has to retrieve a finished task's exception
_cancel_seen = {}       # id(task) -> when first seen cancelled and still pending
DETAIL_LIMIT = 100      # full rows when the asker names none


def _r(x):
    return round(x, 6)


def _coro_site(task):
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    if code is None:
        return None
    return {"path": paths.display(code.co_filename), "line": code.co_firstlineno}


def _user_frame(core, task):
    """{name, path, line}: the innermost user frame of the task (where it waits, or runs)."""
    for f in task_views.own_frames(core, task):
        if paths.is_user(f.f_code.co_filename):
            return {"name": f.f_code.co_qualname, "path": paths.display(f.f_code.co_filename),
                    "line": f.f_lineno or 0}
    return None


def _running_for(st, lt, now):
    """How long `st`'s step has run so far, if it runs now: a loop blocked in one step shows
    that task busy while it blocks, not only once the step ends."""
    if lt.current is st and lt.current_since:
        return max(0.0, now - lt.current_since)
    if lt.unsampled is st:  # at least since a snapshot saw it begun
        return max(0.0, now - lt.unsampled_since)
    if lt.early is st:      # began before the counting: at least since then
        return max(0.0, now - max(lt.started, st.first_seen))
    return 0.0


def state(task, st, lt):
    """running, ready or waiting: of a pending task, with its counters `st` of loop `lt`."""
    if lt.current is st or lt.early is st or lt.unsampled is st:
        return "running"
    if tasktime.sample_every == 1:
        return "ready" if st.ready_at is not None else "waiting"
    # sampled: a pending task that waits on no future is scheduled to run
    return "ready" if getattr(task, "_fut_waiter", None) is None else "waiting"


def _times(task, st, lt, now, full):
    tracked = now - st.first_seen
    state_now = state(task, st, lt)
    running = _running_for(st, lt, now)
    busy = st.busy + running
    r = _r if full else float     # rounding thousands of compact rows costs more than it saves
    out = {
        "state": state_now, "busy": r(busy), "sched": r(st.sched),
        "idle": r(max(0.0, tracked - busy - st.sched)), "polls": st.polls,
        "wakes": st.wakes, "selfWakes": st.self_wakes, "tracked": r(tracked),
        "maxStep": r(max(st.max_step, running)),
    }
    if full:
        out.update({
            "p50": _r(tasktime.percentile(st.hist, 0.5, st.max_step)),
            "p90": _r(tasktime.percentile(st.hist, 0.9, st.max_step)),
            "p99": _r(tasktime.percentile(st.hist, 0.99, st.max_step)),
            "histogram": st.hist[:max((i for i, n in enumerate(st.hist) if n), default=0) + 1],
        })
    return out


def _where_running(lt):
    """{name, path, line} of the innermost user frame of the step running on the loop now."""
    rec = lt.record
    frame = sys._current_frames().get(rec.ident)
    if frame is None:
        return None
    _, frames = looptime.step_frames(rec, frame)
    for f in frames:
        if paths.is_user(f.f_code.co_filename):
            return {"name": f.f_code.co_qualname, "path": paths.display(f.f_code.co_filename),
                    "line": f.f_lineno or 0}
    return None


def mark_early(timed, now):
    """A step that began before the counting did (a top of a program already blocked, the
    agent loaded into it for the top) is seen by nothing of tasktime's: while the loop has not
    run since the counting began (its lag probe has not run), a task the loop runs now, or a
    callback it is inside, is its running step, running at least since then."""
    frames = None
    for lt in timed.values():
        lt.early = lt.unsampled = None
        loop = lt.loop_ref()
        if tasktime.sample_every > 1 and lt.probed and lt.current is None and loop is not None:
            if frames is None:
                frames = other_frames()
            _see_unsampled(lt, loop, now, frames)
            continue
        if lt.probed or lt.current is not None:
            continue
        if loop is None:
            continue
        task = taskmod.running_task_of_loop(loop)
        if task is not None:
            lt.early = lt.of(task, now)
            continue
        if frames is None:
            frames = other_frames()
        frame = frames.get(lt.record.ident)
        if frame is not None and looptime.step_frames(lt.record, frame)[1]:
            lt.early = tasktime.TIMER     # a callback: "blocked by a callback"


def _see_unsampled(lt, loop, now, frames):
    """Sampled counting: the step running now, most often not sampled and so timed by nothing,
    is the task asyncio says runs; it has run at least since the first snapshot that saw the
    same step (the same frame of the handle's `_run`: a new one per step)."""
    task = taskmod.running_task_of_loop(loop)
    frame = frames.get(lt.record.ident)
    key = looptime.step_frames(lt.record, frame)[0] if frame is not None else None
    if task is None or key is None:
        lt.unsampled = lt.unsampled_frame = None
        return
    if key is not lt.unsampled_frame:
        lt.unsampled_frame, lt.unsampled_since = key, now
    lt.unsampled = lt.of(task, now)


def _loop_header(loop, lt, counts, now, slow, warnings):
    rec = lt.record
    thread = threading._active.get(rec.ident)
    current = lt.current
    running_for = now - lt.current_since if current is not None and lt.current_since else 0.0
    early = current is None and lt.early is not None
    if early:
        current, running_for = lt.early, now - lt.started   # at least: it began before
    elif current is None and lt.unsampled is not None:
        current, running_for, early = lt.unsampled, now - lt.unsampled_since, True
    head = {
        "loopId": id(loop), "thread": thread.name if thread is not None else None,
        "osThreadId": getattr(thread, "native_id", None), "kind": type(loop).__module__,
        "tasks": counts, "steps": lt.steps, "busy": _r(lt.busy + running_for),
        "since": _r(now - lt.started),
        "longestStep": _r(max(lt.longest, running_for)), "lag": _r(lt.lag),
        "lagMax": _r(lt.lag_max), "runningFor": _r(running_for),
    }
    if early:
        head["runningForAtLeast"] = True
    longest = lt.stats.get(lt.longest_key)
    if longest is not None and longest.ref() is not None:
        head["longestTask"] = longest.ref().get_name()
    lt.longest, lt.longest_key, lt.lag_max = 0.0, None, lt.lag
    if running_for >= slow:
        who = current.ref() if isinstance(current, tasktime.TaskTimes) else None
        at = _where_running(lt)
        if at is None and who is not None:
            # the loop's thread or its start unknown (a uvloop found running): the task's own
            # coroutine frame, at the line it runs
            frame = taskmod.top_frame(who)
            code = frame.f_code if frame is not None else None
            if code is not None and paths.is_user(code.co_filename):
                at = {"name": code.co_qualname, "path": paths.display(code.co_filename),
                      "line": frame.f_lineno or 0}
        warnings.append({
            "kind": "blockedLoop", "task": who.get_name() if who is not None else None,
            "taskId": id(who) if who is not None else None, "at": at,
            "message": "loop blocked for %s%.2f s by %s" % (
                "at least " if early else "", running_for,
                "task %s" % who.get_name() if who is not None else "a callback"),
        })
    return head


def _task_warnings(core, task, st, row, now, slow, warnings):
    """Every warning of a task but the stuck one (topview_stuck.py)."""
    add_warnings(core, task, row, task_warning_kinds(task, st, row["taskId"], now, slow),
                 warnings)


def task_warning_kinds(task, st, key, now, slow):
    """(kind, message) of each warning of `task` but the stuck one: numbers tasktime holds,
    no row (the live screen counts the warnings it leaves out, topview_screen.py)."""
    out = []
    if st.max_step >= slow:
        out.append(("neverYields", "one step took %.3f s without yielding" % st.max_step))
    if st.wakes >= SELF_WAKE_MIN and st.self_wakes * 2 > st.wakes:
        out.append(("selfWaking", "woke itself %d of %d times" % (st.self_wakes, st.wakes)))
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling() > 0:
        first = _cancel_seen.setdefault(key, now)
        if now - first >= CANCEL_GRACE:
            out.append(("cancelledRunning",
                        "cancelled %.1f s ago and still running" % (now - first)))
    return out


def add_warnings(core, task, row, kinds, warnings):
    """The warnings of `kinds` (task_warning_kinds) with the task's name and line."""
    if not kinds:
        return
    at = row.get("waitsAt") or _user_frame(core, task)
    for kind, message in kinds:
        warnings.append({"kind": kind, "task": row["name"], "taskId": row["taskId"], "at": at,
                         "message": message})


def _stuck_warning(core, task, st, row, now, warnings):
    """The warning of a task nothing can wake (topview_stuck.verdict said so)."""
    waited = topview_stuck.waited_for(task, st, now)
    warnings.append({
        "kind": "stuck", "task": row["name"], "taskId": row["taskId"],
        "at": row.get("waitsAt") or _user_frame(core, task),
        "message": "waiting %.0f s on %s; nothing can wake it"
                   % (waited, row.get("waitingOn") or "a future")})


def _finished(lt, now, warnings):
    out = []
    for st in list(lt.finished):
        out.append({"taskId": st.key, "name": st.name, "outcome": st.outcome,
                    "busy": _r(st.busy), "polls": st.polls, "finishedAgo": _r(now - st.finished)})
        task = st.ref()
        if st.outcome == "exception" and task is not None and now - st.finished >= RETRIEVE_GRACE \
                and getattr(task, "_log_traceback", False):
            exc = getattr(task, "_exception", None)
            warnings.append({
                "kind": "exceptionNotRetrieved", "task": st.name, "taskId": st.key, "at": None,
                "message": "finished with %s: %s, never retrieved" % (type(exc).__name__, exc)})
    return out


def task_times(core, args):
    """The answer to `taskTimes`. Every task gets a compact row (its counters); the table's
    full row (stack, awaiters, where it waits, creation) only the tasks of `detail` (a list of
    task ids, or "all"), else the first DETAIL_LIMIT: a full row costs about 70 µs, a compact
    one a few, and a `top` screen shows a few dozen rows of thousands of tasks."""
    slow = args.get("slowMs", DEFAULT_SLOW * 1000) / 1000.0
    stuck = args.get("stuckS", DEFAULT_STUCK)
    detail = args.get("detail")
    limit = args.get("limit")
    if type(limit) is int and limit >= 0:
        from . import topview_screen
        return topview_screen.screenful(core, args, limit, slow, stuck)
    tasktime.refresh()
    now = tasktime._clock()
    timed = {id(loop): lt for loop, lt in tasktime.loops()}
    mark_early(timed, now)
    live = _live_tasks()
    if detail == "all":
        wanted = None
    elif isinstance(detail, list):
        wanted = set(i for i in detail if type(i) is int)
    else:
        wanted = set(id(t) for t in live[:DETAIL_LIMIT])
    threads_by_ident = {t.ident: t for t in user_threads()}
    loop_threads = taskmod.loop_threads()
    warnings, loops, rows = [], [], []
    counts = {key: {"running": 0, "ready": 0, "waiting": 0, "done": 0} for key in timed}
    pending, later = set(), []
    for task in live:
        try:
            full = wanted is None or id(task) in wanted
            row = task_views.row(core, task, threads_by_ident, loop_threads, now) if full \
                else _compact(task, now)
        except Exception:   # finished or changed under us while the program runs
            continue
        loop_key = id(task.get_loop())
        row["loopId"] = loop_key
        if full:
            site = _coro_site(task)
            if site is not None:
                row["coroutineAt"] = site
            at = _user_frame(core, task)
            if at is not None:
                row["waitsAt"] = at
        rows.append(row)
        lt = timed.get(loop_key)
        if lt is None:
            continue
        st = lt.of(task, now)
        row["times"] = _times(task, st, lt, now, full)
        counts[loop_key][row["times"]["state"]] += 1
        pending.add(row["taskId"])
        _task_warnings(core, task, st, row, now, slow, warnings)
        stuck_now = row["times"]["state"] == "waiting" \
            and topview_stuck.verdict(task, st, now, stuck)
        if stuck_now:
            _stuck_warning(core, task, st, row, now, warnings)
        elif stuck_now is None:
            later.append((task, st, row))
    topview_stuck.settle()
    for task, st, row in later:
        if topview_stuck.verdict(task, st, now, stuck):
            _stuck_warning(core, task, st, row, now, warnings)
    return answer(timed, counts, pending, rows, now, slow, warnings)


def answer(timed, counts, pending, rows, now, slow, warnings):
    """The body of the answer around its rows: the loops' headers, the tasks finished, the
    warnings; forgets what it kept of tasks no longer `pending`."""
    for key in [k for k in _cancel_seen if k not in pending]:
        del _cancel_seen[key]
    topview_stuck.forget(pending)
    finished, loops = [], []
    for key, lt in timed.items():
        loop = lt.loop_ref()
        if loop is None:
            continue
        done = _finished(lt, now, warnings)
        counts[key]["done"] = len(done)
        finished.extend(done)
        loops.append(_loop_header(loop, lt, counts[key], now, slow, warnings))
    body = {"tasks": rows, "now": _r(now), "wall": time.time(), "loops": loops,
            "finished": finished, "warnings": warnings, "sampled": tasktime.sample_every,
            "auto": tasktime.auto}
    diagnosed = task_views.diagnosed_table()
    if diagnosed is not None:
        body["deadlocks"] = diagnosed.verdicts()
    return body


def _compact(task, now):
    row = {"threadId": taskmod.task_id(task), "taskId": id(task), "name": task.get_name(),
           "coroutine": taskmod.coroutine_name(task), "state": task_views.task_state(task),
           "stack": [], "awaitedBy": [], "compact": True}
    age = task_origins.age_seconds(task, now)
    if age is not None:
        row["ageSeconds"] = age
    return row


def _live_tasks():
    return taskmod.live_tasks()
