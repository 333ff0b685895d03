"""Task exception never retrieved: reported when the task finishes, not when it is collected.

Which tasks end with an exception: on 3.12+, a `sys.monitoring` PY_UNWIND callback (its own
tool id; called only when an exception leaves a frame) notes the task whose top coroutine an
exception is leaving, so tasks that end well cost nothing. On 3.11, every task the loop creates
gets a done callback instead (task_origins.py's create_task wrapper adds it), which keeps only
the tasks that failed: noting every task until the watchdog's next tick kept them all alive
that long, and the program's garbage collector paid more for that than the callback's test
costs. The watchdog thread drains that list: a task whose exception nothing has taken
(`_log_traceback`, asyncio's own flag) a
grace period later, once its loop has run the other done callbacks (an awaiting task, gather,
TaskGroup, wait's waiter), is reported with its traceback and creation line, even when the
program still holds a reference to it. If the program takes the exception afterwards
(`await task`, `result()`, `exception()`), a follow-up line says so.
"""
import collections
import sys
import time
import weakref

from .. import looptime
from .. import tasks as taskmod
from . import report as rp

GRACE = 0.05
UNFINISHED_FOR = 5.0    # seconds a noted task may take to finish before it is forgotten
_CO_COROUTINE = 0x80
_TOOL_IDS = (4, 3)      # sys.monitoring ids no debugger, coverage tool or profiler claims


