"""Frame access that works the same for a thread's live frames and, later, for the `cr_frame`
of a suspended coroutine: listing a stack, reading and writing a frame's locals.
"""
import os
import sys

from . import paths

_WRITE_THROUGH = sys.version_info >= (3, 13)


def thread_stack(frame):
    """Innermost-first frames from `frame` outward, without the agent's own frames."""
    out = []
    while frame is not None:
        if not paths.is_agent(frame.f_code.co_filename):
            out.append(frame)
        frame = frame.f_back
    return out


def traceback_frames(tb):
    """Innermost-first frames of a traceback, without the agent's own frames."""
    frames = []
    while tb is not None:
        if not paths.is_agent(tb.tb_frame.f_code.co_filename):
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    frames.reverse()
    return frames


def describe(frame):
    code = frame.f_code
    filename = code.co_filename
    line = frame.f_lineno
    return {
        "name": code.co_name,
        "path": paths.display(filename),
        "line": line or 0,
        "column": 1,
        "library": paths.kind(filename) != "user",
        "on_disk": not filename.startswith("<") and os.path.exists(filename),
    }


def set_local(frame, name, value):
    """Assign a local so the running frame sees it (3.13+: write-through f_locals)."""
    if _WRITE_THROUGH:
        frame.f_locals[name] = value
        return
    snapshot = frame.f_locals
    snapshot[name] = value
    import ctypes   # here: 3.11/3.12 only, and not at every program's start-up
    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


def commit_locals(frame):
    """After exec() wrote into a 3.11/3.12 f_locals snapshot, copy it back into the frame.

    The snapshot must not be re-read from `frame.f_locals` before this: reading it refreshes
    the snapshot from the frame and loses the writes.
    """
    if not _WRITE_THROUGH:
        import ctypes
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
