"""Which tasks hold an object, for the stuck-task and deadlock verdicts (waits.py): a task
whose frames refer to what another waits on, and whose code names a method that completes
it, could still wake that one. Found by walking the object's referrers up (each step one walk
of the heap, for all of its objects at once): a task's coroutine or frame holds it as a local
(one step), through a container or closure cell (two), or as an attribute of an object it
holds, `self.queue` in a method (two on 3.12+, three on 3.11: the object's dictionary, then
the object). Runs on the loop's own thread, between two steps (onloop.py), for the
watchdog's stuck check and `top`'s; on the watchdog thread for a loop asleep with no timeout.
"""
import gc
import types

from .. import awaits
from .. import paths


def tasks_by_coroutine(tasks):
    """id(coroutine object or frame) -> (task, code), for every frame of every task."""
    out = {}
    for task in tasks:
        obj = task.get_coro()
        for _ in range(256):
            if obj is None:
                break
            frame, inner = awaits._frame_of(obj)
            code = getattr(obj, "cr_code", None) or getattr(obj, "gi_code", None) \
                or getattr(obj, "ag_code", None)
            out[id(obj)] = (task, code)
            if frame is not None:
                out[id(frame)] = (task, code)
            obj = inner
    return out


def referring_tasks(obj, owners, completers=(), skip=()):
    """(live tasks whose code can complete `obj` and whose frames refer to it, whether a
    module's globals refer to it: code outside tasks may then complete it)."""
    live = {}
    first = [r for r in gc.get_referrers(obj) if not _ours(r, skip)]
    glob = any(type(r) is dict and "__builtins__" in r for r in first)
    second = [r for r in first if _holder(r) and id(r) not in owners]
    # One walk of the heap for all of them (each call of get_referrers walks it whole).
    more = [r for r in (gc.get_referrers(*second[:64]) if second else ())
            if r is not first and r is not second and not _ours(r, skip)]
    # An attribute of an object a task holds (`self.queue` in a method): the object's
    # dictionary, then the object (3.11), or the object at once (3.12+): one level more.
    third = [r for r in more if program_object(r) and id(r) not in owners]
    if third:
        more += [r for r in gc.get_referrers(*third[:64])
                 if r is not more and r is not third and not _ours(r, skip)]
    for r in first + more:
        owner = owners.get(id(r))
        if owner is not None:
            task, code = owner
            names = getattr(code, "co_names", ())
            if not completers or any(n in names for n in completers):
                live[id(task)] = task
    return list(live.values()), glob


def _holder(r):
    """A container or a plain object of the program, through which a task may hold `obj`."""
    return issubclass(type(r), (dict, types.CellType, list, tuple)) or program_object(r)


def program_object(r):
    """An object of a class of the program's with a dictionary (not a module, class, function,
    frame or coroutine, nor asyncio's or threading's own objects: a loop holds everything)."""
    kind = type(r)
    if not kind.__dictoffset__ or issubclass(kind, (type, types.ModuleType, types.FunctionType)):
        return False
    return package_of(kind) not in ("asyncio", "_asyncio", "threading", "uvloop", "builtins")


def package_of(kind):
    """The top-level package a class comes from (`asyncio` for asyncio.locks.Event)."""
    return (getattr(kind, "__module__", "") or "").partition(".")[0]


def _ours(r, skip):
    """The agent's own frames, and its records (of the types `skip`), met by gc.get_referrers."""
    kind = type(r)
    if kind is types.FrameType:
        return paths.is_agent(r.f_code.co_filename)
    return issubclass(kind, skip)
