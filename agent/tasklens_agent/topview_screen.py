"""`taskTimes` with a `limit` (the live `top` screen): sorted and filtered here, so that only
the rows on the screen cross the wire, with full rows (stack, awaiters, where it waits).

With 10,000 tasks the answer of every row as JSON, and its reading by `top`, took seconds of
the program's GIL per refresh; a screen shows a few dozen. Every task is still looked at (its
state for the loop's counts, its counters for the sort, the warnings), but only as numbers
already held by tasktime: no row, no frames, no name unless sorted or filtered by name, and
no object made per task (the entries sorted are the tasks' TaskTimes): objects alive while a
refresh runs outlive the collections it triggers, and 10,000 of them per refresh brought the
cyclic collector's full pass, 70-90 ms of the program's time on 3.11, every two refreshes.
The warnings that need a task's full row for their line are the first WARNINGS_SHOWN and the
selected task's; the others are counted (`warningsLeftOut`). Tasks stuck alike (as
`--diagnose` groups them: topview_stuck.group) are told by the first one's warning, with how
many more (`alike`): 10,000 workers each on an event of its own are one warning.
"""

from . import awaits
from . import task_views
from . import tasks as taskmod
from . import tasktime
from . import topview
from . import topview_stuck
from .threads import user_threads

STATE_RANK = {"running": 0, "ready": 1, "waiting": 2}
DETAIL_MORE = 50        # rows past the limit for the selected task's await tree
WARNINGS_SHOWN = 50     # tasks' warnings with their line per answer (the screen shows 3)


def _sort_key(key, now):
    """The value each entry (a task's TaskTimes) sorts by, the largest first (as `top` shows
    it)."""
    if key == "name":
        return None
    if key == "state":
        return lambda st: -STATE_RANK[st.shown]
    if key == "idle":
        return lambda st: now - st.first_seen - st.busy - st.sched
    if key == "age":
        from . import task_origins

        def age(st):
            a = task_origins.age_seconds(st.ref(), now)
            return a if a is not None else now - st.first_seen
        return age
    if key in ("busy", "sched", "polls", "wakes"):
        return lambda st: getattr(st, key)
    return lambda st: st.busy


def _name(st):
    return st.ref().get_name()


def _first(entries, value, reverse, limit):
    """The first `limit` entries by `value`, the largest first (by name when `value` is None),
    ties by name, all reversed with `reverse`: as the screen sorts what it gets (model.ts).
    Names are read only for the entries tied at the cut, not for all."""
    if value is None:
        entries.sort(key=_name, reverse=reverse)
        return entries[:limit]
    entries.sort(key=value, reverse=not reverse)
    if len(entries) <= limit:
        cut = len(entries)
    else:
        edge = value(entries[limit - 1]) if limit else None
        cut = limit
        while cut < len(entries) and value(entries[cut]) == edge:
            cut += 1
    head = entries[:cut]
    head.sort(key=_name, reverse=reverse)
    head.sort(key=value, reverse=not reverse)
    return head[:limit]


def _tasks_by_loop():
    """id(loop) -> its tasks not done, in no particular order (the sort comes after):
    `all_tasks(loop)` walks a weak set in Python and asks each task its loop through a Python
    call before 3.14."""
    out, seen = {}, set()
    for task in taskmod.live_tasks_unordered():
        if id(task) not in seen:
            seen.add(id(task))
            out.setdefault(id(task.get_loop()), []).append(task)
    return out


