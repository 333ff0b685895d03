"""os._exit ends the process at once, past atexit: forked and multiprocessing children leave that
way, and so do programs that want no clean-up. What the agent must still do first registers
here, and one wrapper of os._exit runs it all, in the order registered: a trace's file written
(trace.py), a debug session told the exit status (child_exits.py), the process's discovery
file removed (discovery.py). A fork inherits the wrapper and the list; what each entry does
checks whose process it is.

Who runs where: the hooks run on whichever thread calls os._exit.
"""
import os

_hooks = []
_real = []      # os._exit as it was before the wrapper: set once, when the first hook comes


def register(hook):
    """Run `hook(status)` before os._exit ends the process (once per hook)."""
    if not _real:
        _install()
    if hook not in _hooks:
        _hooks.append(hook)


def _install():
    real = os._exit
    _real.append(real)

    def _exit(status):
        try:
            for hook in list(_hooks):
                try:
                    hook(status)
                except Exception:
                    pass
        finally:
            real(status)    # whatever the hooks did: the program asked to end now
    _exit.__doc__, _exit.__wrapped__ = real.__doc__, real
    os._exit = _exit
