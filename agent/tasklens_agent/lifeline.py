"""The program does not outlive the process that started it, unless a debugger lets it go.

A program launched by the adapter, or run by a `tasklens run` that could not exec (Node started
directly), has a parent that may die by SIGKILL (the OOM killer, `kill -9`, a test harness),
which nobody can catch. The kernel's parent-death signal covers it: SIGKILL to the program as
soon as its parent is gone. Linux keeps that setting per thread and sends it while the thread
that asked lives, so it is held by one agent thread, which drops it when a debugger detaches
on purpose (DAP `disconnect` with `terminateDebuggee: false`: the program is released and
runs on); the program's threads never see it.
"""
import os
import signal
import sys
import threading

from .threads import AgentThread

PR_SET_PDEATHSIG = 1


class Lifeline:
    def __init__(self, parent):
        self.parent = parent
        self.armed = threading.Event()
        self.holding = False
        self.release_asked = threading.Event()
        self.released = threading.Event()

    def start(self):
        """Arms the parent-death signal; returns once it holds, or at once where it cannot."""
        if not sys.platform.startswith("linux"):
            return
        AgentThread(self._hold, "tasklens-lifeline").start()
        self.armed.wait()

    def release(self, timeout=2.0):
        """Lets the program outlive its parent; returns when the kernel knows it."""
        if self.holding:
            self.release_asked.set()
            self.released.wait(timeout)

    def _hold(self):
        try:
            import ctypes   # only where there is a parent to watch (not under an exec'd `tasklens run`)
            libc = ctypes.CDLL(None, use_errno=True)
            self.holding = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (ImportError, OSError, AttributeError):
            self.holding = False
        finally:
            self.armed.set()
        if not self.holding:
            return
        if os.getppid() != self.parent:     # the parent died before the signal was armed
            os.kill(os.getpid(), signal.SIGKILL)
        self.release_asked.wait()
        libc.prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)
        self.released.set()
