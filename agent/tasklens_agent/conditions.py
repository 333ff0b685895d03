"""Breakpoint conditions compiled for the hot path: a false condition on a line run millions
of times must cost little more than the line event itself.

`fast_condition` turns `i < limit` for a given code object into `lambda L: L['i'] < limit`
with the frame's globals, so a check is one call on the frame's f_locals mapping instead of
an eval() with a mapping for locals. Conditions that open scopes of their own (lambdas,
comprehensions, `:=`) and code that is not a function or module body keep the general eval().
"""
import ast

_SCOPED = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
           ast.NamedExpr)
_LOCALS = "__tasklens_locals"
_CO_OPTIMIZED = 0x1     # inspect.CO_OPTIMIZED, without importing inspect into every program


class _ToLookups(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names and isinstance(node.ctx, ast.Load):
            lookup = ast.Subscript(value=ast.Name(_LOCALS, ast.Load()),
                                   slice=ast.Constant(node.id), ctx=ast.Load())
            return ast.copy_location(lookup, node)
        return node


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
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    if any(isinstance(n, _SCOPED) for n in ast.walk(tree)):
        return None
    args = ast.arguments(posonlyargs=[], args=[ast.arg(_LOCALS)], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])
    lam = ast.Expression(ast.Lambda(args=args, body=_ToLookups(local_names).visit(tree.body)))
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
