"""Blocked loop: one callback or task step running past the threshold, reported while it still
blocks, with the loop thread's stack where it blocks; then one line with its final duration.

Runs on the watchdog thread, once per tick, from the samples of looptime.py. A call blocked in
C (`time.sleep`, a hash, a blocking read) shows as its Python caller: the innermost Python
frame of the loop thread. A step during which the debugger had the program paused is never
reported. A loop iteration past the threshold made of short steps is "saturated", not blocked.
"""
from .. import looptime
from .. import tasks as taskmod
from . import report as rp

SATURATED_EVERY = 10.0      # seconds between two saturation reports of one loop


class BlockedWatch:
    def __init__(self, reporter, slow):
        self.reporter = reporter
        self.slow = slow

    def tick(self, rec, top, now, prev_tick, paused):
        loop = rec.loop
        if loop is None or rec.closed:
            self._ended(rec, now, prev_tick)
            rec.step_key = None
            return
        key, frames = (None, []) if rec.idle or top is None else looptime.step_frames(rec, top)
        if key is None or key is not rec.step_key or now - rec.step_since < self.slow / 2:
            self._saturated(rec, now)
        if key is not rec.step_key:
            self._ended(rec, now, prev_tick)
            rec.step_key = key
            rec.step_reported = False
            rec.step_paused = paused
            if key is None:
                return
            rec.step_since = self._start_of_step(rec, now, prev_tick)
            rec.step_iterations = rec.iterations
            rec.step_excused = looptime.excused.get(rec.ident, 0.0)
            rec.step_task = taskmod.running_task_of_loop(loop)
            self._post_beat(rec, loop)
            return
        if key is None:
            return
        rec.step_iterations = rec.iterations
        rec.step_paused = rec.step_paused or paused
        if not rec.selector and rec.beat_ran == rec.beat_posted:
            # The loop ran our heartbeat: the task seen now is in a new step.
            rec.step_since = now
            rec.step_excused = looptime.excused.get(rec.ident, 0.0)
            self._post_beat(rec, loop)
            return
        if not rec.step_reported and not rec.step_paused and self._lasted(rec, now) >= self.slow:
            rec.step_reported = True
            rec.long_steps += 1
            self._report(rec, key, frames, now)

    @staticmethod
    def _start_of_step(rec, now, prev_tick):
        """When the step first seen at `now` began. On a selector loop whose iteration began
        since the last tick, when select() returned: exact for the first callback of the
        iteration, and late by at most what ran before it in the same iteration, less than a
        tick (anything longer would have been seen at the last tick). Elsewhere the middle of
        the two ticks."""
        if rec.selector:
            began = rec.busy_since
            if prev_tick < began <= now:
                return began
        return (prev_tick + now) / 2

    @staticmethod
    def _end_of_step(rec, now, prev_tick):
        """When the step last seen at `prev_tick` ended. On a selector loop, when it next
        entered select() (known for the last two entries: one, or a quick iteration after it,
        as when the step ends a task whose awaiter runs next): exact for the last callback of
        the iteration, and late by at most what ran after it, less than a tick. Elsewhere the
        middle of the two ticks. The loop's thread writes these fields as it goes: a state
        caught between two of its writes fails the bounds and falls back."""
        if rec.selector and rec.step_iterations is not None:
            entries = rec.iterations - rec.step_iterations + rec.idle     # select() entered since
            entered = rec.idle_since if entries == 1 else rec.entered_before if entries == 2 \
                else None
            if entered is not None and prev_tick <= entered <= now:
                return entered
        return (prev_tick + now) / 2

    @staticmethod
    def _lasted(rec, now):
        """How long the step has run, less the agent's own time inside it."""
        inside = looptime.excusing.get(rec.ident)
        extra = now - max(inside, rec.step_since) if inside is not None else 0.0
        return now - rec.step_since - extra - (
            looptime.excused.get(rec.ident, 0.0) - rec.step_excused)

    def _post_beat(self, rec, loop):
        if rec.selector:
            return
        rec.beat_posted = mark = (rec.beat_posted or 0) + 1
        try:
            loop.call_soon_threadsafe(looptime.beat, rec, mark)
        except Exception:   # closed meanwhile
            pass

    def _describe(self, rec, key):
        task = rec.step_task
        if task is not None:
            info = rp.task_info(task)
            return rp.task_text(info), {"task": info}
        callback = getattr(key.f_locals.get("self"), "_callback", None) if rec.selector else None
        name = getattr(callback, "__qualname__", None) or repr(callback) if callback is not None \
            else key.f_code.co_name
        return "callback %s" % name, {"callback": name}

    def _report(self, rec, key, frames, now):
        who, fields = self._describe(rec, key)
        thread = rp.thread_name(rec.ident)
        shown = [rp.where(f) for f in rp.user_frames(frames)]
        lines = []
        for i, w in enumerate(shown):
            lines.append(("blocking at " if i == 0 else "called from ") + rp.where_text(w))
        info = fields.get("task")
        if info is not None:
            lines.append(rp.created_text(info))
        duration = self._lasted(rec, now)
        rec.step_thread = thread
        rec.step_who = who
        rec.step_where = shown[0] if shown else None
        text = rp.block("blocked loop: %s has blocked the event loop of thread %s for %.3f s "
                        "so far" % (who, thread, duration), lines)
        fields.update({"thread": thread, "durationSeconds": round(duration, 3), "final": False,
                       "stack": shown, "thresholdSeconds": self.slow})
        self.reporter.emit("blockedLoop", text, fields, context=rec)

    def _ended(self, rec, now, prev_tick):
        if rec.step_key is None or not rec.step_reported:
            return
        duration = self._lasted(rec, self._end_of_step(rec, now, prev_tick))
        at = rec.step_where
        thread = rec.step_thread
        text = "tasklens: blocked loop ended: %s blocked the event loop of thread %s for " \
            "%.3f s%s" % (rec.step_who, thread, duration,
                          " (at %s)" % rp.where_text(at) if at else "")
        self.reporter.emit("blockedLoopEnded", text, {
            "thread": thread, "durationSeconds": round(duration, 3), "final": True,
            "stack": [at] if at else []})

    def _saturated(self, rec, now):
        """An iteration past the threshold, with no single long step (asyncio loops)."""
        if not rec.selector or rec.idle or now - rec.busy_since < self.slow:
            return
        if rec.iterations == rec.saturated_iteration \
                or now - rec.saturated_at < SATURATED_EVERY:
            return
        loop = rec.loop
        rec.saturated_iteration, rec.saturated_at = rec.iterations, now
        thread = rp.thread_name(rec.ident)
        ready = len(getattr(loop, "_ready", ()) or ())
        text = rp.block("saturated loop: one iteration of the event loop of thread %s has run "
                        "for %.3f s, made of steps shorter than %.3f s (%d more ready)"
                        % (thread, now - rec.busy_since, self.slow, ready),
                        ["many ready tasks or callbacks, none blocking: the loop is busy, "
                         "not blocked"])
        self.reporter.emit("saturatedLoop", text, {
            "thread": thread, "durationSeconds": round(now - rec.busy_since, 3),
            "ready": ready})
