"""Agent entry: parse the launcher's arguments, reach the adapter, run the program.

Modes: `--connect HOST:PORT` (launch: connect back, token from TASKLENS_TOKEN, wait for
`start`), `--listen HOST:PORT [--no-wait]` (attach: loopback listener, token in the discovery
file), and no flag (`tasklens run`: ephemeral loopback listener, program runs at once).
The main thread runs the program; sessions run on the control thread.
"""
import atexit
import os
import secrets
import socket
import sys
import threading

from . import diagnostics_options
from . import discovery
from . import paths
from . import runner
from . import task_origins
from . import tasks as taskmod
from .core import Debugger
from .protocol import Connection
from .session import Session, run_control_thread
from .threads import AgentThread, thread_id

USAGE = ("usage: launch.py [--connect HOST:PORT | --listen HOST:PORT [--no-wait]] "
         "[--diagnose [--slow-ms N] [--stuck-s N] [--diagnose-json FILE]] "
         "(--module NAME | PROGRAM) [--] [ARGS...]")
_DIAGNOSE_VALUES = {"--slow-ms": "slow_ms", "--stuck-s": "stuck_s", "--diagnose-json": "diagnose_json"}


def parse(argv):
    opts = {"connect": None, "listen": None, "wait": True, "module": None, "diagnose": False,
            "slow_ms": None, "stuck_s": None, "diagnose_json": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--connect", "--listen", "--module"):
            if i + 1 >= len(argv):
                raise SystemExit(USAGE)
            opts[a[2:]] = argv[i + 1]
            i += 2
        elif a in _DIAGNOSE_VALUES:
            if i + 1 >= len(argv):
                raise SystemExit(USAGE)
            opts[_DIAGNOSE_VALUES[a]] = diagnostics_options.value(a, argv[i + 1])
            i += 2
        elif a == "--diagnose":
            opts["diagnose"] = True
            i += 1
        elif a == "--no-wait":
            opts["wait"] = False
            i += 1
        elif a == "--":
            i += 1
            break
        else:
            break
    rest = argv[i:]
    if opts["module"] is None:
        if not rest:
            raise SystemExit(USAGE)
        opts["program"], opts["args"] = rest[0], rest[1:]
    else:
        opts["program"], opts["args"] = None, rest
    return opts


def _address(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def make_backend(core):
    if sys.version_info >= (3, 12) and os.environ.get("TASKLENS_BACKEND") != "settrace":
        from .backend_monitoring import MonitoringBackend
        return MonitoringBackend(core)
    if sys.version_info < (3, 12):
        from .backend_hooked import HookedSettraceBackend
        from .threadtrace import Unsupported
        try:
            return HookedSettraceBackend(core)
        except (Unsupported, AttributeError):    # an unexpected build: trace the old way
            pass
    from .backend_settrace import SettraceBackend
    return SettraceBackend(core)


class Agent:
    def __init__(self, opts):
        self.opts = opts
        self.core = Debugger()
        self.core.backend = make_backend(self.core)
        self.started = threading.Event()
        self.stop_on_entry = False
        self.session = None
        self.claim_lock = threading.Lock()
        self.exit_code = None
        prog = opts["program"]
        self.main_path = os.path.abspath(prog) if prog else None

    # --- sessions ---
    def start_program(self):
        self.started.set()

    def session_ended(self, session):
        if self.session is session:
            if self.core.terminate_on_disconnect:
                os._exit(1)
            self.core.detach()
            self.session = None
            if not self.listening:      # nobody can attach again: stop tracing for good
                self.core.backend.shutdown()
        if not self.listening:
            self.started.set()

    def connect(self, address, token):
        sock = socket.create_connection(_address(address))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._open_session(sock, "launch", token)

    def claim(self, session):
        """The first connection to pass the handshake owns the debugger until it ends."""
        with self.claim_lock:
            if self.session is not None:
                return False
            self.session = session
            return True

    def _open_session(self, sock, mode, token):
        session = Session(self, Connection(sock), mode, token)
        session.hello()
        run_control_thread(session)

    def listen(self, address, token):
        host, port = _address(address)
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("tasklens: --listen binds loopback only, not %s" % host)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server = socket.create_server((host, port), family=family)
        self.discovery = discovery.write(host, server.getsockname()[1], token, sys.executable,
                                         self.opts["program"] or self.opts["module"])
        pid = os.getpid()
        atexit.register(discovery.remove, self.discovery, pid)

        def accept_loop():
            while True:
                sock, _ = server.accept()
                self._open_session(sock, "listen", token)
        AgentThread(accept_loop, "tasklens-listen").start()

    # --- program ---
    def run(self):
        opts = self.opts
        env_token = os.environ.pop("TASKLENS_TOKEN", None)
        os.environ.pop("TASKLENS_BACKEND", None)   # read by make_backend already
        self.listening = opts["connect"] is None
        if opts["program"]:     # before any adapter can set breakpoints in it
            self.core.bps.loaded_files.add(paths.canonical(opts["program"]))
        if opts["connect"]:
            if not env_token:
                raise SystemExit("tasklens: TASKLENS_TOKEN is not set")
            self.connect(opts["connect"], env_token)
            wait = True
        else:
            self.listen(opts["listen"] or "127.0.0.1:0", secrets.token_hex(16))
            wait = bool(opts["listen"]) and opts["wait"]
        try:
            if opts["module"]:
                target = runner.prepare_module(opts["module"], opts["args"])
            else:
                target = runner.prepare_script(opts["program"], opts["args"])
            failure = None
        except SystemExit as e:     # unreadable or invalid program, reported like python
            failure = e
        if wait:
            self.started.wait()
            if opts["connect"] and not (self.session and self.session.started):
                raise SystemExit(3)
        if failure is not None:
            self.exit_code = runner.exit_code_of(failure)
            self._report_exit()
            raise failure
        atexit.register(self._report_exit)
        os.register_at_fork(after_in_child=self._forked)
        runner.unbuffer_stdio()
        self._install_thread_hook()
        task_origins.enabled = self.listening
        diagnostics_options.start(self.core, opts)
        taskmod.install()     # before user code imports asyncio (and uvloop binds it)
        if self.stop_on_entry:
            self.core.step_on_entry()
        compile_hooks = getattr(self.core.backend, "program_code", None)   # 3.11 backend
        if compile_hooks is not None and not opts["module"]:
            target = (compile_hooks(target[0], opts["program"]), target[1])
        self.core.backend.start()
        try:
            runner.run(target, bool(opts["module"]), self.core.on_uncaught)
        except BaseException as exc:
            self.exit_code = runner.exit_code_of(exc)
            raise
        self.exit_code = 0

    def _forked(self):
        """A forked child has no control thread: it must never stop or talk on our socket."""
        self.session = None
        self.exit_code = 0
        self.core.detach()

    def _install_thread_hook(self):
        original = threading.excepthook
        core = self.core
        bootstrap = threading.Thread._bootstrap_inner

        def announced_bootstrap(thread):
            """`thread` events, sent from the thread itself as it starts and ends."""
            tid = thread_id(thread)
            core.event("thread", {"reason": "started", "threadId": tid, "name": thread.name})
            try:
                return bootstrap(thread)
            finally:
                core.event("thread", {"reason": "exited", "threadId": tid, "name": thread.name})
        threading.Thread._bootstrap_inner = announced_bootstrap

        def hook(args):
            if args.exc_value is not None and args.thread is not None:
                core.on_uncaught(args.exc_value)
            original(args)
        threading.excepthook = hook

    def _report_exit(self):
        """Registered before the program's own atexit handlers, so it runs after them.

        In a forked child, detach() has cleared the connection, so nothing is sent."""
        code = self.exit_code if self.exit_code is not None else 1
        self.core.event("programExited", {"exitCode": code})


def main(argv):
    Agent(parse(argv)).run()
