"""Which tasks hold an object, for the stuck-task and deadlock verdicts (waits.py): a task
whose frames refer to what another waits on, and whose code names a method that completes
it, could still wake that one. Found by walking the object's referrers up (each step one walk
of the heap, for all of its objects at once): a task's coroutine or frame holds it as a local
(one step), through a container or closure cell (two), or as an attribute of an object it
holds, `self.queue` in a method (two on 3.12+, three on 3.11: the object's dictionary, then
the object). For many objects at once (`referring_tasks_many`), the same paths are followed
from the tasks down instead, each holder looked into once. Runs on the loop's own thread,
between two steps (onloop.py), for the watchdog's stuck check and `top`'s; on the watchdog
thread for a loop asleep with no timeout.
"""
import gc
import types

from .. import awaits
from .. import paths


class Owners(dict):
    """id(coroutine object or frame) -> (task, code), for every frame of every task; `roots`:
    those coroutine objects themselves, where a walk down starts. A suspended coroutine's
    frame object refers to nothing (its locals are the coroutine's, 3.11-3.15): the walk up
    meets it only as a referrer, and down it would be a root with nothing below."""
    roots = ()


def tasks_by_coroutine(tasks):
    """The Owners of `tasks`' frames."""
    out = Owners()
    roots = out.roots = []
    for task in tasks:
        obj = task.get_coro()
        for _ in range(256):
            if obj is None:
                break
            frame, inner = awaits._frame_of(obj)
            code = getattr(obj, "cr_code", None) or getattr(obj, "gi_code", None) \
                or getattr(obj, "ag_code", None)
            out[id(obj)] = (task, code)
            roots.append(obj)
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
    """{id(obj): (the (task, code) of `owners` whose frames refer to it as referring_tasks'
    walk up finds them, whether a module's globals refer to it)} for each of `objs`, found
    from the tasks down (`completing` then picks the tasks whose code can complete it).

    The same paths as referring_tasks' walk up, followed the other way: from each task's
    coroutine or frame to what it refers to; through a container, a cell or an object of the
    program's, to what that refers to; through an object of the program's and then such a
    holder (`self.queue`), one level more. The work is what the tasks hold, each holder looked
    into once, not the heap: walked up for all the objects at once, each level was a pass over
    every object of the program, 0.2 s of the loop's with 10,000 tasks each waiting on a queue
    of its own, 0.5-0.6 s once the program also kept 500,000 lists (down: 0.15-0.27 s, the
    same with or without them)."""
    wanted = set(map(id, objs))
    below = {}      # id(holder) -> the ids of `objs` it refers to
    beyond = {}     # id(object of the program's) -> the ids of `objs` one holder below it
    found = {key: {} for key in wanted}
    kinds = {}      # type -> 0: no holder, 1: a holder, 2: an object of the program's

    def kind(x):
        t = type(x)
        k = kinds.get(t)
        if k is None:   # what _holder and program_object say, which depends on the type only
            k = kinds[t] = 0 if issubclass(t, skip) else 2 if program_object(x) \
                else 1 if _holder(x) else 0
        return k

    def direct(x):
        key = id(x)
        hit = below.get(key)
        if hit is None:
            hit = below[key] = wanted.intersection(map(id, _referents(x)))
        return hit

    def through(x):
        key = id(x)
        hit = beyond.get(key)
        if hit is None:
            hit = beyond[key] = set()
            for y in _referents(x):
                if kind(y) and id(y) not in owners:
                    hit |= direct(y)
        return hit

    for root in owners.roots:
        entry = owners[id(root)]
        task = entry[0]
        for x in _referents(root):
            key = id(x)
            if key in wanted:
                found[key][id(task)] = entry
            k = kinds.get(type(x))      # kind(x) without its call, for most of them
            if k is None:
                k = kind(x)
            if not k or key in owners:
                continue
            hits = direct(x) if k == 1 else direct(x) | through(x)
            for hit in hits:
                found[hit][id(task)] = entry
    glob = _globals_holding(wanted)
    return {key: (list(entries.values()), key in glob) for key, entries in found.items()}


def _globals_holding(wanted):
    """The ids of `wanted` some module's globals refer to: the dictionaries that hold
    `__builtins__`, found by the one walk of the heap gc.get_referrers makes for builtins."""
    import builtins
    out = set()
    for d in gc.get_referrers(builtins, builtins.__dict__):
        if type(d) is dict and "__builtins__" in d:
            out |= wanted.intersection(map(id, d.values()))
    return out


_referents = gc.get_referents


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
