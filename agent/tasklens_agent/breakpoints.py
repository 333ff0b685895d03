"""Breakpoint model: line placement, verification, compiled conditions, hit counts, logpoints.

Mutated only by the control thread (set* requests) and read by traced threads; readers see
either the old or the new immutable per-file table, never a half-built one.
"""
import itertools
import sys

from . import forksafe
from . import paths

_ids = itertools.count(1)
_HIT_FORM = r"^\s*(==|>=|>|%)?\s*(\d+)\s*$"


def executable_lines(path):
    """All lines that carry bytecode in the file, found by compiling it (never running it)."""
    with open(path, "rb") as f:
        source = f.read()
    top = compile(source, path, "exec", dont_inherit=True)
    lines = set()
    todo = [top]
    while todo:
        code = todo.pop()
        lines.update(line for _, _, line in code.co_lines() if line)
        todo.extend(c for c in code.co_consts if isinstance(c, type(top)))
    return lines


def _parse_hit_condition(text):
    import re   # here, not at start-up: 1.2 MB that most programs never load
    m = re.match(_HIT_FORM, text)
    if not m:
        raise ValueError("hit condition must be N, == N, >= N, > N or %% N, not %r" % text)
    op, n = m.group(1) or "==", int(m.group(2))
    if op == "%" and n == 0:
        raise ValueError("hit condition % 0 divides by zero")
    return {"==": lambda c: c == n, ">=": lambda c: c >= n,
            ">": lambda c: c > n, "%": lambda c: c % n == 0}[op]


def _parse_log_message(text):
    """Split 'x is {x}' into literal parts and compiled expressions ({{ and }} escape braces)."""
    parts, literal, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i + 1:i + 2] == ch:
            literal.append(ch)
            i += 2
        elif ch == "{":
            end = text.find("}", i)
            if end < 0:
                raise SyntaxError("unclosed '{' in log message")
            if literal:
                parts.append("".join(literal))
                literal = []
            expr = text[i + 1:end]
            parts.append((expr, compile(expr.strip(), "<log message>", "eval", dont_inherit=True)))
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts


class Breakpoint:
    __slots__ = ("id", "line", "verified", "message", "condition",
                 "condition_text",
                 "hit_test", "log_parts", "hit_counter", "valid", "name", "kind")

    def __init__(self, spec, kind="line"):
        self.id = next(_ids)
        self.kind = kind
        self.line = spec.get("line")
        self.name = spec.get("name")
        self.verified = False
        self.valid = True
        self.message = None
        self.condition = self.hit_test = self.log_parts = self.condition_text = None
        self.hit_counter = itertools.count(1)
        try:
            if spec.get("condition"):
                self.condition_text = spec["condition"]
                self.condition = compile(spec["condition"].strip(), "<condition>", "eval",
                                         dont_inherit=True)
            if spec.get("hitCondition"):
                self.hit_test = _parse_hit_condition(str(spec["hitCondition"]))
            if spec.get("logMessage"):
                self.log_parts = _parse_log_message(spec["logMessage"])
        except (SyntaxError, ValueError) as e:
            self.invalidate("%s: %s" % (type(e).__name__, e))

    def invalidate(self, message):
        self.valid = False
        self.verified = False
        self.message = message

    def as_json(self):
        body = {"id": self.id, "verified": self.verified}
        if self.kind == "line":
            body["line"] = self.line
        if self.message and not self.verified:
            body["message"] = self.message
        return body


def module_file_loaded(canon):
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if isinstance(f, str) and paths.canonical(f) == canon:
            return True
    return False


