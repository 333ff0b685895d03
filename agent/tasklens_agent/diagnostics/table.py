"""What `ps` shows of the diagnostics: per task, how long it has waited on its current future,
whether it was reported stuck, who holds the lock it waits for; per loop, the deadlock verdicts
that still hold. Called on the control thread for `taskTable`; reads only, never reports."""
import time
import weakref

from .. import looptime
from .. import tasks as taskmod
from . import locks
from . import waits as wm


def task_fields(task):
    out = {}
    since = looptime.waited_since(task)
    if since is None:
        return out
    out["waitedSeconds"] = round(time.monotonic() - since, 1)
    rec = looptime.record_of(task.get_loop())
    entry = rec.waits.get(weakref.ref(task)) if rec is not None else None
    if entry is not None and entry[2] is True:     # reported, not merely looked at
        out["stuck"] = True
    kind, obj, _ = wm._classify(task, wm.awaits.coroutine_chain(task))
    if kind == "lock":
        for owner, site in locks.holders(obj):
            holder = {"name": owner.get_name() if owner is not None else None,
                      "finished": owner is None or owner.done()}
            if owner is not None:
                holder["threadId"] = taskmod.task_id(owner)
            if site is not None:
                holder["acquiredAt"] = site
            out.setdefault("lockHolders", []).append(holder)
    return out


def remember(rec, verdict, tasks):
    """Keep a reported deadlock while every task in it still waits on the same future."""
    held = []
    for task in tasks:
        try:
            held.append((weakref.ref(task), task._fut_waiter))
        except (TypeError, AttributeError):
            continue
    rec.verdicts.append((verdict, held))


def verdicts():
    out = []
    for rec in looptime.records():
        still = []
        for verdict, held in rec.verdicts:
            if all(ref() is not None and not ref().done() and ref()._fut_waiter is waiter
                   for ref, waiter in held):
                still.append((verdict, held))
                out.append(verdict)
        rec.verdicts = still
    return out