class LostWatch:
    def __init__(self, reporter):
        self.reporter = reporter
        self.finished = collections.deque()
        self.waiting = []       # [task, first seen, loop iteration then]
        self.reported = []      # [weakref(task), finished at, info, exception type name]
        self.recent = collections.deque(maxlen=32)  # (info, [weakref to asyncio objects used])
        self.unfinished = []    # (task, noted at): an exception is leaving its coroutine
        self.tool = None        # the sys.monitoring tool id taken (3.12+)
        self.earlier = set()    # ids of tasks found failed by an attach (diagnostics.__init__)

    def install(self):
        """Note failing tasks: PY_UNWIND (3.12+) or a done callback on every task (3.11).
        Returns the done callback to give every task, or None."""
        monitoring = getattr(sys, "monitoring", None)
        if monitoring is None:
            return self._done_callback()
        for tool in _TOOL_IDS:
            if monitoring.get_tool(tool) is None:
                break
        else:
            return self._done_callback()
        monitoring.use_tool_id(tool, "tasklens-diagnostics")
        self.tool = tool
        current_task, getframe, note = taskmod.current_task, sys._getframe, self.finished.append
        monotonic = time.monotonic

        def on_unwind(code, offset, exc):
            if code.co_flags & _CO_COROUTINE and isinstance(exc, Exception):
                task = current_task()
                if task is not None and taskmod.top_frame(task) is getframe(1):
                    note((task, monotonic()))
        monitoring.register_callback(tool, monitoring.events.PY_UNWIND, on_unwind)
        monitoring.set_events(tool, monitoring.events.PY_UNWIND)
        return None

    def uninstall(self):
        """Give the tool id back (an attached debugger leaving)."""
        monitoring, tool, self.tool = getattr(sys, "monitoring", None), self.tool, None
        if tool is not None and monitoring.get_tool(tool) == "tasklens-diagnostics":
            monitoring.set_events(tool, 0)
            monitoring.register_callback(tool, monitoring.events.PY_UNWIND, None)
            monitoring.free_tool_id(tool)
        self.finished.clear()

    def _done_callback(self):
        note, monotonic = self.finished.append, time.monotonic

        def failed(task):
            if getattr(task, "_exception", None) is not None:    # a factory's own task too
                note((task, monotonic()))
        return failed

    def tick(self, now):
        finished = self.finished
        if self.unfinished:
            finished.extend(e for e in self.unfinished if now - e[1] < UNFINISHED_FOR)
            later = {id(e[0]) for e in self.unfinished}
            self.unfinished = []
        else:
            later = ()
        waiting = {id(w[0]) for w in self.waiting}
        while finished:
            entry = finished.popleft()     # (task, when noted); a bare task: found by an attach
            task, at = entry if type(entry) is tuple else (entry, now)
            if id(task) in waiting:
                # Noted twice: the heap walk of diagnostics that start with a running loop
                # (diagnostics.__init__) found it failed while its hook's note was on the way
                # (a done callback not run yet). The hook saw it fail: not before the attach.
                self.earlier.discard(id(task))
                continue
            try:
                if not task.done():     # noted by PY_UNWIND: it finishes in a moment
                    self.unfinished.append((task, at))
                elif task._log_traceback:
                    # The grace period runs from the moment the task was noted failing (in
                    # the step that ended it), not from this tick, however long it slept.
                    seen = now if id(task) in later else at
                    rec = looptime.record_of(task.get_loop())
                    self.waiting.append([task, seen, rec.iterations if rec else None, rec])
                    waiting.add(id(task))
            except Exception:
                continue
        if self.waiting:
            self.waiting = [w for w in self.waiting if not self._settled(w, now)]
        if self.reported:
            self._followups(now)

    def settled(self):
        """Nothing noted waits for its verdict (the watchdog may tick less often)."""
        return not (self.finished or self.waiting or self.unfinished)

    def _settled(self, entry, now):
        task, seen, iteration, rec = entry
        if now - seen < GRACE:
            return False
        if rec is not None and rec.selector and rec.iterations == iteration and not rec.idle:
            return False    # the loop has not run the other done callbacks yet
        try:
            lost = task._log_traceback
            exc = task._exception
        except Exception:
            return True
        if lost and exc is not None:
            self._report(task, exc, seen)
        return True

    def _report(self, task, exc, seen):
        info = rp.task_info(task)
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            w = rp.where(tb.tb_frame)
            w["line"] = tb.tb_lineno
            frames.append((tb.tb_frame, w))
            tb = tb.tb_next
        frames.reverse()
        shown_frames = set(id(f) for f in rp.user_frames([f for f, _ in frames]))
        shown = [w for f, w in frames if id(f) in shown_frames]
        lines = [("raised at " if i == 0 else "called from ") + rp.where_text(w)
                 for i, w in enumerate(shown)]
        lines.append(rp.created_text(info))
        lines.append("it failed before tasklens attached; nothing has taken its exception"
                     if id(task) in self.earlier else
                     "nothing awaited the task or took its exception when it finished")
        error = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
        text = rp.block("exception never retrieved: %s failed with %s" % (rp.task_text(info),
                                                                           error), lines)
        self.reporter.emit("exceptionNotRetrieved", text, {
            "task": info, "exception": {"type": type(exc).__name__, "message": str(exc)},
            "traceback": shown})
        info = dict(info, failure=error, failedAt=rp.where_text(shown[0]) if shown else "?")
        self.recent.append((info, _asyncio_locals(f for f, _ in frames)))
        try:
            self.reported.append([weakref.ref(task), seen, info, type(exc).__name__])
        except TypeError:
            pass

    def failed_infos(self):
        return [e[2] for e in self.reported if e[0]() is not None]

    def failed_using(self, obj, recent=None):
        """Infos of recently failed tasks whose last frames held `obj` (a queue, an event)."""
        return [info for info, used in (self.recent if recent is None else recent)
                if any(r() is obj for r in used)]

    def failed_using_now(self):
        """`failed_using` over the failures known now, for another thread to call (this one
        keeps appending to `recent`)."""
        recent = list(self.recent)
        return lambda obj: self.failed_using(obj, recent)

    def _followups(self, now):
        keep = []
        for entry in self.reported:
            task = entry[0]()
            if task is None:
                continue
            try:
                taken = not task._log_traceback
            except Exception:
                continue
            if not taken:
                keep.append(entry)
                continue
            info = entry[2]
            text = "tasklens: exception retrieved later: the %s of %s was taken %.3f s after " \
                "the task finished (ignore the report above)" % (entry[3], rp.task_text(info),
                                                                  now - entry[1])
            self.reporter.emit("exceptionRetrievedLater", text, {"task": info})
        self.reported = keep


def _asyncio_locals(frames):
    """Weak references to the asyncio objects (queues, events, locks) in the frames' locals."""
    out = []
    for frame in frames:
        for value in list(frame.f_locals.values()):
            if type(value).__module__.startswith("asyncio"):
                try:
                    out.append(weakref.ref(value))
                except TypeError:
                    pass
    return out
