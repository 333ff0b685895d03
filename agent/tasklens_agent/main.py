"""Agent entry: parse the launcher's arguments, reach the adapter, run the program.

Modes: `--connect HOST:PORT` (launch: connect back, token from TASKLENS_TOKEN, wait for
`start`; a read-only listener for `ps`), `--listen HOST:PORT [--no-wait]` (attach: loopback
listener, token in the discovery file), and no flag (`tasklens run`: ephemeral loopback
listener, program runs at once). Every mode writes a discovery file.
The main thread runs the program; sessions run on control threads. Start-up is three steps
(`serve`, `install_hooks`, `run_program`), so that an agent loaded into a program that already
runs needs only the first two.
"""
import atexit
import errno
import _socket
import gc
import os
import sys
import threading

from . import forksafe
from . import children
from . import diagnostics_options
from . import discovery
from . import gil_share
from .launch_args import address as _address, fail as _fail, parse, shown as _shown
from . import lifeline
from . import paths
from . import runner
from . import task_origins
from . import tasks as taskmod
from .threads import AgentThread, hidden, thread_id

HANDSHAKE_TIMEOUT = 5.0
MAX_STRANGERS = 16
def _give_back_memory():
    """Returns to the system what start-up allocated and freed (about 1 MB), so that a program
    under `tasklens run` holds little more memory than under plain python."""
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL(None).malloc_trim(0)    # glibc's; other C libraries keep it
    except (AttributeError, OSError):
        pass


def _listener(host, port):
    """A listening socket made with `_socket`: the `socket` module (with `enum` and
    `selectors` behind it) costs a program 1.4 MB, and most programs under `tasklens run`
    never get a connection."""
    family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
    server = _socket.socket(family, _socket.SOCK_STREAM)
    try:
        server.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        server.bind((host, port))
        server.listen()
    except OSError:
        server.close()
        raise
    return server


def make_backend(core):
    if sys.version_info >= (3, 12) and os.environ.get("TASKLENS_BACKEND") != "settrace":
        from .backend_monitoring import MonitoringBackend
        return MonitoringBackend(core)
    if sys.version_info < (3, 12):
        from .backend_hooked import HookedBackend
        from .threadtrace import Unsupported
        try:
            return HookedBackend(core)
        except (Unsupported, AttributeError):    # an unexpected build: trace the old way
            pass
    from .backend_settrace import SettraceBackend
    return SettraceBackend(core)


# 3.11's hooked backend compiles breakpoints into the main program before it runs and follows
# threads from their start: its debugger core is made with the agent. A 3.12+ backend can start
# at any time, so the core (about 2.5 MB of modules) waits for the first connection: most
# programs under `tasklens run` never get one.
EAGER_CORE = sys.version_info < (3, 12)


