"""When a traced thread stops: what the backends' events mean to the debugger.

Who runs where: traced program threads call `on_line` / `on_call` / `on_return` / `on_raise`
from the backend's callbacks (backend.py is the contract), and the backends ask `eligible` and
`code_plan` as they first meet a code object. Breakpoints (conditions, hit counts, logpoints),
steps and the exception filters are judged here; a thread that must stop calls `self.stop`,
which parks it (core.py). Hot paths only read attributes; the core's lock is taken only to
change the step.

`Debugger` (core.py) inherits this class rather than hold it as an object, so that a line event
reaches the state and `stop` as `self.x`, with no attribute hop more than before.
"""
import threading

from . import async_step
from . import awaits
from . import breakpoints as bpmod
from . import conditions
from . import frames as framemod
from . import paths
from . import tasks as taskmod
from .stepping import IN, Step, current_owner
from .threads import agent_idents

_THREADING_FILE = threading.__file__


class StopRules:
    """No state of its own: it reads and sets what `Debugger.__init__` makes (core.py)."""

    # --- what to trace (called by backends, cached there per code object) ---
    def eligible(self, filename):
        k = paths.kind(filename)
        return k == "user" or (k == "library" and not self.just_my_code)

    def steppable(self, filename):
        """Where a step may stop: eligible, and not event-loop or executor machinery."""
        return self.eligible(filename) and not async_step.invisible(filename)

    def code_plan(self, code, module_name):
        """(lines -> breakpoints or None, function breakpoints) for a code object first seen."""
        filename = code.co_filename
        if self.bps.pending and paths.canonical(filename) in self.bps.pending:
            for bp in self.bps.mark_loaded(paths.canonical(filename)):
                self.event("breakpoint", {"reason": "changed", "breakpoint": bp.as_json()})
        if not self.eligible(filename):
            return None, ()
        funcs = self.bps.functions_for(code, module_name) if self.bps.functions else ()
        return self.bps.lines_for_code(code), funcs

    # --- events from traced threads ---
    def on_line(self, frame, bps):
        ident = threading.get_ident()
        if ident in agent_idents or (self.stopped and self._parked(ident)):
            return
        if bps and self._hit(frame, bps, "breakpoint"):
            return
        if (self.stopped or self.pause_requested) and ident not in self.console_threads:
            # Parking inside threading's bootstrap could hold the lock that `threads` needs.
            filename = frame.f_code.co_filename
            if self.eligible(filename) and filename != _THREADING_FILE:
                pending = self.pending_stop
                if pending is not None and pending[0] == ident and self.pause_requested:
                    self.pending_stop = None    # a diagnostics filter (blockedLoop)
                    self.stop(frame, "exception", exc=pending[1], break_mode="always")
                else:
                    self.stop(frame, "pause")
            return
        step = self.step
        if step is not None and step.stops_at(frame, current_owner):
            filename = frame.f_code.co_filename
            # The entry stop is the program's first line, even without justMyCode.
            if paths.is_user(filename) if step.reason == "entry" else self.steppable(filename):
                self.stop(frame, step.reason, hit_ids=step.hit_ids)

    def on_call(self, frame, bps):
        """A function with function breakpoints starts (or a coroutine of it resumes: ignored).
        Conditions see the arguments now; the stop is at the first line of the body, as pdb's
        `break func`: the next line this logical thread runs."""
        ident = threading.get_ident()
        if ident in agent_idents or (self.stopped and self._parked(ident)) \
                or not async_step.starts(frame):
            return
        hit_ids = self._hits(frame, bps)
        if not hit_ids:
            return
        with self.lock:
            if self.conn is None:
                return
            self.step = Step.start(IN, current_owner(), None, "function breakpoint", hit_ids,
                                   replaced=self.step)
            self._rehot()
        self.backend.refresh()

    def _hit(self, frame, bps, reason):
        """Breakpoints at this place: run their conditions, counts and logpoints; maybe stop."""
        hit_ids = self._hits(frame, bps)
        if hit_ids:
            self.stop(frame, reason, hit_ids=hit_ids)
            return True
        return False

    def _hits(self, frame, bps):
        """The ids of the breakpoints that stop here, after conditions, counts and logpoints."""
        hit_ids = []
        for bp in bps:
            if bp.condition is not None:
                verdict = conditions.passes(self, bp, frame)
                if verdict is None:     # the condition failed: stop here whatever the rest says
                    hit_ids.append(bp.id)
                    continue
                if not verdict:
                    continue
            if not bpmod.hit_passes(bp):
                continue
            if bp.log_parts is not None:
                text = conditions.log_text(self, bp, frame)
                if text is not None:
                    self.output(text + "\n")
            else:
                hit_ids.append(bp.id)
        return hit_ids

    def on_return(self, frame, how="return", exc=None, tb=None):
        """`frame` returns, unwinds (`how` 'unwind', raising `exc`) or yields ('suspend': a
        coroutine waits, it is not left). A step watching it moves outward: to the caller, or
        at the end of a task's top coroutine to the tasks awaiting the task."""
        if how == "unwind" and "taskUnhandled" in self.exception_filters:
            self._task_unhandled(frame, exc, tb)
        step = self.step
        if step is None or frame is not step.watch or how == "suspend":
            return
        owner = current_owner()
        if not step.owns(owner):
            return
        if type(owner) is not int and frame is taskmod.top_frame(owner):
            new = step.to_awaiters(awaits.awaiters(owner))
        elif how == "return" and _stops_at_call_site(step, frame) \
                and self.steppable(frame.f_back.f_code.co_filename):
            # The caller goes on with the rest of the line that called or awaited this frame,
            # where no line event comes: stop now, showing it at that line, as debugpy does.
            with self.lock:
                if self.step is not step:
                    return
                self.step = None
                self._rehot()
            self.stop(frame.f_back, step.reason)
            return
        elif step.kind == IN:
            return
        else:
            new = self._moved_out(step, frame.f_back)
        with self.lock:
            if self.step is not step:
                return
            self.step = new
            self._rehot()
        self.backend.refresh()      # the frames the step can end in have changed

    def _moved_out(self, step, caller):
        while caller is not None and not self.steppable(caller.f_code.co_filename):
            if async_step.executor_frames(caller):
                return None     # the end of a job run by an executor thread: a continue
            caller = caller.f_back
        return step.moved_out(caller)

    def _task_unhandled(self, frame, exc, tb):
        """An exception leaves a coroutine: stop if it ends a task that nobody awaits."""
        if exc is None or not frame.f_code.co_flags & async_step.CO_COROUTINE \
                or threading.get_ident() in agent_idents:
            return
        task = taskmod.current_task()
        if task is None or frame is not taskmod.top_frame(task) \
                or not async_step.ends_task_unhandled(task, exc):
            return
        frames = framemod.traceback_frames(tb if tb is not None else exc.__traceback__)
        if frame not in frames:
            frames.append(frame)
        self.stop(frames[0], "exception", frames=frames, exc=exc, break_mode="unhandled",
                  task=task)

    def on_raise(self, frame, exc, tb):
        """`tb` is the traceback so far (3.11 updates exc.__traceback__ only later)."""
        ident = threading.get_ident()
        if "raised" not in self.exception_filters or ident in agent_idents \
                or (self.stopped and self._parked(ident)):
            return
        if isinstance(exc, SystemExit) or not self.eligible(frame.f_code.co_filename):
            return
        if async_step.is_control_flow(exc) and (
                paths.kind(frame.f_code.co_filename) == "library"
                or not async_step.raised_by_statement(frame)):
            return      # asyncio's and the interpreter's own signalling, not a user raise
        tb = tb.tb_next if tb is not None and tb.tb_frame is frame else None
        while tb is not None:   # an eligible deeper frame already had its chance to stop
            if self.eligible(tb.tb_frame.f_code.co_filename):
                return
            tb = tb.tb_next
        self.stop(frame, "exception", exc=exc, break_mode="always")

    def on_uncaught(self, exc):
        """An exception is about to end the program or a thread; its frames are still alive."""
        if "uncaught" not in self.exception_filters or isinstance(exc, SystemExit):
            return
        frames = framemod.traceback_frames(exc.__traceback__)
        if frames:
            self.stop(frames[0], "exception", frames=frames, exc=exc, break_mode="unhandled")


def _stops_at_call_site(step, frame):
    """Whether a step watching `frame` ends at the caller's line when `frame` returns: a
    coroutine awaited directly (any step kind: a step in on a line that calls nothing ends
    where a step over does), or a plain function left by a step over or out. A generator
    hands its value back to whoever resumes it next, so the step moves on to the next line."""
    caller = frame.f_back
    if caller is None:
        return False
    flags = frame.f_code.co_flags
    if flags & caller.f_code.co_flags & async_step.CO_COROUTINE:
        return True
    return step.kind != IN and not flags & async_step.RESUMABLE
