"""What a waiting task waits on, who could complete it, and the wait-for graph with its cycles.

Read from the watchdog thread while the loop sleeps (or runs on), touching only asyncio's own
objects (coroutine chains, `_fut_waiter`, the lock records of locks.py, and referrers.py to
find which tasks still refer to an Event, Queue or Future). Nothing here runs user code.
"""
from .. import awaits
from .. import paths
from . import locks
from . import owners as lock_owners
from . import outside as outside_refs
from . import referrers
from . import report as rp

_WAKEUPS = ("_call_check_cancel", "_call_set_state")     # futures._chain_future: executor jobs
WAKEABLE = ("timer", "io", "server", "executor", "ready")   # waits that end by themselves


def wakeable(task):
    """Whether `task` waits on something that ends by itself (a timer, I/O, an executor job),
    read from its coroutine chain alone: no verdict needed."""
    try:
        return _classify(task, awaits.coroutine_chain(task))[0] in WAKEABLE
    except Exception:
        return False


class Wait:
    """One waiting task: where (`at`), on what (`what`, `obj`), who could complete it."""

    def __init__(self, task):
        self.task = task
        self._info = None
        chain = awaits.coroutine_chain(task)
        self.chain = chain
        user = [f for f in chain if paths.is_user(f.f_code.co_filename)]
        self.at = rp.where(user[0]) if user else (rp.where(chain[0]) if chain else None)
        self.kind, self.obj, self._what = _classify(task, chain)
        self._user = user[0] if user else None
        self._short = None      # named when a report asks (`_name`): most Waits are never shown
        self.edges = []         # [(task, label)] tasks that must act for this one to go on
        self.why = None         # why nothing will wake it, where known
        self.wakeable = self.kind in WAKEABLE
        self.explained = False
        self.globally_known = False

    @property
    def what(self):
        """What it waits on, the object named as the user's code names it (`Lock a.acquire()`)."""
        self._name()
        return self._what

    @property
    def short(self):
        """The object alone, by its name where it has one (`Lock a`), for a cycle's line."""
        self._name()
        return self._short

    def _name(self):
        if self._short is not None:
            return
        named = _name_of(self._user, self.obj)
        kind = type(self.obj).__name__
        self._short = "%s %s" % (kind, named) if named else self._what
        if named and self._what.startswith(kind + "."):
            self._what = "%s %s%s" % (kind, named, self._what[len(kind):])

    @property
    def info(self):
        """The task's JSON (name, id, creation site): made when a report needs it, as most
        Waits built to decide whether a task can be woken are never shown."""
        if self._info is None:
            self._info = rp.task_info(self.task)
        return self._info


def _name_of(frame, obj):
    """The name the waiting user frame gives `obj` (`Lock b`): a local, else a global of its
    module (a lock made at module level); or None."""
    if frame is None or obj is None:
        return None
    try:
        for space in (frame.f_locals, frame.f_globals):
            for name, value in list(space.items()):
                if value is obj:
                    return name
    except Exception:   # a frame that finished meanwhile, a mapping that changed
        pass
    return None



def _asyncio_frames(chain):
    """(frame, module file, function) of asyncio's frames in `chain` (innermost first), up to
    the task's first frame of user code. The frame's `self` (`_owner`) is read only where it
    matters: `f_locals` makes a dictionary on 3.11-3.12, and every task waiting long is
    classified (the wait-cycle search reads 10,000 tasks at a time)."""
    out = []
    for frame in chain:
        code = frame.f_code
        if paths.is_user(code.co_filename):
            break
        parts = code.co_filename.replace("\\", "/").rsplit("/", 2)[-2:]
        if parts[:1] == ["asyncio"]:
            out.append((frame, parts[1], code.co_name))
    return out


def _owner(frame):
    """The `self` of an asyncio frame, and its class's name."""
    owner = frame.f_locals.get("self")
    return owner, type(owner).__name__


def _outer_primitive(frames):
    """The waits asyncio builds of others, named by their outermost frame: `Queue.join()` waits
    on an Event of the queue's, `Barrier.wait()` on a Condition of the barrier's; what the task
    waits for is the queue's `task_done` or the barrier's other parties."""
    for frame, mod, name in frames:
        if mod == "queues.py" and name == "join":
            owner, kind = _owner(frame)
            return "queue", owner, "%s.join() (%d unfinished)" % (
                kind, getattr(owner, "_unfinished_tasks", 0))
        if mod == "locks.py" and name == "wait":
            owner, kind = _owner(frame)
            if kind == "Barrier":
                return "barrier", owner, "Barrier.wait() (%d of %d parties waiting)" % (
                    owner.n_waiting, owner.parties)
    return None


