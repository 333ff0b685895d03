"""The step record, like bdb's _set_stopinfo / stop_here: made only here (`Step.start` for a
step the user or a function breakpoint begins, `moved_out` / `to_awaiters` as it follows the
program outward), never changed once made, and read in one place (`Step.stops_at`).

A step belongs to one logical thread (`owner`): the asyncio task running the stopped frame, or
the OS thread's ident outside tasks, so a line run by another task or thread never ends the
step. After a task's top coroutine ends, the step belongs to the tasks awaiting it (a tuple).
"""
import threading

from .tasks import current_owner

IN, OVER, OUT = "in", "over", "out"

__all__ = ["IN", "OVER", "OUT", "Step", "current_owner", "interrupted", "interruption_note"]


class Step:
    __slots__ = ("kind", "owner", "watch", "stop_in", "reason", "hit_ids", "replaced")

    def __init__(self, kind, owner, watch, stop_in, reason, hit_ids=None, replaced=None):
        self.kind = kind          # IN: any eligible line of the owner stops
        self.owner = owner
        self.watch = watch        # when this frame returns (or a generator yields), the step
                                  # moves outward; a suspended coroutine is not left
        self.stop_in = stop_in    # a line event in this frame stops (OVER, and after moving out)
        self.reason = reason
        self.hit_ids = hit_ids    # a function breakpoint's, reported when the step stops
        self.replaced = replaced  # a function breakpoint's: the user's step it took over

    @classmethod
    def start(cls, kind, owner, frame, reason="step", hit_ids=None, replaced=None):
        if kind == IN:    # the frame is watched only to follow the end of a task
            return cls(IN, owner, frame, None, reason, hit_ids, replaced)
        return cls(kind, owner, frame, frame if kind == OVER else None, reason)

    def moved_out(self, caller):
        """The watched frame returned: stop at the caller's next line (or anywhere if none)."""
        if caller is None:
            return Step(IN, self.owner, None, None, self.reason)
        return Step(self.kind, self.owner, caller, caller, self.reason)

    def to_awaiters(self, tasks):
        """The owner's task ended: stop where a task awaiting it next runs; none: no step."""
        if not tasks:
            return None
        return Step(IN, tuple(tasks), None, None, self.reason)

    def owns(self, owner):
        mine = self.owner
        if type(mine) is tuple:
            return any(owner is t for t in mine)
        return owner is mine or (type(owner) is int and owner == mine)

    def stops_at(self, frame, owner):
        """Whether an eligible line event in `frame` ends this step; `owner()` names the
        logical thread running it (a frame belongs to one, so OVER/OUT need not ask)."""
        if self.kind == IN:
            return self.owns(owner())
        return frame is self.stop_in


def interrupted(step, reason, owner):
    """The user's step that a stop for `reason` in logical thread `owner` ends unfinished, or
    None. Only a stop in another logical thread interrupts it (a breakpoint there, an
    exception); a thread's step also owns the tasks that code on that thread runs (stepping
    over `asyncio.run()`). The step is not resumed later: it ends (async-semantics rule 7)."""
    if step is not None and reason == "function breakpoint":
        step = step.replaced
    if step is None or step.reason != "step" or reason in ("step", "pause") or step.owns(owner):
        return None
    if type(step.owner) is int and step.owner == threading.get_ident():
        return None
    return step


def interruption_note(step):
    """What the stopped event's description adds: whose step the stop cut short, by task or
    thread name (shorter than the threads list's)."""
    owners = step.owner if type(step.owner) is tuple else (step.owner,)
    names = []
    for owner in owners:
        if type(owner) is int:
            thread = threading._active.get(owner)
            names.append(thread.name if thread is not None else "thread %d" % owner)
        else:
            names.append(owner.get_name())
    return "(your step in %s was interrupted)" % " and ".join(names)
