"""Breakpoint conditions and logpoint expressions: the user code a breakpoint runs, each call
under the evaluation deadline (usercode.py), and a fast path for the hot ones.

A condition that runs past the deadline is cut there (or, stuck in native code, left to
finish), reported once, and switched off: the breakpoint stops this once and never again
until it is set anew, so a slow condition cannot slow the program forever. The same for a
logpoint expression, which then prints no more.

Fast path: a false condition on a line run millions of times must cost little more than the
line event itself.

`fast_condition` turns `i < limit` for a given code object into `lambda L: L['i'] < limit`
with the frame's globals, so a check is one call on the frame's f_locals mapping instead of
an eval() with a mapping for locals. Conditions that open scopes of their own (lambdas,
comprehensions, `:=`), conditions that call something (the calls that can hang; they need
the deadline) and code that is not a function or module body keep the general path.
"""
from . import paths
from . import usercode
from .saferepr import safe_str

_LOCALS = "__tasklens_locals"
_CO_OPTIMIZED = 0x1     # inspect.CO_OPTIMIZED, without importing inspect into every program


def _to_lookups(ast, names):
    """A transformer of `names` into lookups in the lambda's mapping argument (ast is imported
    with the first fast condition, not in every program's start-up)."""
    class ToLookups(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in names and isinstance(node.ctx, ast.Load):
                lookup = ast.Subscript(value=ast.Name(_LOCALS, ast.Load()),
                                       slice=ast.Constant(node.id), ctx=ast.Load())
                return ast.copy_location(lookup, node)
            return node
    return ToLookups()


def fast_condition(text, code, f_globals):
    """fn(f_locals) -> value equal to eval(text, f_globals, f_locals) in frames of `code`.

    Raises KeyError when a local it needs is unbound (the caller then falls back to eval to
    report the NameError). None when this condition or code needs the general path.
    """
    if code.co_flags & _CO_OPTIMIZED:
        local_names = set(code.co_varnames) | set(code.co_cellvars) | set(code.co_freevars)
    elif code.co_name == "<module>":
        local_names = set()
    else:
        return None
    import ast
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    scoped = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
              ast.NamedExpr, ast.Call)
    if any(isinstance(n, scoped) for n in ast.walk(tree)):
        return None
    args = ast.arguments(posonlyargs=[], args=[ast.arg(_LOCALS)], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])
    body = _to_lookups(ast, local_names).visit(tree.body)
    lam = ast.Expression(ast.Lambda(args=args, body=body))
    ast.fix_missing_locations(lam)
    return eval(compile(lam, "<condition>", "eval", dont_inherit=True), f_globals)


def line_check(bps, code, f_globals):
    """The fast check of a line whose only breakpoint is a plain conditional one, or None."""
    if len(bps) != 1:
        return None
    bp = bps[0]
    if bp.condition_text is None or bp.hit_test is not None or bp.log_parts is not None:
        return None
    return fast_condition(bp.condition_text, code, f_globals)


_off = set()    # ids of breakpoints whose condition or log expression ran out of time


def passes(core, bp, frame):
    """Whether a breakpoint's condition lets it stop here; None when it failed (it raised or
    ran out of time: reported, and the breakpoint stops without looking further)."""
    if bp.id in _off:
        return False
    kind, value, run = usercode.call(
        lambda: bool(eval(bp.condition, frame.f_globals, frame.f_locals)),
        bp.condition_text)
    if kind == "ok":
        return value
    if kind == "raised":
        core.output("Breakpoint condition raised %s: %s; stopping here.\n"
                    % (type(value).__name__, safe_str(value, 500)), "important")
        return None
    _switch_off(core, bp, frame, "condition `%s`" % bp.condition_text, run,
                "stopping here this once; the condition is now off and the breakpoint no "
                "longer stops (set it again to retry)")
    return None


def log_text(core, bp, frame):
    """A logpoint's message, or None once one of its expressions ran out of time."""
    if bp.id in _off:
        return None
    out = []
    for part in bp.log_parts:
        if isinstance(part, str):
            out.append(part)
            continue
        kind, value, run = usercode.call(
            lambda: safe_str(eval(part[1], frame.f_globals, frame.f_locals)), part[0])
        if kind == "ok":
            out.append(value)
        elif kind == "raised":
            out.append("<%s: %s>" % (type(value).__name__, safe_str(value, 500)))
        else:
            _switch_off(core, bp, frame, "log message expression `{%s}`" % part[0], run,
                        "this logpoint is now off (set it again to retry)")
            return None
    return "".join(out)


def _switch_off(core, bp, frame, what, run, consequence):
    _off.add(bp.id)
    how = "was interrupted" if run.late is None or run.late[0] == "interrupted" else \
        "could not be interrupted (native code) and took %.1f s" % run.elapsed()
    where = "%s:%d" % (paths.display(frame.f_code.co_filename), frame.f_lineno or 0)
    core.output("Breakpoint %s at %s ran longer than %s s and %s; %s.\n" % (
        what, where, usercode.seconds(run.limit), how, consequence), "important")
    bp.verified = False
    bp.message = "off: its %s ran longer than %s s" % (what.split(" `")[0],
                                                       usercode.seconds(run.limit))
    core.event("breakpoint", {"reason": "changed", "breakpoint": bp.as_json()})
