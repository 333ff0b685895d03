"""Heap walks posted to the loop's own thread (diagnostics/onloop.py): the function runs there,
between two steps, and its result or error comes back in the Job; its time is excused from the
step that runs it; it starts no collection, and says how long it took (when the next walk may
come); a closed loop takes nothing; a caller waits no longer than it asks.
And what needed it: a walk from another thread broke a tuple the program was building."""
import asyncio
import gc
import sys
import threading
import time
import unittest

from tasklens_agent import looptime
from tasklens_agent.diagnostics import onloop


class OnTheLoop(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="loop")
        self.thread.start()

    def tearDown(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def test_runs_on_the_loops_thread_with_its_result(self):
        job = onloop.post(self.loop, lambda x: (threading.current_thread().name, x * 2), 21)
        self.assertTrue(job.wait(5))
        self.assertEqual(job.result, ("loop", 42))
        self.assertIsNone(job.error)

    def test_a_walk_starts_no_collection_and_says_how_long_it_took(self):
        job = onloop.post(self.loop, lambda: (gc.isenabled(), time.sleep(0.05)))
        self.assertTrue(job.wait(5))
        self.assertEqual(job.result, (False, None))
        self.assertTrue(gc.isenabled())
        self.assertGreaterEqual(job.took, 0.05)
        self.assertAlmostEqual(onloop.next_post(job), job.ended + job.took * onloop.PACE)
        gc.disable()    # a program that collects nothing: left as it was
        try:
            self.assertTrue(onloop.post(self.loop, gc.isenabled).wait(5))
            self.assertFalse(gc.isenabled())
        finally:
            gc.enable()

    def test_an_error_is_kept_not_raised_in_the_loop(self):
        job = onloop.post(self.loop, lambda: 1 / 0)
        self.assertTrue(job.wait(5))
        self.assertIsInstance(job.error, ZeroDivisionError)
        after = onloop.post(self.loop, lambda: "still running")
        self.assertTrue(after.wait(5))
        self.assertEqual(after.result, "still running")

    def test_its_time_is_excused_from_the_step(self):
        ident = []
        job = onloop.post(self.loop, lambda: (ident.append(threading.get_ident()),
                                              time.sleep(0.05)))
        self.assertTrue(job.wait(5))
        self.assertGreaterEqual(looptime.excused.get(ident[0], 0.0), 0.04)
        self.assertNotIn(ident[0], looptime.excusing)

    def test_a_caller_waits_no_longer_than_it_asks(self):
        release = threading.Event()
        self.loop.call_soon_threadsafe(release.wait, 5)     # a step that blocks the loop
        job = onloop.post(self.loop, lambda: "late")
        started = time.monotonic()
        self.assertFalse(job.wait(0.1))
        self.assertFalse(job.done)
        self.assertLess(time.monotonic() - started, 1.0)
        release.set()
        self.assertTrue(job.wait(5))
        self.assertEqual(job.result, "late")


class OnAClosedLoop(unittest.TestCase):
    def test_nothing_is_posted(self):
        loop = asyncio.new_event_loop()
        loop.close()
        self.assertIsNone(onloop.post(loop, lambda: None))


def slowly(items, midway, resume):
    for i, item in enumerate(items):
        if i == 2:
            midway.set()
            resume.wait(5)      # releases the GIL: the other thread walks now
        yield item


class WhyItRunsThere(unittest.TestCase):
    def test_a_walk_from_another_thread_holding_a_half_built_tuple_breaks_it(self):
        target = object()
        midway, resume, outcome = threading.Event(), threading.Event(), []

        def build():
            try:
                outcome.append(len(tuple(slowly([target] * 5, midway, resume))))
            except SystemError as e:
                outcome.append(e)
        builder = threading.Thread(target=build)
        builder.start()
        self.assertTrue(midway.wait(5))
        held = [r for r in gc.get_referrers(target) if type(r) is tuple]    # the half-built one
        resume.set()
        time.sleep(0.2)
        del held
        builder.join(5)
        if sys.version_info < (3, 14):
            self.assertIsInstance(outcome[0], SystemError)
            self.assertIn("bad argument to internal function", str(outcome[0]))
        else:   # 3.14 builds a tuple from a generator apart first: nothing to break there
            self.assertEqual(outcome, [5])


if __name__ == "__main__":
    unittest.main()