def _classify(task, chain):
    frames = _asyncio_frames(chain)
    outer = _outer_primitive(frames)
    if outer is not None:
        return outer
    for frame, mod, name in frames:
        if mod == "locks.py" and name in ("acquire", "wait", "wait_for"):
            owner, kind = _owner(frame)
            if name == "acquire":
                return "lock", owner, "%s.acquire()" % kind
            return ("event" if kind == "Event" else "condition"), owner, "%s.%s()" % (kind, name)
        if mod == "queues.py" and name in ("get", "put"):
            owner, kind = _owner(frame)
            return "queue", owner, "%s.%s() (%d items)" % (kind, name, owner.qsize())
        if mod == "tasks.py" and name == "sleep":
            return "timer", None, "asyncio.sleep(%s)" % frame.f_locals.get("delay")
        if mod == "tasks.py" and name == "__sleep0":
            return "ready", None, "asyncio.sleep(0)"
        if mod == "tasks.py" and name == "wait_for" and (
                frame.f_locals.get("timeout") is not None):
            return "timer", None, "asyncio.wait_for(timeout=%s)" % frame.f_locals["timeout"]
        if mod == "base_events.py" and name == "serve_forever":
            return "server", None, "Server.serve_forever()"
        if mod in ("streams.py", "selector_events.py", "base_events.py", "sslproto.py",
                   "unix_events.py", "subprocess.py", "base_subprocess.py"):
            return "io", None, "I/O (%s)" % name
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None:
        return "ready", None, "nothing (ready to run)"
    if awaits._is_task(waiter):
        return "task", waiter, rp.task_text(rp.task_info(waiter))
    if type(waiter).__name__ == "_GatheringFuture":
        children = list(getattr(waiter, "_children", ()) or ())
        names = [c.get_name() for c in children if awaits._is_task(c) and not c.done()]
        return "gather", waiter, "gather of %d (waiting for %s)" % (
            len(children), ", ".join(names[:5]) + (", ..." if len(names) > 5 else ""))
    for entry in list(getattr(waiter, "_callbacks", None) or ()):
        cb = entry[0] if isinstance(entry, tuple) else entry
        if getattr(getattr(cb, "__code__", None), "co_name", "") in _WAKEUPS:
            return "executor", waiter, "a concurrent.futures future (executor job)"
    return "future", waiter, "%s object" % type(waiter).__name__


# Methods that complete a wait on each kind: a task whose code never names one is only holding
# the object (main keeping the queue it handed to its workers), not a way to wake the waiter.
_COMPLETERS = {
    "queue": ("put", "put_nowait", "get", "get_nowait", "task_done"),
    "barrier": ("wait", "reset", "abort"),
    "event": ("set",),
    "condition": ("notify", "notify_all"),
    "future": ("set_result", "set_exception", "cancel"),
}
HELD_KINDS = tuple(_COMPLETERS) + ("lock",)     # waits a callback holding the object can end


def build(tasks, failed_using, explain=True, everyone=None):
    """{id(task): Wait} with edges and reasons, for the pending tasks of one loop; without
    `explain`, referrers are looked up later, by `can_wake`, only where needed; `everyone`:
    all pending tasks of the loop (those that may complete what `tasks` wait on)."""
    waits = {}
    for task in tasks:
        try:
            if not task.done():
                waits[id(task)] = Wait(task)
        except Exception:
            continue
    pool = everyone if everyone is not None else [w.task for w in waits.values()]
    owners = referrers.tasks_by_coroutine(pool)
    held = {}
    if explain:
        objs = list({id(w.obj): w.obj for w in waits.values() if w.kind in _COMPLETERS}.values())
        if len(objs) > referrers.ONE_BY_ONE:
            held = referrers.referring_tasks_many(objs, owners, (Wait,))
    context = (waits, owners, failed_using, {}, outside_refs.DoneCallbacks(pool), held, _Memo())
    for w in waits.values():
        w.context = context
        if explain or w.kind not in _COMPLETERS:
            explain_wait(w)
    return waits


