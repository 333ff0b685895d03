"""Bounded text for any value: a size cap, and a time budget for code the user wrote.

Builtin scalars and containers are rendered here, element by element, under the cap (so a
1,000,000-element list costs a few hundred element reprs). Any other object's `__repr__` runs on
a daemon worker thread with a deadline; a worker that misses it is abandoned (it may never
return) and a fresh one serves the next call.
"""
import collections
import ctypes
import queue
import threading
import time

from .threads import AgentThread, forget_dummy

LIMIT = 4096
TIMEOUT = 1.0
ELLIPSIS = "\u2026"

_SCALARS = (int, float, complex, bool, type(None), str, bytes, bytearray)
_CONTAINERS = (list, tuple, set, frozenset, dict, collections.deque)


class _Abandoned(BaseException):
    """Raised asynchronously in a worker whose job missed its deadline."""


class _Worker:
    def __init__(self):
        self.jobs = queue.SimpleQueue()
        self.abandoned = False
        self.thread = AgentThread(self._loop, "tasklens-repr")
        self.thread.start()

    def _loop(self):
        while not self.abandoned:
            fn, box, done = self.jobs.get()
            try:
                box.append((True, fn()))
            except BaseException as e:  # a user __repr__ may raise anything, even SystemExit
                box.append((False, e))
            forget_dummy()
            done.set()

    def abandon(self):
        """Stop a job that runs Python code (a sleeping one ends whenever its call returns)."""
        self.abandoned = True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread.ident),
                                                   ctypes.py_object(_Abandoned))


_worker = None
_worker_lock = threading.Lock()


def call_with_deadline(fn, timeout):
    """(ok, value_or_exception), or None when fn did not finish in time."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _Worker()
        worker = _worker
    box, done = [], threading.Event()
    worker.jobs.put((fn, box, done))
    if not done.wait(timeout):
        with _worker_lock:
            if _worker is worker:
                _worker = None
        worker.abandon()
        return None
    return box[0]


def _builtin_repr(obj):
    """True when type(obj)'s repr is one of ours to render (no user __repr__ involved)."""
    t = type(obj)
    for base in _SCALARS + _CONTAINERS:
        if isinstance(obj, base):
            return t.__repr__ is base.__repr__
    return False


class _Renderer:
    def __init__(self, limit, deadline):
        self.limit = limit
        self.deadline = deadline
        self.out = []
        self.size = 0
        self.active = set()

    def full(self):
        return self.size >= self.limit

    def emit(self, text):
        room = self.limit - self.size
        if len(text) > room:
            text = text[:max(room, 0)] + ELLIPSIS
            self.size = self.limit
        else:
            self.size += len(text)
        self.out.append(text)

    def value(self, obj):
        if self.full():
            return
        if type(obj).__repr__ is object.__repr__:
            self.emit(object.__repr__(obj))
        elif not _builtin_repr(obj):
            self.emit(self.user(obj))
        elif isinstance(obj, (str, bytes, bytearray)):
            self.emit(repr(obj[:self.limit - self.size + 1]) if len(obj) > self.limit else
                      repr(obj))
        elif isinstance(obj, int) and not isinstance(obj, bool) and obj.bit_length() > 10000:
            self.emit("<int with %d bits>" % obj.bit_length())
        elif isinstance(obj, _SCALARS):
            self.emit(repr(obj))
        else:
            self.container(obj)

    def container(self, obj):
        if id(obj) in self.active:
            self.emit("{...}" if isinstance(obj, dict) else "[...]")
            return
        self.active.add(id(obj))
        try:
            if isinstance(obj, dict):
                self.items(dict.items(obj), "{", "}", pairs=True)
            elif isinstance(obj, tuple):
                self.items(tuple.__iter__(obj), "(", ",)" if len(obj) == 1 else ")")
            elif isinstance(obj, list):
                self.items(list.__iter__(obj), "[", "]")
            elif isinstance(obj, collections.deque):
                self.items(collections.deque.__iter__(obj), "deque([", "])")
            elif not obj:
                self.emit(type(obj).__name__ + "()")
            elif isinstance(obj, frozenset):
                self.items(frozenset.__iter__(obj), "frozenset({", "})")
            else:
                self.items(set.__iter__(obj), "{", "}")
        finally:
            self.active.discard(id(obj))

    def items(self, iterable, open_, close, pairs=False):
        self.emit(open_)
        first = True
        for item in iterable:
            if self.full():
                return
            if not first:
                self.emit(", ")
            first = False
            if pairs:
                self.value(item[0])
                self.emit(": ")
                self.value(item[1])
            else:
                self.value(item)
        self.emit(close)

    def user(self, obj):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return "<repr skipped: time budget spent>"
        result = call_with_deadline(lambda: repr(obj), remaining)
        if result is None:
            return "<repr timed out after %.1f s>" % remaining
        ok, value = result
        if not ok:
            return "<repr failed: %s: %s>" % (type(value).__name__, _short(value))
        if not isinstance(value, str):
            return "<repr failed: TypeError: __repr__ returned %s>" % type(value).__name__
        return value


def _short(exc):
    try:
        text = str(exc)
    except Exception:
        text = "?"
    return text[:200]


def safe_repr(obj, limit=LIMIT, timeout=TIMEOUT):
    r = _Renderer(limit, time.monotonic() + timeout)
    try:
        r.value(obj)
    except Exception as e:  # e.g. a container mutated by another thread while we iterate
        return "<repr failed: %s: %s>" % (type(e).__name__, _short(e))
    text = "".join(r.out)
    if r.full() and not text.endswith(ELLIPSIS):
        text += ELLIPSIS
    return text


def safe_str(obj, limit=LIMIT, timeout=TIMEOUT):
    """str() for logpoints: text as is, other values through the same bounds."""
    if type(obj) is str:
        return obj if len(obj) <= limit else obj[:limit] + ELLIPSIS
    if _builtin_repr(obj):
        return safe_repr(obj, limit, timeout)
    result = call_with_deadline(lambda: str(obj), timeout)
    if result is None:
        return "<str timed out after %.1f s>" % timeout
    ok, value = result
    if not ok or not isinstance(value, str):
        return safe_repr(obj, limit, timeout)
    return value if len(value) <= limit else value[:limit] + ELLIPSIS


def type_name(obj):
    t = type(obj)
    mod = getattr(t, "__module__", "builtins")
    name = getattr(t, "__qualname__", t.__name__)
    return name if mod in ("builtins", None) else "%s.%s" % (mod, name)
