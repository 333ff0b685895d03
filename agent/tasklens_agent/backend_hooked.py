"""The `hooked` backend (3.11): sys.settrace only where and while something needs line events.

On 3.11 an installed trace function sends a thread through the eval loop's slow path even when
it returns None, so while nothing needs line events no thread has one:
- breakpoints known when a file is compiled are calls compiled into it (`linehooks`); the hook
  runs the same `core.on_line` a line event would;
- a step over/out traces only the stepping thread; a step in, a pause or a stop of all
  threads traces every thread (`threadtrace` sets it on threads other than the caller's);
- breakpoints the hooks do not cover (a `for` header, a file loaded before the breakpoint was
  set), function breakpoints and the `raised` filter trace every thread as the plain settrace
  backend does.
Where a traced frame reaches a hooked line, its line event is skipped and the hook handles it,
so each line is handled once.

Who runs where: hooks run on program threads; `refresh` on whichever thread changed the core's
state; `threadtrace` serialises changes to other threads' trace functions under its own lock.
"""
import builtins
import dis
import os
import sys
import threading

from . import linehooks
from . import paths
from .backend_settrace import SettraceBackend
from .conditions import line_check
from .threadtrace import ThreadTraceControl

_getframe = sys._getframe
_HOOK = linehooks.HOOK_NAME


