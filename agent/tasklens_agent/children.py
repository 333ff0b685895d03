"""Child processes of a followed program get the agent before their own code runs.

Who runs where:
- A followed program's agent names what its children do in TASKLENS_SUBPROCESS and puts
  agent/bootstrap first on PYTHONPATH; every child inherits both, so a Python child imports
  bootstrap/sitecustomize.py while it starts, which calls `bootstrap` here (on its main
  thread, before its program). A forked child already holds the agent: `forked` runs in it,
  on the forking thread, from main.py's after-fork hook.
- Either rule may end with a tab and launcher options the child takes too (diagnostics and
  trace for `run`, the trace for `debug`: diagnostics_options.child_words).
- `run` (under `tasklens run`): the child's agent listens on an ephemeral loopback port and
  writes its own discovery file, so `tasklens ps` finds it; nothing waits.
- `debug HOST:PORT TOKEN launch|attach` (a debug session whose client opens sessions for
  children): the child's agent also listens (fresh token), connects to the debug adapter's
  registry at HOST:PORT (loopback), proves it knows TOKEN and says where it listens; the
  adapter answers with the client's line breakpoints and exception filters, and asks the
  client for a session that attaches there (DAP startDebugging). The child's code runs at once
  with those breakpoints; a stop before that session's `start` (the client's own breakpoints
  sent, the client ready to show it) waits for it, and so does the child's exit.
  That registry connection stays open on a thread of its own: closed by the adapter (the
  parent session ended), the child of a launched program ends (status 1) and the child of an
  attached one lets its session go and runs on; `{"undebugged": true}` from the adapter (the
  client could not open a session) lets the child run at once, undebugged.
multiprocessing's resource tracker runs no user code and is left alone; its fork server gets
the agent (its forks are the workers) without a session of its own.
"""
import atexit
import os
import sys
import threading

from . import child_exits
from . import diagnostics_options
from .threads import AgentThread

ENV = "TASKLENS_SUBPROCESS"
BOOTSTRAP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "bootstrap")
_TRACKER = "from multiprocessing.resource_tracker import"
_FORK_SERVER = "from multiprocessing.forkserver import"
_SPAWNED = "from multiprocessing.spawn import"
_LAUNCHER = os.path.join(os.path.dirname(BOOTSTRAP), "launch.py")
_NAME_LIMIT = 100
REGISTER_TIMEOUT = 10.0
SESSION_WAIT = child_exits.SESSION_WAIT
_PRESET_FILTERS = ("raised", "uncaught")    # the others need diagnostics, set by a session

_base = None    # what this process's children do when no debug session asks for more


# --- what children do: set by this process for the ones it will start ---
def start(spec):
    """At start-up: children follow as `spec` says until a debug session asks otherwise."""
    global _base
    _base = spec
    _follow(spec)


def configure(args, opts=None):
    """`configure`'s `subProcess`: the debug adapter's registry, or None (children keep the
    start-up rule). A trace this process records (`opts`) is recorded by its children too."""
    if isinstance(args, dict) and args.get("port"):
        _follow("\t".join(["debug %s:%d %s %s" % (
            args.get("host") or "127.0.0.1", int(args["port"]), args.get("token"),
            "launch" if args.get("launched") else "attach")]
            + diagnostics_options.trace_words(opts or {})))


def restore():
    """The debug session ended: children are started as before it."""
    if _base is None:
        os.environ.pop(ENV, None)
        _set_path([p for p in _path() if p != BOOTSTRAP])
    else:
        _follow(_base)


def _follow(spec):
    os.environ[ENV] = spec
    _set_path([BOOTSTRAP] + [p for p in _path() if p != BOOTSTRAP])


def _path():
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def _set_path(entries):
    if entries:
        os.environ["PYTHONPATH"] = os.pathsep.join(entries)
    else:
        os.environ.pop("PYTHONPATH", None)


def run_spec(opts):
    """`tasklens run`'s rule for its children: `run`, then the diagnostics options it was
    given (tab-separated: a JSON file's path may hold spaces)."""
    return "\t".join(["run"] + diagnostics_options.child_words(opts))


def _run_options(spec):
    """The options of a rule: a `run` rule's diagnostics and trace (see `run_spec`), a `debug`
    rule's trace (see `configure`)."""
    return diagnostics_options.options_of(spec.split("\t")[1:])


def _parse(spec):
    """(host, port, token, launched) for a debug session's children; None for `run`."""
    if spec == "run" or spec.startswith("run\t"):
        return None
    words = spec.split("\t")[0].split()
    if len(words) != 4 or words[0] != "debug" or words[3] not in ("launch", "attach"):
        raise ValueError(spec)
    host, _, port = words[1].rpartition(":")
    return host, int(port), words[2], words[3] == "launch"


