"""One adapter connection: handshake, then requests read on the control thread.

The control thread (an AgentThread) reads every request. R-requests run there. S-requests are
handed to the parked thread that owns the thread, frame or value they name and answered from
there; when that thread is not parked (it is in native code) the control thread answers itself.
The stack of a task may also be read while the program runs (on the control thread, with
frame ids that lead nowhere), so an editor's view of tasks can refresh live.
When the socket closes the session detaches the debugger (or ends the process on request).
A read-only connection (`ps`) may only read, claims nothing and detaches nothing.
"""
import json
import os
import sys

from . import await_eval
from . import children
from . import diagnostics_options
from . import gil_share
from . import inspection
from . import pausing
from . import task_views
from . import tasks as taskmod
from . import tasktime
from . import usercode
from .protocol import (AgentError, BAD_ARGUMENTS, NOT_STOPPED, PROTOCOL_VERSION,
                       RUNNING_COMMANDS, STOPPED_COMMANDS, TASK_COMMANDS, UNKNOWN_COMMAND,
                       internal_error)
from .stepping import IN, OUT, OVER
from .threads import AgentThread, thread_by_id, thread_id
_STEPS = {"next": OVER, "stepIn": IN, "stepOut": OUT}
_FILTERS = ("raised", "uncaught", "taskUnhandled", "blockedLoop", "neverAwaited", "deadlock")
# The longest line read before the handshake: a stranger cannot make the agent buffer more.
UNTRUSTED_LINE = 64 * 1024
MAX_SAMPLE = 1000         # `top --sample N`: more would leave most tasks never timed
# Handles the adapter passes through from its client: numbers, whatever a client sends.
_HANDLES = frozenset({"threadId", "frameId", "variablesReference", "sourceReference"})
# Answered while the program may run: the agent's thread gets turns of the GIL meanwhile
# (gil_share.py). Not the stopped thread's requests: its loop does not run until they are done.
SHARED_COMMANDS = RUNNING_COMMANDS | TASK_COMMANDS
# What a read-only client (`ps`) may ask: reads that change nothing, and leaving.
READ_ONLY_COMMANDS = frozenset({"threads", "taskTable", "taskTimes", "traceDump", "traceRecord",
                                "loadedSources", "source", "disconnect"})