class Graph(dict):
    """{id(task): Wait} of a loop's pending tasks, each Wait built when first asked for
    (`get`): deciding whether a stuck task can be woken reaches only the tasks it waits on,
    not every task of the loop. `waits` (built with `everyone=tasks`) come first."""

    def __init__(self, waits, tasks):
        super().__init__(waits)
        self.pending = {id(t): t for t in tasks}
        self.context = next(iter(waits.values())).context if waits else None

    def get(self, key, default=None):
        w = dict.get(self, key)
        if w is None and key in self.pending and self.context is not None:
            try:
                w = self[key] = Wait(self.pending[key])
            except Exception:
                return default
            w.context = self.context
            if w.kind not in _COMPLETERS:
                explain_wait(w)
        return default if w is None else w


def own_objects(graph):
    """The objects of a Graph's verdict that refer to what its tasks wait on: not the
    program's, so no way from those objects up to who holds them."""
    out = [graph, graph.context, *(graph.context or ())]
    for w in graph.values():
        out.append(w)
        out.append(vars(w))
    return out


def release(graph):
    """Drops what the Waits of one build share (`context`) once they are judged: it holds every
    Wait, a reference cycle, and with it the index of every task's frames (referrers'
    `tasks_by_coroutine`: 80,000 tuples with 10,000 tasks) until the cyclic collector's full
    pass, a pause of the program's of about 80 ms there, after every verdict."""
    for w in list(graph.values()):
        w.context = None
    graph.context = None


def strong_edges(task):
    """The tasks `task` waits for through an await, a gather or a lock they hold (what a wait
    cycle is made of), read from its own objects without building a Wait."""
    try:
        kind, obj, _ = _classify(task, awaits.coroutine_chain(task))
        if kind == "task":
            return [obj]
        if kind == "gather":
            return [c for c in getattr(obj, "_children", ()) or ()
                    if awaits._is_task(c) and not c.done()]
        if kind == "lock":
            return [t for t, _ in locks.holders(obj) if t is not None and not t.done()]
    except Exception:
        pass
    return []


def explain_wait(w):
    if w.explained:
        return
    w.explained = True
    try:
        _explain(w, *w.context)
    except Exception:
        pass


def _explain(w, waits, owners, failed_using, found_for, done_callbacks, held, memo):
    if w.kind == "task":
        w.edges.append((w.obj, "awaits"))
    elif w.kind == "gather":
        for child in getattr(w.obj, "_children", ()) or ():
            if awaits._is_task(child) and not child.done():
                w.edges.append((child, "gathers"))
    elif w.kind == "lock":
        held = locks.holders(w.obj)
        texts = []
        for task, site in held:
            since = " since %s:%d" % (site["path"], site["line"]) if site else ""
            if task is None or task.done():
                name = rp.task_text(rp.task_info(task)) if task is not None else "a task"
                texts.append("held by %s that has finished without releasing it%s" % (
                    name, " (acquired at %s:%d)" % (site["path"], site["line"]) if site else ""))
            else:
                w.edges.append((task, "held by"))
                w.held = "held by %s%s" % (rp.label(rp.task_info(task)), since)
                texts.append("held by %s%s" % (rp.task_text(rp.task_info(task)), since))
        if not held and getattr(w.obj, "locked", lambda: True)():
            _guess_holders(w, owners, texts)
        elif not held:
            texts.append("free")
        w.why = "; ".join(texts)
    elif w.kind in _COMPLETERS:
        found = found_for.get(id(w.obj))
        if found is None:   # every task waiting on one queue gets the same answer
            found = found_for[id(w.obj)] = _completers(w, waits, owners, failed_using,
                                                       done_callbacks, held.get(id(w.obj)),
                                                       memo)
        others, w.why, w.globally_known = found
        w.edges.extend((t, "could complete") for t in others)