# --- in the child ---
def bootstrap(spec):
    """From sitecustomize, before the child's program: listen, register, hook."""
    try:
        debug = _parse(spec)
    except ValueError:
        return
    kind, target = what_runs()
    if kind == "-c" and _runs(target, _TRACKER):
        return
    if kind == "script" and os.path.abspath(target) == _LAUNCHER:
        return      # `tasklens run` or a launch: that agent follows on its own
    from .main import Agent
    opts = {"connect": None, "listen": "127.0.0.1:0", "wait": False,
            "module": target if kind == "-m" else None,
            "program": target if kind == "script" else None, "args": [],
            "subprocess": True, "diagnose": False, "slow_ms": None, "stuck_s": None,
            "diagnose_json": None, "child": True}
    # `tasklens run --diagnose`, and --trace (also a debug session's): as in the parent
    opts.update(_run_options(spec))
    agent = Agent(opts)
    agent.serve()
    _wait_for_parents_session(agent)
    fork_server = kind == "-c" and _runs(target, _FORK_SERVER)
    if debug is not None and not fork_server:
        _register(agent, debug, describe(kind, target))
    else:
        agent.started.set()
    diagnostics_options.defer_to_first_loop()
    if debug is not None:
        if fork_server:
            _preload_for_workers()
    agent.install_hooks()
    child_exits.report(agent)
    _wait_at_exit(agent)
    if fork_server:
        _freeze_for_workers()


def _freeze_for_workers():
    """In the fork server, before it loads the program's main module: what Python's start-up
    and the agent made is moved out of the collector's reach (gc.freeze), as Python's docs
    advise a server that forks. Otherwise every worker's collections walk it again, and each
    object they touch costs the worker a page copied from the fork server: measured on 3.14, a
    pool worker spent 140 ms of CPU before its first job with the agent against 90 plain, and
    95 with this (docs/bench-children.md). No program object exists yet; what is frozen lives
    as long as the process (modules, classes, functions). Left out of gc.get_objects() in the
    workers, as frozen objects are."""
    import gc
    gc.collect()
    gc.freeze()


def follow_forks(agent):
    """Registered last: other after-fork hooks (the backend's) must run before this one waits
    for a session that sets breakpoints."""
    os.register_at_fork(after_in_child=lambda: forked(agent))
    _hook_run_path(agent)


def _hook_run_path(agent):
    """3.11's hooked backend compiles breakpoints into code as it is compiled; multiprocessing's
    spawn and forkserver run the program's main file through runpy.run_path, which compiles it
    itself (a private function whose shape 3.11 fixes; 3.12+ backends need nothing)."""
    # Not os.environ.get: a missing name raises KeyError inside `os`, and tracing is on by now, so
    # a program debugged with "raised" exceptions and justMyCode off would stop in it.
    if sys.version_info >= (3, 12) or ENV not in list(os.environ):
        return
    import runpy
    original = runpy._get_code_from_file
    backend = agent.core.backend

    def get_code(run_name, fname):
        code, fname = original(run_name, fname)
        return backend.program_code(code, fname), fname
    runpy._get_code_from_file = get_code


def forked(agent):
    """In a forked child of a followed process: its own listener, discovery file, session."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    try:
        debug = _parse(spec)
    except ValueError:
        return
    if agent.server is not None:
        agent.server.close()    # the parent's listener: its accept thread did not come along
    agent.listening = True
    agent.parent = None
    agent.is_released = False
    agent.strangers = []
    agent.started = threading.Event()
    agent.listen("127.0.0.1:0", os.urandom(16).hex())
    if debug is not None:
        _wait_for_parents_session(agent)
        kind, target = what_runs()
        if kind == "-c" and _runs(target, _FORK_SERVER):
            name = describe("-c", _SPAWNED).replace("spawn", "forkserver")
        else:
            name = describe(kind, target) + " (fork)"
        _register(agent, debug, name)
        agent.core.backend.refresh(plans_changed=True)
        diagnostics_options.forget_forked()
        diagnostics_options.defer_to_first_loop()
        _wait_at_exit(agent)
        child_exits.track(agent)
    else:
        diagnostics_options.defer_to_first_loop()
        diagnostics_options.rediagnose_forked(lambda: agent.core, agent.opts)
        agent.started.set()


def _preload_for_workers():
    """In the fork server: what every worker's registration and session import, imported once
    here, so that the workers it forks hold them already, as the workers of a forking parent do.
    Each worker would otherwise import them on its own while its session starts, its first job
    waiting meanwhile on 2 cores (docs/bench-children.md)."""
    import json     # the registration's
    import socket
    from . import core, session
    if sys.version_info >= (3, 12):
        from . import backend_monitoring
    else:
        from . import backend_hooked


def _wait_for_parents_session(agent):
    """Stops wait for the child's own session (see the top); none waits for a session that
    ended before `start`."""
    original = agent.session_ended

    def ended(session):
        owner = session is agent.session
        original(session)
        if owner:
            agent.started.set()
    agent.session_ended = ended
    core = agent.core
    if "stop" in vars(core):
        return      # a fork of a child: already waiting
    stop = core.stop

    def stop_once_seen(*args, **kwargs):
        if not agent.started.is_set():
            agent.started.wait(SESSION_WAIT)
        return stop(*args, **kwargs)
    core.stop = stop_once_seen


def _wait_at_exit(agent):
    """Last registered, so first run: the child's session sees it before it ends."""
    atexit.unregister(_seen)
    atexit.register(_seen, agent)


