"""The debugger core: decides when a thread stops, parks it, and resumes everything.

Who runs where:
- traced program threads call `on_line` / `on_call` / `on_return` / `on_raise` from the backend's
  callbacks; a thread that must stop calls `stop`, which parks it on its own queue, where it runs
  S-request jobs handed to it until it is resumed;
- the control thread (socket reader) calls `resume`, `request_pause`, `detach` and changes
  breakpoints, then asks the backend to `refresh` what it traces;
- a pause also wakes each event loop's thread to stop at the loop (`_loop_woken`), and an agent
  thread (`tasklens-pause`) shows the threads still in native code after a grace as they are
  (pausing.py);
- the agent's own threads (control, repr workers, timers) are ignored everywhere.
State shared between them changes under `self.lock`; hot paths only read attributes.
"""
import itertools
import queue
import sys
import threading

from . import async_step
from . import awaits
from . import breakpoints as bpmod
from . import conditions
from . import frames as framemod
from . import paths
from . import pausing
from . import tasks as taskmod
from .saferepr import safe_str
from .stepping import IN, Step, current_owner, interrupted, interruption_note
from .threads import AgentThread, agent_idents, current_user_thread, thread_id

_THREADING_FILE = threading.__file__


class ThreadState:
    def __init__(self, ident, thread):
        self.ident = ident
        self.thread = thread
        self.jobs = queue.SimpleQueue()
        self.parked = False
        self.frames = None        # innermost-first frames shown while stopped
        self.task = None          # the asyncio task whose step runs those frames
        self.exc = None
        self.break_mode = None
        self.native = None        # while stopped but not parked: why and where (a label)
        self.reason = self.hit_ids = None
        self.held = None          # a console `await` reported this stop: what to do on resume


