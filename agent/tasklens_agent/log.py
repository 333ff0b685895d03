"""The agent's own log, written only when asked: the adapter's `--log FILE` passes
TASKLENS_AGENT_LOG=FILE.agent to the debuggee (under `tasklens run`, set it yourself).

It records what only the agent can see: every message read and sent (with the thread that sent
it), sessions opening and closing, and internal errors with their traceback. Any thread may
write (the control thread, parked threads answering requests, threads hitting logpoints), so a
lock keeps records whole; each starts with the time and the process id (a forked child appends
to the same file). Not Python's `logging`: the program must never see that imported.
"""
import os
import sys
import threading
import time

ENV = "TASKLENS_AGENT_LOG"
_lock = threading.Lock()
_file = None


def open_from_env():
    """Called once at start-up, before the program runs: the variable is the agent's, not the
    program's, so it is removed from the environment either way."""
    global _file
    path = os.environ.pop(ENV, None)
    if not path:
        return
    try:
        _file = open(path, "a", encoding="utf-8", errors="backslashreplace", buffering=1)
    except OSError as e:
        # A log that cannot be written must not keep the program from running.
        sys.stderr.write("tasklens: cannot write the agent log %s: %s\n" % (path, e.strerror))
        return
    os.register_at_fork(after_in_child=_forked)
    write("agent started: Python %s (%s), argv %r" % (sys.version.split()[0], sys.executable,
                                                      sys.argv))


def _forked():
    """Another thread may have held the lock at the fork: in the child it never lets go."""
    global _lock
    _lock = threading.Lock()


def enabled():
    return _file is not None


def write(text):
    f = _file
    if f is None:
        return
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (now % 1 * 1000)
    # Not threading.current_thread(): on an agent thread it would register a _DummyThread.
    thread = threading._active.get(threading.get_ident())
    who = thread.name if thread is not None else "agent thread"
    record = "%s %d [%s] %s\n" % (stamp, os.getpid(), who, text)
    with _lock:
        try:
            f.write(record)
        except (OSError, ValueError):
            pass
