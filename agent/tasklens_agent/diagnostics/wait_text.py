"""The words of a wait (waits.py's Wait) in a report: a task's line, a group of tasks that wait
alike in one line (alike.py), a deadlock's cycle, and a wait's JSON fields. Apart from waits.py
so that what a wait is and how it reads change apart.
"""
from .. import tasks as taskmod
from . import alike
from . import report as rp


def line_of(w, group=None):
    """A task's line in a report; with `group` (w first, alike.py), the line of them all."""
    at = " at %s" % rp.where_text(w.at) if w.at else ""
    tail = "; %s" % w.why if w.why else ""
    if group is None or len(group) < 2:
        return "%s waits%s on %s%s" % (rp.task_text(w.info), at, w.what, tail)
    shared = alike.objects_text(group)
    return "%s and %s more like it (%s) wait%s on %s%s%s" % (
        rp.task_text(w.info), alike.count_text(len(group) - 1), alike.others_text(group), at,
        w.what, ", " + shared if shared else "", tail)


def cycle_text(cycle):
    parts = []
    for w in cycle:
        held = getattr(w, "held", None)
        parts.append("%s → %s%s" % (rp.label(w.info), w.short, " (%s)" % held if held else ""))
    return " → ".join(parts) + " → " + rp.label(cycle[0].info)


def as_json(w):
    out = {"task": w.info, "waitsOn": w.what, "waitKind": w.kind}
    if w.at:
        out["at"] = w.at
    if w.why:
        out["why"] = w.why
    if w.edges:
        out["blockedBy"] = [taskmod.task_id(t) for t, _ in w.edges]
    return out
