"""The adapter <-> agent wire (docs/agent-protocol.md): framing, names, error codes.

Reading happens on the control thread only; sending may happen from any thread (the control
thread, a stopped thread serving a request, a thread hitting a logpoint), so `send` holds a lock.
"""
import json
import socket
import threading

from . import log
# The names below live where start-up code can import them without the wire's json and
# traceback; the rest of the agent imports them from here.
from .errors import (AgentError, BAD_ARGUMENTS, EVAL_ERROR, INTERNAL, INVALID_HANDLE,  # noqa: F401
                     NOT_STOPPED, PROTOCOL_VERSION, TIMEOUT, UNKNOWN_COMMAND, internal_error)

# Requests legal while the program runs (R) and those that need a stopped thread (S).
RUNNING_COMMANDS = frozenset({
    "handshake", "configure", "setBreakpoints", "setFunctionBreakpoints",
    "setExceptionBreakpoints", "start", "threads", "pause", "source", "loadedSources",
    "disconnect",
})
STOPPED_COMMANDS = frozenset({
    "continue", "next", "stepIn", "stepOut", "stackTrace", "scopes", "variables",
    "setVariable", "evaluate", "completions", "exceptionInfo",
})
# Asyncio additions ("Asyncio tasks" in the protocol page), legal running or stopped.
TASK_COMMANDS = frozenset({"taskTable", "taskTimes", "traceDump", "traceRecord"})
EVENTS = frozenset({
    "hello", "stopped", "continued", "thread", "output", "breakpoint", "programExited",
    "traceRecording",
})

class Connection:
    def __init__(self, sock):
        self.sock = sock
        self._send_lock = threading.Lock()
        self._reader = sock.makefile("rb")
        self.closed = False

    def read_message(self, limit=-1):
        """Next message as a dict, or None at end of stream (or a timeout). Bad lines, and
        lines longer than `limit` bytes, raise ValueError."""
        try:
            line = self._reader.readline(limit)
        except OSError:
            line = b""
        if not line:
            self.closed = True
            log.write("the connection closed")
            return None
        if log.enabled():
            log.write("<- " + line.decode("utf-8", "replace").rstrip("\n"))
        if limit > 0 and len(line) >= limit and not line.endswith(b"\n"):
            raise ValueError("message longer than %d bytes" % limit)
        try:
            msg = json.loads(line.decode("utf-8"))
        except RecursionError:
            raise ValueError("message nested too deeply")
        if not isinstance(msg, dict):
            raise ValueError("message is not a JSON object")
        return msg

    def send(self, msg):
        text = json.dumps(msg, ensure_ascii=False, default=str)
        if log.enabled():
            log.write("-> " + text)
        data = (text + "\n").encode("utf-8")
        with self._send_lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True
                return False
        return True

    def event(self, name, body):
        return self.send({"type": "event", "event": name, "body": body})

    def respond(self, request, body=None, error=None):
        msg = {"type": "response", "request_seq": request.get("seq", 0),
               "command": request.get("command", "")}
        if error is None:
            msg["success"] = True
            msg["body"] = body if body is not None else {}
        else:
            msg["success"] = False
            msg["message"] = error.message
            msg["error"] = error.code
            if error.trace is not None:
                msg["traceback"] = error.trace
        return self.send(msg)

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
            self._reader.close()    # the socket's file stays open while its reader lives
        except OSError:
            pass
