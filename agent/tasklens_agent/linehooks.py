"""Breakpoint hooks compiled into the program's own code (used by the 3.11 backend).

On 3.11 any installed trace function sends every thread through the eval loop's slow tracing
path, so breakpoints known when a file is compiled become calls instead: each breakpoint line
that starts a statement first runs `__tasklens_line__(LINE)`, a builtin. The call carries the
statement's own line number, so tracebacks, `co_lines` and `f_lineno` read as before, and it
costs nothing on lines without one.

Who compiles: `program_code` for the main program, and the import finder for modules (only
files that have breakpoints at import time; the rest import untouched, from their .pyc).
Lines that cannot take a hook at the point where a line event would fire (a `for` or `with`
header, a decorated `def`, a docstring, a line inside a statement) are left out; the backend
traces those the old way.
"""
import ast
import importlib.machinery
import io
import sys

HOOK_NAME = "__tasklens_line__"

_SourceFileLoader = importlib.machinery.SourceFileLoader
_BODIES = ("body", "orelse", "finalbody")


def _hook_call(line, at):
    call = ast.Expr(ast.Call(ast.Name(HOOK_NAME, ast.Load()), [ast.Constant(line)], []))
    for node in ast.walk(call):
        node.lineno = node.end_lineno = line
        node.col_offset = node.end_col_offset = at.col_offset
    return call


def _is_docstring(stmt, index, owner):
    return (index == 0 and isinstance(owner, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                                             ast.ClassDef))
            and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _hookable(stmt, index, owner):
    """A call put before `stmt` runs exactly where, and as often as, its line event would."""
    if isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Global,
                         ast.Nonlocal)):
        return False
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
            and stmt.decorator_list:
        return False
    if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
        return False
    return not _is_docstring(stmt, index, owner)


class _Inserter:
    def __init__(self, lines):
        self.lines = lines
        self.done = set()

    def visit(self, node):
        for field in _BODIES:
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, self._body(stmts, node))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                self.visit(child)

    def _body(self, stmts, owner):
        out = []
        for index, stmt in enumerate(stmts):
            line = stmt.lineno
            if line in self.lines and line not in self.done:
                if isinstance(stmt, ast.While):
                    # The test runs at every iteration, where the header's line events fire.
                    stmt.test = ast.copy_location(
                        ast.BoolOp(ast.Or(), [_hook_call(line, stmt).value, stmt.test]),
                        stmt.test)
                    self.done.add(line)
                elif _hookable(stmt, index, owner):
                    out.append(_hook_call(line, stmt))
                    self.done.add(line)
            out.append(stmt)
        return out


def instrument(source, filename, lines):
    """(code, hooked lines) for `source` with hooks on those of `lines` that can take one."""
    tree = ast.parse(source, filename)
    inserter = _Inserter(frozenset(lines))
    inserter.visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec", dont_inherit=True), frozenset(inserter.done)


def program_code(path, lines):
    """The main program compiled with hooks, or None to keep the plain code."""
    try:
        with io.open_code(path) as f:
            source = f.read()
        return instrument(source, path, lines)
    except (OSError, SyntaxError, ValueError):
        return None


class _HookedLoader(_SourceFileLoader):
    """A SourceFileLoader (so isinstance checks still hold) that compiles with hooks and
    neither reads nor writes the bytecode cache."""

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        source = self.get_data(path)
        code, hooked = instrument(source, path, self._tasklens_lines)
        self._tasklens_done(path, hooked, code, fullname)
        return code


class HookFinder:
    """First on sys.meta_path: asks the finders after it, and swaps in a hooked loader for a
    source file that has breakpoints.

    `lines_for(path)` -> breakpoint lines or None; `loaded(path, hooked, code, name)` runs when
    such a module is compiled."""

    def __init__(self, lines_for, loaded):
        self.lines_for = lines_for
        self.loaded = loaded
        self.active = False

    def find_spec(self, name, path=None, target=None):
        if not self.active:
            return None
        finders = sys.meta_path
        after = finders[finders.index(self) + 1:] if self in finders else ()
        for finder in after:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if type(loader) is _SourceFileLoader and spec.origin:
            lines = self.lines_for(spec.origin)
            if lines:
                hooked = _HookedLoader(loader.name, loader.path)
                hooked._tasklens_lines = lines
                hooked._tasklens_done = self.loaded
                spec.loader = hooked
        return spec