class Debugger:
    def __init__(self):
        self.lock = threading.RLock()
        self.conn = None
        self.bps = bpmod.BreakpointStore()
        self.just_my_code = True
        self.terminate_on_disconnect = False
        self.exception_filters = frozenset()
        self.stopped = False          # the session is stopped (all threads are to park)
        self.pause_requested = False
        self.pause_gen = 0            # which pause a loop's wake-up or the grace belongs to
        self.pause_watched = False    # pausing.watch reports the pause's stop
        self.paused_by = None         # the ThreadState that stopped first for that pause
        self.parked_signal = threading.Event()    # set as a thread parks, for pausing.watch
        self.pending_stop = None      # (thread ident, exception): a blockedLoop stop to come
        self.step = None
        self.hot = self.everywhere = False
        self.states = {}
        self.handle_ids = itertools.count(1)
        self.frame_handles = {}       # frameId -> (ThreadState, frame)
        self.var_handles = {}         # variablesReference -> (ThreadState, kind, obj, name)
        self.backend = None
        self.console_threads = set()  # turning a paused loop for the console (paused_loop.py)

    # --- wire helpers (callable from any thread) ---
    def event(self, name, body):
        conn = self.conn
        if conn is not None:
            conn.event(name, body)

    def output(self, text, category="console"):
        self.event("output", {"category": category, "output": text})

    def _rehot(self):
        """`hot`: some line events are needed outside breakpoints (a step, a pause, a stop
        of all); `everywhere`: in every frame (all but a step over/out, which needs only the
        frames it can end in)."""
        self.hot = self.step is not None or self.pause_requested or self.stopped
        self.everywhere = self.pause_requested or self.stopped or (
            self.step is not None and self.step.kind == IN)

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

    # --- stopping and resuming ---
    def stop(self, frame, reason, frames=None, exc=None, break_mode=None, hit_ids=None,
             task=None):
        ident = threading.get_ident()
        thread = current_user_thread()
        if thread is None or ident in agent_idents or self._parked(ident):
            return
        while True:
            with self.lock:
                if self.conn is None or (reason == "pause" and not self.hot):
                    return
                ts = self.state_of(thread)
                first, deferred = not self.stopped, False
                if first:
                    ended = self.step
                    self.stop_all_now()
                    deferred = reason == "pause" and self.pause_watched
                    if deferred:
                        self.paused_by = ts
                ts.parked = True
                ts.native = None
                ts.frames = frames or framemod.thread_stack(frame)
                ts.task = task if task is not None else taskmod.task_of_frame(frame)
                ts.exc, ts.break_mode = exc, break_mode
                ts.reason, ts.hit_ids = reason, hit_ids
                if self.pause_watched:
                    self.parked_signal.set()
            if first:
                self.backend.refresh()
                if not deferred:
                    cut = interrupted(ended, reason, current_owner())
                    self.report_stop(ts, reason, exc, hit_ids, cut=cut)
            self._park(ts)
            held, ts.held = ts.held, None
            if held is not None:    # reported after a console `await` (paused_loop.py)
                held()
                return
            # A breakpoint or exception met while another thread's stop held everyone was
            # not reported: report it now rather than run past it.
            if first or reason == "pause":
                return

    def _parked(self, ident):
        """Whether this thread is parked: the code its requests run (evaluate) never stops.
        Only a thread parked outside a trace callback (at its loop) gets that far."""
        ts = self.states.get(ident)
        return ts is not None and ts.parked

    def report_stop(self, ts, reason, exc=None, hit_ids=None, description=None, cut=None):
        if ts.task is not None:
            tid, where = taskmod.task_id(ts.task), taskmod.task_name(ts.task)
        else:
            tid, where = thread_id(ts.thread), ts.thread.name
        body = {"reason": reason, "threadId": tid, "allThreadsStopped": True}
        if description is not None:
            body["description"] = description
        if hit_ids:
            body["hitBreakpointIds"] = hit_ids
        if exc is not None:
            body["description"] = "%s: %s" % (type(exc).__name__, safe_str(exc, 500))
            body["text"] = type(exc).__name__
        if cut is not None:     # a step ended unfinished: say so, or F10 seems to jump
            what = body.get("description") or "%s in %s" % (reason.capitalize(), where)
            body["description"] = "%s %s" % (what, interruption_note(cut))
        self.event("stopped", body)

    def _park(self, ts):
        while True:
            job = ts.jobs.get()
            if job is None:
                break
            job()
        ts.parked = False
        ts.frames = ts.exc = ts.break_mode = ts.task = None
        self.backend.thread_resumed()

    def resume(self, step_kind=None, ts=None, task=None):
        """Resume every parked thread; with step_kind, a step starts from the top frame of
        `ts` (owned by the task it runs, if any) or of the suspended `task`."""
        with self.lock:
            if not self.stopped:
                return False
            self.stopped = False
            follow = None
            if step_kind is not None and ts is not None:
                owner = ts.task if ts.task is not None else ts.ident
                frame = self._step_frame(ts)
                self.step = Step.start(step_kind, owner, frame)
                follow = frame if not ts.parked else None
            elif step_kind is not None:
                self.step = Step.start(step_kind, task, self._resume_frame(task))
            self._rehot()
            self.frame_handles = {}
            self.var_handles = {}
            parked = [s for s in self.states.values() if s.parked]
            live = threading._active
            self.states = {i: s for i, s in self.states.items() if s.parked or i in live}
            for s in self.states.values():
                s.native = None
        self.backend.refresh()
        if follow is not None:
            self.backend.follow(follow)
        for s in parked:
            s.jobs.put(None)
        return True

    def _step_frame(self, ts):
        """Where a step from this thread starts: its top frame, or, for a thread shown while
        in native code, the innermost frame of the code a step may stop in."""
        if ts.parked:
            return ts.frames[0]
        return next((f for f in ts.frames if self.steppable(f.f_code.co_filename)),
                    ts.frames[0])

    def _resume_frame(self, task):
        """The innermost frame of a suspended task's chain where a step may stop."""
        chain = awaits.coroutine_chain(task)
        return next((f for f in chain if self.steppable(f.f_code.co_filename)),
                    chain[0] if chain else None)

    def request_pause(self, requested=None):
        """Every thread stops at its next eligible line; idle loops are woken to stop at the
        loop; after the grace, threads still in native code are shown stopped as they are.
        The stop is reported once every thread is parked or shown (pausing.watch)."""
        with self.lock:
            if self.stopped or self.conn is None:
                return
            self.pause_requested = True
            self.pause_gen += 1
            gen = self.pause_gen
            self._rehot()
            self.pause_watched = True
            self.paused_by = None
        before = pausing.sample()
        self.backend.refresh()
        pausing.wake_loops(self._loop_woken, gen)
        AgentThread(lambda: pausing.watch(self, gen, before, requested), "tasklens-pause").start()

    def request_stop_in(self, ident, exc):
        """A diagnostics filter (blockedLoop): thread `ident` stops with `exc` at its next
        eligible line (it is blocked now), the other threads as for a pause; no loop is woken
        and no thread is shown as it is, so the stop comes from that thread's own line."""
        with self.lock:
            if self.stopped or self.conn is None:
                return
            self.pending_stop = (ident, exc)
            self.pause_requested = True
            self._rehot()
        self.backend.refresh()

    def _loop_woken(self, gen):
        """Called by a loop, on its thread, as the pause woke it: stop here, at the loop."""
        if gen == self.pause_gen and (self.pause_requested or self.stopped):
            self.stop(sys._getframe(1), "pause")

    def state_of(self, thread):
        """The thread's ThreadState, made if it has none (call with the lock held)."""
        ts = self.states.get(thread.ident)
        if ts is None or ts.thread is not thread:
            ts = self.states[thread.ident] = ThreadState(thread.ident, thread)
        return ts

    def stop_all_now(self):
        """The program is stopped from now on: every thread is to park (lock held)."""
        self.stopped = True
        self.pause_requested = False
        self.pending_stop = None
        self.step = None
        self._rehot()

    def detach(self):
        """Adapter gone: forget breakpoints and steps, stop tracing, let every thread run."""
        with self.lock:
            self.conn = None
            self.bps.clear()
            self.exception_filters = frozenset()
            self.step = None
            self.pause_requested = False
            self.stopped = False
            self._rehot()
            parked = [s for s in self.states.values() if s.parked]
            for s in self.states.values():
                s.native = None
        self.backend.refresh(plans_changed=True)
        for s in parked:
            s.jobs.put(None)

    def step_on_entry(self):
        """stopOnEntry: the first eligible line the main thread runs stops with `entry`."""
        with self.lock:
            self.step = Step.start(IN, current_owner(), None, reason="entry")
            self._rehot()

    def state_for_thread(self, thread):
        return self.states.get(thread.ident) if thread is not None else None

    # --- handles (die on resume) ---
    def frame_handle(self, ts, frame):
        """A frame id; only while stopped does it lead back to the frame (a task's stack read
        while the program runs must not keep its frames alive)."""
        fid = next(self.handle_ids)
        if self.stopped:
            self.frame_handles[fid] = (ts, frame)
        return fid

    def var_handle(self, ts, kind, obj, name):
        ref = next(self.handle_ids)
        self.var_handles[ref] = (ts, kind, obj, name)
        return ref


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
