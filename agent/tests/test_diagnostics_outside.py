"""What outside a loop's tasks can still end a wait (diagnostics/outside.py): a callback of
the loop (ready, a timer, a signal handler, an fd's reader) that holds the object waited on,
however it holds it (a bound method, an argument, a closure, a partial), or another running
thread that holds it, or a callback of another loop (a reader's); a cancelled timer, or one
that holds something else, does not count.
Loops whose handles are kept in C (uvloop) are searched from the object up."""
import asyncio
import functools
import threading
import unittest

from tasklens_agent import task_origins
from tasklens_agent.diagnostics import outside


class OnALoop(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.event = asyncio.Event()
        self.queue = asyncio.Queue()

    def tearDown(self):
        self.loop.close()

    def refers(self, obj, threads=()):
        return outside.OutsideRefs(self.loop, list(threads)).refer_to(obj)

    def test_nothing_scheduled_holds_nothing(self):
        self.assertFalse(self.refers(self.event))

    def test_a_timer_set_with_the_objects_method(self):
        self.loop.call_later(60, self.event.set)
        self.assertTrue(self.refers(self.event))
        self.assertFalse(self.refers(self.queue))

    def test_a_timer_with_a_lambda_over_it(self):
        queue = self.queue
        self.loop.call_later(60, lambda: queue.put_nowait(1))
        self.assertTrue(self.refers(queue))

    def test_a_ready_callback_with_it_as_an_argument_in_a_partial(self):
        self.loop.call_soon(functools.partial(print, "x", file=self.queue))
        self.assertTrue(self.refers(self.queue))

    def test_a_reader_registered_with_the_selector(self):
        import os
        read_end, write_end = os.pipe()
        try:
            done = self.loop.create_future()
            self.loop.add_reader(read_end, lambda: done.set_result(os.read(read_end, 1)))
            self.assertTrue(self.refers(done))
            self.loop.remove_reader(read_end)
            self.assertFalse(self.refers(done))
        finally:
            os.close(read_end)
            os.close(write_end)

    def test_a_reader_of_another_loop(self):
        """Another thread's loop, asleep in select() for an fd, whose reader completes the
        object on this loop (call_soon_threadsafe): it is among the roots; a loop that is not
        passed as another is not."""
        import os
        other = asyncio.new_event_loop()
        read_end, write_end = os.pipe()
        try:
            event, loop = self.event, self.loop
            other.add_reader(read_end, lambda: loop.call_soon_threadsafe(event.set))
            self.assertFalse(self.refers(event))
            self.assertTrue(outside.OutsideRefs(self.loop, [], [other]).refer_to(event))
            self.assertFalse(outside.OutsideRefs(self.loop, [], [other]).refer_to(self.queue))
        finally:
            other.close()
            os.close(read_end)
            os.close(write_end)

    def test_a_signal_handler(self):
        import signal
        self.loop.add_signal_handler(signal.SIGUSR1, self.event.set)
        try:
            self.assertTrue(self.refers(self.event))
        finally:
            self.loop.remove_signal_handler(signal.SIGUSR1)

    def test_a_cancelled_timer_holds_nothing(self):
        self.loop.call_later(60, self.event.set).cancel()
        self.assertFalse(self.refers(self.event))

    def test_a_running_thread_that_holds_it(self):
        go = threading.Event()
        queue = self.queue
        worker = threading.Thread(target=lambda: go.wait(10) and queue)
        worker.start()
        try:
            self.assertTrue(self.refers(queue, [worker]))
            self.assertFalse(self.refers(self.event, [worker]))
        finally:
            go.set()
            worker.join()


class DoneCallbacksOfTasks(unittest.TestCase):
    """A pending task whose done callback holds an object will complete it when it ends."""

    def enders(self, setup):
        async def scenario():
            obj, tasks = setup()
            await asyncio.sleep(0)
            names = [t.get_name() for t in outside.DoneCallbacks(tasks).enders(obj)]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return names
        return asyncio.run(scenario())

    def test_shield_and_a_callback_of_the_programs(self):
        def shielded():
            slow = asyncio.create_task(asyncio.sleep(60), name="slow")
            return asyncio.shield(slow), [slow]

        def called_back():
            slow = asyncio.create_task(asyncio.sleep(60), name="slow")
            done = asyncio.get_running_loop().create_future()
            slow.add_done_callback(lambda _: done.set_result(1))
            return done, [slow]
        self.assertEqual(self.enders(shielded), ["slow"])
        self.assertEqual(self.enders(called_back), ["slow"])

    def test_a_callback_that_holds_something_else(self):
        def elsewhere():
            slow = asyncio.create_task(asyncio.sleep(60), name="slow")
            other = asyncio.get_running_loop().create_future()
            slow.add_done_callback(print)
            return other, [slow]
        self.assertEqual(self.enders(elsewhere), [])

    def test_the_agents_own_callback_is_not_walked(self):
        """lost.py's callback, on every task (3.11): 10,000 tasks made 10,000 walks that each
        ended in the agent's own objects."""
        def ours(_):
            pass
        walked = []
        real = outside._reached

        def spy(roots, budget=outside.BUDGET):
            walked.append(roots)
            return real(roots, budget)

        def with_ours_and_the_programs():
            slow = asyncio.create_task(asyncio.sleep(60), name="slow")
            done = asyncio.get_running_loop().create_future()
            slow.add_done_callback(ours)
            slow.add_done_callback(lambda _: done.set_result(1))
            only_ours = asyncio.create_task(asyncio.sleep(60), name="only ours")
            only_ours.add_done_callback(ours)
            return done, [slow, only_ours]
        saved = task_origins.done_callback
        task_origins.done_callback = ours
        outside._reached = spy
        try:
            self.assertEqual(self.enders(with_ours_and_the_programs), ["slow"])
        finally:
            outside._reached = real
            task_origins.done_callback = saved
        self.assertEqual(len(walked), 1, walked)                # the task with only ours: none
        self.assertNotIn(ours, walked[0])


class FromTheObjectUp(unittest.TestCase):
    """uvloop's handles, found by walking referrers up (asyncio's own handles stand in)."""

    def setUp(self):
        self.loop = asyncio.new_event_loop()

    def tearDown(self):
        self.loop.close()

    def test_through_a_method_and_through_a_closure(self):
        event = asyncio.Event()
        self.loop.call_later(60, event.set)
        self.assertTrue(outside._held_by_handle(event))
        queue = asyncio.Queue()
        self.loop.call_later(60, lambda: queue.put_nowait(1))
        self.assertTrue(outside._held_by_handle(queue))

    def test_not_held_or_cancelled(self):
        event = asyncio.Event()
        self.assertFalse(outside._held_by_handle(event))
        self.loop.call_later(60, event.set).cancel()
        self.assertFalse(outside._held_by_handle(event))

    def test_all_at_once_as_one_by_one(self):
        """held_by_handles: what _held_by_handle finds of each, for many objects in one pass
        per level; a holder shared by several of them (a tuple) is a way up for each."""
        held = [asyncio.Event() for _ in range(10)]
        for event in held[:5]:
            self.loop.call_later(60, event.set)
        for event in held[5:]:
            self.loop.call_later(60, lambda e=event: e.set())
        loose = [asyncio.Event() for _ in range(10)]
        for event in loose[:3]:
            self.loop.call_later(60, event.set).cancel()
        shared = [asyncio.Event() for _ in range(3)]
        self.loop.call_later(60, functools.partial(print, tuple(shared)))   # through a partial
        objs = held + loose + shared
        one_by_one = {id(o) for o in objs if outside._held_by_handle(o)}
        self.assertEqual(one_by_one, {id(o) for o in held + shared})
        self.assertEqual(outside.held_by_handles(objs), one_by_one)


class Timeouts(unittest.TestCase):
    """The tasks an asyncio.timeout() will cancel, found for all at once as one by one."""

    def test_all_at_once_as_one_by_one(self):
        async def main():
            async def sleeper(limit):
                if limit is None:
                    await asyncio.sleep(60)
                    return
                async with asyncio.timeout(limit):
                    await asyncio.sleep(60)
            tasks = [asyncio.create_task(sleeper(60 if i % 2 else None)) for i in range(20)]
            await asyncio.sleep(0.01)
            one_by_one = {id(t) for t in tasks if outside._in_timeout(t)}
            at_once = outside.timeout_tasks() & {id(t) for t in tasks}
            expected = {id(t) for t in tasks[1::2]}
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return one_by_one, at_once, expected
        one_by_one, at_once, expected = asyncio.run(main())
        self.assertEqual(one_by_one, expected)
        self.assertEqual(at_once, expected)


if __name__ == "__main__":
    unittest.main()
