"""Turning the trace function of *other* threads on and off (CPython 3.11 only).

3.11 has no `threading.settrace_all_threads`, and `sys.settrace` acts on the calling thread
only. `_PyEval_SetTrace(tstate, func, arg)` (exported by 3.11) acts on any thread state; `func`
is the C trampoline that `sys.settrace` installs, read once from the calling thread's state
(3.11 `PyThreadState` layout, checked against `sys.settrace` before use). The eval loop of the
target thread sees the change at its next instruction, so a thread spinning in a loop picks
it up at once.

Thread states are never walked: each program thread records its own as it starts (and the
main thread at `start`) and removes it, under `lock`, before it ends, so `apply` (which holds
the lock and the GIL) only ever touches live thread states.
"""
import ctypes
import sys
import threading

_api = ctypes.pythonapi
_P = ctypes.c_void_p


class _ThreadState(ctypes.Structure):
    # The head of `struct _ts` in CPython 3.11's Include/cpython/pystate.h.
    _fields_ = [("prev", _P), ("next", _P), ("interp", _P),
                ("_initialized", ctypes.c_int), ("_static", ctypes.c_int),
                ("recursion_remaining", ctypes.c_int), ("recursion_limit", ctypes.c_int),
                ("recursion_headroom", ctypes.c_int), ("tracing", ctypes.c_int),
                ("tracing_what", ctypes.c_int), ("cframe", _P),
                ("c_profilefunc", _P), ("c_tracefunc", _P),
                ("c_profileobj", _P), ("c_traceobj", _P),
                ("curexc_type", _P), ("curexc_value", _P), ("curexc_traceback", _P),
                ("exc_info", _P), ("dict", _P), ("gilstate_counter", ctypes.c_int),
                ("async_exc", _P), ("thread_id", ctypes.c_ulong)]


class Unsupported(Exception):
    pass


def _current_tstate():
    return _api.PyThreadState_Get()


class ThreadTraceControl:
    """Sets `tracefunc` (a sys.settrace-style function) on chosen program threads."""

    def __init__(self, tracefunc):
        if sys.version_info[:2] != (3, 11):
            raise Unsupported("thread-state layout is known for 3.11 only")
        _api.PyThreadState_Get.restype = _P
        _api.PyThreadState_Get.argtypes = []
        self._set = _api._PyEval_SetTrace
        self._set.argtypes = [_P, _P, _P]
        self._set.restype = ctypes.c_int
        self.tracefunc = tracefunc
        self.trampoline = self._read_trampoline(tracefunc)
        self.lock = threading.Lock()
        self.tstates = {}         # ident -> address of the thread's PyThreadState

    @staticmethod
    def _read_trampoline(func):
        ts = _ThreadState.from_address(_current_tstate())
        if ts.thread_id != threading.get_ident():
            raise Unsupported("unexpected PyThreadState layout")
        old = sys.gettrace()
        sys.settrace(func)
        try:
            trampoline, obj = ts.c_tracefunc, ts.c_traceobj
        finally:
            sys.settrace(old)
        if not trampoline or obj != id(func):
            raise Unsupported("unexpected PyThreadState layout")
        return trampoline

    def start(self):
        """Record the calling (main) thread and every program thread started from now on (the
        agent's own threads do not start through threading)."""
        self._record()
        bootstrap = threading.Thread._bootstrap_inner
        record, forget = self._record, self._forget

        def recorded_bootstrap(thread):
            record()
            try:
                return bootstrap(thread)
            finally:
                forget()
        threading.Thread._bootstrap_inner = recorded_bootstrap

    def _record(self):
        with self.lock:
            self.tstates[threading.get_ident()] = _current_tstate()

    def _forget(self):
        with self.lock:
            self.tstates.pop(threading.get_ident(), None)

    def forked(self):
        """In a fork child only the calling thread is left."""
        self.lock = threading.Lock()
        self.tstates = {}
        self._record()

    def apply(self, wanted):
        """Trace exactly the recorded threads for which `wanted(ident)` holds."""
        func_id = id(self.tracefunc)
        with self.lock:
            for ident, address in self.tstates.items():
                ts = _ThreadState.from_address(address)
                on = ts.c_tracefunc == self.trampoline and ts.c_traceobj == func_id
                if wanted(ident):
                    if not on:
                        self._set(address, self.trampoline, func_id)
                elif on:
                    self._set(address, None, None)
