"""Which tasks hold an object, for the stuck-task and deadlock verdicts (waits.py): a task
whose frames refer to what another waits on, and whose code names a method that completes
it, could still wake that one. Found by walking the object's referrers up (each step one walk
of the heap, for all of its objects at once): a task's coroutine or frame holds it as a local
(one step), through a container or closure cell (two), or as an attribute of an object it
holds, `self.queue` in a method (two on 3.12+, three on 3.11: the object's dictionary, then
the object). For many objects at once (`referring_tasks_many`), each step is one pass over
the heap for all of them instead. Runs on the loop's own thread, between two steps
(onloop.py), for the watchdog's stuck check and `top`'s; on the watchdog thread for a loop
asleep with no timeout.
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


ONE_BY_ONE = 16         # objects whose referrers are walked for one by one, at most


def referring_tasks(obj, owners, completers=(), skip=()):
    """(live tasks whose code can complete `obj` and whose frames refer to it, whether a
    module's globals refer to it: code outside tasks may then complete it)."""
    first = [r for r in gc.get_referrers(obj) if not _ours(r, skip)]
    second = _second(first, owners)
    # One walk of the heap for all of them (each call of get_referrers walks it whole).
    more = [r for r in (gc.get_referrers(*second) if second else ())
            if r is not first and r is not second and not _ours(r, skip)]
    third = _third(more, owners)
    if third:
        more += [r for r in gc.get_referrers(*third)
                 if r is not more and r is not third and not _ours(r, skip)]
    return _tasks_among(first + more, owners, completers), _global(first)


def referring_tasks_many(objs, owners, skip=()):
    """{id(obj): (the referrers of referring_tasks that are tasks' frames, as (task, code),
    whether a module's globals refer to it)} for each of `objs`, walking the heap once per
    level for all of them (`completing` picks the tasks whose code can complete it). One by
    one, thousands of objects waited on (10,000 tasks each stuck on an event of its own) took
    a walk each, minutes of the loop's time; and gc.get_referrers cannot take them at once: it
    compares every reference in the heap with each of its arguments, and tells no object's
    referrers apart."""
    mine = []       # the lists made here, which refer to what they list: not referrers
    firsts = _referrers_of(objs, skip, mine)
    seconds = {key: _second(first, owners) for key, first in firsts.items()}
    mine.extend(seconds.values())
    level2 = _referrers_of([r for rs in seconds.values() for r in rs], skip, mine)
    mores = {key: [m for r in rs for m in level2.get(id(r), ())] for key, rs in seconds.items()}
    thirds = {key: _third(more, owners) for key, more in mores.items()}
    mine.extend(mores.values())
    mine.extend(thirds.values())
    level3 = _referrers_of([r for rs in thirds.values() for r in rs], skip, mine)
    out = {}
    for obj in objs:
        key = id(obj)
        first = firsts.get(key, [])
        found = first + mores.get(key, []) + [m for r in thirds.get(key, ())
                                              for m in level3.get(id(r), ())]
        out[key] = ([owners[id(r)] for r in found if id(r) in owners], _global(first))
    return out


def completing(entries, completers):
    """The live tasks of `entries` ((task, code) from referring_tasks_many) whose code names
    one of `completers` (any, if none is given)."""
    live = {}
    for task, code in entries:
        names = getattr(code, "co_names", ())
        if not completers or any(n in names for n in completers):
            live[id(task)] = task
    return list(live.values())


def _tasks_among(refs, owners, completers):
    return completing([owners[id(r)] for r in refs if id(r) in owners], completers)


def _global(first):
    return any(type(r) is dict and "__builtins__" in r for r in first)


def _second(first, owners):
    """The containers and objects through which a task may hold what `first` refers to."""
    return [r for r in first if _holder(r) and id(r) not in owners][:64]


def _third(more, owners):
    """An attribute of an object a task holds (`self.queue` in a method): the object's
    dictionary, then the object (3.11), or the object at once (3.12+): one level more."""
    return [r for r in more if program_object(r) and id(r) not in owners][:64]


def _referrers_of(objs, skip, mine):
    """{id(obj): [its referrers]} for each of `objs` that has any, in one pass over the heap
    (the objects the garbage collector tracks, as gc.get_referrers walks), leaving out the
    agent's own (`skip`, and the lists in `mine`, which this appends its own to)."""
    if not objs:
        return {}
    wanted = set(map(id, objs))
    ignore = set(map(id, mine))
    ignore.add(id(objs))
    out = {}
    heap = gc.get_objects()
    get_referents = gc.get_referents
    module = types.ModuleType
    for holder in heap:
        if type(holder) is module:
            # A module holds its dictionary, which is what holds its globals (`_global`);
            # and gc.get_referents(_asyncio) never returns on 3.12.1 once the module's free
            # list of future iterators has been used (it filled the memory in a test).
            continue
        for ref in get_referents(holder):
            key = id(ref)
            if key in wanted and id(holder) not in ignore and not _ours(holder, skip):
                refs = out.get(key)
                if refs is None:
                    refs = out[key] = []
                    mine.append(refs)
                refs.append(holder)
    del heap
    mine.append(objs)
    return out


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