class Agent:
    def __init__(self, opts):
        self.opts = opts
        self._core = None
        self._core_lock = threading.Lock()
        self.hooks_installed = False
        self.started = threading.Event()
        self.stop_on_entry = False
        self.session = None
        self.claim_lock = forksafe.lock()
        self.strangers = []         # listen mode: connections that have not passed handshake
        self.exit_code = None
        # Whether a debugger may attach (listen and run modes); under an adapter that
        # launched the program (connect), the listener serves read-only clients (`ps`) only.
        self.listening = opts["connect"] is None
        self.parent = None      # connect mode: the adapter, which the program must not outlive
        self.is_released = False
        # Attached to a program that already ran (attach.py): no listener, no lifeline, and
        # when the session ends, `unload` (set by attach.py) takes everything back out.
        self.attached = bool(opts.get("attach"))
        self.unloaded = False
        self.unload = None
        self.discovery = None
        self.discovery_pid = None
        self.server = None      # the listener, and the token it asks for
        self.token = None
        prog = opts["program"]
        self.main_path = os.path.abspath(prog) if prog else None
        if EAGER_CORE or os.environ.get("TASKLENS_BACKEND") == "settrace":
            self._core = self._make_core()

    @property
    def core(self):
        """The debugger core, made on first use (see EAGER_CORE)."""
        core = self._core
        if core is None:
            with self._core_lock:
                if self._core is None:
                    self._core = self._make_core()
                core = self._core
        return core

    def _make_core(self):
        from .core import Debugger
        core = Debugger()
        core.backend = make_backend(core)
        if self.opts["program"] and not self.attached:
            # Before any adapter can set breakpoints in it.
            core.bps.loaded_files.add(paths.canonical(self.opts["program"]))
        if self.hooks_installed:
            core.backend.start()
        return core

    def _on_uncaught(self, exc):
        if self._core is not None:
            self._core.on_uncaught(exc)

    # --- sessions ---
    def start_program(self):
        self.started.set()

    def session_ended(self, session):
        if self.attached:
            if self.session is session:
                if self.core.terminate_on_disconnect:
                    self.end_now()
                self.core.detach()
                self.session = None
                self.unload()
            return
        if self.session is not session and session.mode != "launch":
            return      # a read-only client, or one refused at handshake: nothing to undo
        if self.session is session:
            # A launched program's adapter gone without a `disconnect` (it was killed, or its
            # client vanished): the program ends with its session, as when asked to.
            lost = not self.listening and session.started and not self.is_released
            if self.core.terminate_on_disconnect or lost:
                self.end_now()
            self.core.detach()
            self.session = None
            children.restore()
            if not self.listening:      # nobody can attach again: stop tracing for good
                self.core.backend.shutdown()
        if not self.listening:
            self.started.set()

    def released(self):
        """The debugger detached on purpose: the program may outlive whoever started it."""
        self.is_released = True
        if self.parent is not None:
            lifeline.disarm()       # on the adapter's control thread, which armed it

    def end_now(self):
        """Ends the process at once, as `disconnect` with `terminate` asks (exit status 1); a
        launched program's children too (lifeline.end_group)."""
        if self.discovery is not None and os.getpid() == self.discovery_pid:
            discovery.remove(self.discovery, self.discovery_pid)
        if self.parent is not None:
            lifeline.end_group()
        os._exit(1)

    def connect(self, address, token, mode="launch"):
        import socket
        sock = socket.create_connection(_address(address), timeout=5)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._open_session(sock, mode, token)

    def claim(self, session):
        """The first connection to pass the handshake owns the debugger until it ends."""
        with self.claim_lock:
            if self.session is not None or (not self.listening
                                            and session.mode not in ("launch", "attach")):
                return False
            self.session = session
            return True

    def _open_session(self, sock, mode, token):
        # Imported at the first connection: most programs under `tasklens run` never get one.
        from .protocol import Connection
        from .session import Session, run_control_thread
        session = Session(self, Connection(sock), mode, token)
        session.hello()
        if mode != "launch":
            try:
                run_control_thread(session)
            except RuntimeError:
                # 3.12 starts no thread once the interpreter exits: a child waiting at exit for
                # its session (children.py) is served on this, the accepting, thread.
                session.serve()
            return session

        def serve():
            lifeline.arm(self.parent)
            session.serve()
        AgentThread(serve, "tasklens-control").start()
        return session

    def listen(self, address, token, wrapper=None):
        try:
            host, port = _address(address)
        except ValueError:
            _fail("--listen %s: expected HOST:PORT" % address)
        if host not in ("127.0.0.1", "localhost", "::1"):
            _fail("--listen binds loopback addresses only (127.0.0.1, ::1), not %s; to reach a "
                  "program in a container or on another machine, forward the port (ssh -L, "
                  "kubectl port-forward, docker run --network host)" % host)
        try:
            server = _listener(host, port)
        except OSError as e:
            reason = ("the port is in use; choose another one, or port 0 for a free one"
                      if e.errno == errno.EADDRINUSE else e.strerror)
            _fail("cannot listen on %s: %s" % (_shown(host, port), reason))
        gil_share.watch_listener(server.fileno())
        if gil_share.loop_started not in task_origins.loop_watchers:   # a forked child: again
            task_origins.loop_watchers.append(gil_share.loop_started)
        self.address = (host, server.getsockname()[1])
        self.server, self.token = server, token
        self.discovery = discovery.write(host, self.address[1], token, sys.executable,
                                         self.opts["program"] or self.opts["module"], wrapper)
        self.discovery_pid = os.getpid()
        discovery.remove_at_exit(self.discovery)

        def accept_loop():
            while True:
                fd = gil_share.accept(server)
                try:    # the session's imports: many turns of the GIL
                    self._accepted(fd, token)
                finally:
                    gil_share.release()
        AgentThread(accept_loop, "tasklens-listen").start()

    def _accepted(self, fd, token):
        import socket   # loaded at the first connection, not before
        sock = socket.socket(fileno=fd)
        # A connection has HANDSHAKE_TIMEOUT to prove it knows the token, and only
        # so many may try at once: a flood cannot hold the agent's files or threads.
        self.strangers = [s for s in self.strangers if not s.conn.closed
                          and not s.handshaken]
        if len(self.strangers) >= MAX_STRANGERS:
            sock.close()
            return
        sock.settimeout(HANDSHAKE_TIMEOUT)
        gil_share.opened()      # closed() as its session ends
        try:
            self.strangers.append(self._open_session(sock, "listen", token))
        except BaseException:
            gil_share.closed()
            raise

    # --- the three steps: reachable, hooked, running ---
    def serve(self):
        """Makes the agent reachable: the adapter's connection (launch), a listener and the
        discovery file that `ps` and attach find it by."""
        opts = self.opts
        if self.attached:       # the program's environment is not ours to read or change
            self.connect(opts["connect"], opts["token"], "attach")
            return
        env_token = os.environ.pop("TASKLENS_TOKEN", None)
        wrapper = os.environ.pop("TASKLENS_WRAPPER_PID", None)
        os.environ.pop("TASKLENS_BACKEND", None)   # read by make_backend already
        token = os.urandom(16).hex()
        if opts["connect"]:
            if not env_token:
                raise SystemExit("tasklens: TASKLENS_TOKEN is not set")
            self.parent = os.getppid()
            self.connect(opts["connect"], env_token)
            self.listen("127.0.0.1:0", token)
        else:
            if opts["subprocess"]:
                children.start(os.environ.get(children.ENV) or children.run_spec(opts))
            if wrapper:
                lifeline.hold_for_life(int(wrapper))
            self.listen(opts["listen"] or "127.0.0.1:0", token, int(wrapper) if wrapper else None)

    def install_hooks(self):
        """Lets the debugger see the program: its exit, forks, threads, asyncio tasks, and
        tracing (off until a debugger asks for something)."""
        atexit.register(self._report_exit)
        os.register_at_fork(after_in_child=self._forked)
        self._install_thread_hook()
        task_origins.enabled = self.listening
        diagnostics_options.start(lambda: self.core, self.opts)
        diagnostics_options.start_trace(self.opts)
        taskmod.install()     # before user code imports asyncio (and uvloop binds it)
        with self._core_lock:
            self.hooks_installed = True
            core = self._core
        if core is not None:
            core.backend.start()
        children.follow_forks(self)     # after the backend's own after-fork hook

    def run_program(self, target):
        """Runs the program on this (the main) thread; returns or raises as it ends."""
        try:
            runner.run(target, bool(self.opts["module"]), self._on_uncaught)
        except BaseException as exc:
            self.exit_code = runner.exit_code_of(exc)
            raise
        self.exit_code = 0

    def run(self):
        opts = self.opts
        self.serve()
        wait = opts["connect"] is not None or (bool(opts["listen"]) and opts["wait"])
        try:
            if opts["module"]:
                target = runner.prepare_module(opts["module"], opts["args"])
            else:
                target = runner.prepare_script(opts["program"], opts["args"])
            failure = None
        except SystemExit as e:     # unreadable or invalid program, reported like python
            failure = e
        try:
            if opts["listen"] and (wait or _address(opts["listen"])[1] == 0):
                # waiting, or port 0 (the system picked it): the only way to learn it but `ps`
                sys.stderr.write("tasklens: %s on %s (pid %d)\n" % (
                    "waiting for a debugger to attach" if wait else "listening for a debugger",
                    _shown(*self.address), os.getpid()))
                sys.stderr.flush()
            if wait:
                self.started.wait()
        except KeyboardInterrupt:   # Ctrl-C before any debugger came: not our traceback
            sys.stderr.write("tasklens: interrupted while waiting for a debugger\n")
            raise SystemExit(130) from None
        if wait and opts["connect"] and not (self.session and self.session.started):
            raise SystemExit(3)
        if failure is not None:
            self.exit_code = runner.exit_code_of(failure)
            self._report_exit()
            raise failure
        runner.unbuffer_stdio()
        if self.stop_on_entry:
            self.core.step_on_entry()
        if not opts["module"] and target[0] is not None and self._core is not None:
            target = (self._core.backend.program_code(target[0], target[1].__file__), target[1])
        self.install_hooks()
        _give_back_memory()
        self.run_program(target)

    def _forked(self):
        """A forked child has no control thread: it must never stop or talk on our socket."""
        if self.unloaded:
            return
        self.session = None
        self.exit_code = 0
        self._core_lock = threading.Lock()  # another thread may have held it as the process forked
        if self._core is not None:
            self._core.detach()

    def _install_thread_hook(self):
        original = threading.excepthook
        agent = self
        bootstrap = threading.Thread._bootstrap_inner

        def announced_bootstrap(thread):
            """`thread` events, sent from the thread itself as it starts and ends."""
            if thread in hidden:
                return bootstrap(thread)
            tid = thread_id(thread)
            core = agent._core      # none yet: no session to tell
            if core is not None:
                core.event("thread", {"reason": "started", "threadId": tid, "name": thread.name})
            try:
                return bootstrap(thread)
            finally:
                core = agent._core
                if core is not None:
                    core.event("thread", {"reason": "exited", "threadId": tid, "name": thread.name})
        threading.Thread._bootstrap_inner = announced_bootstrap

        def hook(args):
            if args.exc_value is not None and args.thread is not None:
                agent._on_uncaught(args.exc_value)
            original(args)
        threading.excepthook = hook

    def _report_exit(self):
        """Registered before the program's own atexit handlers, so it runs after them.

        In a forked child, detach() has cleared the connection, so nothing is sent. Tracing
        ends here: the program has exited for the adapter, nothing may stop any more, and the
        interpreter's finalization (`__del__` of loops and objects) runs after the agent's
        module globals are cleared, where a trace callback would only fail."""
        core = self._core
        if core is None:
            return      # no debugger ever connected
        code = self.exit_code if self.exit_code is not None else 1
        core.event("programExited", {"exitCode": code})
        core.backend.shutdown()


def main(argv):
    Agent(parse(argv)).run()
