"""A failed task noted twice by the lost-exception watch (diagnostics/lost.py) is reported once.

Diagnostics that start with a running loop (a child's, from its first loop) walk the heap for
tasks that failed before them while the loop runs on: a task failing just then is found done
by the walk (a bare entry, marked as failed before the attach) while the note of its own hook
(the done callback on 3.11, PY_UNWIND on 3.12+) is still on its way, and both reach the watch.
Seen once under load in a fork worker, which then reported its task twice, both times as
failed "before tasklens attached". Either order: one report, which says the task failed while
watched."""
import asyncio
import time
import unittest

from tasklens_agent.diagnostics import lost as lostmod


class Reporter:
    def __init__(self):
        self.reports = []

    def emit(self, kind, text, fields, context=None):
        self.reports.append((kind, text))


async def parse():
    raise ValueError("bad item")


def failed_task():
    """A task that ended with an exception nothing took, and its loop (closed)."""
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(parse())
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert task.done() and task._log_traceback
    return task


class NotedTwiceTest(unittest.TestCase):
    def watch(self, entries):
        reporter = Reporter()
        watch = lostmod.LostWatch(reporter)
        task = entries[0]
        for entry in entries[1]:
            if entry == "walk":     # what diagnostics.__init__._failed_before does
                watch.earlier.add(id(task))
                watch.finished.append(task)
            else:                   # the hook's note: the task and when it failed
                watch.finished.append((task, time.monotonic()))
        now = time.monotonic()
        watch.tick(now)
        watch.tick(now + 1.0)       # past the grace period
        task._log_traceback = False     # nobody will retrieve it; keep asyncio quiet at exit
        return reporter.reports

    def test_walk_then_hook(self):
        reports = self.watch((failed_task(), ["walk", "hook"]))
        self.assertEqual([k for k, _ in reports], ["exceptionNotRetrieved"], reports)
        self.assertIn("nothing awaited the task or took its exception", reports[0][1])
        self.assertNotIn("before tasklens attached", reports[0][1])

    def test_hook_then_walk(self):
        reports = self.watch((failed_task(), ["hook", "walk"]))
        self.assertEqual([k for k, _ in reports], ["exceptionNotRetrieved"], reports)
        self.assertNotIn("before tasklens attached", reports[0][1])

    def test_walk_alone_says_before(self):
        reports = self.watch((failed_task(), ["walk"]))
        self.assertEqual(len(reports), 1, reports)
        self.assertIn("it failed before tasklens attached", reports[0][1])


if __name__ == "__main__":
    unittest.main()
