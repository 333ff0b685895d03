"""Diagnostics in a debug session: each report as an `important` output event (launch/attach
argument `diagnose`), and the exception filters `blockedLoop`, `neverAwaited` and `deadlock`,
which stop the program where the report points, with `exceptionInfo` carrying the report.

Who runs where: `on_report` is a Reporter listener, called on the thread that reports. A
never-awaited coroutine is reported on the dropping thread: it stops there, in the dropping
frame. A blocked loop is reported by the watchdog: it asks the blocked thread to stop at its
next line (core.pending_stop, read by core.on_line with a pause of every thread). A deadlocked
loop sleeps in select(): a callback posted to it stops its thread there, on the first waiting
task, so that every waiting task's frames can be shown.
"""
import sys

from .. import paths


class Diagnostic(Exception):
    """What exceptionInfo shows for a stop on a diagnostics filter: the report's text."""


def _kind(name):
    cls = type(name, (Diagnostic,), {"__module__": "tasklens"})
    return cls


BlockedLoop = _kind("BlockedLoop")
NeverAwaited = _kind("NeverAwaited")
Deadlock = _kind("Deadlock")


class Bridge:
    def __init__(self, core):
        self.core = core
        self.output = True
        self.active = True      # cleared when the diagnostics stop (detach)

    def on_report(self, record, text, context):
        core = self.core
        if core.conn is None or not self.active:
            return
        if self.output:
            core.output(text + "\n", "important")
        filters = core.exception_filters
        kind = record["kind"]
        if kind == "neverAwaited" and "neverAwaited" in filters and context is not None \
                and paths.is_user(context.f_code.co_filename):
            core.stop(context, "exception", exc=NeverAwaited(text), break_mode="always")
        elif kind == "blockedLoop" and "blockedLoop" in filters:
            core.request_stop_in(context.ident, BlockedLoop(text))
        elif kind == "deadlock" and "deadlock" in filters:
            rec, waits = context
            loop = rec.loop
            if loop is not None and waits:
                loop.call_soon_threadsafe(self._stop_in_loop, waits[0].task, Deadlock(text))

    def _stop_in_loop(self, task, exc):
        """On the deadlocked loop's thread: stop everything, shown on the first waiting task."""
        if not self.active:
            return      # posted before a detach
        frame = sys._getframe(1)
        while frame is not None and not paths.is_user(frame.f_code.co_filename):
            frame = frame.f_back
        if frame is None:
            return
        self.core.stop(frame, "exception", frames=[frame], exc=exc, break_mode="always",
                       task=task)
