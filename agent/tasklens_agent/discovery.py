"""The discovery file that lets `tasklens ps PID` find an agent: 0600 in a 0700 directory.

It is removed on every exit the agent can see: a normal end, an uncaught exception, an
uncaught KeyboardInterrupt (atexit runs before python dies by SIGINT), and SIGTERM or SIGHUP
while the program leaves them at their default (the handler runs `before_fatal_signal` and
removes the file, then the process dies by the same signal, as plain python would), and
os._exit (os_exit.py). SIGKILL and a crash leave it behind; `ps` knows a file whose process is
gone.
"""
import _json
import atexit
import os
import _signal   # not `signal`: its enums cost a program under `tasklens run` 0.5 MB
import threading

from .errors import PROTOCOL_VERSION

_FATAL_SIGNALS = (_signal.SIGTERM, _signal.SIGHUP)
# Called, in order and with no argument, as SIGTERM or SIGHUP ends the process (before the
# file goes): what must outlive the process is written there (a trace's file, trace.py).
before_fatal_signal = []


def directory():
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "tasklens")
    return os.path.join(_tmpdir(), "tasklens-%d" % os.getuid())


def _tmpdir():
    """Node's os.tmpdir(), which `ps` reads (tempfile's own choice would cost libbz2 and liblzma)."""
    for name in ("TMPDIR", "TMP", "TEMP"):
        value = os.environ.get(name)
        if value:
            return value.rstrip("/") or "/"
    return "/tmp"


_made = None    # the folder this process (or the one it was forked from) made 0700


def write(host, port, token, python, program, wrapper=None):
    """`wrapper`: the PID of a `tasklens run` that could not exec, so `ps` can follow it here.
    A forked child writes into the folder its parent made, without making it again: on a
    machine where a page fault is dear, every line a worker of a pool runs right after the fork
    shows in the pool's time (docs/bench-children.md)."""
    global _made
    folder = directory()
    if folder != _made:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        _made = folder
    path = "%s/%d.json" % (folder, os.getpid())
    data = {"pid": os.getpid(), "host": host, "port": port, "token": token,
            "python": python, "program": program, "protocol": PROTOCOL_VERSION}
    if wrapper is not None:
        data["wrapper"] = wrapper
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, _record(data).encode())    # one short write, no text file object
    finally:
        os.close(fd)
    return path


def _record(data):
    """The record as JSON. Its values are strings, integers and None, which this writes with
    the json package's own C string encoder: importing `json` would load `re` too, 1.5 MB that
    every program under `tasklens run` would carry for one small file."""
    def value(v):
        if v is None:
            return "null"
        if isinstance(v, int):
            return str(v)
        return _json.encode_basestring_ascii(v)
    return "{%s}" % ", ".join("%s: %s" % (value(k), value(v)) for k, v in data.items())


def remove(path, pid):
    """Remove the file only from the process that wrote it (not from a forked child)."""
    if os.getpid() == pid:
        try:
            os.unlink(path)
        except OSError:
            pass


def remove_at_exit(path):
    """At every exit the agent sees (above), os._exit too: a forked pool worker leaves that way,
    and each would leave its file behind."""
    from . import os_exit
    pid = os.getpid()
    atexit.register(remove, path, pid)
    os_exit.register(lambda status: remove(path, pid))
    if threading.get_ident() != threading.main_thread().ident:
        return      # signal handlers can only be set from the main thread

    def die(signum, frame):
        for hook in list(before_fatal_signal):
            try:
                hook()
            except Exception:
                pass
        remove(path, pid)
        _signal.signal(signum, _signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in _FATAL_SIGNALS:
        # A signal the program inherited as ignored (nohup) stays ignored.
        if _signal.getsignal(signum) == _signal.SIG_DFL:
            _signal.signal(signum, die)
