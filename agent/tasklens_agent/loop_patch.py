"""Wrapping a loop's `create_task` on the loop's class, never on the loop object.

An attribute set on the loop object gives it an instance dict of its own; on 3.11 that stops the
interpreter from specialising every `self._ready`, `self.call_soon` in asyncio's hot paths for
that loop, which cost the asyncio throughput benchmark 10 % before a single task was recorded.
Set once on the class, the wrapper costs one Python call per task and nothing per step. A loop
whose class cannot take an attribute (uvloop's, built in C) is left alone: `wrap` says False.
"""


def wrap(loop, name, make):
    """Puts `make(original)` in place of `create_task` on type(loop), once per `name` (two
    wrappers may stack, each under its own name). True if the loop's class is wrapped."""
    cls = type(loop)
    original = getattr(cls, "create_task", None)
    seen = original
    while seen is not None:     # already ours, under this name, somewhere in the stack?
        if getattr(seen, "_tasklens_wrap", None) == name:
            return True
        seen = getattr(seen, "_tasklens_inner", None)
    if original is None:
        return False
    wrapper = make(original)
    wrapper._tasklens_wrap = name
    wrapper._tasklens_inner = original
    try:
        cls.create_task = wrapper
    except (TypeError, AttributeError):
        return False
    return True


def unwrap(loop, name):
    """Takes the `name` wrapper off type(loop) again when it is the outermost one (an attached
    agent leaving); one under another wrapper stays, as taking it out would drop that one."""
    cls = type(loop)
    top = cls.__dict__.get("create_task")
    if getattr(top, "_tasklens_wrap", None) != name:
        return
    inner = top._tasklens_inner
    inherited = next((base.__dict__["create_task"] for base in cls.__mro__[1:]
                      if "create_task" in base.__dict__), None)
    if inner is inherited:
        del cls.create_task
    else:
        cls.create_task = inner
