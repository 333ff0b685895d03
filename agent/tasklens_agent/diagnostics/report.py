"""Where diagnostics go: a short text block on stderr, a JSON line in `--diagnose-json`, and
an `important` output event for a debug session; plus the pieces every block is made of.

Called from the watchdog thread, from the loop thread (lost exceptions) and from inside a
coroutine's deallocation (never-awaited), so writing is serialised by one re-entrant lock and
never raises into the program. Text goes to file descriptor 2 directly: the program may have
replaced `sys.stderr`.
"""
import json
import os
import threading
import time

from .. import forksafe
from .. import paths
from .. import task_origins
from .. import tasks as taskmod
from .. import awaits


class Reporter:
    def __init__(self, json_path=None, stderr=True):
        self.lock = forksafe.rlock()
        self.stderr = stderr
        self.json_file = open(json_path, "a", encoding="utf-8") if json_path else None
        self.listeners = []     # callables(report dict, text) (a debug session)

    def emit(self, kind, text, fields, context=None):
        """`text`: the block, first line starting `tasklens: <kind>`; `fields`: the JSON;
        `context`: for listeners (the loop record, the dropping frame, the waiting tasks)."""
        record = {"kind": kind, "time": round(time.time(), 3), "pid": os.getpid(),
                  "message": text.split("\n", 1)[0][len("tasklens: "):]}
        record.update(fields)
        record["kind"], record["text"] = kind, text
        with self.lock:
            try:
                if self.stderr:
                    os.write(2, (text + "\n").encode("utf-8", "replace"))
                if self.json_file is not None:
                    self.json_file.write(json.dumps(record, default=str) + "\n")
                    self.json_file.flush()
            except (OSError, ValueError):
                pass
        # Outside the lock: a listener may stop this thread for the debugger.
        for listener in list(self.listeners):
            try:
                listener(record, text, context)
            except Exception:
                pass


def where(frame):
    """{name, path, line} of a frame."""
    code = frame.f_code
    return {"name": getattr(code, "co_qualname", code.co_name),
            "path": paths.display(code.co_filename), "line": frame.f_lineno or 0}


def where_text(w):
    return "%s:%d in %s" % (w["path"], w["line"], w["name"])


def user_frames(frames):
    """The frames worth naming: the user's, or all but the agent's when none is."""
    shown = [f for f in frames if not paths.is_agent(f.f_code.co_filename)]
    mine = [f for f in shown if paths.is_user(f.f_code.co_filename)]
    return mine or shown


def task_info(task):
    """JSON of a task: name, coroutine, id, creation site."""
    info = {"name": task.get_name(), "coroutine": taskmod.coroutine_name(task),
            "threadId": taskmod.task_id(task)}
    created = task_origins.created_at(task) or awaits.created_at(task)
    if created is not None:
        info["createdAt"] = created
    return info


def task_text(info):
    return "task %s (%s)" % (info["name"], info["coroutine"])


def label(info):
    """A task as a deadlock's cycle names it: its name and coroutine."""
    return "%s (%s)" % (info["name"], info["coroutine"])


def created_text(info):
    c = info.get("createdAt")
    return "task created at %s:%d" % (c["path"], c["line"]) if c else None


def thread_name(ident):
    t = threading._active.get(ident)
    return t.name if t is not None else "thread %d" % ident


def block(first, lines):
    return "\n".join(["tasklens: " + first] + ["  " + l for l in lines if l])
