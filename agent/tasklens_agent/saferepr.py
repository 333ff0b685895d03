"""Bounded text for any value: a size cap, a time budget for code the user wrote, and no
user code at all where a builtin can answer.

Builtin scalars and containers are rendered here, element by element, under the cap (so a
1,000,000-element list costs a few hundred element reprs), through the builtin types' own
methods (`str.__len__`, `list.__iter__`): a subclass that overrides `__len__` or `__iter__` is
not asked. Types are looked at through `type`'s own descriptors, so neither an instance's
`__getattribute__`/`__class__` nor a metaclass runs. Any other object's `__repr__` runs on a
daemon worker thread with a deadline; a worker that misses it is abandoned (it may never
return) and a fresh one serves the next call.
"""
import collections
import queue
import sys
import threading
import time

from . import forksafe
from .threads import AgentThread, forget_dummy

LIMIT = 4096
TIMEOUT = 1.0
ELLIPSIS = "\u2026"

# Most specific first: the first of these in a type's MRO decides how it is rendered.
_SCALARS = (bool, int, float, complex, type(None), str, bytes, bytearray)
_CONTAINERS = (list, tuple, set, frozenset, dict, collections.deque)
_KNOWN = _SCALARS + _CONTAINERS
_TEXT = (str, bytes, bytearray)

_mro_of = type.__dict__["__mro__"].__get__
_dict_of = type.__dict__["__dict__"].__get__
_name_of = type.__dict__["__name__"].__get__
_qualname_of = type.__dict__["__qualname__"].__get__


class _Abandoned(BaseException):
    """Raised asynchronously in a worker whose job missed its deadline."""


class _Flush(BaseException):
    """Raised asynchronously in the calling thread itself, and caught, to clear 3.11's signal."""


# 3.11 signals the interpreter's eval breaker for a withdrawal too (PyThreadState_SetAsyncExc
# with NULL), and only a thread that takes an async exception of its own clears that signal.
# Left set, a thread with a trace function spins for ever at its next function entry: 3.11's
# tracing path checks the breaker on a RESUME, finds nothing to handle, and dispatches the same
# RESUME again. So a withdrawal there is followed, in the same frame and untraced, by one
# exception thrown at this thread itself and caught.
_STALE_SIGNAL = sys.version_info < (3, 12)


def set_async_exc(ident, exc_type):
    """Raise `exc_type` in thread `ident` at its next bytecode (None withdraws it)."""
    import ctypes   # at the first deadline, not at start-up (0.8 MB)
    set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    if exc_type is not None or not _STALE_SIGNAL:
        obj = ctypes.py_object(exc_type) if exc_type is not None else None
        return set_exc(ctypes.c_ulong(ident), obj)
    own, flush = ctypes.c_ulong(threading.get_ident()), ctypes.py_object(_Flush)
    trace = sys.gettrace()
    sys.settrace(None)
    try:
        count = set_exc(ctypes.c_ulong(ident), None)
        set_exc(own, flush)
        for _ in range(3):  # a backward jump checks the breaker
            pass
    except _Flush:
        pass
    finally:
        sys.settrace(trace)
    return count


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
        set_async_exc(self.thread.ident, _Abandoned)


_worker = None
_worker_lock = forksafe.lock()


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


def type_lookup(t, name):
    """`name` as found in type t's MRO dicts (what the interpreter's slots use), or None."""
    for klass in _mro_of(t):
        d = _dict_of(klass)
        if name in d:
            return d[name]
    return None


def _known_base(t):
    """The builtin type among ours that t derives from (most derived first), or None."""
    for klass in _mro_of(t):
        if klass in _KNOWN:
            return klass
    return None


def builtin_repr_base(obj):
    """The builtin base whose repr renders obj (no user __repr__ involved), or None."""
    t = type(obj)
    base = _known_base(t)
    if base is not None and type_lookup(t, "__repr__") is _dict_of(base)["__repr__"]:
        return base
    return None


def _plain_repr(obj):
    return type_lookup(type(obj), "__repr__") is _dict_of(object)["__repr__"]


def short_type(obj):
    """The class name alone, read without running user code."""
    try:
        return _name_of(type(obj))
    except Exception:
        return "object"


def _count(n):
    return "{:,}".format(n)


