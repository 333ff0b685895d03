"""The verdicts the watchdog and `top` ask for: whether anything can still end a task's wait
(Judge: a timer, I/O, an executor job, a callback or thread holding what it waits on, a task
that can go on and complete it), and which wait cycles tasks have closed (`examine`). They walk
the heap (referrers.py, outside.py), so outside a loop asleep in select() they run on the
loop's own thread, between two steps (onloop.py).
"""
import time

from .. import looptime
from .. import paths
from ..threads import other_frames, user_threads
from . import outside as outside_refs
from . import waits as wm


def examine(rec, seeds, stuck, tasks, long_after, failed_using):
    """On the loop's thread: (the wait cycles that tasks of `seeds` lead into, not yet
    reported and not held open by a callback or thread, as (key, Waits); the Waits of `stuck`
    that nothing can end; how many tasks were judged)."""
    cycles = _cycles(rec, seeds, tasks, time.monotonic(), long_after, failed_using)
    found = set().union(*(waiters for waiters, _ in cycles))
    stuck = [t for t in stuck if id(t._fut_waiter) not in found]    # reported as a cycle
    hopeless = Judge(rec.loop, rec.ident, tasks, failed_using).hopeless(stuck) if stuck else []
    return cycles, hopeless, len(tasks)


def _cycles(rec, seeds, tasks, now, long_after, failed_using):
    """The wait cycles (awaits, gathers, locks held) that tasks of `seeds` lead into, through
    tasks that have all waited `long_after`; the edges come from the tasks' own objects, and a
    full Wait is built only for the tasks of a cycle found."""
    def long_waiting(task):
        since = looptime.waited_since(task)
        return since is not None and now - since >= long_after
    done, found = set(), []
    for start in seeds:
        path, index = [], {}
        task = start
        while task is not None and id(task) not in index and id(task) not in done \
                and long_waiting(task):
            index[id(task)] = len(path)
            path.append(task)
            task = next((t for t in wm.strong_edges(task) if long_waiting(t)), None)
        done.update(index)
        if task is None or id(task) not in index:
            continue
        cycle = path[index[id(task)]:]
        key = frozenset(id(t._fut_waiter) for t in cycle)
        if key in rec.cycles_reported or any(key == k for k, _ in found):
            continue
        full = wm.build(cycle, failed_using, everyone=tasks)
        outside = outside_refs.OutsideRefs(rec.loop, wakers(rec.ident), loops())
        if any(w.kind == "lock" and outside.refer_to(w.obj) for w in full.values()):
            continue    # a callback or a thread holds a lock of the cycle: it may release it
        found.append((key, full))
    return found


def wakers(loop_ident):
    """Other threads that could still wake the loop run by thread `loop_ident`
    (call_soon_threadsafe, an executor job): any running thread but idle executor workers,
    joins, and sleeping loops."""
    sleeping = {r.ident for r in looptime.records() if r.idle and r.timeout is None}
    current = other_frames()
    out = []
    for thread in user_threads():
        if thread.ident == loop_ident or thread.ident in sleeping:
            continue
        frame = current.get(thread.ident)
        if frame is None or _idle_thread(frame):
            continue
        out.append(thread)
    return out


def loops():
    """The program's event loops that run (the others' callbacks may wake this one's tasks)."""
    return [loop for loop in (r.loop for r in looptime.records()) if loop is not None]


class Judge:
    """The stuck-task verdict for pending tasks of one loop: nothing can end their wait (no
    timer, I/O or executor job, no callback or thread holding what they wait on, no task that
    can go on and complete it). What is costly is shared between the tasks judged: the
    tasks' frames, who holds each object waited on (heap walks), the loop's callbacks and the
    threads. For the watchdog's stuck check and for `top`'s warning alike."""

    def __init__(self, loop, loop_ident, tasks, failed_using=lambda obj: []):
        self.tasks = tasks              # the loop's pending tasks
        self.failed_using = failed_using
        self.timed = _timed_tasks(loop)
        threads = wakers(loop_ident)
        self.wakers = bool(threads)
        self.outside = outside_refs.OutsideRefs(loop, threads, loops())

    def hopeless(self, candidates):
        """The Waits of `candidates` that nothing can end (explained: what a report says of
        them is in, as the Waits let go of what they shared while judged)."""
        graph = wm.Graph(wm.build(candidates, self.failed_using, everyone=self.tasks),
                         self.tasks)
        try:
            waits = [w for w in (graph.get(id(t)) for t in candidates) if w is not None]
            # uvloop: what its handles in C hold, and its timeouts, found for all at once
            self.outside.prime([w.obj for w in waits if w.kind in wm.HELD_KINDS],
                               lambda: wm.own_objects(graph))
            graph.in_timeout = self.outside.tasks_in_timeouts(len(waits))
            return [w for w in waits
                    if not wm.can_wake(w, graph, self.timed, self.wakers, self.outside)]
        finally:
            wm.release(graph)


def _idle_thread(frame):
    """A thread that cannot wake a loop by itself: an idle executor worker, or a join."""
    code = frame.f_code
    name = code.co_filename.replace("\\", "/")
    if name.endswith("concurrent/futures/thread.py") and code.co_name == "_worker":
        return True
    while frame is not None and paths.kind(frame.f_code.co_filename) == "library":
        if frame.f_code.co_name == "join" and frame.f_code.co_filename.endswith("threading.py"):
            return True
        frame = frame.f_back
    return False


def _timed_tasks(loop):
    """Tasks an `asyncio.timeout()` / `wait_for` timer will cancel (selector loops)."""
    out = set()
    for handle in list(getattr(loop, "_scheduled", ()) or ()):
        owner = getattr(getattr(handle, "_callback", None), "__self__", None)
        task = getattr(owner, "_task", None)
        if task is not None:
            out.add(id(task))
    return out
