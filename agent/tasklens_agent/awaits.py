"""Who a task waits for and who waits for it: coroutine chains, awaiters, what blocks a task.

A suspended task's frames are its coroutine chain: `get_coro()` then `cr_await` /
`gi_yieldfrom` / `ag_await` inward (an `async for` waits on an asend object that hides its
async generator; `gc.get_referents` finds it). Only real coroutine, generator and async
generator objects are followed, so no user `__getattr__` ever runs.

Awaiters: 3.14+ asyncio records them (`_asyncio_awaited_by`). Before, they are derived from the
done callbacks of the awaited future: a task's wakeup (bound `__wakeup` of Python tasks,
`task_wakeup` builtin of C tasks, `__self__` is the task), a TaskGroup's `_on_task_done`
(`_parent_task`), and the futures, partials and queues that gather / shield / wait / wait_for /
as_completed / wrap_future callbacks close over, followed to the tasks waiting on those.
"""
import functools
import gc
import sys
import types

from . import paths
from . import tasks as taskmod

_RECORDED = sys.version_info >= (3, 14)
_WAKEUPS = ("task_wakeup", "__wakeup", "_Task__wakeup")
_MAX_CHAIN = 256


def _async_gen_wrapper_types():
    async def probe():
        yield
    agen = probe()
    asend = agen.asend(None)
    athrow = agen.athrow(GeneratorExit)
    kinds = (type(asend), type(athrow))
    asend.close()
    athrow.close()
    return kinds


_AGEN_WRAPPERS = _async_gen_wrapper_types()


def _frame_of(obj):
    if isinstance(obj, types.CoroutineType):
        return obj.cr_frame, obj.cr_await
    if isinstance(obj, types.GeneratorType):
        return obj.gi_frame, obj.gi_yieldfrom
    if isinstance(obj, types.AsyncGeneratorType):
        return obj.ag_frame, obj.ag_await
    if isinstance(obj, _AGEN_WRAPPERS):
        inner = next((r for r in gc.get_referents(obj)
                      if isinstance(r, types.AsyncGeneratorType)), None)
        return None, inner
    return None, None


def coroutine_chain(task):
    """The frames of a task's coroutine chain, innermost first ([] once it has finished)."""
    out = []
    obj = task.get_coro()
    while obj is not None and len(out) < _MAX_CHAIN:
        frame, inner = _frame_of(obj)
        if frame is not None:
            out.append(frame)
        elif not isinstance(obj, _AGEN_WRAPPERS):
            break
        obj = inner
    out.reverse()
    return out


def _is_future(obj):
    return getattr(type(obj), "_asyncio_future_blocking", None) is not None \
        and hasattr(obj, "add_done_callback")


def _is_task(obj):
    return _is_future(obj) and hasattr(obj, "get_coro")


def awaiters(fut):
    """Tasks that wait for `fut` (directly or through gather, TaskGroup, wait, shield, ...)."""
    found = {}
    _collect(fut, found, set(), 0)
    found.pop(id(fut), None)
    return list(found.values())


def _collect(fut, found, seen, depth):
    """Add to `found` (id -> task) the tasks waiting for `fut`; `seen`: futures visited."""
    if id(fut) in seen or depth > 8:
        return
    seen.add(id(fut))
    if _RECORDED:
        try:
            parents = fut._asyncio_awaited_by or ()
        except AttributeError:
            parents = ()
        for parent in parents:
            if _is_task(parent):
                found[id(parent)] = parent
            else:
                _collect(parent, found, seen, depth + 1)
    try:
        callbacks = fut._callbacks or ()
    except AttributeError:
        return
    for entry in list(callbacks):
        cb = entry[0] if isinstance(entry, tuple) else entry
        try:
            _behind(cb, found, seen, depth)
        except Exception:   # a user object met on the way misbehaved: it wakes nobody we know
            pass


