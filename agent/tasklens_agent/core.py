"""The debugger core: a session's state, and the stop of every thread: parking a thread that
stops, resuming everything, pausing, detaching.

Who runs where:
- traced program threads judge their events (stop_rules.py, which `Debugger` inherits); a
  thread that must stop calls `stop`, which parks it on its own queue, where it runs S-request
  jobs handed to it until it is resumed;
- the control thread (socket reader) calls `resume`, `request_pause`, `detach` and changes
  breakpoints, then asks the backend to `refresh` what it traces;
- a pause also wakes each event loop's thread to stop at the loop (`_loop_woken`), and an agent
  thread (`tasklens-pause`) shows the threads still in native code after a grace as they are
  (pausing.py);
- the agent's own threads (control, repr workers, timers) are ignored everywhere.
State shared between them changes under `self.lock`.
"""
import itertools
import queue
import sys
import threading

from . import forksafe
from . import awaits
from . import breakpoints as bpmod
from . import frames as framemod
from . import pausing
from . import tasks as taskmod
from .saferepr import safe_str
from .stepping import IN, Step, current_owner, interrupted, interruption_note
from .stop_rules import StopRules
from .threads import AgentThread, agent_idents, current_user_thread, thread_id


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


class Debugger(StopRules):
    def __init__(self):
        self.lock = forksafe.rlock()
        self.conn = None
        self.bps = bpmod.BreakpointStore()
        self.just_my_code = True
        self.terminate_on_disconnect = False
        self.exception_filters = frozenset()
        self.filters_from_session = False     # set by this process's session (children._preset)
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
            if not taskmod.has_id(ts.task):     # the first stop in it: ids in creation order
                taskmod.live_tasks()
            tid, where = taskmod.task_id(ts.task), taskmod.task_name(ts.task, ts.frames)
        else:
            tid, where = thread_id(ts.thread), ts.thread.name
        body = {"reason": reason, "threadId": tid, "allThreadsStopped": True}
        if description is not None:
            body["description"] = description
        if hit_ids:
            body["hitBreakpointIds"] = self.bps.current_ids(hit_ids, ts.frames[0]) \
                if ts.frames else hit_ids
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
            self.filters_from_session = False
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
