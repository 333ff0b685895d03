"""`tasklens trace PID --for S`: a window of the asyncio timeline of a program that records
no trace (started under `tasklens run` without --trace, or by plain python with the agent loaded
for the window): trace.py's Recorder, on for S seconds, its file written at the window's end.

Who runs where: `record_for` on the asking connection's thread, which sleeps through the
window; the loop threads record through tasktime as for --trace; the program's main thread
writes the file instead if the program exits during the window.
"""
import atexit
import os
import sys
import threading
import time

from . import task_origins
from . import tasktime
from . import trace
from .protocol import AgentError, BAD_ARGUMENTS

MAX_WINDOW_S = 3600


def record_for(path, seconds, max_steps=trace.DEFAULT_MAX_STEPS, asker=None, started=None):
    """`tasklens trace PID --for S`: records S seconds of a program that records no trace (a
    program under `tasklens run` without --trace, or one the agent was loaded into for this),
    writes the file and stops recording: the counting goes back to what it was. Runs on the
    asking connection's thread, which answers when the file is written. A program that exits
    during the window writes what it recorded as it exits (its atexit; not on os._exit).
    `asker`: the asking connection's socket; once it stops writing (Ctrl-C on `trace --for`
    half-closes it), the window ends there and the file holds what it recorded so far.
    `started()` is called once the window has begun, past every refusal."""
    if trace._recorder is not None:
        raise AgentError(BAD_ARGUMENTS, "this program records a trace already (--trace %s): "
                         "`tasklens trace PID` without --for writes it now" % trace._recorder.path)
    if tasktime.counting():
        raise AgentError(BAD_ARGUMENTS, "a `tasklens top` counts this program's steps: record "
                         "once it has ended")
    existed = os.path.exists(path)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as e:
        raise AgentError(BAD_ARGUMENTS, "cannot write the trace %s: %s" % (path, e.strerror or e))
    rec = trace._recorder = trace.Recorder(path, max_steps)
    once = threading.Lock()
    written = []

    def write():
        with once:
            if not written:
                written.append(rec.write())
            return written[0]

    def at_exit():
        try:
            trace._announce(*write())
        except OSError as e:
            sys.stderr.write("tasklens: cannot write the trace: %s\n" % (e.strerror or e))
    atexit.register(at_exit)
    origins, task_origins.enabled = task_origins.enabled, True
    tasktime.trace_sink = rec
    try:
        tasktime.acquire(rec)
        began = time.monotonic()
        if started is not None:
            started()
        early = _window(seconds, asker)
        took = time.monotonic() - began
    finally:
        tasktime.release(rec)
        tasktime.trace_sink = None
        task_origins.enabled = origins
        trace._recorder = None
        atexit.unregister(at_exit)
    try:
        path, events, size = write()
    except OSError as e:
        if not existed:
            try:
                os.remove(path)
            except OSError:
                pass
        raise AgentError(BAD_ARGUMENTS, "cannot write the trace %s: %s" % (path, e.strerror or e))
    out = {"path": path, "events": events, "bytes": size}
    if early:
        out.update(stoppedEarly=True, seconds=round(took, 3))
    return out


def _window(seconds, asker):
    """Sleeps the window; True if it ended early, the asker having stopped writing (end of
    stream, or the connection gone)."""
    if asker is None:
        time.sleep(seconds)
        return False
    import select
    import socket
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        try:
            readable = select.select([asker], [], [], left)[0]
            if readable and not asker.recv(1, socket.MSG_PEEK):
                return True
        except (OSError, ValueError):   # reset, or closed under us: nobody waits for the file
            return True
        if readable:    # something more came: not for now, the window goes on as asked
            time.sleep(max(0.0, end - time.monotonic()))
            return False
