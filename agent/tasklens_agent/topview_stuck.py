"""`top`'s stuck warning: whether nothing can wake a task that has waited past `--stuck-s`.

The verdict is the diagnostics' own (diagnostics/verdicts.Judge: who else holds what the task
waits on, the tasks that could complete it, timers, threads). It walks the heap, so it is made
on the loop's own thread, between two steps (diagnostics/onloop.py: a walk beside the
program's code could break a tuple it is building), in one job per loop and answer for all the
tasks the answer asks about; the answer waits for those JUDGE_WAIT at most, and a verdict a
busy or blocked loop has not reached by then is a later answer's. A task is asked about from
half the threshold on, so that its verdict is in when it reaches it, and once per wait: the
verdict is kept while the task waits on the same future. So a refresh of 10,000 tasks that all
wait long costs a dictionary lookup per task, not a verdict each. A task asleep or waiting on
I/O gets no verdict (its coroutine chain says so): a Judge indexes every task's frames, and
one per refresh for a task that sleeps on a loop of 10,000 tasks brought the cyclic
collector's full pass, 70 ms of the program's, every other refresh. A loop's next walk waits
PACE times the length of its last (diagnostics/onloop.next_post): with 10,000 tasks that keep
newly waiting long (a service's clients, each on a queue of its own) a walk at every refresh
would hold the loop 0.3-0.4 s each second (docs/bench-diagnose.md has the walk's length);
meanwhile their verdicts are not in, and no warning is shown.
"""
import time

from . import forksafe
from . import looptime
from . import tasks as taskmod
from . import tasktime
from .diagnostics import waits as wm

JUDGE_WAIT = 0.5        # seconds an answer waits in all for the loops to judge what it asked
_verdicts = {}          # id(task) -> [its waiter, the Job judging it (None until posted)]
_asked = {}             # LoopTimes.key -> (LoopTimes, [tasks]) asked, not yet posted
_seen_waiting = {}      # sampled counting: id(task) -> [its waiter, when a snapshot first saw it]
_last = {}              # LoopTimes.key -> the last Job posted to that loop
_lock = forksafe.lock()    # two `top`s answered at once each post what they asked


class _Unjudged:
    """The Job of a loop that took none (closed), or of a wait that ends by itself: nothing
    was judged stuck."""
    done = True
    error = None
    result = {}


def waited_for(task, st, now):
    """How long `task` has waited: since its last step; for a task that has not run since the
    counting began, since then, or since the diagnostics saw it begin to wait (`--diagnose`
    samples every task's wait), when that is earlier. Both clocks are looptime's monotonic.
    Under sampled counting its last step may not be the last sampled one: it has waited at
    least since a snapshot first saw it wait on the future it waits on now."""
    if tasktime.sample_every > 1:
        waiter = getattr(task, "_fut_waiter", None)
        seen = _seen_waiting.get(id(task))
        if seen is None or seen[0] is not waiter:
            _seen_waiting[id(task)] = seen = [waiter, now]
        return now - max(seen[1], st.last_end or st.first_seen)
    if st.last_end is not None:
        return now - st.last_end
    since = st.first_seen
    seen = looptime.waited_since(task)
    return now - (seen if seen is not None and seen < since else since)


def verdict(task, st, now, stuck):
    """Whether `task`, waiting, is stuck: True or False, or None when its verdict is not in
    yet (asked of its loop now or earlier): `settle` then, and ask again."""
    waited = waited_for(task, st, now)
    if waited < stuck / 2:
        return False
    waiter = getattr(task, "_fut_waiter", None)
    known = _verdicts.get(id(task))
    if known is None or known[0] is not waiter:
        if wm.wakeable(task):   # asleep, or on I/O: its verdict would only cost a heap walk
            _verdicts[id(task)] = [waiter, _Unjudged]
            return False
        with _lock:
            _verdicts[id(task)] = [waiter, None]
            _asked.setdefault(st.lt.key, (st.lt, []))[1].append(task)
        return None if waited >= stuck else False
    if waited < stuck:
        return False
    job = known[1]
    if job is None or not job.done:
        return None
    return job.error is None and id(task) in job.result


def settle():
    """Posts what this answer asked, one job per loop, and waits JUDGE_WAIT at most for them."""
    from .diagnostics import onloop
    now = time.monotonic()
    with _lock:
        asked = []
        for key, (lt, tasks) in list(_asked.items()):
            last = _last.get(key)
            if last is None or _walked_long_ago(last, now):
                asked.append((lt, tasks))
                del _asked[key]
            # else the loop's last walk is recent (or running): these wait for a later answer
    jobs = []
    for lt, tasks in asked:
        loop = lt.loop_ref()
        job = onloop.post(loop, _judge, loop, lt.record.ident, tasks) if loop is not None \
            else None
        if job is not None:
            with _lock:
                _last[lt.key] = job
        for task in tasks:
            entry = _verdicts.get(id(task))
            if entry is not None:
                entry[1] = job or _Unjudged
        if job is not None:
            jobs.append(job)
    until = time.monotonic() + JUDGE_WAIT
    for job in jobs:
        job.wait(until - time.monotonic())


def _walked_long_ago(job, now):
    """Whether a loop whose last walk was `job` may take the next (onloop.next_post)."""
    from .diagnostics import onloop
    return job.done and onloop.next_post(job) <= now


def forget(pending):
    """Drops the verdicts of tasks no longer pending (ids in `pending` are), and the last walks
    of loops that may take the next."""
    for key in [k for k in _verdicts if k not in pending]:
        del _verdicts[key]
    for key in [k for k in _seen_waiting if k not in pending]:
        del _seen_waiting[key]
    with _lock:
        now = time.monotonic()
        for key in [k for k, job in _last.items() if _walked_long_ago(job, now)]:
            del _last[key]


def group(task):
    """What `task`, judged stuck, has alike with others stuck the same way (diagnostics/alike.py:
    where, on what, why, made where, by which coroutine; the live screen tells them in one
    warning), or None if it has no verdict."""
    entry = _verdicts.get(id(task))
    job = entry[1] if entry is not None else None
    if job is None or not job.done or job.error is not None:
        return None
    return job.result.get(id(task))


def _judge(loop, ident, tasks):
    """On the loop's thread: {id(task): its group} for the tasks of `tasks` that nothing can
    wake (one Judge for all: they share its heap walks)."""
    from .diagnostics import alike
    from .diagnostics import verdicts
    pending = [t for t in taskmod.live_tasks_unordered()
               if t.get_loop() is loop and not t.done()]
    tasks = [t for t in tasks if not t.done()]
    hopeless = verdicts.Judge(loop, ident, pending).hopeless(tasks)
    return {id(w.task): alike.key(w) for w in hopeless}
