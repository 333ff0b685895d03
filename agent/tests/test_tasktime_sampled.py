"""tasktime's sampled counting (`top --sample N`): one wake in about N timed, its counts weighted
by N, so that busy, sched, polls, wakes and self-wakes are estimates of the whole; the steps not
sampled run in asyncio's own handles. And what topview reads from the program instead."""
import asyncio
import time
import unittest

from tasklens_agent import tasktime, topview

STEPS = 2000
SPIN_S = 5e-05


async def hops(n, spin=0.0):
    for _ in range(n):
        if spin:
            end = time.perf_counter() + spin
            while time.perf_counter() < end:
                pass
        await asyncio.sleep(0)


class SampledCountingTest(unittest.TestCase):
    SAMPLE = 8

    def setUp(self):
        self.owner = object()
        self.assertFalse(tasktime._leases, "another test left the counting on")
        tasktime.acquire(self.owner, self.SAMPLE)
        self.addCleanup(tasktime.release, self.owner)

    def run_counted(self, body, runner=asyncio.run):
        async def main():
            self.lt = tasktime.watch(asyncio.get_running_loop())
            self.assertIsNotNone(self.lt)
            return await body()
        return runner(main())

    def stats(self, task):
        """The task's counters: kept while it lives (we hold it), or among the loop's finished
        when its last step was a sampled one."""
        for st in list(self.lt.stats.values()) + list(self.lt.finished):
            if st.key == id(task):
                return st
        raise AssertionError("no counters for %r" % task)

    def test_the_counters_are_estimates_of_every_step(self):
        async def body():
            heavy = asyncio.create_task(hops(STEPS, SPIN_S))
            light = asyncio.create_task(hops(STEPS))
            await asyncio.gather(heavy, light)
            return heavy, light
        heavy, light = self.run_counted(body)
        self.assertEqual(tasktime.sample_every, self.SAMPLE)
        for task in (heavy, light):
            # STEPS + 1 steps, sampled 1 in about 8: a few hundred samples
            polls = self.stats(task).polls
            self.assertGreater(polls, 0.6 * STEPS, polls)
            self.assertLess(polls, 1.4 * STEPS, polls)
        busy = self.stats(heavy).busy
        # each of its steps spins SPIN_S: the estimate is of that order
        self.assertGreater(busy, 0.5 * STEPS * SPIN_S, busy)
        self.assertLess(busy, 3.0 * STEPS * SPIN_S, busy)
        self.assertLess(self.stats(light).busy, busy / 2)

    def test_self_wakes_are_told_though_the_waking_step_was_not_sampled(self):
        async def body():
            spinner = asyncio.create_task(hops(STEPS))
            await spinner
            return self.stats(spinner)
        st = self.run_counted(body)
        self.assertGreater(st.self_wakes, 0.7 * st.wakes, (st.self_wakes, st.wakes))

    def test_steps_not_sampled_run_in_asyncio_handles(self):
        seen = []

        async def body():
            loop = asyncio.get_running_loop()
            task = asyncio.create_task(hops(STEPS))
            while not task.done():
                seen.extend(type(h).__qualname__ + ("*" if type(h) is asyncio.Handle else "")
                            for h in list(loop._ready))
                await asyncio.sleep(0)
        self.run_counted(body)
        plain = sum(1 for k in seen if k.endswith("*"))
        self.assertGreater(plain, 0.75 * len(seen), "most handles are asyncio's own")
        self.assertLess(plain, len(seen), "and some are sampled ones")

    def test_state_is_read_from_the_task(self):
        async def body():
            event = asyncio.Event()
            waiting = asyncio.create_task(event.wait())
            await asyncio.sleep(0)
            ready = asyncio.create_task(hops(1))    # scheduled, not run yet
            now = tasktime._clock()
            states = {name: topview.state(t, self.lt.of(t, now), self.lt)
                      for name, t in (("waiting", waiting), ("ready", ready))}
            event.set()
            await asyncio.gather(waiting, ready)
            return states
        self.assertEqual(self.run_counted(body), {"waiting": "waiting", "ready": "ready"})

    def test_a_step_not_sampled_that_blocks_is_seen_running_by_two_snapshots(self):
        """One wake in 1000 sampled: the hog's blocking step is not one, and nothing times it;
        the snapshots see it running (asyncio's current task), the second one since the first
        at least, and warn of the blocked loop."""
        import threading
        tasktime.release(self.owner)
        tasktime.acquire(self.owner, 1000)
        seen = []

        def ask_meanwhile():
            for pause in (0.2, 0.3):
                time.sleep(pause)
                seen.append(topview.task_times(None, {"detail": []}))

        async def hog():
            await asyncio.sleep(0)
            time.sleep(0.9)

        async def body():
            await asyncio.sleep(0.05)       # the counting's lag probe has run: the loop runs
            task = asyncio.create_task(hog(), name="hog")
            await asyncio.sleep(0)
            asker = threading.Thread(target=ask_meanwhile)
            asker.start()
            await task
            asker.join()
        self.run_counted(body)
        first, second = seen
        row = next(r for r in second["tasks"] if r["name"] == "hog")
        self.assertEqual(row["times"]["state"], "running")
        self.assertGreaterEqual(row["times"]["maxStep"], 0.25)
        self.assertGreaterEqual(second["loops"][0]["runningFor"], 0.25)
        self.assertTrue(second["loops"][0].get("runningForAtLeast"))
        blocked = [w for w in second["warnings"] if w["kind"] == "blockedLoop"]
        self.assertEqual(len(blocked), 1, second["warnings"])
        self.assertEqual(blocked[0]["task"], "hog")
        self.assertIn("at least", blocked[0]["message"])
        self.assertEqual(second["sampled"], 1000)

    def test_uvloop(self):
        try:
            import uvloop
        except ImportError:
            self.skipTest("uvloop is not installed for this interpreter")

        async def body():
            task = asyncio.create_task(hops(STEPS))
            await task
            return self.stats(task)
        st = self.run_counted(body, runner=uvloop.run)
        self.assertGreater(st.polls, 0.6 * STEPS, st.polls)
        self.assertLess(st.polls, 1.4 * STEPS, st.polls)


class CountingModeTest(unittest.TestCase):
    def tearDown(self):
        for owner in list(tasktime._leases):
            tasktime.release(owner)

    def test_the_first_lease_sets_the_counting_a_later_one_gets_it(self):
        first, second, third = object(), object(), object()
        tasktime.acquire(first, 16)
        tasktime.acquire(second, 1)
        self.assertEqual(tasktime.sample_every, 16)
        tasktime.release(first)
        tasktime.release(second)
        tasktime.acquire(third)
        self.assertEqual(tasktime.sample_every, 1)

    def test_a_trace_counts_every_step(self):
        owner = object()
        tasktime.trace_sink = object()
        try:
            tasktime.acquire(owner, 16)
            self.assertEqual(tasktime.sample_every, 1)
        finally:
            tasktime.trace_sink = None


if __name__ == "__main__":
    unittest.main()
