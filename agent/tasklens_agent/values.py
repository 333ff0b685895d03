"""Children of values for `variables`: what to list, how many, and paging by start/count.

Only builtin accessors are used on containers (list.__getitem__, dict.items, ...) so paging a
user subclass runs no user code; attribute listing reads __dict__ and __slots__, never
properties. Counting is O(1) and a page costs O(start + count) at worst (dicts and sets).
"""
import collections
import itertools
import time

from .saferepr import TIMEOUT, safe_repr, type_name

_SCALARS = (int, float, complex, bool, type(None), str, bytes, bytearray, range)
_SEQUENCES = (list, tuple, collections.deque)


def _raw_dict(obj):
    try:
        d = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    return d if isinstance(d, dict) else None


def _slot_names(obj):
    names = []
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        names.extend(s for s in slots if s not in ("__dict__", "__weakref__"))
    return names


def indexed_count(obj):
    for base in _SEQUENCES + (dict, set, frozenset):
        if isinstance(obj, base):
            return base.__len__(obj)
    return 0


def named_count(obj):
    if isinstance(obj, _SCALARS) or isinstance(obj, _SEQUENCES + (dict, set, frozenset)):
        return 0
    d = _raw_dict(obj)
    return (len(d) if d is not None else 0) + len(_slot_names(obj))


def expandable(obj):
    return indexed_count(obj) > 0 or named_count(obj) > 0


def _simple_key(key):
    return type(key) in (str, int, float, bool, bytes, type(None))


def children(obj, parent_name, start, count, flt):
    """[(name, value, evaluateName or None)] for one page of obj's children."""
    start = max(int(start or 0), 0)
    stop = start + int(count) if count else None
    out = []
    if flt != "named" and indexed_count(obj):
        if isinstance(obj, list):
            for i in range(start, min(stop or list.__len__(obj), list.__len__(obj))):
                out.append((str(i), list.__getitem__(obj, i), _index(parent_name, i)))
        elif isinstance(obj, tuple):
            for i in range(start, min(stop or tuple.__len__(obj), tuple.__len__(obj))):
                out.append((str(i), tuple.__getitem__(obj, i), _index(parent_name, i)))
        elif isinstance(obj, dict):
            for k, v in itertools.islice(dict.items(obj), start, stop):
                name = safe_repr(k, 200)
                ev = "%s[%s]" % (parent_name, name) if parent_name and _simple_key(k) else None
                out.append((name, v, ev))
        elif isinstance(obj, collections.deque):
            it = collections.deque.__iter__(obj)
            for i, v in enumerate(itertools.islice(it, start, stop), start):
                out.append((str(i), v, _index(parent_name, i)))
        else:
            it = (frozenset if isinstance(obj, frozenset) else set).__iter__(obj)
            for i, v in enumerate(itertools.islice(it, start, stop), start):
                out.append((str(i), v, None))
        return out
    if flt == "indexed":
        return out
    d = _raw_dict(obj)
    names = list(d.items()) if d is not None else []
    for slot in _slot_names(obj):
        try:
            names.append((slot, object.__getattribute__(obj, slot)))
        except AttributeError:
            continue
    for k, v in itertools.islice(names, start, stop):
        ev = "%s.%s" % (parent_name, k) if parent_name and str(k).isidentifier() else None
        out.append((str(k), v, ev))
    return out


def _index(parent_name, i):
    return "%s[%d]" % (parent_name, i) if parent_name else None


def describe(obj, deadline=None):
    """value/type/counts for one value (variablesReference is added by the caller)."""
    if deadline is None:
        text = safe_repr(obj)
    else:
        remaining = deadline - time.monotonic()
        text = safe_repr(obj, timeout=min(TIMEOUT, remaining)) if remaining > 0.05 else \
            "<repr skipped: this request's time budget is spent>"
    body = {"value": text, "type": type_name(obj)}
    n_idx, n_named = indexed_count(obj), named_count(obj)
    if n_idx:
        body["indexedVariables"] = n_idx
    if n_named:
        body["namedVariables"] = n_named
    return body