class BreakpointStore:
    def __init__(self):
        self.by_file = {}         # canonical path -> {line: (Breakpoint, ...)}
        self.pending = {}         # canonical path -> [valid Breakpoint not yet verified]
        self.functions = ()       # function Breakpoints
        self.loaded_files = set()  # canonical paths known to be running (main program, ...)
        # A child's preset (children.py) and its own session's setBreakpoints come from two
        # threads in either order; the session's always wins: the files it has set are kept
        # from the preset, one setter at a time.
        self.setting = forksafe.lock()
        self.session_files = set()

    def set_line_breakpoints(self, path, specs, preset=False):
        """The breakpoints of one file, replacing its others; a `preset` (a child's parent's,
        children.py) only for a file this process's session has not set: None then."""
        canon = paths.canonical(path)
        with self.setting:
            if preset and canon in self.session_files:
                return None
            if not preset:
                self.session_files.add(canon)
            return self._set_lines(path, canon, specs)

    def _set_lines(self, path, canon, specs):
        bps = [Breakpoint(s) for s in specs]
        try:
            lines = executable_lines(path)
        except OSError as e:
            lines = None
            reason = "cannot read %s: %s" % (path, e.strerror or e)
        except (SyntaxError, ValueError) as e:
            lines = None
            reason = "cannot compile %s: %s" % (path, e)
        loaded = canon in self.loaded_files or module_file_loaded(canon)
        table, pending = {}, []
        for bp in bps:
            if not bp.valid:
                continue
            if lines is None:
                bp.invalidate(reason)
                continue
            target = min((ln for ln in lines if ln >= (bp.line or 0)), default=None)
            if target is None:
                bp.invalidate("no executable code at or after line %s" % bp.line)
                continue
            bp.line = target
            table.setdefault(target, []).append(bp)
            if loaded:
                bp.verified = True
            else:
                bp.message = "the module of this file is not loaded yet"
                pending.append(bp)
        self.by_file = {**self.by_file, canon: {k: tuple(v) for k, v in table.items()}}
        if not table:
            self.by_file = {k: v for k, v in self.by_file.items() if k != canon}
        self.pending = {**self.pending, canon: pending} if pending else \
            {k: v for k, v in self.pending.items() if k != canon}
        return bps

    def set_function_breakpoints(self, specs):
        bps = []
        for spec in specs:
            bp = Breakpoint(spec, kind="function")
            name = spec.get("name") or ""
            if bp.valid and not all(p.isidentifier() for p in name.split(".")):
                bp.invalidate("%r is not a function name (func, Class.method or module.func)"
                              % name)
            bp.verified = bp.valid
            bps.append(bp)
        self.functions = tuple(bp for bp in bps if bp.valid)
        return bps

    def mark_loaded(self, canon):
        """A code object of this file started running: verify its waiting breakpoints."""
        self.loaded_files.add(canon)
        waiting = self.pending.get(canon)
        if not waiting:
            return ()
        self.pending = {k: v for k, v in self.pending.items() if k != canon}
        for bp in waiting:
            bp.verified = True
            bp.message = None
        return waiting

    def current_ids(self, ids, frame):
        """The ids of a stop's breakpoints as they stand now. A child process meets its parent's
        breakpoints (children.py `_preset`) until its own session sets its own, whose ids that
        session's adapter knows: a hit of a replaced one is named by those at its line now."""
        live = {bp.id for bp in self.functions}
        for table in self.by_file.values():
            for bps in table.values():
                live.update(bp.id for bp in bps)
        if all(i in live for i in ids):
            return ids
        table = self.by_file.get(paths.canonical(frame.f_code.co_filename)) or {}
        return [bp.id for bp in table.get(frame.f_lineno, ())]

    def lines_for_code(self, code):
        """{line: breakpoints} for the lines this code object itself executes, or None."""
        table = self.by_file.get(paths.canonical(code.co_filename))
        if not table:
            return None
        own = {line for _, _, line in code.co_lines() if line in table}
        return {line: table[line] for line in own} or None

    def functions_for(self, code, module_name):
        hits = []
        for bp in self.functions:
            n = bp.name
            if n == code.co_name or n == code.co_qualname \
                    or n == "%s.%s" % (module_name, code.co_qualname):
                hits.append(bp)
        return hits

    def clear(self):
        self.by_file = {}
        self.pending = {}
        self.functions = ()
        self.session_files = set()


def hit_passes(bp):
    """Count a hit whose condition held; True when the hit condition lets it stop or log.
    Threads may hit the same breakpoint at once: each takes its own number from the counter."""
    return bp.hit_test is None or bp.hit_test(next(bp.hit_counter))
