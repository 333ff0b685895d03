"""tasktime_auto: the counting `top` asks by default is exact until it costs the program more
than 2 % of its time, then samples one wake in N (64 or more); a light program stays exact, and
a count asked exact (`--sample 1`) stays exact however much it costs."""
import asyncio
import unittest
from unittest import mock

from tasklens_agent import tasktime, tasktime_auto


async def hopper():
    while True:
        await asyncio.sleep(0)


async def ticker():
    while True:
        await asyncio.sleep(0.01)


class AutoSamplingTest(unittest.TestCase):
    def setUp(self):
        self.owner = object()
        self.assertFalse(tasktime._leases, "another test left the counting on")

    def count(self, sample, task_fn, n, seconds, runner=asyncio.run):
        """Run `n` tasks of `task_fn` for `seconds` counted as `sample` asks; (sample_every,
        auto) at the end, and the tasks' counters."""
        tasktime.acquire(self.owner, sample)
        self.addCleanup(tasktime.release, self.owner)

        async def main():
            lt = tasktime.watch(asyncio.get_running_loop())
            self.assertIsNotNone(lt)
            tasks = [asyncio.create_task(task_fn()) for _ in range(n)]
            await asyncio.sleep(seconds)
            seen = (tasktime.sample_every, tasktime.auto, [lt.of(t, 0.0) for t in tasks])
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return seen
        return runner(main())

    def test_what_counting_a_step_costs_is_measured_once(self):
        tasktime.acquire(self.owner, tasktime.AUTO)
        self.addCleanup(tasktime.release, self.owner)
        cost = tasktime_auto.calibrate(tasktime)
        self.assertGreater(cost, 0.0)
        self.assertLess(cost, 1e-3, "a step's counting costs microseconds, not a millisecond")
        self.assertIs(tasktime_auto.calibrate(tasktime), cost, "measured once per process")
        self.assertNotIn(id(self), tasktime.by_task)
        self.assertEqual(len(tasktime.by_task), 0, "the stand-in task leaves no counters behind")

    def test_measuring_judges_none_of_its_stand_ins(self):
        # the stand-ins are given counters as tasks are: under valgrind the 512th was judged, and
        # the judging measured again, inside the measuring, until the recursion limit
        tasktime.acquire(self.owner, tasktime.AUTO)
        self.addCleanup(tasktime.release, self.owner)
        with mock.patch.object(tasktime_auto, "FIRST_CHECK_S", 0.0), \
                mock.patch.object(tasktime_auto, "BURST", 64), \
                mock.patch.object(tasktime_auto, "step_cost", None):
            cost = tasktime_auto.calibrate(tasktime)
        self.assertGreater(cost, 0.0)
        self.assertEqual(tasktime.sample_every, 1, "no stand-in made the counting switch")

    def test_a_failure_of_its_own_leaves_the_counting_as_it_is(self):
        tasktime.acquire(self.owner, tasktime.AUTO)
        self.addCleanup(tasktime.release, self.owner)
        broken = mock.Mock(side_effect=RuntimeError("a bug of ours"))
        with mock.patch.object(tasktime_auto, "_check", broken), \
                mock.patch.object(tasktime_auto, "_failed", False):
            tasktime_auto.check(tasktime, None, 0.0)      # raises nothing into the loop
            tasktime_auto.check(tasktime, None, 0.0)
            self.assertTrue(tasktime_auto._failed)
        self.assertEqual(broken.call_count, 1, "not tried again")
        self.assertEqual(tasktime.sample_every, 1)

    def test_the_sample_brings_the_cost_under_half_a_percent(self):
        self.assertEqual(tasktime_auto.sample_for(0.3), 64)
        self.assertEqual(tasktime_auto.sample_for(0.4), 128)
        self.assertEqual(tasktime_auto.sample_for(0.03), 64, "never fewer than 64")
        self.assertEqual(tasktime_auto.sample_for(50.0), 1000, "never more than 1000")

    def test_a_loop_of_short_steps_turns_to_sampling(self):
        sample, auto, counters = self.count(tasktime.AUTO, hopper, 10, 2.0)
        self.assertTrue(auto)
        self.assertGreaterEqual(sample, 64, "exact counting costs such a loop far past 2 %")
        # counted exactly before the switch, estimated after: every task has steps
        self.assertTrue(all(st.polls > 0 and st.self_wakes > 0 for st in counters))

    def test_a_light_loop_stays_exact(self):
        sample, auto, counters = self.count(tasktime.AUTO, ticker, 10, 1.5)
        self.assertTrue(auto)
        self.assertEqual(sample, 1)
        self.assertTrue(all(st.polls >= 50 for st in counters), [st.polls for st in counters])

    def test_a_burst_of_new_tasks_then_quiet_is_exact_again(self):
        async def waiter(event):
            await event.wait()

        tasktime.acquire(self.owner, tasktime.AUTO)
        self.addCleanup(tasktime.release, self.owner)
        seen = []

        async def main():
            self.assertIsNotNone(tasktime.watch(asyncio.get_running_loop()))
            await asyncio.sleep(0.05)
            event = asyncio.Event()
            tasks = [asyncio.create_task(waiter(event)) for _ in range(5000)]
            await asyncio.sleep(0)
            seen.append(tasktime.sample_every)      # the burst: thousands of counters made
            await asyncio.sleep(1.5)                # then quiet: a tick or so a check
            seen.append(tasktime.sample_every)
            event.set()
            await asyncio.gather(*tasks)
        asyncio.run(main())
        self.assertGreaterEqual(seen[0], 64, "the burst turned the counting to sampling")
        self.assertEqual(seen[1], 1, "quiet again: counted exactly again")

    def test_exact_when_asked_whatever_it_costs(self):
        sample, auto, _ = self.count(1, hopper, 10, 1.5)
        self.assertEqual((sample, auto), (1, False))

    def test_the_next_top_starts_exact_again(self):
        self.count(tasktime.AUTO, hopper, 10, 2.0)
        tasktime.release(self.owner)
        self.assertFalse(tasktime.auto)
        tasktime.acquire(self.owner, tasktime.AUTO)
        self.assertEqual((tasktime.sample_every, tasktime.auto), (1, True))

    def test_uvloop(self):
        try:
            import uvloop
        except ImportError:
            self.skipTest("uvloop is not installed for this interpreter")
        sample, auto, counters = self.count(tasktime.AUTO, hopper, 10, 2.0, runner=uvloop.run)
        self.assertTrue(auto)
        self.assertGreaterEqual(sample, 64)
        self.assertTrue(all(st.polls > 0 for st in counters))


if __name__ == "__main__":
    unittest.main()
