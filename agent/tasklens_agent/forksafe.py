"""The agent's locks, free again in a forked child.

Why: `fork()` copies a process with only the thread that called it. A lock another thread held
at that moment stays held in the child for ever, by a thread that does not exist there, and the
first agent code of the child that takes it hangs: the child never runs its program. Seen with
a `ProcessPoolExecutor` worker forked while the parent's diagnostics watchdog held the loop
records' lock (`looptime`): the worker registered its session and hung in its fork hook, so no
job of the pool ever ran. The agent's threads (the control thread, the listener, the watchdog,
the parked threads) take their locks at any moment the program may fork.

So the locks the agent's code shares between threads are made here, and each is made free again
in the child, before the agent's other after-fork hooks run (this module registers its hook
when first imported, which is before any of theirs). The one exception is a re-entrant lock the
forking thread holds itself (a program that forks from code the agent runs under that lock):
it is still that thread's, and left as it is. A plain lock records no owner; none of those made
here is held while program code runs.
"""
import os
import threading
import weakref

_made = weakref.WeakSet()
_RLock = type(threading.RLock())


def lock():
    """A `threading.Lock` that a forked child finds free."""
    made = threading.Lock()
    _made.add(made)
    return made


def rlock():
    """A `threading.RLock` that a forked child finds free (unless the forking thread holds it)."""
    made = threading.RLock()
    _made.add(made)
    return made


def _forked():
    for made in list(_made):
        if type(made) is _RLock and made._is_owned():
            continue
        made._at_fork_reinit()


os.register_at_fork(after_in_child=_forked)
