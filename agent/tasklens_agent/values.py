"""Children of values for `variables`: what to list, how many, and paging by start/count.

No user code runs here. Containers are read through the builtin types' own accessors
(list.__getitem__, dict.items, ...) even in subclasses; attributes come from the instance
`__dict__` and `__slots__` through the interpreter's own descriptors, never through
`__getattribute__`, properties or a `__dict__` a class redefines. Counting is O(1) and a page
costs O(start + count) at worst (dicts and sets).
"""
import collections
import itertools
import time
import types

from .saferepr import TIMEOUT, safe_repr, type_lookup, type_name

_SEQUENCES = (list, tuple, collections.deque)
_INDEXED = _SEQUENCES + (dict, set, frozenset)
_LEAVES = (bool, int, float, complex, type(None), str, bytes, bytearray, range)
_mro_of = type.__dict__["__mro__"].__get__
_dict_of = type.__dict__["__dict__"].__get__


def _base(obj, bases):
    for klass in _mro_of(type(obj)):
        if klass in bases:
            return klass
    return None


def _raw_dict(obj):
    """The instance dict, when the class keeps the interpreter's own `__dict__` descriptor."""
    descr = type_lookup(type(obj), "__dict__")
    if type(descr) is not types.GetSetDescriptorType:
        return None
    try:
        d = descr.__get__(obj, type(obj))
    except Exception:
        return None
    return d if type(d) is dict else None


def _slots(obj):
    """(name, value) of the slots that are set, read through their member descriptors."""
    t = type(obj)
    out = []
    for klass in _mro_of(t):
        slots = _dict_of(klass).get("__slots__", ())
        if type(slots) is str:
            slots = (slots,)
        if type(slots) not in (tuple, list):
            continue
        for name in slots:
            if type(name) is not str or name in ("__dict__", "__weakref__"):
                continue
            descr = type_lookup(t, name)
            if type(descr) is not types.MemberDescriptorType:
                continue
            try:
                out.append((name, descr.__get__(obj, t)))
            except AttributeError:
                continue
    return out


def indexed_count(obj):
    base = _base(obj, _INDEXED)
    return base.__len__(obj) if base is not None else 0


def named_count(obj):
    if _base(obj, _LEAVES + _INDEXED) is not None:
        return 0
    d = _raw_dict(obj)
    return (dict.__len__(d) if d is not None else 0) + len(_slots(obj))


def expandable(obj):
    return indexed_count(obj) > 0 or named_count(obj) > 0


def _simple_key(key):
    return type(key) in (str, int, float, bool, bytes, type(None))


def children(obj, parent_name, start, count, flt):
    """[(name, value, evaluateName or None)] for one page of obj's children."""
    start = max(int(start or 0), 0)
    stop = start + max(int(count), 0) if count else None
    out = []
    base = _base(obj, _INDEXED)
    if flt != "named" and base is not None and base.__len__(obj):
        if base in (list, tuple):
            n = base.__len__(obj)
            for i in range(min(start, n), min(stop or n, n)):
                out.append((str(i), base.__getitem__(obj, i), _index(parent_name, i)))
        elif base is dict:
            for k, v in itertools.islice(dict.items(obj), start, stop):
                name = safe_repr(k, 200)
                ev = "%s[%s]" % (parent_name, name) if parent_name and _simple_key(k) else None
                out.append((name, v, ev))
        else:
            it = base.__iter__(obj)
            for i, v in enumerate(itertools.islice(it, start, stop), start):
                out.append((str(i), v, _index(parent_name, i) if base is collections.deque
                            else None))
        return out
    if flt == "indexed":
        return out
    d = _raw_dict(obj)
    names = list(dict.items(d)) if d is not None else []
    names.extend(_slots(obj))
    for k, v in itertools.islice(names, start, stop):
        plain = type(k) is str
        ev = "%s.%s" % (parent_name, k) if parent_name and plain and k.isidentifier() else None
        out.append((k if plain else safe_repr(k, 200), v, ev))
    return out


def _index(parent_name, i):
    return "%s[%d]" % (parent_name, i) if parent_name else None


def describe(obj, deadline=None, value_timeout=TIMEOUT):
    """value/type/counts for one value (variablesReference is added by the caller)."""
    if deadline is None:
        text = safe_repr(obj)
    else:
        # Builtins render without a clock; only a user __repr__ is skipped once time is out.
        text = safe_repr(obj, timeout=max(min(value_timeout, deadline - time.monotonic()), 0))
    body = {"value": text, "type": type_name(obj)}
    n_idx, n_named = indexed_count(obj), named_count(obj)
    if n_idx:
        body["indexedVariables"] = n_idx
    if n_named:
        body["namedVariables"] = n_named
    return body
