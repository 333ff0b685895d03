"""The agent loaded into a program that already runs (DAP `attach` by process id).

The adapter injects a few lines (docs/attach.md: `sys.remote_exec` on 3.14+, gdb otherwise)
that start one raw thread and return at once; that thread imports this package from the
agent's folder and calls `start`, which dials the adapter back on loopback with the token the
adapter chose (no port is opened here, nothing is written to disk). Everything then runs on the
agent's own threads, so a program whose threads never run Python again is still read.

When the session ends (disconnect, or the adapter gone) `unload` takes back what attaching
put in: tracing, the `sys.monitoring` tool ids, hooks, the diagnostics (diagnostics.stop), the
agent's threads; the program runs on as before, and a later attach starts afresh. The modules
stay imported (agent/README.md).
"""
import atexit
import ctypes
import os
import sys
import threading

from . import diagnostics     # loaded now, while the program's thread waits (docs/attach.md)
from . import saferepr
from . import task_origins
from . import tasks as taskmod
from . import threads
from . import usercode
from .errors import internal_error
from .main import Agent

_lock = threading.RLock()   # re-entered: a failed connect unloads under `start`
_tokens = set()         # every token seen: the injected lines may run twice (two mechanisms)
_current = [None]       # the agent of the session now attached

# The loop of the deadline watchdog, ended by an asynchronous SystemExit at unload.
_WATCHDOG = "_Watchdog._loop"


def main_file():
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if isinstance(path, str) else None


def start(port, token):
    """On the injected thread: reach the adapter at 127.0.0.1:PORT, or, when a debugger is
    attached already, greet this one so that its handshake is refused with a reason."""
    ident = threading.get_ident()
    threads.agent_idents.add(ident)
    try:
        with _lock:
            if token in _tokens:
                return
            _tokens.add(token)
            agent = _current[0]
            if agent is None:
                agent = _current[0] = _new_agent(port, token)
                if agent is None:
                    return
            else:
                agent.connect("127.0.0.1:%d" % port, token, "attach")
    except OSError:
        pass        # the adapter gave up and closed its port: nothing of ours is left running
    finally:
        threads.agent_idents.discard(ident)


def _new_agent(port, token):
    opts = {"connect": "127.0.0.1:%d" % port, "listen": None, "wait": False, "module": None,
            "program": main_file(), "args": [], "diagnose": False, "slow_ms": None,
            "stuck_s": None, "diagnose_json": None, "attach": True, "token": token}
    agent = Agent(opts)
    saved = (threading.Thread._bootstrap_inner, threading.excepthook)
    agent.install_hooks()
    task_origins.enabled = False    # until the session's `configure` starts the diagnostics
    _adopt_running_threads(agent.core.backend)
    if "asyncio" in sys.modules:
        taskmod.adopt_running_loops()
    agent.unload = lambda: _unload(agent, saved)
    try:
        agent.serve()
    except OSError:
        _unload(agent, saved)
        return None
    return agent


def _adopt_running_threads(backend):
    """3.11's hooked backend knows the threads that started after it (and the caller, here the
    injected thread, which is about to end): give it the program's running threads instead."""
    control = getattr(backend, "control", None)
    if control is None:
        return
    with control.lock:
        control.tstates.pop(threading.get_ident(), None)
    live = {t.ident: t for t in list(threading._active.values())
            if not isinstance(t, threading._DummyThread)}
    for ident, address in _thread_states().items():
        thread = live.get(ident)
        if thread is None:
            continue        # not started by threading: its end could not be seen
        with control.lock:
            control.tstates[ident] = address
        if thread is not threading.main_thread():
            _forget_at_end(thread, control)


def _thread_states():
    """ident -> PyThreadState address, read in one pass.

    The walk can lose the GIL between two steps (a thread that was already waiting for it asks
    for it back), and a thread that ends meanwhile frees its state. Holding threading's own
    `_active_limbo_lock` keeps every `threading` thread from ending: its `_delete` needs that
    lock before its state goes. The switch interval is left alone: raised, it does not stop a
    waiter already timing out, and the walk, once switched out, would wait that long for the
    GIL back (seen: a busy program's attach stalled for the whole 1000 s raised)."""
    from .threadtrace import _ThreadState
    api = ctypes.pythonapi
    api.PyInterpreterState_Get.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    found = {}
    with threading._active_limbo_lock:
        ts = api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Get())
        while ts:
            found[_ThreadState.from_address(ts).thread_id] = ts
            ts = api.PyThreadState_Next(ts)
    return found


def _forget_at_end(thread, control):
    """`Thread._bootstrap_inner` calls `self._delete()` before the thread state goes."""
    delete = thread._delete

    def forgetting_delete():
        with control.lock:
            control.tstates.pop(thread.ident, None)
        delete()
    thread._delete = forgetting_delete


def _unload(agent, saved):
    """On the control thread as the session ends: leave the program as it was."""
    agent.unloaded = True
    backend = agent.core.backend
    backend.shutdown()
    mon = getattr(sys, "monitoring", None)
    tool = getattr(backend, "tool", None)
    if mon is not None and tool is not None and mon.get_tool(tool) == "tasklens":
        for event in (mon.events.PY_START, mon.events.PY_RESUME, mon.events.LINE,
                      mon.events.PY_RETURN, mon.events.PY_YIELD, mon.events.PY_UNWIND,
                      mon.events.RAISE):
            mon.register_callback(tool, event, None)
        mon.free_tool_id(tool)
    finder = getattr(backend, "finder", None)
    if finder is not None and finder in sys.meta_path:
        sys.meta_path.remove(finder)
    threading.Thread._bootstrap_inner, threading.excepthook = saved
    atexit.unregister(agent._report_exit)
    try:
        diagnostics.stop()      # before taskmod's create_task wrappers, which are under its own
    except Exception as e:      # the rest of the unload must still happen
        internal_error(e)
    taskmod.uninstall()
    with _lock:
        if _current[0] is agent:
            _current[0] = None
    _end_long_lived_threads()


def _end_long_lived_threads():
    """The repr worker and the deadline watchdog wait for work for the rest of the process.
    The worker ends after one more (empty) job; the watchdog, which naps at most 0.25 s, on an
    asynchronous SystemExit (a `_thread` thread ends silently on it)."""
    worker, saferepr._worker = saferepr._worker, None
    if worker is not None:
        worker.abandoned = True
        worker.jobs.put((lambda: None, [], threading.Event()))
    usercode._watchdog = None
    me = threading.get_ident()
    for ident, frame in list(sys._current_frames().items()):
        if ident == me or ident not in threads.agent_idents:
            continue
        while frame is not None:
            if frame.f_code.co_qualname == _WATCHDOG:
                saferepr.set_async_exc(ident, SystemExit)
                break
            frame = frame.f_back
