"""sys.monitoring backend (3.12+), tool DEBUGGER_ID.

Idle cost: with no breakpoints no event is enabled at all. With breakpoints, PY_START and
PY_RESUME fire once per code object and return DISABLE unless the code has breakpoints; code
with breakpoints gets LINE locally, and LINE returns DISABLE for lines without one. A step over
or out gets LINE and PY_RETURN/PY_YIELD locally on the code of the frames it can end in; a step
in, a pause or a stop of all threads turns LINE on globally until the program resumes freely.
Callbacks run on program threads; `refresh` runs on whichever thread changed the core state.
"""
import sys

from . import forksafe
from .async_step import suspends
from .backend import Backend
from .conditions import line_check
from .stepping import IN

mon = sys.monitoring
E = mon.events
DISABLE = mon.DISABLE
_getframe = sys._getframe


class MonitoringBackend(Backend):
    name = "monitoring"

    def __init__(self, core):
        super().__init__(core)
        self.tool = self._claim_tool()
        self.plans = {}           # id(code) -> (code, line table or None, function bps)
        self.line_tables = {}     # id(code) -> {line: (code, breakpoints, fast check)}
        self.first_at_line = {}   # line -> one such entry, to skip id() on the hot path
        self.instrumented = {}    # id(code) -> code with local LINE events
        self.step_codes = {}      # id(code) -> code with local events for a step
        self.lock = forksafe.rlock()
        cb = mon.register_callback
        cb(self.tool, E.PY_START, self._on_start)
        cb(self.tool, E.PY_RESUME, self._on_start)
        cb(self.tool, E.LINE, self._make_line_callback())
        cb(self.tool, E.PY_RETURN, self._on_return)
        cb(self.tool, E.PY_YIELD, self._on_yield)
        cb(self.tool, E.PY_UNWIND, self._on_unwind)
        cb(self.tool, E.RAISE, self._on_raise)

    @staticmethod
    def _claim_tool():
        for tool in (mon.DEBUGGER_ID, 2, 3, 4):
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "tasklens")
                return tool
        raise RuntimeError("every sys.monitoring tool id is taken")

    def start(self):
        self.refresh(plans_changed=True)

    # --- callbacks (program threads) ---
    def _plan(self, code, frame):
        plan = self.plans.get(id(code))
        if plan is None:
            lines, funcs = self.core.code_plan(code, frame.f_globals.get("__name__"))
            plan = self.plans[id(code)] = (code, lines, funcs)
            if lines:
                table = self.line_tables[id(code)] = {}
                for line, bps in lines.items():
                    entry = (code, bps, line_check(bps, code, frame.f_globals))
                    table[line] = entry
                    self.first_at_line.setdefault(line, entry)
                self.instrumented[id(code)] = code
                self._apply_local(code)
        return plan

    def _on_start(self, code, offset):
        frame = _getframe(1)
        plan = self._plan(code, frame)
        if plan[2]:
            self.core.on_call(frame, plan[2])
            return None
        return DISABLE

    def _make_line_callback(self):
        core = self.core
        first_at_line = self.first_at_line.get
        tables = self.line_tables.get

        def on_line(code, line):
            # The hot path of a false conditional breakpoint: every operation here counts.
            entry = first_at_line(line)
            if entry is None or entry[0] is not code:
                table = tables(id(code))
                entry = table.get(line) if table is not None else None
            if entry is not None:
                check = entry[2]
                if check is not None and not core.hot:
                    try:
                        if not check(_getframe(1).f_locals):
                            return None
                    except Exception:
                        pass    # the general path reports it
                core.on_line(_getframe(1), entry[1])
                return None
            if not core.hot:
                return DISABLE
            core.on_line(_getframe(1), None)
            return None
        return on_line

    def _on_return(self, code, offset, value):
        if self.core.step is not None:
            self.core.on_return(_getframe(1))

    def _on_yield(self, code, offset, value):
        if self.core.step is not None:
            self.core.on_return(_getframe(1), "suspend" if suspends(code, value) else "return")

    def _on_unwind(self, code, offset, exc):
        core = self.core
        if core.step is not None or "taskUnhandled" in core.exception_filters:
            core.on_return(_getframe(1), "unwind", exc)

    def _on_raise(self, code, offset, exc):
        self.core.on_raise(_getframe(1), exc, exc.__traceback__)

    # --- state changes ---
    def refresh(self, plans_changed=False):
        """Bring the enabled events in line with the core's state. Plans (which code has
        breakpoints) are rebuilt only when breakpoints or filters changed: a LINE callback
        racing with a rebuild would miss its breakpoint."""
        core = self.core
        with self.lock:
            if plans_changed:
                for code in self.instrumented.values():
                    mon.set_local_events(self.tool, code, 0)
                self.plans = {}
                self.line_tables.clear()     # cleared in place: the LINE callback holds them
                self.first_at_line.clear()
                self.instrumented = {}
            self._update_step_codes()
            events = 0
            if core.bps.by_file or core.bps.functions or core.bps.pending:
                events |= E.PY_START | E.PY_RESUME
            if core.everywhere:
                events |= E.PY_START | E.PY_RESUME | E.LINE
            elif core.step is not None:
                events |= E.PY_UNWIND   # cannot be local; leaving the watched frame by a raise
            if "taskUnhandled" in core.exception_filters:
                events |= E.PY_UNWIND   # an exception leaving a task's top coroutine
            if "raised" in core.exception_filters:
                events |= E.RAISE
            mon.set_events(self.tool, events)
            if plans_changed and core.bps.by_file:
                self._plan_running_frames()
            mon.restart_events()

    def _apply_local(self, code):
        key = id(code)
        events = E.LINE if key in self.line_tables else 0
        if key in self.step_codes:
            events |= E.LINE | E.PY_RETURN | E.PY_YIELD
        mon.set_local_events(self.tool, code, events)

    def _update_step_codes(self):
        """A step over/out needs line and return events only in the watched frame's code and
        its callers' (the frames it can end in), not everywhere."""
        core = self.core
        step = core.step
        wanted = {}
        if step is not None and not core.stopped:
            frame = step.watch
            while frame is not None:
                wanted[id(frame.f_code)] = frame.f_code
                # a step in has line events everywhere; it only follows the end of a task
                frame = frame.f_back if step.kind != IN else None
        old, self.step_codes = self.step_codes, wanted
        for key, code in old.items():
            if key not in wanted:
                self._apply_local(code)
        for code in wanted.values():
            self._apply_local(code)

    def _plan_running_frames(self):
        """Frames already running never fire PY_START again: instrument their code now."""
        for frame in list(sys._current_frames().values()):
            while frame is not None:
                self._plan(frame.f_code, frame)
                frame = frame.f_back

    def thread_resumed(self):
        pass

    def follow(self, frame):
        pass    # the step's code objects have local events, whichever thread runs them

    def shutdown(self):
        with self.lock:
            mon.set_events(self.tool, 0)
            for code in list(self.instrumented.values()) + list(self.step_codes.values()):
                mon.set_local_events(self.tool, code, 0)
            self.instrumented = {}
            self.step_codes = {}
