"""One adapter connection: handshake, then requests read on the control thread.

The control thread (an AgentThread) reads every request. R-requests run there. S-requests are
handed to the parked thread that owns the thread, frame or value they name and answered from
there; when that thread is not parked (it is in native code) the control thread answers itself.
When the socket closes the session detaches the debugger (or ends the process on request).
A read-only connection (`ps`) may only read, claims nothing and detaches nothing.
"""
import os
import sys
import time

from . import diagnostics_options
from . import inspection
from . import task_views
from . import tasks as taskmod
from .protocol import (AgentError, BAD_ARGUMENTS, INTERNAL, NOT_STOPPED, PROTOCOL_VERSION,
                       RUNNING_COMMANDS, STOPPED_COMMANDS, TASK_COMMANDS, UNKNOWN_COMMAND)
from .stepping import IN, OUT, OVER
from .threads import AgentThread, thread_by_id, user_threads

PAUSE_NOTICE_DELAY = 0.3
_STEPS = {"next": OVER, "stepIn": IN, "stepOut": OUT}
_FILTERS = ("raised", "uncaught", "taskUnhandled", "blockedLoop", "neverAwaited", "deadlock")
# What a read-only client (`ps`) may ask: reads that change nothing, and leaving.
READ_ONLY_COMMANDS = frozenset({"threads", "taskTable", "loadedSources", "source", "disconnect"})


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

    def hello(self):
        v = sys.version_info
        body = {"protocol": PROTOCOL_VERSION, "pid": os.getpid(),
                "pythonVersion": "%d.%d.%d" % v[:3], "versionInfo": list(v[:3]),
                "executable": sys.executable, "backend": self.core.backend.name,
                "mode": self.mode}
        if self.mode == "launch":
            body["token"] = self.token
        self.conn.event("hello", body)

    def serve(self):
        """Control-thread loop: returns when the connection ends."""
        try:
            while True:
                try:
                    msg = self.conn.read_message()
                except ValueError as e:
                    self.conn.respond({}, error=AgentError(BAD_ARGUMENTS, "bad message: %s" % e))
                    continue
                if msg is None:
                    break
                if msg.get("type") != "request":
                    continue
                if not self.dispatch(msg):
                    break
        finally:
            self.conn.close()
            self.agent.session_ended(self)

    def dispatch(self, req):
        cmd = req.get("command")
        args = req.get("arguments") or {}
        try:
            if not self.handshaken and cmd != "handshake":
                raise AgentError(BAD_ARGUMENTS, "the first request must be handshake")
            if self.read_only and cmd not in READ_ONLY_COMMANDS:
                raise AgentError(BAD_ARGUMENTS, "%s is not allowed on a read-only connection"
                                 % cmd)
            if cmd in RUNNING_COMMANDS or cmd in TASK_COMMANDS:
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
            return not (cmd == "handshake")
        except Exception as e:
            self.conn.respond(req, error=AgentError(INTERNAL, "%s: %s" % (type(e).__name__, e)))
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
            raise AgentError(NOT_STOPPED, "%s needs the program to be stopped" % cmd)
        owner = self._owner(args)
        handler = getattr(self.inspector, cmd)

        def job():
            try:
                body = handler(args)
            except AgentError as e:
                self.conn.respond(req, error=e)
            except Exception as e:
                self.conn.respond(req, error=AgentError(INTERNAL, "%s: %s" % (
                    type(e).__name__, e)))
            else:
                self.conn.respond(req, body)
        if owner is not None and owner.parked:
            owner.jobs.put(job)
        else:
            job()

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
        if ts is None or not ts.parked:
            raise AgentError(BAD_ARGUMENTS, "thread %r is not stopped in Python code"
                             % args.get("threadId"))
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
            self.read_only = self.handshaken = True
            return {}
        if not self.agent.claim(self):
            raise AgentError(BAD_ARGUMENTS, "another adapter is already attached")
        self.handshaken = True
        self.core.conn = self.conn
        return {}

    def r_configure(self, args):
        core = self.core
        core.just_my_code = bool(args.get("justMyCode", True))
        core.terminate_on_disconnect = bool(args.get("terminateOnDisconnect", False))
        self.agent.stop_on_entry = bool(args.get("stopOnEntry", False))
        diagnostics_options.configure(core, args.get("diagnose"))
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
        self.core.exception_filters = frozenset(filters)
        self.core.backend.refresh(plans_changed=True)
        return {}

    def r_start(self, args):
        self.started = True
        return {}

    def r_threads(self, args):
        return task_views.threads_body(self.core, args)

    def r_taskTable(self, args):
        return task_views.task_table(self.core)

    def r_pause(self, args):
        self.core.request_pause()
        AgentThread(self._pause_notice, "tasklens-pause-notice").start()
        return {}

    def _pause_notice(self):
        time.sleep(PAUSE_NOTICE_DELAY)
        core = self.core
        if not (core.pause_requested or core.stopped) or core.conn is not self.conn:
            return
        current = sys._current_frames()
        for thread in user_threads():
            ts = core.state_for_thread(thread)
            if ts is not None and ts.parked:
                continue
            frame = current.get(thread.ident)
            where = "no Python frame"
            while frame is not None:
                if not inspection.paths.is_agent(frame.f_code.co_filename):
                    where = "innermost Python frame %s at %s:%d" % (
                        frame.f_code.co_name, frame.f_code.co_filename, frame.f_lineno or 0)
                    break
                frame = frame.f_back
            core.output("Thread %r is running native code (%s); it will stop as soon as it "
                        "runs Python code again.\n" % (thread.name, where), "important")

    def r_source(self, args):
        return inspection.source(args)

    def r_loadedSources(self, args):
        return inspection.loaded_sources(self.agent.main_path)

    def r_disconnect(self, args):
        return {}

    def finish_disconnect(self, args):
        if args.get("terminate") and not self.read_only:
            self.conn.close()
            os._exit(1)
        return False


def run_control_thread(session):
    thread = AgentThread(session.serve, "tasklens-control")
    thread.start()
    return thread
