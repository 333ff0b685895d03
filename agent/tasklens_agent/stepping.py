"""The step record: set in one place (`Step.start` / `Step.moved_out`), read in one place
(`Step.stops_at`), like bdb's _set_stopinfo / stop_here.

A step belongs to one logical thread (`owner`): today the OS thread ident; asyncio task steps
will put the task there, so a line run by another task or thread never ends the step.
"""
import threading

IN, OVER, OUT = "in", "over", "out"


def current_owner():
    return threading.get_ident()


class Step:
    __slots__ = ("kind", "owner", "watch", "stop_in", "reason")

    def __init__(self, kind, owner, watch, stop_in, reason):
        self.kind = kind          # IN: any eligible line of the owner stops
        self.owner = owner
        self.watch = watch        # when this frame returns or yields, the step moves outward
        self.stop_in = stop_in    # a line event in this frame stops (OVER, and after moving out)
        self.reason = reason

    @classmethod
    def start(cls, kind, owner, frame, reason="step"):
        if kind == IN:
            return cls(IN, owner, None, None, reason)
        return cls(kind, owner, frame, frame if kind == OVER else None, reason)

    def moved_out(self, caller):
        """The watched frame returned: stop at the caller's next line (or anywhere if none)."""
        if caller is None:
            return Step(IN, self.owner, None, None, self.reason)
        return Step(self.kind, self.owner, caller, caller, self.reason)

    def stops_at(self, frame, owner):
        """Whether an eligible line event in `frame`, run by `owner`, ends this step."""
        if owner != self.owner:
            return False
        return self.kind == IN or frame is self.stop_in
