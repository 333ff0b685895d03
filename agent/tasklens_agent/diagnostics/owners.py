"""Who holds an asyncio Lock or Semaphore taken before the diagnostics watched it (attach).

locks.py records owners only from the moment the diagnostics start; in a program attached to,
a lock taken earlier has no record. Most code takes a lock with `async with lock:`, and a task
suspended inside the body of an `async with` whose expression is that lock holds it: found
from the task's suspended frames (their current lines) and the syntax tree of their source.
Only names and attributes kept in instance dicts are followed, so no user code runs. A lock
taken with a bare `await lock.acquire()` stays "held by whom is unknown".
"""
import ast
import linecache

from .. import awaits
from .. import paths
from ..values import _raw_dict

_functions = {}     # (filename, first line) -> the function's AsyncWith nodes, or ()


def holders(lock, tasks):
    """[(task, {path, line} of its `async with`)] for the tasks found inside `async with lock`."""
    out = []
    for task in tasks:
        try:
            chain = awaits.coroutine_chain(task)
        except Exception:
            continue
        for frame in chain:
            site = _holding(frame, lock)
            if site is not None:
                out.append((task, site))
                break
    return out


def _holding(frame, lock):
    code = frame.f_code
    if not paths.is_user(code.co_filename):
        return None
    line = frame.f_lineno
    for node in _async_withs(code):
        body = node.body
        if not (body and body[0].lineno <= line <= (body[-1].end_lineno or body[-1].lineno)):
            continue
        for item in node.items:
            if _value(item.context_expr, frame) is lock:
                return {"path": paths.display(code.co_filename), "line": node.lineno}
    return None


def _async_withs(code):
    key = (code.co_filename, code.co_firstlineno)
    found = _functions.get(key)
    if found is None:
        found = _functions[key] = tuple(_find(code))
    return found


def _find(code):
    try:
        tree = ast.parse("".join(linecache.getlines(code.co_filename)))
    except (SyntaxError, ValueError):
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and node.name == code.co_name and \
                (node.decorator_list[0].lineno if node.decorator_list else node.lineno) \
                == code.co_firstlineno:
            return list(_own(node.body))
    return []


def _own(statements):
    """AsyncWith nodes of a function's body, not those of functions or classes inside it."""
    stack = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.AsyncWith):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _value(expr, frame):
    """The object `expr` names in `frame` (a name, or attributes of one), or None."""
    if isinstance(expr, ast.Name):
        f_locals = frame.f_locals
        if expr.id in f_locals:
            return f_locals[expr.id]
        return frame.f_globals.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = _value(expr.value, frame)
        if base is None:
            return None
        d = _raw_dict(base)
        return d.get(expr.attr) if isinstance(d, dict) else None
    return None
