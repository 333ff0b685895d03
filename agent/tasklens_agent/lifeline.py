"""The program does not outlive the process that started it, unless a debugger lets it go.

A program launched by the adapter, or run by a `tasklens run` that could not exec (Node started
directly), has a parent that may die by SIGKILL (the OOM killer, `kill -9`, a test harness),
which nobody can catch. The kernel's parent-death signal covers it: SIGKILL to the program as
soon as its parent is gone. Linux keeps that setting per thread, and sends it while the thread
that asked lives; so it is held by an agent thread, never by the program's:
- under an adapter, by the control thread of the adapter's connection, which drops it itself
  when the adapter detaches on purpose (DAP `disconnect` with `terminateDebuggee: false`),
  before answering, so the adapter may exit right after the answer;
- behind a wrapper, by a thread of its own that holds it for the program's life.

What a launched program started goes with it when the session ends it: the adapter starts the
program as the leader of a process group of its own, which its children join unless they leave
it on purpose; `end_group` sends them SIGTERM as the agent ends the program (the adapter then
ends any that outlive that). A program that ends by itself leaves its children alone, as it
would without a debugger.
"""
import os
import _signal   # as discovery.py
import sys
import threading

from .threads import AgentThread

PR_SET_PDEATHSIG = 1


def _set(signum):
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes   # only where there is a parent to watch (not under an exec'd `tasklens run`)
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


def arm(parent):
    """On the calling thread: SIGKILL when `parent` dies (at once if it already has)."""
    if _set(_signal.SIGKILL) and os.getppid() != parent:
        os.kill(os.getpid(), _signal.SIGKILL)


def disarm():
    """On the thread that armed it: the program may outlive its parent."""
    _set(0)


def hold_for_life(parent):
    """Arms a thread that lives as long as the program; returns once it holds."""
    armed = threading.Event()

    def hold():
        arm(parent)
        armed.set()
        threading.Event().wait()
    AgentThread(hold, "tasklens-lifeline").start()
    armed.wait()


def end_group():
    """SIGTERM to every other process of the calling process's group, when it leads one (a
    launched program); the caller is about to end. Read from /proc: killpg would signal the
    caller too, which must end by its own exit status, not by the signal."""
    me = os.getpid()
    if not sys.platform.startswith("linux") or os.getpgrp() != me:
        return
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        if pid == me:
            continue
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) == me:       # state, ppid, pgrp
                os.kill(pid, _signal.SIGTERM)
        except (OSError, IndexError, ValueError):
            continue    # gone meanwhile, or not ours to read
