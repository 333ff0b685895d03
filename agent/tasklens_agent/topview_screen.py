"""`taskTimes` with a `limit` (the live `top` screen): sorted and filtered here, so that only
the rows on the screen cross the wire, with full rows (stack, awaiters, where it waits).

With 10,000 tasks the answer of every row as JSON, and its reading by `top`, took seconds of
the program's GIL per refresh; a screen shows a few dozen. Every task is still looked at (its
state for the loop's counts, its counters for the sort, the warnings), but only as numbers
already held by tasktime: no row, no frames, no name unless sorted or filtered by name.
"""
from . import awaits
from . import task_views
from . import tasks as taskmod
from . import tasktime
from . import topview
from .threads import user_threads

STATE_RANK = {"running": 0, "ready": 1, "waiting": 2}
DETAIL_MORE = 50        # rows past the limit for the selected task's await tree


def _sort_key(key, now):
    """The value each (task, st, state) entry sorts by, the largest first (as `top` shows it)."""
    if key == "name":
        return None
    if key == "state":
        return lambda e: -STATE_RANK[e[2]]
    if key == "idle":
        return lambda e: now - e[1].first_seen - e[1].busy - e[1].sched
    if key == "age":
        from . import task_origins

        def age(e):
            a = task_origins.age_seconds(e[0], now)
            return a if a is not None else now - e[1].first_seen
        return age
    if key in ("busy", "sched", "polls", "wakes"):
        return lambda e: getattr(e[1], key)
    return lambda e: e[1].busy


def _may_warn(task, st, state, now, slow, stuck):
    """A cheap test before topview's warnings, which need a full row."""
    if st.max_step >= slow or (st.wakes >= topview.SELF_WAKE_MIN and st.self_wakes * 2 > st.wakes):
        return True
    if state == "waiting" and now - (st.last_end or st.first_seen) >= stuck:
        return True
    cancelling = getattr(task, "cancelling", None)
    return cancelling is not None and cancelling() > 0


def screenful(core, args, limit, slow, stuck):
    """The answer with the first `limit` tasks in the order asked (`sort`: a column's name,
    `reverse`, `filter`: text in the name or coroutine), plus those of `detail` (the selected
    task and its awaiters); `matched` says how many tasks the filter let through."""
    tasktime.refresh()
    now = tasktime._clock()
    timed = {id(loop): lt for loop, lt in tasktime.loops()}
    text = (args.get("filter") or "").lower()
    detail = set(i for i in args.get("detail") or () if type(i) is int)
    threads_by_ident = {t.ident: t for t in user_threads()}
    loop_threads = taskmod.loop_threads()
    counts = {key: {"running": 0, "ready": 0, "waiting": 0, "done": 0} for key in timed}
    warnings, entries, pending, every = [], [], set(), {}

    def full_row(task, st, lt):
        row = task_views.row(core, task, threads_by_ident, loop_threads, now)
        row["loopId"] = id(task.get_loop())
        site = topview._coro_site(task)
        if site is not None:
            row["coroutineAt"] = site
        at = topview._user_frame(core, task)
        if at is not None:
            row["waitsAt"] = at
        row["times"] = topview._times(st, lt, now, True)
        return row

    for task in topview._live_tasks():
        try:
            loop_key = id(task.get_loop())
            lt = timed.get(loop_key)
            if lt is None or task.done():
                continue
            st = lt.stats.get(id(task))
            if st is None or st.ref() is not task:
                st = lt.adopt(task, now)
            current = lt.current
            state = "running" if current is st else "ready" if st.ready_at is not None else "waiting"
            counts[loop_key][state] += 1
            pending.add(id(task))
            if _may_warn(task, st, state, now, slow, stuck):
                topview._task_warnings(core, task, st, full_row(task, st, lt), now, slow, stuck,
                                       warnings)
            every[id(task)] = entry = (task, st, state)
            if text and text not in task.get_name().lower() \
                    and text not in taskmod.coroutine_name(task).lower():
                continue
            entries.append(entry)
        except Exception:   # finished or changed under us while the program runs
            continue
    value = _sort_key(args.get("sort"), now)
    names = {}

    def name(e):
        n = names.get(id(e[0]))
        if n is None:
            n = names[id(e[0])] = e[0].get_name()
        return n
    if value is None:
        entries.sort(key=name)
    else:
        # the largest first, ties by name: as the screen sorts what it gets (model.ts)
        entries.sort(key=name)
        entries.sort(key=value, reverse=True)
    if args.get("reverse"):
        entries.reverse()
    shown = entries[:limit]
    seen = set(id(e[0]) for e in shown)
    queue = [every[i] for i in detail if i in every]
    while queue and len(shown) < limit + DETAIL_MORE:   # the selected task, up its await tree
        e = queue.pop(0)
        if id(e[0]) not in seen:
            seen.add(id(e[0]))
            shown.append(e)
        queue.extend(every[id(up)] for up in awaits.awaiters(e[0])
                     if id(up) in every and id(up) not in seen)
    rows = []
    for task, st, _ in shown:
        try:
            rows.append(full_row(task, st, timed[id(task.get_loop())]))
        except Exception:
            continue
    body = topview.answer(timed, counts, pending, rows, now, slow, warnings)
    body["matched"] = len(entries)
    return body
