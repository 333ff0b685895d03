"""`tasklens top` without `--sample`: exact counting while it costs the program little, sampled
counting once it would cost more.

Exact counting costs a fixed time per task step (tasktime_handle.py: a Python frame's worth of
clock reads and counter updates) and per task (its counters made and put away). A program of a
few tasks never notices; a service making tens of thousands of short steps a second pays it in
full (1.36-1.41x the instructions of the throughput benchmark, docs/bench-top.md). So the
counting a `top` asks by default starts exact, and each counted loop estimates what it costs
the program: the steps counted since the counting began (or the last check) times the cost of
counting one step, plus the tasks first seen times the cost of a task's counters, both measured
once in this process (`calibrate`), over the wall time between. It does so at its lag probe
(tasktime._probe, between two loop iterations), first once FIRST_CHECK_S has passed, then every
CHECK_S; and at every BURST-th task first seen, where the BURST tasks' counters and first steps
are judged over the time they took to come (a burst of new tasks is judged as it comes, not half
a second later). Past SWITCH_AT (2 %) the counting turns to sampling one wake in N
(tasktime.resample), N the smallest power of two from MIN_SAMPLE (64) that brings the estimate
under AIM (0.5 %). Sampled steps are weighed (a sampled step counts N), so the same estimate
says what exact counting would cost: under BACK_AT (0.5 %) at a periodic check, the counting
turns back to exact (a burst at start-up does not sample a quiet program for ever). The last
top to leave switches the counting off, and the next one starts exact again.

Both sides of the estimate are times measured on the same machine in the same process, so a
slower machine (or valgrind) moves them alike. The stand-in measured runs hot in the caches, so
the estimate is below what a real program pays (the echo server of docs/bench-top.md: 4.6 %
estimated, where exact counting costs it 1.10x its instructions): hence a threshold of 2 %. A loop whose iterations
run thousands of ready tasks each, none of them new, decides after its first such iteration.

Who runs where: `check` (and `calibrate`, at the first) on each loop's thread, in its probe or
as it gives a task counters, or on top's control thread when a snapshot gives counters to tasks
not seen yet. Switching is done once, under tasktime's lock.
"""
import collections
import contextvars
import sys
import time
import types

FIRST_CHECK_S = 0.02    # the first check, since the loop was first counted
CHECK_S = 0.5
SWITCH_AT = 0.02
BACK_AT = 0.005         # sampled, and exact counting would cost less than this: exact again
AIM = 0.005
MIN_SAMPLE = 64
MAX_SAMPLE = 1000
BURST = 512             # tasks first seen: every BURST of them judged as they come
_ROUNDS = 100
step_cost = None        # seconds exact counting adds to one task step here, once measured
task_cost = 0.0         # and to one task: its counters made and put away
_measuring = False      # while `calibrate` runs: its stand-ins' counters are judged by nobody
_failed = False         # a check failed once: no more (tasktime_auto's own error, logged)


class _Owner:
    """Stands in for a task: a callback's `__self__`, never done."""
    __slots__ = ("__weakref__",)

    def step(self):
        pass

    def done(self):
        return False

    def get_name(self):
        return "stand-in"

    def cancelled(self):
        return False


class _Loop:
    """What asyncio's `_call_soon` and Handle touch of a loop."""

    def __init__(self):
        self._ready = collections.deque()

    def get_debug(self):
        return False


def calibrate(tt):
    """Measure, once per process, what exact counting adds to a step (asyncio's `_call_soon`
    and Handle against tasktime_handle's, on a stand-in task) and to a task (its counters made
    and put away), the best of three rounds each."""
    global step_cost, task_cost, _measuring
    if step_cost is not None:
        return step_cost
    base = sys.modules.get("asyncio.base_events")
    original = base.BaseEventLoop.__dict__.get("_call_soon") if base is not None else None
    if original is None:
        step_cost = 0.0
        return step_cost
    from . import tasktime_handle
    hook = tasktime_handle.build(tt, False, 1)
    loop, owner = _Loop(), _Owner()
    lt = tt.LoopTimes(loop, types.SimpleNamespace(loop_ref=lambda: loop))
    st = tt.TaskTimes(owner, tt._clock(), lt)
    callback, context, ready = owner.step, contextvars.copy_context(), loop._ready
    tt.by_task[id(owner)] = st
    _measuring = True
    try:
        best = [float("inf"), float("inf")]     # asyncio's, ours: each its fastest round
        for _ in range(3):
            for i, call_soon in enumerate((original, hook)):
                start = time.perf_counter()
                for _ in range(_ROUNDS):
                    call_soon(loop, callback, (), context)
                    ready.popleft()._run()
                best[i] = min(best[i], time.perf_counter() - start)
        task_cost = min(_task_round(tt, lt) for _ in range(3))
    finally:
        _measuring = False
        if tt.by_task.get(id(owner)) is st:
            del tt.by_task[id(owner)]
    step_cost = max(0.0, (best[1] - best[0]) / _ROUNDS)
    return step_cost


def _task_round(tt, lt):
    """Seconds a task's counters cost, made and put away, over _ROUNDS stand-ins."""
    owners = [_Owner() for _ in range(_ROUNDS)]
    start = time.perf_counter()
    for owner in owners:
        tt.finish(lt, lt.adopt(owner, start), owner, start)
    return (time.perf_counter() - start) / _ROUNDS


def check(tt, lt, now, burst=False):
    """On loop `lt`'s thread (from its probe, or as it gives a task counters, `burst`): judge
    what exact counting costs this loop, and switch the counting if it should. A failure here
    is the agent's own: logged, and the counting stays as it is (the program never sees it, and
    the lag probe goes on)."""
    global _failed
    if _measuring or _failed:
        return
    try:
        _check(tt, lt, now, burst)
    except Exception:
        _failed = True
        from . import log
        if log.enabled():
            import traceback
            log.write("tasktime_auto: judging the counting failed; it stays as it is\n%s"
                      % traceback.format_exc())


def _check(tt, lt, now, burst):
    if step_cost is None:
        calibrate(tt)       # once, at the first check: asyncio is loaded by then
    if burst:
        # BURST tasks given counters (each with a step at least) over the time they came in
        since, lt.burst_mark = lt.burst_mark or lt.started, now
        share = BURST * (task_cost + step_cost) / max(now - since, 1e-9)
        if tt.sample_every == 1 and share > SWITCH_AT:
            tt.resample(sample_for(share))
        return
    mark = lt.auto_mark or (lt.started, 0, 0)
    if now - mark[0] < (CHECK_S if lt.auto_mark is not None else FIRST_CHECK_S):
        return
    steps = lt.steps        # a sum over the loop's tasks (sampled steps weighed): once a check
    lt.auto_mark = (now, steps, lt.adopted)
    cost = (steps - mark[1]) * step_cost + (lt.adopted - mark[2]) * task_cost
    share = cost / max(now - mark[0], 1e-9)     # what exact counting costs, or would
    if tt.sample_every == 1 and share > SWITCH_AT:
        tt.resample(sample_for(share))
    elif tt.sample_every != 1 and share < BACK_AT:
        tt.resample(1)


def sample_for(share):
    """The N that brings an exact counting costing `share` of the time under AIM."""
    n = MIN_SAMPLE
    while share / n > AIM and n < MAX_SAMPLE:
        n *= 2
    return min(n, MAX_SAMPLE)
