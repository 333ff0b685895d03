"""The exit status of a followed child process, for its session's `exited`.

Python runs a child's program itself (children.py loads the agent into it while it starts), so
the agent does not see how the program ends the way launch.py does; the status is read from
the ways a program ends (docs/children.md). Who runs where: `report` on the child's main thread
before its program; the wrappers and the monitoring callback on whichever program thread ends
the program; `report`'s atexit handler on the main thread as the interpreter exits.
"""
import atexit
import os
import sys

from . import os_exit

SESSION_WAIT = 30.0     # the longest a stop, or the exit, waits for the child's own session


def report(agent):
    """Python runs the child's program itself, so the agent does not see how it ends; the
    status is read from the ways a program ends (docs/children.md): an uncaught exception (1),
    a SystemExit that left the main module (its code: `_watch_main_exit`, or on 3.11 one of
    sys.exit, exit() or quit()), os._exit (`track`), else 0. Stops on an uncaught
    exception as `uncaught` asks."""
    atexit.unregister(agent._report_exit)
    uncaught = []
    hook = sys.excepthook

    def excepthook(etype, value, tb):
        uncaught.append(1)
        if value is not None:
            agent._on_uncaught(value)
        hook(etype, value, tb)
    sys.excepthook = excepthook
    track(agent)
    _watch_main_exit()

    def report():
        core = agent._core
        if core is None:
            return      # no debugger ever connected
        if os.getpid() == agent.discovery_pid:
            core.event("programExited", {"exitCode": 1 if uncaught else _status()})
        core.backend.shutdown()
    atexit.register(report)


_exits = {"agent": None, "raised": None, "installed": False,
          "watched": False}     # what this process saw


def track(agent):
    """Wraps the calls that end a program with a status: os._exit, which ends the process at
    once, so it reports before it goes (forked and multiprocessing children leave that way),
    and on 3.11, which has no `_watch_main_exit`, sys.exit and site's exit()/quit() (their
    SystemExit, if it leaves the main module, is the status). Once per process: a fork
    inherits the wrappers and brings its own agent."""
    _exits["agent"] = agent
    if _exits["installed"]:
        return
    _exits["installed"] = True

    def report(status):
        current = _exits["agent"]
        core = current._core if current is not None else None
        if core is not None and core.conn is not None:
            current.started.wait(SESSION_WAIT)
            core.event("programExited", {
                "exitCode": status & 0xFF if isinstance(status, int) else 1})
    os_exit.register(report)
    if sys.version_info < (3, 12):
        _wrap_exit_calls()


def _wrap_exit_calls():
    real_exit = sys.exit

    def exit(status=None):
        try:
            real_exit(status)
        except SystemExit as e:
            _exits["raised"] = e
            raise
    exit.__doc__, exit.__wrapped__ = real_exit.__doc__, real_exit
    sys.exit = exit

    quitter = getattr(sys.modules.get("_sitebuiltins"), "Quitter", None)
    if quitter is not None:
        real_call = quitter.__call__

        def call(self, code=None):
            try:
                real_call(self, code)
            except SystemExit as e:
                _exits["raised"] = e
                raise
        quitter.__call__ = call


def _watch_main_exit():
    """3.12+: notes the SystemExit that leaves the program's outermost frame (the main
    module's, run by Python or by runpy for -m), however it was raised: sys.exit, exit(), or
    a bare `raise SystemExit(n)`; one caught on its way is never seen. An event of its own
    sys.monitoring tool, global (an unwind cannot be asked for per code object) but only on
    an exception leaving a frame, where the callback's first test drops all but SystemExit."""
    if sys.version_info < (3, 12) or _exits["watched"]:
        return
    mon = sys.monitoring
    tool = next((t for t in (5, 4, 3) if mon.get_tool(t) is None), None)
    if tool is None:
        return
    _exits["watched"] = True
    getframe = sys._getframe

    def unwind(code, offset, exc):
        if isinstance(exc, SystemExit) and code.co_name == "<module>":
            frame = getframe(1)
            outer = frame.f_back
            if frame.f_globals.get("__name__") == "__main__" and (
                    outer is None or outer.f_globals.get("__name__") == "runpy"):
                _exits["raised"] = exc
    mon.use_tool_id(tool, "tasklens exit status")
    mon.register_callback(tool, mon.events.PY_UNWIND, unwind)
    mon.set_events(tool, mon.events.PY_UNWIND)


def _status():
    """The status a normal interpreter exit leaves: the code of the SystemExit that left the
    main module (3.12+, `_watch_main_exit`), or on 3.11 of the last one sys.exit, exit() or
    quit() raised if it went past the main module's top: 3.11 leaves the exception's
    traceback as it was where it was last caught (our wrapper), so a caught one counts there
    if no later one replaced it; a bare `raise SystemExit(n)` is not seen there (0)."""
    raised = _exits["raised"]
    if raised is None:
        return 0
    from .runner import exit_code_of
    return exit_code_of(raised) & 0xFF