class Session:
    def __init__(self, agent, conn, mode, token):
        self.agent = agent
        self.core = agent.core
        self.conn = conn
        self.mode = mode
        self.token = token
        self.inspector = inspection.Inspector(self.core)
        self.handshaken = False
        self.read_only = False
        self.started = False

    def stranger(self):
        """A listen-mode connection that has not shown the token yet (in connect mode the agent
        dialled the adapter itself)."""
        return self.mode == "listen" and not self.handshaken

    def program(self):
        """What the process runs, as its session names it: the main file, `-m module`, or
        (`python -c CODE`, standard input) the command line as a child session's name reads."""
        if self.agent.main_path:
            return self.agent.main_path
        if self.agent.opts["module"]:
            return "-m %s" % self.agent.opts["module"]
        return children.describe(*children.what_runs())

    def hello(self):
        v = sys.version_info
        body = {"protocol": PROTOCOL_VERSION, "pid": os.getpid(),
                "pythonVersion": "%d.%d.%d" % v[:3], "versionInfo": list(v[:3]),
                "executable": sys.executable, "backend": self.core.backend.name,
                "mode": self.mode, "program": self.program()}
        if self.mode in ("launch", "attach"):
            body["token"] = self.token
        if self.mode == "attach":   # another session holds the agent: read-only, or refused
            body["claimed"] = self.agent.session is not None
        self.conn.event("hello", body)

    def serve(self):
        """Control-thread loop: returns when the connection ends."""
        try:
            while True:
                try:
                    msg = self.conn.read_message(-1 if self.handshaken else UNTRUSTED_LINE)
                except ValueError as e:
                    self.conn.respond({}, error=AgentError(BAD_ARGUMENTS, "bad message: %s" % e))
                    if self.stranger():     # one answer, then the door
                        break
                    continue
                if msg is None:
                    break
                if msg.get("type") != "request":
                    continue
                command = msg.get("command")
                with gil_share.sharing(type(command) is str and command in SHARED_COMMANDS):
                    if not self.dispatch(msg):
                        break
        finally:
            self.conn.close()
            if self.mode == "listen":
                gil_share.closed()
            tasktime.release(self)
            self.agent.session_ended(self)

    def dispatch(self, req):
        cmd = req.get("command")
        args = req.get("arguments") or {}
        try:
            if not isinstance(args, dict):
                raise AgentError(BAD_ARGUMENTS, "the arguments of %s must be an object" % cmd)
            for key in _HANDLES.intersection(args):
                if args[key] is not None and type(args[key]) is not int:
                    raise AgentError(BAD_ARGUMENTS, "%s must be a whole number, not %s"
                                     % (key, json.dumps(args[key])[:50]))
            if not self.handshaken and cmd != "handshake":
                raise AgentError(BAD_ARGUMENTS, "the first request must be handshake")
            if self.read_only and cmd not in READ_ONLY_COMMANDS:
                raise AgentError(BAD_ARGUMENTS, "%s is not allowed on a read-only connection"
                                 % cmd)
            if cmd in SHARED_COMMANDS:
                body = getattr(self, "r_" + cmd)(args)
            elif cmd in _STEPS or cmd == "continue":
                self.resume(req, cmd, args)
                return True
            elif cmd in STOPPED_COMMANDS:
                self.hand_over(req, cmd, args)
                return True
            else:
                raise AgentError(UNKNOWN_COMMAND, "unknown command %r" % cmd)
        except AgentError as e:
            self.conn.respond(req, error=e)
            return not self.stranger() and cmd != "handshake"
        except Exception as e:
            self.conn.respond(req, error=internal_error(e))
            return True
        self.conn.respond(req, body)
        if cmd == "start":      # only now: the program may end before a later answer is sent
            self.agent.start_program()
        if cmd == "disconnect":
            return self.finish_disconnect(args)
        return True

    # --- S-requests ---
    def hand_over(self, req, cmd, args):
        if not self.core.stopped:
            if cmd == "stackTrace" and taskmod.is_task_id(args.get("threadId")):
                self.conn.respond(req, self.inspector.stackTrace(args))
                return
            raise AgentError(NOT_STOPPED, "%s needs the program to be stopped" % cmd)
        usercode.hand_over(self.conn, self.core, self._owner(args), req, cmd, args,
                           getattr(self.inspector, cmd))

    def _owner(self, args):
        core = self.core
        if "frameId" in args and args["frameId"] in core.frame_handles:
            return core.frame_handles[args["frameId"]][0]
        if "variablesReference" in args and args["variablesReference"] in core.var_handles:
            return core.var_handles[args["variablesReference"]][0]
        if "threadId" in args:
            if taskmod.is_task_id(args["threadId"]):
                return task_views.resolve(core, args["threadId"])[1]
            return core.state_for_thread(thread_by_id(args["threadId"]))
        return next((ts for ts in list(core.states.values()) if ts.parked), None)

    def resume(self, req, cmd, args):
        """Answer first: once resumed, the program may end before a later answer is sent."""
        core = self.core
        if not core.stopped:
            raise AgentError(NOT_STOPPED, "%s needs the program to be stopped" % cmd)
        if cmd == "continue":
            usercode.resume_notice(core)
            self.conn.respond(req, {"allThreadsContinued": True})
            core.resume()
            return
        tid = args.get("threadId")
        if taskmod.is_task_id(tid):
            task, ts = task_views.resolve(core, tid)
            if task is None or task.done():
                raise AgentError(BAD_ARGUMENTS, "task %r has finished" % tid)
            self.conn.respond(req, {})
            core.resume(_STEPS[cmd], ts if ts is not None and ts.task is task else None, task)
            return
        ts = core.state_for_thread(thread_by_id(tid))
        if ts is None or not (ts.parked or ts.native):
            raise AgentError(BAD_ARGUMENTS, "thread %r is not stopped" % args.get("threadId"))
        usercode.resume_notice(core, ts)
        self.conn.respond(req, {})
        core.resume(_STEPS[cmd], ts)

    # --- R-requests ---
    def r_handshake(self, args):
        if args.get("token") != self.token:
            raise AgentError(BAD_ARGUMENTS, "the token does not match")
        if args.get("protocol") != PROTOCOL_VERSION:
            raise AgentError(BAD_ARGUMENTS, "protocol %r is not supported (this agent speaks %d)"
                             % (args.get("protocol"), PROTOCOL_VERSION))
        if self.handshaken:
            raise AgentError(BAD_ARGUMENTS, "handshake was already done")
        if args.get("readOnly") is True:
            # Claims nothing and gets no events: a debugger may be attached meanwhile, and
            # the end of this connection leaves the debugger's state alone.
            self.conn.sock.settimeout(None)
            self.read_only = self.handshaken = True
            return {}
        if not self.agent.claim(self):
            raise AgentError(BAD_ARGUMENTS, "another adapter is already attached")
        self.conn.sock.settimeout(None)     # the listen mode's handshake deadline is over
        self.handshaken = True
        if self.mode != "attach":   # a program attached to runs already: no stop before `start`
            self.core.conn = self.conn
        return {}

    def r_configure(self, args):
        core = self.core
        core.just_my_code = bool(args.get("justMyCode", True))
        core.terminate_on_disconnect = bool(args.get("terminateOnDisconnect", False))
        usercode.LIMIT = float(args.get("evaluateTimeout") or usercode.LIMIT)
        await_eval.LIMIT = float(args.get("awaitTimeout") or await_eval.LIMIT)
        self.agent.stop_on_entry = bool(args.get("stopOnEntry", False))
        diagnostics_options.configure(core, args.get("diagnose"), args.get("slowMs"), args.get("stuckS"))
        children.configure(args.get("subProcess"), self.agent.opts)
        core.backend.refresh(plans_changed=True)
        return {}

    def r_setBreakpoints(self, args):
        src = args.get("source") or {}
        if not isinstance(src.get("path"), str):
            raise AgentError(BAD_ARGUMENTS, "setBreakpoints needs source.path")
        specs = args.get("breakpoints") or []
        bps = self.core.bps.set_line_breakpoints(src["path"], specs)
        self.core.backend.refresh(plans_changed=True)
        return {"breakpoints": [bp.as_json() for bp in bps]}

    def r_setFunctionBreakpoints(self, args):
        bps = self.core.bps.set_function_breakpoints(args.get("breakpoints") or [])
        self.core.backend.refresh(plans_changed=True)
        return {"breakpoints": [{k: v for k, v in bp.as_json().items() if k != "line"}
                                for bp in bps]}

    def r_setExceptionBreakpoints(self, args):
        filters = args.get("filters") or []
        unknown = [f for f in filters if f not in _FILTERS]
        if unknown:
            raise AgentError(BAD_ARGUMENTS, "unknown exception filter(s): %s" % ", ".join(unknown))
        with self.core.bps.setting:     # kept from a child's preset (children._preset)
            self.core.filters_from_session = True
            self.core.exception_filters = frozenset(filters)
        self.core.backend.refresh(plans_changed=True)
        return {}

    def r_start(self, args):
        self.started = True
        if self.mode == "attach":
            self.core.conn = self.conn
        return {}

    def r_threads(self, args):
        body = task_views.threads_body(self.core, args)
        native = {thread_id(ts.thread): ts.native for ts in list(self.core.states.values())
                  if ts.native}
        if native:
            for entry in body["threads"]:
                if entry["id"] in native:
                    entry["name"] += " (%s)" % pausing.short_label(native[entry["id"]])
        return body

    def r_taskTable(self, args):
        return task_views.task_table(self.core)

    def r_taskTimes(self, args):
        """`tasklens top`: counting starts with this connection's first ask, ends with it;
        `sample` N > 1 asks for sampled counting (one wake in about N timed), "auto" for exact
        counting that turns to sampling once it costs the program too much (tasktime_auto.py),
        if it starts."""
        from . import topview       # loaded on first use: most programs never see a top
        sample = args.get("sample", 1)
        if sample != tasktime.AUTO and (type(sample) is not int or not 1 <= sample <= MAX_SAMPLE):
            raise AgentError(BAD_ARGUMENTS, "taskTimes: sample must be \"auto\" or an integer in "
                             "[1, %d]" % MAX_SAMPLE)
        tasktime.acquire(self, sample)
        return topview.task_times(self.core, args)

    def r_traceDump(self, args):
        from . import trace
        return trace.dump_now()

    def r_traceRecord(self, args):
        """`tasklens trace PID --for S`: this connection waits the S seconds, told by event
        `traceRecording` once the window has begun (the CLI says "recording" only then)."""
        from . import trace_window
        path, seconds = args.get("path"), args.get("seconds")
        if not isinstance(path, str) or not os.path.isabs(path):
            raise AgentError(BAD_ARGUMENTS, "traceRecord needs an absolute path")
        if type(seconds) not in (int, float) or not 0 < seconds <= trace_window.MAX_WINDOW_S:
            raise AgentError(BAD_ARGUMENTS, "traceRecord: seconds must be a number in (0, %d]"
                             % trace_window.MAX_WINDOW_S)
        return trace_window.record_for(path, seconds, asker=self.conn.sock, started=lambda: self.conn.event(
            "traceRecording", {"path": path, "seconds": seconds}))

    def r_pause(self, args):
        self.core.request_pause(args.get("threadId"))
        return {}

    def r_source(self, args):
        return inspection.source(args)

    def r_loadedSources(self, args):
        return inspection.loaded_sources(self.agent.main_path)

    def r_disconnect(self, args):
        if not args.get("terminate") and not self.read_only:
            self.agent.released()      # before the answer: the adapter may exit right after it
        return {}

    def finish_disconnect(self, args):
        if args.get("terminate") and not self.read_only:
            self.conn.close()
            self.agent.end_now()
        return False


def run_control_thread(session):
    thread = AgentThread(session.serve, "tasklens-control")
    thread.start()
    return thread
