"""Coroutine never awaited: its qualified name, the line that dropped it, where it was created.

CPython calls `warnings._warn_unawaited_coroutine(coro)` from the deallocation of a coroutine
that never started, on the thread and inside the frame that let go of it: that frame, at its
current line, is the dropper. Nothing is recorded when coroutines are created (origin tracking
would cost every coroutine of the program), so the creation line is found in the dropper's own
code: the lines that call a function of the coroutine's name; named when it is not the
dropping line. Python's own warning follows, as the program's warning filters decide.
Each (coroutine, dropping line) is reported once.
"""
import ast
import linecache
import re
import sys
import threading
import time

from .. import looptime
from .. import paths
from .. import tasks as taskmod
from ..threads import agent_idents
from . import report as rp

_call_lines = {}
_installed = {}     # warnings module, its function before, ours


def install(reporter):
    warnings = sys.modules.get("warnings")
    if warnings is None:
        import warnings
    original = getattr(warnings, "_warn_unawaited_coroutine", None)
    if original is None or getattr(original, "_tasklens", False):
        return False
    seen = set()
    get_ident = threading.get_ident
    monotonic = time.monotonic

    def _warn_unawaited_coroutine(coro):
        ident = get_ident()
        started = looptime.excusing[ident] = monotonic()
        try:
            warn(coro)
        finally:    # not the program's time: a step that reports is not blocked by it
            looptime.excused[ident] = looptime.excused.get(ident, 0.0) + monotonic() - started
            looptime.excusing.pop(ident, None)

    def warn(coro):
        if get_ident() not in agent_idents:
            try:
                _report(reporter, coro, sys._getframe(1), seen)
            except Exception:
                pass
        if getattr(coro, "cr_origin", None) is None:
            # Python's own warning, as `original` words it, placed at the dropping frame
            # (stacklevel 3 from here: past this function and the wrapper that times it).
            warnings.warn("coroutine '%s' was never awaited" % coro.__qualname__,
                          RuntimeWarning, stacklevel=3, source=coro)
        else:
            original(coro)
    _warn_unawaited_coroutine._tasklens = True
    _installed.update(module=warnings, original=original, hook=_warn_unawaited_coroutine)
    warnings._warn_unawaited_coroutine = _warn_unawaited_coroutine
    return True


def uninstall():
    """Put Python's own function back (an attached debugger leaving), unless replaced since."""
    module = _installed.pop("module", None)
    if module is not None and module._warn_unawaited_coroutine is _installed["hook"]:
        module._warn_unawaited_coroutine = _installed["original"]
    _installed.clear()


def _loop_base(frame):
    """Whether `frame` is the one that runs this thread's loop (it called run_forever)."""
    loop = taskmod._running.get(threading.get_ident())
    rec = looptime.record_of(loop) if loop is not None else None
    return rec is not None and not rec.selector and rec.base_frame is frame


def _calls_of(code, name):
    """Lines of `code` whose source calls `name(`, as the line that made the coroutine."""
    key = (code, name)
    lines = _call_lines.get(key)
    if lines is None:
        pattern = re.compile(r"(?<![\w])%s\s*\(" % re.escape(name))
        lines = sorted({n for _, _, n in code.co_lines() if n is not None
                        and pattern.search(linecache.getline(code.co_filename, n))})
        _call_lines[key] = lines
    return lines


def _creating_line(code, name, dropped):
    """The line of `code` that made the coroutine dropped at line `dropped`: the last call of
    `name` before it, or one after it in a loop that holds both (made on the previous pass).
    None when it is the dropping line itself, or no line of `code` made it (an object made
    elsewhere holding it was dropped here): a later call of the same name is not it."""
    made = _calls_of(code, name)
    if not made or dropped in made:
        return None
    before = [n for n in made if n < dropped]
    if before:
        return max(before)
    looped = [n for n in made if any(first <= dropped and n <= last
                                     for first, last in _loops(code))]
    return max(looped) if looped else None


def _loops(code):
    """(first line, last line) of each loop statement in `code`'s function (its source parsed
    once)."""
    key = (code, "loops")
    found = _call_lines.get(key)
    if found is None:
        found = []
        try:
            source = "".join(linecache.getlines(code.co_filename))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and node.lineno <= code.co_firstlineno <= (node.end_lineno or 0) \
                        and any(d.lineno == code.co_firstlineno for d in [node, *node.decorator_list]):
                    found = [(n.lineno, n.end_lineno or n.lineno) for n in ast.walk(node)
                             if isinstance(n, (ast.For, ast.AsyncFor, ast.While))]
                    break
        except (SyntaxError, ValueError):
            pass
        _call_lines[key] = found
    return found


def _report(reporter, coro, frame, seen):
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    qualname = getattr(coro, "__qualname__", None) or getattr(code, "co_name", "?")
    while frame is not None and paths.is_agent(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return
    dropper = rp.where(frame)
    key = (code, dropper["path"], dropper["line"])
    if key in seen:
        return
    seen.add(key)
    fields = {"coroutine": qualname, "droppedAt": dropper}
    callback = None if paths.is_user(frame.f_code.co_filename) \
        else getattr(frame.f_locals.get("self"), "_callback", None)
    if callback is not None:    # a loop callback (call_soon...) returned the coroutine
        fcode = getattr(callback, "__code__", None)
        name = getattr(callback, "__qualname__", repr(callback))
        lines = ["dropped by the event loop: callback %s%s returned it (scheduled with "
                 "call_soon, call_later or similar)" % (name, " (%s:%d)" % (
                     paths.display(fcode.co_filename), fcode.co_firstlineno) if fcode else "")]
        fields["callback"] = name
    elif _loop_base(frame):     # uvloop runs callbacks in C: the frame that runs the loop
        lines = ["dropped by the event loop: a callback returned it (scheduled with "
                 "call_soon, call_later or similar)"]
        callback = "?"
    else:
        lines = ["dropped at %s" % rp.where_text(dropper)]
    if callback is None and code is not None:
        line = _creating_line(frame.f_code, code.co_name, dropper["line"])
        if line is not None:
            created = {"path": dropper["path"], "line": line}
            fields["createdAt"] = created
            lines.append("created at %s:%d" % (created["path"], created["line"]))
    if code is not None:
        lines.append("coroutine defined at %s:%d" % (paths.display(code.co_filename),
                                                      code.co_firstlineno))
    text = rp.block("coroutine never awaited: %s()" % qualname, lines)
    reporter.emit("neverAwaited", text, fields, context=frame)
