"""What a pause does for the threads that a line event would never stop.

A pause first asks every thread to stop at its next line of eligible code (the core turns line
events on everywhere). Two kinds of threads never get there on their own:
- an event loop idle in select/epoll: it is woken through its own thread-safe wake-up
  (`call_soon_threadsafe`: asyncio's self-pipe, uvloop's async handle) with a callback that
  stops its thread right there, at the loop;
- a thread blocked in C (a lock, a sleep, a read), which nothing can wake without side effects:
  after `GRACE` it is reported stopped as it is, with its Python frames from
  `sys._current_frames()` and a label naming the call it is blocked in. It is not held: it
  parks as soon as it runs Python again, and `continue` simply lets it be.

The stop is reported once every thread is parked or shown as it is, so the first `threads`
and `stackTrace` after the `stopped` event see the whole program stopped.

Who runs where: `wake_loops` and `sample` run on the control thread, the callback on each
loop's thread, `watch` on its own agent thread (`tasklens-pause`), under the core's lock
whenever it reads or changes the core's state.
"""
import os
import threading
import time

from . import frames as framemod
from . import paths
from . import tasks as taskmod
from .threads import other_frames, thread_by_id, user_threads

GRACE = 0.2     # seconds a thread may take to reach Python code before it is shown as it is
POLL = 0.02     # seconds between looks, unless a thread parks sooner
GIVE_UP = 10.0  # a pause that nothing could stop (no program thread left) stops being watched
_MAX_CALL = 60


def wake_loops(callback, *args):
    """Runs `callback(*args)` soon on the thread of every running event loop."""
    running = taskmod.loop_threads()
    for loop in taskmod.known_loops():
        if id(loop) not in running:
            continue
        try:
            loop.call_soon_threadsafe(callback, *args)
        except Exception:   # closed or closing meanwhile: its thread is not in the loop
            pass


def watch(core, gen, before, requested):
    """Waits until every program thread is parked or the grace is over, shows the threads
    still not parked as they are, and reports the pause's stop (stopping the program itself
    when no thread could). `before`: `sample()` when the pause began."""
    started = time.monotonic()
    try:
        while time.monotonic() - started < GIVE_UP:
            core.parked_signal.wait(POLL)
            core.parked_signal.clear()
            threads = user_threads()
            current = other_frames()
            with core.lock:
                if gen != core.pause_gen or core.conn is None \
                        or not (core.pause_requested or core.stopped):
                    return      # resumed, detached or paused anew meanwhile
                pending = [t for t in threads if not _parked(core, t)]
                if pending and time.monotonic() - started < GRACE:
                    continue
                shown = [_show_as_is(core, t, current, before) for t in pending]
                if not core.stopped:
                    if not shown:
                        continue
                    core.stop_all_now()
                elif core.paused_by is None:
                    return      # stopped by a breakpoint or an exception, reported already
                ts = _reported(core, shown, requested)
                core.paused_by = None
                core.pause_watched = False
            core.backend.refresh()
            description = "Paused; %s is %s" % (ts.thread.name, ts.native) if ts.native else None
            core.report_stop(ts, "pause", description=description)
            return
    finally:
        with core.lock:
            if gen == core.pause_gen:
                core.pause_watched = False
                pending_stop, core.paused_by = core.paused_by, None
            else:
                pending_stop = None
        if pending_stop is not None:
            core.report_stop(pending_stop, "pause")


def _parked(core, thread):
    ts = core.states.get(thread.ident)
    return ts is not None and ts.thread is thread and ts.parked


def _show_as_is(core, thread, current, before):
    ts = core.state_of(thread)
    innermost = current.get(thread.ident)
    ts.frames = framemod.thread_stack(innermost)
    ts.native = native_label(ts.frames, innermost, before.get(thread.ident))
    ts.task = running_task(thread.ident)
    return ts


def _reported(core, shown, requested):
    """The thread the stop names: the one the client asked to pause (a thread id), else the
    first parked by the pause, else the main thread, else the first shown."""
    wanted = thread_by_id(requested) if isinstance(requested, int) else None
    stopped = [ts for ts in list(core.states.values()) if ts.parked or ts.native]
    main = threading.main_thread()
    return next((ts for ts in stopped if ts.thread is wanted), None) or core.paused_by \
        or next((ts for ts in shown if ts.thread is main), None) or shown[0]


def sample():
    """ident -> (innermost frame, its last instruction): where each thread is now."""
    return {ident: (frame, frame.f_lasti) for ident, frame in other_frames().items()}


def running_task(ident):
    """The task whose step the thread `ident` is running, if it runs a loop."""
    running = taskmod.loop_threads()
    for loop in taskmod.known_loops():
        if running.get(id(loop)) == ident:
            return taskmod.running_task_of_loop(loop)
    return None


def native_label(stack, innermost, before):
    """Why the thread whose frames are `stack` has not stopped, and where it is.

    `innermost` is its innermost frame (an agent frame included), `before` its
    (frame, f_lasti) when the pause began: unchanged means it has not run Python since."""
    if not stack:
        return "running native code"
    top = stack[0]
    blocked = before is not None and innermost is before[0] and innermost.f_lasti == before[1]
    where = "%s:%d" % (os.path.basename(top.f_code.co_filename), top.f_lineno or 0)
    if blocked:
        label = "blocked in native code: %s at %s" % (_call_text(top), where)
    else:
        label = "running outside your code at %s" % where
    user = next((f for f in stack if paths.is_user(f.f_code.co_filename)), None)
    if user is not None and user is not top:
        label += ", from %s:%d" % (os.path.basename(user.f_code.co_filename), user.f_lineno or 0)
    return label


def short_label(label):
    return label.split(":", 1)[0]


def _call_text(frame):
    """The source of the call the frame is executing (`lock.acquire()`), or its name."""
    try:
        positions = _positions_at(frame.f_code, frame.f_lasti)
    except Exception:
        positions = None
    if positions is None or None in positions:
        return frame.f_code.co_name + "()"
    line, end_line, col, end_col = positions
    import linecache    # tokenize and re come with it: not at start-up
    lines = linecache.getlines(frame.f_code.co_filename, frame.f_globals)
    if not lines or end_line > len(lines):
        return frame.f_code.co_name + "()"
    # Columns count UTF-8 bytes.
    source = [text.encode("utf-8") for text in lines[line - 1:end_line]]
    source[-1] = source[-1][:end_col]
    source[0] = source[0][col:]
    text = b"".join(source).decode("utf-8", "replace")
    if "(" in text:
        text = text.split("(", 1)[0].strip() + "()"
    else:   # not a call written out: `with lock:` entering, say
        text = text.splitlines()[0].rstrip().rstrip(":")
    text = " ".join(text.split())
    return text if len(text) <= _MAX_CALL else text[:_MAX_CALL - 1] + "…"


def _positions_at(code, offset):
    """(line, end line, column, end column) of the instruction at `offset` (3.11+)."""
    for index, positions in enumerate(code.co_positions()):
        if index * 2 == offset:
            return positions
    return None

