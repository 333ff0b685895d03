"""Tasks that wait alike, told once: the tasks of one verdict that wait at the same line, on the
same kind of thing (`Event ev.wait()`), for the same reason, made at the same place, by the
same coroutine.

A worker pool of 10,000 tasks, each on an event nobody will set, got 10,000 stuck reports of
four lines, alike but for the task's name: 40,000 lines a user scrolls past to find the one
that differs. A group is reported once, with its first task (by name, numbers in names
compared as numbers: w2 before w10) named in full and the others counted and listed; the JSON
keeps every task. The same goes for the lines of a deadlock's tasks outside its cycles, and
for `top`'s stuck warnings (topview_stuck.group).

Runs on the watchdog thread, over Waits already judged (waits.py); touches no program object
but the one each Wait names, for its identity.
"""
import re

NAMES_SHOWN = 8     # the others named in the text; the JSON names them all


def key(w):
    """What must be alike for two Waits to be told as one."""
    at = (w.at["path"], w.at["line"], w.at["name"]) if w.at else None
    created = w.info.get("createdAt")
    return (w.kind, w.what, w.why, at, (created["path"], created["line"]) if created else None,
            w.info["coroutine"], tuple(id(t) for t, _ in w.edges))


def groups(waits, extra=None, order=None):
    """`waits` as lists of Waits alike, each in the order of its tasks' names, the lists in the
    order of their first. `extra(w)`: more that must be alike (e.g. whether the wait began
    before tracking); `order(w)`: a sort key that comes before the name."""
    out = {}
    for w in sorted(waits, key=by_name if order is None else lambda w: (order(w), by_name(w))):
        k = key(w) if extra is None else (key(w), extra(w))
        out.setdefault(k, []).append(w)
    return list(out.values())


def by_name(w):
    """Task-9 before Task-10: the digits of a name compared as numbers."""
    parts = re.split(r"(\d+)", w.info["name"])
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts], w.info["threadId"]


def count_text(n):
    return "{:,}".format(n)


def others_text(group):
    """`w1, w2, … and 9,990 more` for all but the first of `group`."""
    names = [w.info["name"] for w in group[1:NAMES_SHOWN + 1]]
    left = len(group) - 1 - len(names)
    return ", ".join(names) + (" and %s more" % count_text(left) if left else "")


def objects(group):
    """How many different objects the tasks of `group` wait on."""
    return len({id(w.obj) for w in group})


def objects_text(group):
    """Whether the tasks of `group` share what they wait on: ``, `all on the same Event`,
    `each on an Event of its own`, `on 3 different Events`."""
    obj = group[0].obj
    if len(group) < 2 or obj is None:
        return ""
    name = type(obj).__name__
    n = objects(group)
    if n == 1:
        return "all on the same %s" % name
    if n == len(group):
        return "each on %s %s of its own" % ("an" if name[:1].lower() in "aeiou" else "a", name)
    return "on %s different %ss" % (count_text(n), name)
