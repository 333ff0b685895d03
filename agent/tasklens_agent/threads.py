"""Thread ids for the protocol and the agent's own (hidden, untraced) threads.

Ids are small ints kept in a WeakKeyDictionary on Thread objects: stable for a thread's life and
never reused (ids >= 1,000,000 are reserved for asyncio task pseudo-threads).
"""
import itertools
import sys
import threading
import weakref

_ids = itertools.count(1)
_by_thread = weakref.WeakKeyDictionary()
_by_id = weakref.WeakValueDictionary()
_lock = threading.Lock()
agent_idents = set()


def thread_id(thread):
    with _lock:
        tid = _by_thread.get(thread)
        if tid is None:
            tid = _by_thread[thread] = next(_ids)
            _by_id[tid] = thread
        return tid


def thread_by_id(tid):
    return _by_id.get(tid)


def is_agent_thread(thread):
    return getattr(thread, "_tasklens_agent", False)


def user_threads():
    return [t for t in threading.enumerate() if not is_agent_thread(t)]


def current_user_thread():
    """The Thread of the calling thread without creating a _DummyThread for foreign threads."""
    return threading._active.get(threading.get_ident())


class AgentThread(threading.Thread):
    """A daemon thread the debugger never traces, stops or lists."""

    _tasklens_agent = True

    def __init__(self, target, name):
        super().__init__(target=target, name=name, daemon=True)

    def run(self):
        sys.settrace(None)
        agent_idents.add(threading.get_ident())
        try:
            super().run()
        finally:
            agent_idents.discard(threading.get_ident())
