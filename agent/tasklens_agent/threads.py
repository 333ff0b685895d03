"""Thread ids for the protocol and the agent's own (hidden, untraced) threads.

Ids are small ints kept in a WeakKeyDictionary on Thread objects: stable for a thread's life and
never reused (ids >= 1,000,000 are reserved for asyncio task pseudo-threads).

The agent's threads are started with `_thread`, not `threading`: the program sees no Thread
object for them, so `threading.enumerate()` and `threading.active_count()` are what they are
under plain python, and threading's start-up hooks (thread events, per-thread tracing) never
run for them.
"""
import _thread
import itertools
import sys
import threading
import weakref
from . import forksafe

_ids = itertools.count(1)
_by_thread = weakref.WeakKeyDictionary()
_by_id = weakref.WeakValueDictionary()
_lock = forksafe.lock()
agent_idents = set()
hidden = weakref.WeakSet()  # program-visible threads the agent runs program code on, unlisted


def thread_id(thread):
    with _lock:
        tid = _by_thread.get(thread)
        if tid is None:
            tid = _by_thread[thread] = next(_ids)
            _by_id[tid] = thread
        return tid


def thread_by_id(tid):
    return _by_id.get(tid)


def user_threads():
    # A _DummyThread registered from an agent thread (see forget_dummy) is not the program's.
    return [t for t in threading.enumerate() if t.ident not in agent_idents and t not in hidden]


def other_frames():
    """sys._current_frames() without the calling thread's own frame. A function that keeps
    its own frame in a local (the dict, at its return) closes a reference cycle through it,
    which holds its callers' frames and every local of theirs until the cyclic collector's
    full pass: with 10,000 tasks, each `top` refresh left 90,000 objects for one, a 80-140 ms
    pause of the program on 3.11."""
    frames = sys._current_frames()
    frames.pop(threading.get_ident(), None)
    return frames


def current_user_thread():
    """The Thread of the calling thread without creating a _DummyThread for foreign threads."""
    return threading._active.get(threading.get_ident())


def forget_dummy():
    """Unregister the _DummyThread that `threading.current_thread()` leaves behind when code
    run on an agent thread (a user `__repr__`) calls it: the program would list it."""
    ident = threading.get_ident()
    with threading._active_limbo_lock:
        if isinstance(threading._active.get(ident), threading._DummyThread):
            del threading._active[ident]


class AgentThread:
    """A daemon thread the debugger never traces, stops or lists, invisible to `threading`.

    Daemon as `_thread` threads are: interpreter shutdown neither waits for it nor joins it."""

    def __init__(self, target, name):
        self.name = name
        self.ident = None
        self._target = target

    def start(self):
        self.ident = _thread.start_new_thread(self._run, ())

    def _run(self):
        ident = _thread.get_ident()
        agent_idents.add(ident)
        set_name = getattr(_thread, "set_name", None)   # 3.14+: shown by ps, gdb, py-spy
        if set_name is not None:
            set_name(self.name)
        try:
            self._target()
        finally:
            agent_idents.discard(ident)
