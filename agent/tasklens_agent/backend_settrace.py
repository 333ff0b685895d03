"""sys.settrace backend (3.11 builds the hooked backend cannot drive, or TASKLENS_BACKEND=settrace).

Every program thread runs `_global` on each call (installed for the main thread and, through
threading.settrace, for every thread started later). Its fast path is one dict lookup per call
returning None, so frames of code that needs nothing are never traced line by line. Frames that
need line events get `_local`: code with breakpoints, the stepping thread's stack for a step
over/out, and every frame of every thread during a step in, a pause or a stop of all threads
(set on running frames from sys._current_frames(), because their call event has passed).
"""
import sys
import threading

from . import forksafe
from . import async_step
from .backend import Backend
from .stepping import current_owner
from .threads import agent_idents

_MISS = object()


class SettraceBackend(Backend):
    name = "settrace"

    def __init__(self, core):
        super().__init__(core)
        self.enabled = False
        self.cache = {}           # id(code) -> _local or None, valid while nothing is hot
        self.keep = {}            # id(code) -> code, so a cached id is never reused
        self.tables = {}          # id(code) -> {line: breakpoints}
        self.funcs = {}           # id(code) -> function breakpoints
        self.hook_sites = {}      # id(code) -> (code, offsets of lines hooks handle); 3.11
        self.unwinding = {}       # id(frame) -> (frame, f_lasti, exc, tb) of a coroutine raising
        self.lock = forksafe.rlock()
        cache_get = self.cache.get
        classify = self._classify

        def global_trace(frame, event, arg):
            r = cache_get(id(frame.f_code), _MISS)
            if r is _MISS:
                r = classify(frame)
            return r
        self._global = global_trace

    def start(self):
        self.enabled = True
        threading.settrace(self._global)
        sys.settrace(self._global)

    def _plan(self, frame):
        """Whether frames of this code need line events while nothing is hot (cached)."""
        core = self.core
        code = frame.f_code
        key = id(code)
        with self.lock:
            if key not in self.keep:
                lines, funcs = core.code_plan(code, frame.f_globals.get("__name__"))
                lines = self._traced_lines(code, lines)
                self.keep[key] = code
                if lines:
                    self.tables[key] = lines
                if funcs:
                    self.funcs[key] = funcs
            filters = core.exception_filters
            wanted = key in self.tables or (
                ("raised" in filters or ("taskUnhandled" in filters
                                         and code.co_flags & async_step.CO_COROUTINE))
                and core.eligible(code.co_filename))
            if not core.hot and key not in self.funcs:
                self.cache[key] = self._local if wanted else None
        return wanted

    def _traced_lines(self, code, lines):
        """The breakpoint lines of `code` that need line events."""
        return lines

    def _classify(self, frame):
        if not self.enabled:
            sys.settrace(None)      # tracing was shut down: each thread drops it on its own
            return None
        if threading.get_ident() in agent_idents:
            return None
        wanted = self._plan(frame)
        funcs = self.funcs.get(id(frame.f_code))
        if funcs:
            self.core.on_call(frame, funcs)
        return self._local if wanted or self.core.everywhere else None

    def _local(self, frame, event, arg):
        if event == "line":
            code = frame.f_code
            sites = self.hook_sites.get(id(code))
            if sites is not None and sites[0] is code and frame.f_lasti in sites[1]:
                return self._local      # the hook compiled at the start of this line runs it
            table = self.tables.get(id(code))
            self.core.on_line(frame, table.get(frame.f_lineno) if table else None)
        elif event == "return":
            self._returned(frame, arg)
        elif event == "exception":
            self._raised(frame, arg)
        return self._local

    def _raised(self, frame, arg):
        if frame.f_code.co_flags & async_step.CO_COROUTINE:
            self.unwinding[id(frame)] = (frame, frame.f_lasti, arg[1], arg[2])
        self.core.on_raise(frame, arg[1], arg[2])

    def _returned(self, frame, value):
        """A 'return' event is a return, a coroutine suspending, or an exception leaving: an
        exception met at this very instruction (even a yield it was thrown in at) leaves."""
        pending = self.unwinding.pop(id(frame), None) if self.unwinding else None
        if pending is not None and pending[0] is frame and pending[1] == frame.f_lasti:
            self.core.on_return(frame, "unwind", pending[2], pending[3])
        elif self.core.step is not None:
            self.core.on_return(frame, async_step.return_kind(frame, value))

    def refresh(self, plans_changed=False):
        """Forget cached decisions; rebuild plans only when breakpoints or filters changed
        (a line event racing with a rebuild would miss its breakpoint)."""
        core = self.core
        with self.lock:
            self.cache.clear()
            if plans_changed:
                self.keep.clear()
                self.tables.clear()
                self.funcs.clear()
        if not self.enabled:
            return
        if core.everywhere:
            self._trace_running_frames(all_frames=True)
        elif plans_changed and core.bps.by_file:
            self._trace_running_frames(all_frames=False)

    def _trace_running_frames(self, all_frames):
        for ident, frame in list(sys._current_frames().items()):
            if ident in agent_idents:
                continue
            while frame is not None:
                if self._plan(frame) or all_frames:
                    frame.f_trace_lines = True
                    frame.f_trace = self._local
                frame = frame.f_back

    def thread_resumed(self):
        """On the resuming thread: a step needs its whole stack traced (callers included)."""
        step = self.core.step
        if step is not None and step.watch is not None:
            # a suspended task's frame, stepped from the threads view, resumes traced
            step.watch.f_trace_lines = True
            step.watch.f_trace = self._local
        if step is not None and step.owns(current_owner()):
            self.follow(sys._getframe(1))

    def follow(self, frame):
        """A step starts in these frames (and their callers): they get line events. Also for
        a thread stepped while it is blocked in native code, when it runs them again."""
        while frame is not None:
            frame.f_trace_lines = True
            frame.f_trace = self._local
            frame = frame.f_back

    def shutdown(self):
        self.enabled = False
        threading.settrace(None)
        sys.settrace(None)
        for frame in list(sys._current_frames().values()):
            while frame is not None:
                frame.f_trace = None
                frame = frame.f_back
