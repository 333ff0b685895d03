"""The agent's error codes and AgentError, and the protocol's version: what code that runs at
start-up (discovery, user-code deadlines) needs from the wire, without the wire's imports
(json, traceback: 2.5 MB in a program that may never see a debugger)."""
from . import log

PROTOCOL_VERSION = 1

UNKNOWN_COMMAND = "unknownCommand"
BAD_ARGUMENTS = "badArguments"
NOT_STOPPED = "notStopped"
INVALID_HANDLE = "invalidHandle"
TIMEOUT = "timeout"
EVAL_ERROR = "evalError"
INTERNAL = "internal"


class AgentError(Exception):
    """A request failure with a stable code and a message fit for a user; an internal error
    also carries the agent's traceback, sent beside the message for the adapter's log."""

    def __init__(self, code, message, trace=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.trace = trace


def internal_error(exc):
    """The AgentError for an unexpected exception `exc`, called in its `except` block."""
    import traceback    # only here: loading it costs every program 2 MB at start-up
    trace = traceback.format_exc()
    log.write("internal error:\n" + trace.rstrip())
    return AgentError(INTERNAL, "%s: %s" % (type(exc).__name__, exc), trace)