def screenful(core, args, limit, slow, stuck):
    """The answer with the first `limit` tasks in the order asked (`sort`: a column's name,
    `reverse`, `filter`: text in the name or coroutine), plus those of `detail` (the selected
    task and its awaiters); `matched` says how many tasks the filter let through."""
    tasktime.refresh()
    now = tasktime._clock()
    timed = {id(loop): lt for loop, lt in tasktime.loops()}
    topview.mark_early(timed, now)
    text = (args.get("filter") or "").lower()
    detail = set(i for i in args.get("detail") or () if type(i) is int)
    threads_by_ident = {t.ident: t for t in user_threads()}
    loop_threads = taskmod.loop_threads()
    counts = {key: {"running": 0, "ready": 0, "waiting": 0, "done": 0} for key in timed}
    warnings, every = [], []
    self_wake_min = topview.SELF_WAKE_MIN
    topview_state = topview.state

    def full_row(task, st, lt):
        row = task_views.row(core, task, threads_by_ident, loop_threads, now)
        row["loopId"] = id(task.get_loop())
        site = topview._coro_site(task)
        if site is not None:
            row["coroutineAt"] = site
        at = topview._user_frame(core, task)
        if at is not None:
            row["waitsAt"] = at
        row["times"] = topview._times(task, st, lt, now, True)
        return row

    by_loop = _tasks_by_loop()
    pending, later = set(), []
    verdict = topview_stuck.verdict
    pending_add = pending.add
    left_out = 0

    def room(task):
        """Whether a warning of `task` gets its line: the first WARNINGS_SHOWN do, and the
        selected task's; the rest are counted (each line needs the task's full row)."""
        return len(warnings) < WARNINGS_SHOWN or id(task) in detail

    alike = {}      # a stuck group (topview_stuck.group) -> the warning that tells it

    def stuck_warning(task, st, lt, row):
        """The task's stuck warning, or one more `alike` on the warning of a task stuck the
        same way; a task of `detail` (on the screen) has its own too, marked `alikeOf` that
        task, for its details. Returns whether it was left out."""
        key = topview_stuck.group(task)
        told = alike.get(key) if key is not None else None
        if told is not None:
            told["alike"] = told.get("alike", 0) + 1
            if id(task) in detail:
                topview._stuck_warning(core, task, st, row or full_row(task, st, lt), now,
                                       warnings)
                warnings[-1]["alikeOf"] = told["taskId"]
            return False
        if not room(task):
            return True
        topview._stuck_warning(core, task, st, row or full_row(task, st, lt), now, warnings)
        if key is not None:
            alike[key] = warnings[-1]
        return False

    for loop_key, lt in timed.items():
        times_of, counted = lt.of, counts[loop_key]
        for task in by_loop.get(loop_key, ()):
            # per task: numbers tasktime already holds, nothing built
            try:
                key = id(task)
                st = times_of(task, now)
                state = topview_state(task, st, lt)
                counted[state] += 1
                stuck_now = state == "waiting" and verdict(task, st, now, stuck)
                row = None
                if st.max_step >= slow or st.wakes >= self_wake_min or task.cancelling():
                    kinds = topview.task_warning_kinds(task, st, key, now, slow)
                    if kinds and room(task):
                        row = full_row(task, st, lt)
                        topview.add_warnings(core, task, row, kinds, warnings)
                    else:
                        left_out += len(kinds)
                if stuck_now:
                    left_out += stuck_warning(task, st, lt, row)
                elif stuck_now is None:
                    later.append((task, st, lt))
                st.shown = state
                every.append(st)    # not a tuple per task (see the top)
                pending_add(key)
            except Exception:   # finished or changed under us while the program runs
                continue
    topview_stuck.settle()
    for task, st, lt in later:
        try:
            if verdict(task, st, now, stuck):
                left_out += stuck_warning(task, st, lt, None)
        except Exception:
            continue
    if text:
        entries = [st for st in every if text in st.ref().get_name().lower()
                   or text in taskmod.coroutine_name(st.ref()).lower()]
    else:
        entries = list(every)
    shown = _first(entries, _sort_key(args.get("sort"), now), bool(args.get("reverse")), limit)
    seen = set(st.key for st in shown)
    by_id = {st.key: st for st in every} if detail else {}
    queue = [by_id[i] for i in detail if i in by_id]
    while queue and len(shown) < limit + DETAIL_MORE:   # the selected task, up its await tree
        st = queue.pop(0)
        if st.key not in seen:
            seen.add(st.key)
            shown.append(st)
        queue.extend(by_id[id(up)] for up in awaits.awaiters(st.ref())
                     if id(up) in by_id and id(up) not in seen)
    rows = []
    for st in shown:
        try:
            task = st.ref()
            rows.append(full_row(task, st, timed[id(task.get_loop())]))
        except Exception:
            continue
    body = topview.answer(timed, counts, pending, rows, now, slow, warnings)
    body["matched"] = len(entries)
    if left_out:
        body["warningsLeftOut"] = left_out
    return body
