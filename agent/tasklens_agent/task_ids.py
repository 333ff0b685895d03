"""Stable task ids, handed out in creation order, and the order tasks are listed in.

tasks.py finds the loops and their live tasks; this module numbers and orders them (the rest of
the agent reaches `task_id`, `task_by_id` and `is_task_id` through tasks.py). Ids come from a
counter kept per task object (never `id()`), starting at TASK_ID_BASE, never reused.

Order: every source of live tasks is an unordered set, so the threads list would change between
sessions. Tasks are listed by loop (in the order the loops first ran), then by id; ids are
handed out in creation order, which a wrapper of each loop's own `create_task` (an instance
attribute, put there when the loop first runs) records as a list of weak references, drained at
each listing, and before any task is given an id outside one (a task that stops first still
comes after those created before it); under `tasklens run`, task_origins.py dates every task
instead, and those dates give the order (core.py lists the tasks before it names a task that
stops before any listing). (uvloop's loop class is a Python subclass, so it has one too.) Tasks whose
creation was not seen (a loop with `__slots__`, tasks older than their loop's first run) get ids
in a stable order of their names instead.

Who runs where: the `create_task` wrapper runs on each loop's own thread and only appends to
`_created`; whichever thread lists or names tasks (the control thread, a stopped thread, the
diagnostics' watchdog) drains it and hands out ids, under `_id_lock`.
"""
import itertools
import sys
import weakref

from . import forksafe
from . import loop_patch
from . import task_origins

TASK_ID_BASE = 1_000_000

_ids = itertools.count(TASK_ID_BASE)
_by_task = weakref.WeakKeyDictionary()
_by_id = weakref.WeakValueDictionary()
_id_lock = forksafe.lock()
_created = []       # weak references to tasks in creation order, not yet given ids
_created_limit = [4096]     # compact `_created` past this length (grows with live tasks)
_order_watched = weakref.WeakSet()


def _record_creation_order(loop):
    """Wrap `loop.create_task` to note each task it makes, in order; queue the tasks the loop
    already has (asyncio.run's main task) first."""
    try:
        _order_watched.add(loop)
    except TypeError:
        return
    created, ref = _created, weakref.ref

    def make(original):
        def create_task(self, coro, **kwargs):
            task = original(self, coro, **kwargs)
            try:
                created.append(ref(task))
            except TypeError:   # a task factory's object that cannot be weakly referenced
                return task
            if len(created) > _created_limit[0]:
                _compact_created()
            return task
        return create_task
    if not loop_patch.wrap(loop, "order", make):
        return
    mod = sys.modules.get("asyncio.tasks")
    try:    # on the program's way into its loop: whatever goes wrong costs only the order
        existing = sorted(mod.all_tasks(loop), key=_name_key) if mod is not None else ()
        created.extend(weakref.ref(task) for task in existing)
    except Exception:
        pass


def _compact_created():
    """Between listings, forget tasks that have ended, so the queue is bounded by the live
    ones; the limit doubles with them, so this costs O(1) per task created. (Racing with a
    listing or another loop's thread can only cost a few tasks their place in the order.)"""
    kept = [r for r in list(_created) if (t := r()) is not None and not t.done()]
    _created[:] = kept
    _created_limit[0] = max(4096, 2 * len(kept))


def _drain_created():
    """Give ids, in creation order, to the tasks created since the last listing."""
    refs = _created[:]
    del _created[:len(refs)]
    for r in refs:
        t = r()
        if t is not None and not t.done():
            task_id(t)


def _name_key(task):
    """A stable order for tasks whose creation was not seen: "worker-2" before "worker-10",
    unnamed tasks ("Task-N", N counted at creation) by N."""
    try:
        name = task.get_name()
    except Exception:
        name = ""
    # Text and numbers alternate, text first (as re.split(r"(\d+)") would cut it; `re` itself
    # is not imported here: it is 1.2 MB that a program under `tasklens run` may never load).
    key, text = [], ""
    for decimal, run in itertools.groupby(name, str.isdecimal):
        run = "".join(run)
        if decimal:
            key += [text, int(run)]
            text = ""
        else:
            text = run
    key.append(text)
    return tuple(key)


def _ordered(tasks, loops):
    """Unique tasks by loop (`loops`: tasks.py's, in the order they first ran), in id order;
    tasks met for the first time get ids here."""
    _drain_created()
    seen = set()
    known, new = [], []
    get = _by_task.get
    for t in tasks:
        if id(t) in seen:
            continue
        seen.add(id(t))
        tid = get(t)
        if tid is None:
            new.append(t)
        else:
            known.append((tid, t))
    rank = _loop_rank(loops)
    new.sort(key=_new_key if rank is None else lambda t: (rank(t), _new_key(t)))
    known.extend((task_id(t), t) for t in new)
    if rank is None:
        known.sort(key=_first)
        return [t for _, t in known]
    grouped = sorted((rank(t), tid, t) for tid, t in known)    # (rank, tid) is unique
    return [t for _, _, t in grouped]


def _new_key(task):
    """Tasks met for the first time: those task_origins dated, in creation order (it wraps
    `create_task` instead of `_record_creation_order` when on), then the others by name."""
    created = task_origins.created_clock(task)
    return (0 if created is not None else 1, created or 0.0, _name_key(task))


def _first(pair):
    return pair[0]


def _loop_rank(loops):
    """task -> the place of its loop in the order the loops first ran; None while there is
    only one loop (the common case, and the 10,000-task listing's hot loop)."""
    ranks = {key: i for i, key in enumerate(list(loops))}
    if len(ranks) < 2:
        return None
    last = len(ranks)

    def rank(task):
        try:
            return ranks.get(id(task.get_loop()), last)
        except Exception:
            return last
    return rank


def task_id(task):
    tid = _by_task.get(task)
    if tid is None:
        if _created:    # the tasks created before this one get theirs first
            _drain_created()
            tid = _by_task.get(task)
            if tid is not None:
                return tid
        with _id_lock:
            tid = _by_task.get(task)
            if tid is None:
                tid = _by_task[task] = next(_ids)
                _by_id[tid] = task
    return tid


def has_id(task):
    return _by_task.get(task) is not None


def task_by_id(tid):
    return _by_id.get(tid)


def is_task_id(tid):
    return isinstance(tid, int) and tid >= TASK_ID_BASE


def uninstall():
    """Undo `_record_creation_order` on every loop (an attached debugger leaving)."""
    for loop in list(_order_watched):
        loop_patch.unwrap(loop, "order")
    _order_watched.clear()
