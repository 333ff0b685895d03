"""Runs the program named by its first argument with the least that exact per-step timing in
Python needs on asyncio's loops, and nothing else: at each wake of a task, its record found by
one lookup and the clock read (when it became ready); around each of its steps, the clock read
twice, in a handle of the kind tasktime_handle.py makes (no frame of its own). No counter is
kept. bench/top-instructions.ts counts what this costs: the floor under `top`'s counters
(docs/bench-top.md). Run bare, not under agent/launch.py.
"""
import asyncio
import runpy
import sys
import time

clock = time.monotonic
records = {}    # id(task) -> Record, never dropped: a floor to measure, not a tool
kinds = (asyncio.Task, asyncio.tasks._PyTask)
Handle = asyncio.events.Handle


class Record:
    __slots__ = ("ready_at",)


class TimedHandle(Handle):
    __slots__ = ("record",)

    def _run(self):
        start = clock()
        try:
            self._context.run(self._callback, *self._args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:    # a task's step never raises: asyncio's report, briefly
            self._loop.call_exception_handler({"message": "callback failed", "exception": exc})
        end = clock()
        self.record.ready_at = end - start      # the two reads used, as a counter would
        self = None


def _call_soon(self, callback, args, context):
    owner = getattr(callback, "__self__", None)
    record = None
    if owner is not None:
        record = records.get(id(owner))
        if record is None and isinstance(owner, kinds):
            record = records[id(owner)] = Record()
    if record is not None:
        record.ready_at = clock()
        handle = TimedHandle(callback, args, self, context)
        handle.record = record
    else:
        handle = Handle(callback, args, self, context)
    if handle._source_traceback:
        del handle._source_traceback[-1]
    self._ready.append(handle)
    return handle


asyncio.BaseEventLoop._call_soon = _call_soon
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
