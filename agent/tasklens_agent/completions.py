"""What the console offers as the user types: the frame's names, attributes after `.`, and the
keywords (`await` included: the console runs top-level `await`, await_eval.py).

Runs on the stopped thread that owns the frame, under evaluate's deadline: only the expression
before the last `.` is evaluated (it may run user code, as typing it in the console would);
each offer's kind is read from namespaces and class dictionaries, never through getattr.
"""
import builtins
import keyword
import re
import types

from .usercode import Interrupted

_TOKEN = re.compile(r"([A-Za-z_][\w.]*)?$")
_MAX = 500
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
              types.MethodDescriptorType, types.WrapperDescriptorType, staticmethod, classmethod)


def targets(text, column, g, loc):
    """DAP completion targets for `text` with the cursor before 1-based `column`."""
    head = text[:column - 1]
    m = _TOKEN.search(head)
    token = m.group(0) if m else ""
    if "." in token:
        base, _, partial = token.rpartition(".")
        try:
            obj = eval(compile(base, "<completion>", "eval", dont_inherit=True), g, loc)
            names = [n for n in dir(obj) if type(n) is str]
        except Interrupted:
            raise
        except BaseException:
            return []
        kind = _attribute_kinds(obj)
    else:
        partial = token
        names = set(loc) | set(g) | set(dir(builtins)) | set(keyword.kwlist)
        kind = _name_kinds(g, loc)
    labels = sorted(n for n in names if n.startswith(partial))[:_MAX]
    start = len(head) - len(partial)
    return [{"label": n, "type": kind(n), "start": start, "length": len(partial)}
            for n in labels]


def _kind_of(value):
    if isinstance(value, types.ModuleType):
        return "module"
    if isinstance(value, type):
        return "class"
    if isinstance(value, _FUNCTIONS):
        return "function"
    return "variable"


def _name_kinds(g, loc):
    spaces = [loc, g, builtins.__dict__]

    def kind(name):
        if keyword.iskeyword(name):
            return "keyword"
        for space in spaces:
            try:
                if name in space:
                    return _kind_of(space[name])
            except Exception:   # a locals mapping of the program's own making
                continue
        return "variable"
    return kind


def _attribute_kinds(obj):
    own = getattr(obj, "__dict__", None) if isinstance(obj, (type, types.ModuleType)) else None
    mro = type.__dict__["__mro__"].__get__(type(obj))

    def kind(name):
        if type(own) in (dict, types.MappingProxyType) and name in own:
            return "property" if isinstance(own[name], property) else _kind_of(own[name])
        for klass in mro:
            found = type.__dict__["__dict__"].__get__(klass).get(name)
            if found is not None:
                if isinstance(found, property):
                    return "property"
                return "method" if isinstance(found, _FUNCTIONS) else "field"
        return "field"
    return kind