def _completers(w, waits, owners, failed_using, done_callbacks, held=None, memo=None):
    """(tasks that could complete what `w` waits on, why, whether a module global refers to
    it): the same for every task waiting on that object, as those are left out. A task that
    will complete it when it ends (a done callback) counts. `held`: its referrers, found with
    those of the other objects waited on (build); `memo`: what this build knows of tasks
    outside `waits` (a _Memo)."""
    names = _COMPLETERS.get(w.kind, ())
    if held is not None:
        live, glob = referrers.completing(held[0], names), held[1]
    else:
        live, glob = referrers.referring_tasks(w.obj, owners, names, (Wait,))
    for task in done_callbacks.enders(w.obj):
        if task not in live and not task.done():
            live.append(task)
    failed = failed_using(w.obj)
    memo = memo or _Memo()
    others = [t for t in live if t is not w.task and not _waits_on(t, w.obj, waits, memo)]
    kind = type(w.obj).__name__
    if others:
        why = "could be completed by %s" % ", ".join(
            rp.task_text(memo.info(t)) for t in others[:5])
    else:
        why = "no other live task uses this %s (%s)" % (
            kind, "/".join(_COMPLETERS.get(w.kind, ())))
    for info in failed[:3]:
        why += "; %s, which used it, failed" % rp.task_text(info) + (
            " with %s at %s" % (info["failure"], info["failedAt"])
            if info.get("failure") else "")
    if glob:
        why += " (a module global refers to it: code outside tasks may complete it)"
    return others, why, glob


class _Memo:
    """What one build looks up of a task once, however many objects it could complete: the
    producer of 10,000 queues is named in the text of each queue's wait, and asked each time
    whether it waits on that queue itself."""

    def __init__(self):
        self._infos = {}
        self._waited = {}

    def info(self, task):
        info = self._infos.get(id(task))
        if info is None:
            info = self._infos[id(task)] = rp.task_info(task)
        return info

    def waited(self, task):
        """What `task` waits on (None: nothing known), classified from its frames."""
        key = id(task)
        if key not in self._waited:
            try:
                self._waited[key] = _classify(task, awaits.coroutine_chain(task))[1]
            except Exception:
                self._waited[key] = None
        return self._waited[key]


def _guess_holders(w, owners, texts):
    """A lock taken before the diagnostics started: the tasks inside an `async with` of it."""
    tasks = {id(t): t for t, _ in owners.values()}
    found = lock_owners.holders(w.obj, tasks.values())
    for task, site in found:
        w.edges.append((task, "held by"))
        w.held = "held by %s since %s:%d, before tasklens attached" % (
            rp.label(rp.task_info(task)), site["path"], site["line"])
        texts.append("held by %s inside its async with at %s:%d (taken before tasklens "
                     "attached)" % (rp.task_text(rp.task_info(task)), site["path"], site["line"]))
    if not found and hasattr(w.obj, "_value"):     # a Semaphore: a counter, not an owner
        texts.append("no task holds it while tasklens watches: its counter is 0 (made so, or "
                     "taken before tasklens watched it); only a release() frees it")
    elif not found:
        texts.append("held (by whom is unknown: acquired before tasklens watched it)")


def _waits_on(task, obj, waits, memo):
    w = waits.get(id(task))
    if w is not None:
        return w.obj is obj
    return obj is not None and memo.waited(task) is obj


def can_wake(w, graph, timed, wakers, outside=None, seen=None):
    """Whether something can still end `w`: a timer, I/O, an executor job, another thread
    (for a plain future, or one that refers to what it waits on), a timer or ready callback
    that refers to it (`outside`: OutsideRefs), or a task that refers to it and can itself go
    on."""
    seen = set() if seen is None else seen
    if id(w.task) in seen:
        return False
    seen.add(id(w.task))
    if w.wakeable or id(w.task) in timed:
        return True
    explain_wait(w)
    if w.kind == "future" and wakers or w.globally_known:
        return True
    if outside is not None and w.kind in HELD_KINDS and outside.refer_to(w.obj):
        return True
    for task, label in w.edges:
        other = graph.get(id(task))
        if other is None:
            if not task.done():
                return True     # running or ready: it goes on
            continue
        if can_wake(other, graph, timed, wakers, outside, seen):
            return True
    return outside_refs.cancelled_by_timeout(w, graph, timed)


def cycles(waits, weak=False):
    """Lists of Wait forming cycles through `edges` (awaits, gathers, held by; with `weak`,
    also "could complete": the only tasks that could set an Event, put on a Queue)."""
    found, done = [], set()
    strong = ("awaits", "gathers", "held by") + (("could complete",) if weak else ())
    for start in waits:
        path, index = [], {}
        node = start
        while node in waits and node not in index and node not in done:
            index[node] = len(path)
            path.append(node)
            nxt = [id(t) for t, label in waits[node].edges if label in strong and id(t) in waits]
            node = nxt[0] if nxt else None
        if node in index:
            found.append([waits[n] for n in path[index[node]:]])
        done.update(path)
    return found