def _behind(cb, found, seen, depth):
    """The tasks a done callback will wake, found without calling anything."""
    owner = getattr(cb, "__self__", None)
    if owner is not None:
        asyncio_owned = type(owner).__module__.startswith("asyncio")
        if _is_future(owner):
            if getattr(cb, "__name__", "") in _WAKEUPS and _is_task(owner):
                found[id(owner)] = owner
        elif asyncio_owned and getattr(owner, "_parent_task", None) is not None:
            found[id(owner._parent_task)] = owner._parent_task      # TaskGroup
        elif asyncio_owned and hasattr(owner, "__dict__"):
            _through(list(vars(owner).values()), found, seen, depth)
        return
    if isinstance(cb, functools.partial):
        _through([cb.func] + list(cb.args), found, seen, depth)
        return
    closure = getattr(cb, "__closure__", None)
    code = getattr(cb, "__code__", None)
    if closure and code is not None and paths.kind(code.co_filename) != "user":
        values = []
        for cell in closure:
            try:
                values.append(cell.cell_contents)
            except ValueError:
                pass
        _through(values, found, seen, depth)


def _through(values, found, seen, depth):
    for v in values:
        if _is_task(v):
            # Only its own coroutine completes a task, so a task a callback holds is never fed
            # by the finishing future: it is bookkeeping (3.14's awaited-by discards in gather,
            # shield, wait and as_completed close over the awaiting task), not a way onward.
            continue
        if _is_future(v):
            _collect(v, found, seen, depth + 1)
        elif hasattr(v, "_getters") and type(v).__module__.startswith("asyncio"):
            for getter in list(v._getters):
                _collect(getter, found, seen, depth + 1)
        elif callable(v) and not isinstance(v, type) and depth < 8:
            _behind(v, found, seen, depth + 1)


# --- what a task is blocked on ---
def waiting_on(task, chain):
    """A short text: the asyncio call the task is suspended in, or the future it waits for."""
    for frame in chain:
        if paths.kind(frame.f_code.co_filename) == "user":
            break
        text = _known_wait(frame)
        if text:
            return text
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None:
        return None
    if _is_task(waiter):
        return "task %s [%d]" % (taskmod.task_name(waiter), taskmod.task_id(waiter))
    kind = type(waiter).__name__
    if kind == "_GatheringFuture":
        return "gather of %d awaitables" % len(getattr(waiter, "_children", ()) or ())
    return "future %s" % kind


def _known_wait(frame):
    code = frame.f_code
    module = code.co_filename.replace("\\", "/").rsplit("/", 2)[-2:]
    if module[:1] != ["asyncio"]:
        return None
    name = code.co_name
    loc = frame.f_locals
    if module[1] == "tasks.py" and name == "sleep":
        handle = loc.get("h")
        loop = loc.get("loop")
        if handle is not None and loop is not None:
            left = handle.when() - loop.time()
            # A timer past its deadline whose loop has not run it yet (a busy or blocked loop).
            due = "(in %.3f s)" % left if left >= 0 else "(overdue %.1f s)" % -left
            return "asyncio.sleep(%s) until loop time %.3f %s" % (loc.get("delay"), handle.when(), due)
        return "asyncio.sleep(%s)" % loc.get("delay")
    if module[1] == "tasks.py" and name == "__sleep0":
        return "asyncio.sleep(0)"
    owner = loc.get("self")
    kind = type(owner).__name__ if owner is not None else ""
    if module[1] == "queues.py" and name in ("get", "put"):
        return "%s.%s() (%d items)" % (kind, name, owner.qsize())
    if module[1] == "locks.py" and name in ("acquire", "wait", "wait_for"):
        return "%s.%s()" % (kind, name)
    if module[1] == "taskgroups.py" and name in ("__aexit__", "_aexit"):    # _aexit: 3.13+
        left = len(getattr(owner, "_tasks", ()) or ())
        return "the end of its TaskGroup (%d task%s left)" % (left, "" if left == 1 else "s")
    if module[1] == "tasks.py" and name == "_wait":
        fs = loc.get("fs") or ()
        return "asyncio.wait() on %d awaitable%s (%s)" % (
            len(fs), "" if len(fs) == 1 else "s", loc.get("return_when"))
    return None


def created_at(task):
    """{path, line} of the task's creation when asyncio recorded it (debug mode, origins)."""
    tb = getattr(task, "_source_traceback", None)
    if tb:
        for entry in reversed(tb):
            if paths.kind(entry.filename) == "user":
                return {"path": paths.display(entry.filename), "line": entry.lineno}
    origin = getattr(task.get_coro(), "cr_origin", None)
    if origin:
        for filename, line, _ in origin:
            if paths.kind(filename) == "user":
                return {"path": paths.display(filename), "line": line}
    return None
