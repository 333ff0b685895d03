"""Who holds an asyncio Lock or Semaphore, and since which line, for the wait-for graph.

asyncio records no owner. With diagnostics on, `Lock.acquire` / `Semaphore.acquire` (also
used by Condition, which is built on a Lock) are wrapped on the classes: once acquired, the
acquiring task and the first user line outward (`async with lock:`) are kept on the lock,
the task weakly; `release` forgets them. Costs one coroutine layer per acquire. The locks
that got a record are kept in a weak set, so that `uninstall` finds them without walking the
heap (diagnostics/onloop.py says why a walk from this thread is a hazard).
"""
import sys
import weakref

from .. import paths
from .. import tasks as taskmod

_OWNER = "_tasklens_owner"     # Lock: (weakref(task) or None, {path, line}, era)
_HOLDERS = "_tasklens_holders"  # Semaphore: [(weakref(task) or None, {path, line}, era)]
_era = [0]          # which install made an entry
_originals = {}     # class -> (acquire, release) before the wrappers
_recorded = weakref.WeakSet()   # locks and semaphores that were given a record


def _site(frame):
    while frame is not None:
        if paths.is_user(frame.f_code.co_filename):
            return {"path": paths.display(frame.f_code.co_filename), "line": frame.f_lineno}
        frame = frame.f_back
    return None


def _me():
    task = taskmod.current_task()
    try:
        return weakref.ref(task) if task is not None else None
    except TypeError:
        return None


def install(locks):
    if getattr(locks.Lock.acquire, "_tasklens", False):
        return
    _era[0] += 1
    _wrap(locks.Lock, _OWNER, single=True)
    _wrap(locks.Semaphore, _HOLDERS, single=False)


def uninstall():
    """Put `acquire`/`release` back where they are still ours."""
    for cls, (acquire, release) in list(_originals.items()):
        if getattr(cls.__dict__.get("acquire"), "_tasklens", False):
            cls.acquire = acquire
        if getattr(cls.__dict__.get("release"), "_tasklens", False):
            cls.release = release
    _originals.clear()
    _era[0] += 1
    for ref in list(_recorded.data):    # one C call: the program's thread may add meanwhile
        obj = ref()
        d = getattr(obj, "__dict__", None) or {}
        d.pop(_OWNER, None)
        d.pop(_HOLDERS, None)
    _recorded.clear()


def _wrap(cls, attr, single):
    acquire, release = cls.acquire, cls.release
    _originals[cls] = (acquire, release)
    era = _era[0]

    async def wrapped_acquire(self):
        site = _site(sys._getframe(1))
        result = await acquire(self)
        if era != _era[0]:
            return result   # uninstalled meanwhile: a release would not be seen
        entry = (_me(), site, era)
        try:
            _recorded.add(self)
        except TypeError:   # a class of the program's that takes no weak reference
            pass
        if single:
            setattr(self, attr, entry)
        else:
            self.__dict__.setdefault(attr, []).append(entry)
        return result

    def wrapped_release(self):
        release(self)
        if single:
            self.__dict__.pop(attr, None)
            return
        holders = self.__dict__.get(attr)
        if holders:
            me = _me()
            for i, entry in enumerate(holders):
                if entry[0] == me:
                    del holders[i]
                    break
            else:
                del holders[0]
    for new, old in ((wrapped_acquire, acquire), (wrapped_release, release)):
        new.__name__, new.__qualname__, new.__doc__ = old.__name__, old.__qualname__, old.__doc__
        new._tasklens = True
    cls.acquire, cls.release = wrapped_acquire, wrapped_release


def holders(lock):
    """[(task or None, alive weakref?, {path, line} or None)] holding `lock` now, as known."""
    d = getattr(lock, "__dict__", {})
    entries = [d[_OWNER]] if _OWNER in d else list(d.get(_HOLDERS, ()))
    return [(ref() if ref is not None else None, site) for ref, site, era in entries
            if era == _era[0]]