class HookedBackend(SettraceBackend):
    name = "hooked"

    def __init__(self, core):
        super().__init__(core)
        self.control = ThreadTraceControl(self._global)
        self.finder = linehooks.HookFinder(self._lines_to_hook, self._module_hooked)
        self.hooked = {}         # canonical path -> lines hooked in every copy compiled so far
        self.hook_files = {}     # co_filename -> canonical path, for files compiled with hooks
        self.hook_tables = {}    # co_filename -> {line: (breakpoints, {id(code): check})}
        self.hook_parked = set()  # idents of threads stopped in a hook
        self.trace_all = False
        self.owner = None        # the stepping thread, traced even when the others are not

    def start(self):
        self.enabled = True
        builtins.__dict__[_HOOK] = self._hook
        self.control.start()
        os.register_at_fork(after_in_child=self.control.forked)
        sys.meta_path.insert(0, self.finder)
        self._apply()

    # --- compiling with hooks ---
    def _lines_to_hook(self, path):
        if not self.core.eligible(path):
            return None
        table = self.core.bps.by_file.get(paths.canonical(path))
        return frozenset(table) if table else None

    def program_code(self, code, path):
        """The main program's code, with hooks when it has breakpoints."""
        lines = self._lines_to_hook(path)
        compiled = linehooks.program_code(path, lines) if lines else None
        if compiled is None:
            return code
        self._record_hooks(path, compiled[1], plain_copy=False)
        return compiled[0]

    def _module_hooked(self, path, hooked, code, module_name):
        canon = paths.canonical(path)
        plain = canon in self.core.bps.loaded_files or any(
            name != module_name and _file_of(module) == canon
            for name, module in list(sys.modules.items()))
        self._record_hooks(path, hooked, plain_copy=plain)
        self.core.code_plan(code, module_name)      # verifies breakpoints waiting for the file

    def _record_hooks(self, path, hooked, plain_copy):
        """A copy of this file without hooks may still run: then no line counts as covered."""
        canon = paths.canonical(path)
        with self.lock:
            old = self.hooked.get(canon)
            if plain_copy:
                hooked = frozenset()
            self.hooked[canon] = hooked if old is None else old & hooked
            self.hook_files[path] = canon
            self._build_hook_tables()
        self._apply()

    def _build_hook_tables(self):
        by_file = self.core.bps.by_file
        tables = {}
        for filename, canon in self.hook_files.items():
            table, lines = by_file.get(canon), self.hooked.get(canon)
            if table and lines and self.core.eligible(filename):
                mine = {line: (bps, {}) for line, bps in table.items() if line in lines}
                if mine:
                    tables[filename] = mine
        self.hook_tables = tables

    # --- the hook (program threads) ---
    def _hook(self, line):
        frame = _getframe(1)
        table = self.hook_tables.get(frame.f_code.co_filename)
        entry = table.get(line) if table is not None else None
        core = self.core
        if entry is None:
            if core.hot:
                self._on_line(frame, None)
            return
        if not core.hot:
            code = frame.f_code
            cached = entry[1].get(id(code))
            if cached is None or cached[0] is not code:
                cached = entry[1][id(code)] = (code, line_check(entry[0], code, frame.f_globals))
            if cached[1] is not None:
                try:
                    if not cached[1](frame.f_locals):
                        return
                except Exception:
                    pass    # the general path reports it
        self._on_line(frame, entry[0])

    def _on_line(self, frame, bps):
        """Like a line event: a thread parked here runs requests untraced, as a thread parked
        in a trace function does, and does not stop again in code those requests run."""
        ident = threading.get_ident()
        ts = self.core.states.get(ident)
        if ident in self.hook_parked or (ts is not None and ts.parked):
            return
        self.hook_parked.add(ident)
        if sys.gettrace() is not None:
            sys.settrace(None)
        try:
            self.core.on_line(frame, bps)
        finally:
            self.hook_parked.discard(ident)
            if self._traced(ident):
                sys.settrace(self._global)

    # --- tracing (program threads) ---
    def _traced_lines(self, code, lines):
        if _HOOK not in code.co_names:
            return lines
        sites = self.hook_sites.get(id(code))
        if sites is None or sites[0] is not code:
            sites = self.hook_sites[id(code)] = (code,) + _hook_sites(code)
        if lines:
            lines = {ln: bps for ln, bps in lines.items() if ln not in sites[2]} or None
        return lines

    # --- state changes ---
    def refresh(self, plans_changed=False):
        if plans_changed:
            with self.lock:
                self._build_hook_tables()
        self._apply()
        super().refresh(plans_changed)

    def _uncovered(self):
        """Whether some breakpoint sits where no hook will see it."""
        core = self.core
        for canon, table in core.bps.by_file.items():
            if not core.eligible(canon):
                continue
            lines = self.hooked.get(canon)
            if lines is None:
                # A user module not imported yet gets its hooks as it is imported.
                if canon in core.bps.pending and paths.is_user(canon):
                    continue
                return True
            if not lines.issuperset(table):
                return True
        return False

    def _apply(self):
        """Give a trace function to exactly the threads that need one now."""
        if not self.enabled:
            return
        core = self.core
        step = core.step
        everything = (core.everywhere or bool(core.bps.functions)
                      or "raised" in core.exception_filters
                      or "taskUnhandled" in core.exception_filters or self._uncovered()
                      or (step is not None and not isinstance(step.owner, int)))
        self.finder.active = bool(core.bps.by_file)    # imports go untouched otherwise
        self.trace_all = everything
        self.owner = step.owner if step is not None else None
        threading.settrace(self._global if everything else None)
        self.control.apply(self._traced)

    def _traced(self, ident):
        return (self.trace_all or ident == self.owner) and ident not in self.hook_parked

    def shutdown(self):
        super().shutdown()
        self.finder.active = self.trace_all = False
        self.owner = None
        with self.lock:
            self.hook_tables = {}
        self.control.apply(self._traced)


def _hook_sites(code):
    """(offsets at which hooked lines begin, those lines) in one code object."""
    offsets, lines = set(), set()
    prev = None
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval == _HOOK:
            start = prev if prev is not None and prev.opname == "PUSH_NULL" else ins
            offsets.add(start.offset)
            lines.add(ins.positions.lineno)
        prev = ins
    return frozenset(offsets), frozenset(lines)


def _file_of(module):
    f = getattr(module, "__file__", None)
    return paths.canonical(f) if isinstance(f, str) else None
