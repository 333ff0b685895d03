"""Facts about frames that async-aware stepping and exception filters need, per event.

- A coroutine that yields is suspended, not finished: a step watching it stays on it and stops
  at its next line when it resumes, whichever tasks run meanwhile. An async generator's own
  `yield value` (the value wrapped for `async for`) does hand control to its consumer.
- Event-loop, executor and threading internals are never where a step stops, even with
  justMyCode off: a step passes through them.
- Control-flow exceptions (StopIteration / StopAsyncIteration from `await` and `async for`,
  CancelledError thrown in at an await) only count as raised where a `raise` statement is.
"""
import opcode
import os

from . import paths

CO_GENERATOR = 0x20
CO_COROUTINE = 0x80
CO_ITERABLE_COROUTINE = 0x100
CO_ASYNC_GENERATOR = 0x200
_AWAITING = CO_COROUTINE | CO_ITERABLE_COROUTINE
RESUMABLE = CO_GENERATOR | _AWAITING | CO_ASYNC_GENERATOR   # a frame that may yield
# 3.13 reports a yield's 'return' event at the RESUME that follows the YIELD_VALUE
_YIELDS = frozenset(opcode.opmap[n] for n in ("YIELD_VALUE", "RESUME"))
_RETURNS = frozenset(opcode.opmap[n] for n in ("RETURN_VALUE", "RETURN_CONST") if n in opcode.opmap)
_RESUME = opcode.opmap["RESUME"]
_RAISES = frozenset(opcode.opmap[n] for n in ("RAISE_VARARGS", "RERAISE") if n in opcode.opmap)
_STDLIB = os.path.dirname(os.path.realpath(os.__file__))
_INVISIBLE_DIRS = tuple(os.path.join(_STDLIB, d) + os.sep for d in ("asyncio", "concurrent"))
_INVISIBLE_FILES = frozenset(os.path.join(_STDLIB, f) for f in (
    "threading.py", "selectors.py", "contextvars.py", "runpy.py"))
_invisible = {}
_CONTROL_FLOW = (StopIteration, StopAsyncIteration, GeneratorExit)


def suspends(code, value):
    """Whether a yield of a frame of `code` producing `value` suspends it inside its task."""
    flags = code.co_flags
    if flags & _AWAITING:
        return True
    return bool(flags & CO_ASYNC_GENERATOR) and \
        type(value).__name__ != "async_generator_wrapped_value"


def _opcode(frame):
    try:
        return frame.f_code.co_code[frame.f_lasti]
    except (IndexError, AttributeError):
        return None


def starts(frame):
    """Whether a call event is a function starting, not a generator or coroutine resuming:
    the frame is at a RESUME whose kind (low two bits of its argument) is "start"."""
    code = frame.f_code.co_code
    i = frame.f_lasti
    return not (0 <= i < len(code) - 1 and code[i] == _RESUME and code[i + 1] & 3)


def return_kind(frame, value):
    """For a trace 'return' event: 'suspend', 'return' or 'unwind' (an exception leaves)."""
    op = _opcode(frame)
    if op in _YIELDS:
        return "suspend" if suspends(frame.f_code, value) else "return"
    if op in _RETURNS:
        return "return"
    return "unwind"


def invisible(filename):
    """Stepping never stops here: asyncio, concurrent.futures, threading, uvloop, the agent."""
    try:
        return _invisible[filename]
    except KeyError:
        pass
    kind = paths.kind(filename)
    if kind == "agent":
        result = True
    elif kind == "user":
        result = False
    else:
        real = os.path.realpath(filename)
        result = real.startswith(_INVISIBLE_DIRS) or real in _INVISIBLE_FILES \
            or (os.sep + "uvloop" + os.sep) in real
    _invisible[filename] = result
    return result


def is_control_flow(exc):
    if isinstance(exc, _CONTROL_FLOW):
        return True
    t = type(exc)
    return t.__name__ == "CancelledError" and t.__module__.startswith(("asyncio", "concurrent"))


def raised_by_statement(frame):
    """Whether the frame's current instruction is a `raise` (not an await or a call)."""
    return _opcode(frame) in _RAISES


def consumed(task):
    """Whether something will take the task's outcome: an awaiting task, gather, a TaskGroup,
    wait, run_until_complete... (asyncio's own callbacks), rather than nobody or user callbacks
    such as `set.discard`."""
    try:
        callbacks = list(task._callbacks or ())
    except AttributeError:
        return True
    for entry in callbacks:
        cb = entry[0] if isinstance(entry, tuple) else entry
        owner = getattr(cb, "__self__", None)
        if owner is not None and getattr(type(owner), "_asyncio_future_blocking", None) \
                is not None:
            return True
        func = getattr(cb, "func", cb)   # functools.partial
        module = getattr(func, "__module__", None) or ""
        if module.startswith(("asyncio", "uvloop", "concurrent")):
            return True
    return False


def ends_task_unhandled(task, exc):
    """An exception leaving `task`'s top coroutine that asyncio would only log, if at all."""
    if not isinstance(exc, Exception):
        return False    # CancelledError of a cancel; SystemExit, KeyboardInterrupt leave the loop
    return not consumed(task)


def executor_frames(frame):
    """Whether the thread runs under a concurrent.futures worker (its callers are that)."""
    while frame is not None:
        if os.sep + "concurrent" + os.sep in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False