class _Renderer:
    def __init__(self, limit, deadline):
        self.limit = limit
        self.deadline = deadline
        self.out = []
        self.size = 0
        self.cut = False
        self.active = set()

    def full(self):
        return self.size >= self.limit

    def emit(self, text, total=None):
        """Append text, cut at the limit; `total` names the full size of a cut value."""
        room = self.limit - self.size
        if len(text) > room:
            text = text[:max(room, 0)] + ELLIPSIS
            if total is not None:
                text += " (%s)" % total
            self.size = self.limit
            self.cut = True
        else:
            self.size += len(text)
        self.out.append(text)

    def value(self, obj):
        if self.full():
            return
        if _plain_repr(obj):
            self.emit(object.__repr__(obj))
            return
        base = builtin_repr_base(obj)
        if base is None:
            self.user(obj)
        elif base in _TEXT:
            n = base.__len__(obj)
            room = self.limit - self.size + 1
            text = base.__repr__(base.__getitem__(obj, slice(0, room)) if n > room else obj)
            self.emit(text, "%s %s" % (_count(n), "characters" if base is str else "bytes"))
        elif base is int and int.bit_length(obj) > 10000:
            self.emit("<int with %d bits>" % int.bit_length(obj))
        elif base in _SCALARS:
            self.emit(base.__repr__(obj))
        else:
            self.container(obj, base)

    def container(self, obj, base):
        if id(obj) in self.active:
            self.emit("{...}" if base is dict else "[...]")
            return
        self.active.add(id(obj))
        try:
            if base is dict:
                self.items(dict.items(obj), "{", "}", pairs=True)
            elif base is tuple:
                self.items(tuple.__iter__(obj), "(", ",)" if tuple.__len__(obj) == 1 else ")")
            elif base is list:
                self.items(list.__iter__(obj), "[", "]")
            elif base is collections.deque:
                self.items(collections.deque.__iter__(obj), "deque([", "])")
            elif not base.__len__(obj):
                self.emit(_name_of(type(obj)) + "()")
            elif base is frozenset:
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
        what = short_type(obj)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.emit("<%s object: repr skipped, time budget spent>" % what)
            return
        result = call_with_deadline(lambda: _exact_str(repr(obj)), remaining)
        if result is None:
            self.emit("<%s object: repr timed out after %.1f s>" % (what, remaining))
            return
        ok, value = result
        if not ok:
            self.emit("<%s object: repr failed: %s: %s>" % (what, short_type(value),
                                                            _short(value)))
        elif value is None:
            self.emit("<%s object: repr failed: __repr__ returned a non-string>" % what)
        else:
            self.emit(value, "repr of %s characters" % _count(len(value)))


def _exact_str(value):
    """A plain str copy of a repr's result (a str subclass could override slicing)."""
    return str.__str__(value) if isinstance(value, str) else None


def _short(exc):
    try:
        text = _exact_str(str(exc)) or "?"
    except Exception:
        text = "?"
    return text[:200]


def safe_repr(obj, limit=LIMIT, timeout=TIMEOUT):
    r = _Renderer(limit, time.monotonic() + timeout)
    try:
        r.value(obj)
    except Exception as e:  # e.g. a container mutated by another thread while we iterate
        return "<%s object: repr failed: %s: %s>" % (short_type(obj), short_type(e), _short(e))
    text = "".join(r.out)
    if r.full() and not r.cut:
        text += ELLIPSIS
    return text


def safe_str(obj, limit=LIMIT, timeout=TIMEOUT):
    """str() for logpoints: text as is, other values through the same bounds."""
    if type(obj) is str:
        return obj if len(obj) <= limit else obj[:limit] + ELLIPSIS
    if builtin_repr_base(obj) is not None:
        return safe_repr(obj, limit, timeout)
    result = call_with_deadline(lambda: _exact_str(str(obj)), timeout)
    if result is None:
        return "<%s object: str timed out after %.1f s>" % (short_type(obj), timeout)
    ok, value = result
    if not ok or value is None:
        return safe_repr(obj, limit, timeout)
    return value if len(value) <= limit else value[:limit] + ELLIPSIS


def type_name(obj):
    t = type(obj)
    try:
        mod = _dict_of(t).get("__module__", "builtins")
        name = _qualname_of(t)
    except Exception:
        return short_type(obj)
    return name if mod in ("builtins", None) or not isinstance(mod, str) else "%s.%s" % (
        mod, name)