def _seen(agent):
    agent.started.wait(SESSION_WAIT)


def _preset(agent, reply):
    """The breakpoints and filters the client has, until the child's session sends its own.
    That session may have sent them already (its thread ran while this one waited for the
    reply): what it set is kept."""
    core = agent.core
    for entry in reply.get("breakpoints") or []:
        path = (entry.get("source") or {}).get("path")
        if isinstance(path, str):
            core.bps.set_line_breakpoints(path, entry.get("breakpoints") or [], preset=True)
    with core.bps.setting:
        if not core.filters_from_session:
            core.exception_filters = frozenset(f for f in reply.get("filters") or []
                                               if f in _PRESET_FILTERS)


def _register(agent, debug, name):
    import json     # here: a program under `tasklens run` needs neither module (main.py)
    import socket
    host, port, token, launched = debug
    try:
        # Not create_connection: the host is a loopback address, its name lookup only costs
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.settimeout(REGISTER_TIMEOUT)
        try:
            sock.connect((host, port))
        except OSError:
            sock.close()
            raise
        sock.sendall((json.dumps({"token": token, "pid": os.getpid(), "ppid": os.getppid(),
                                  "port": agent.address[1], "agentToken": agent.token,
                                  "name": name}) + "\n").encode())
        lines = sock.makefile("rb")
        reply = json.loads(lines.readline())
        sock.settimeout(None)
    except (OSError, ValueError):   # the adapter is gone already: nobody will debug this child
        agent.started.set()
        return
    if isinstance(reply, dict):
        _preset(agent, reply)

    def watch():
        with sock, lines:
            for line in lines:
                try:
                    if json.loads(line).get("undebugged"):
                        agent.started.set()
                except (ValueError, AttributeError):
                    pass
        # The parent session is over.
        if launched:
            agent.end_now()
        session = agent.session
        if session is not None:
            session.conn.close()
        agent.started.set()
    AgentThread(watch, "tasklens-parent-session").start()


def what_runs():
    """What Python runs in this process: ("script", path), ("-m", name), ("-c", code), or
    ("-", "") for standard input or the interactive prompt."""
    argv, orig = sys.argv, getattr(sys, "orig_argv", sys.argv)
    first = argv[0] if argv else ""
    if first in ("-c", "-m"):
        word = orig[len(orig) - len(argv)] if len(orig) >= len(argv) + 1 else ""
        if word.startswith("-") and first[1] in word:       # "-mjson.tool", "-c" joined
            word = word[word.index(first[1]) + 1:]
        return first, word
    if first in ("", "-"):
        return "-", ""
    return "script", first


def _runs(code, prefix):
    """Whether `-c` code starts with `prefix`, past the `import sys; ` that the fork server's
    command opens with in newer releases (3.13.15, 3.14)."""
    if code.startswith("import sys; "):
        code = code[len("import sys; "):]
    return code.startswith(prefix)


def describe(kind, target):
    """The session's name: the child's command line as a user would recognise it."""
    if kind == "-c" and _runs(target, _SPAWNED):
        text = "multiprocessing worker (spawn)"
    elif kind == "-c" and _runs(target, _FORK_SERVER):
        text = "multiprocessing fork server"
    elif kind == "-c":
        text = "-c %s" % " ".join(target.split())
    else:
        text = " ".join([kind if kind != "script" else os.path.basename(target)]
                        + ([target] if kind == "-m" else []) + sys.argv[1:])
    text = "%s %s" % (os.path.basename(sys.executable), text)
    return text if len(text) <= _NAME_LIMIT else text[:_NAME_LIMIT - 1] + "…"
