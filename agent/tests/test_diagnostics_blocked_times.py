"""Where a blocked step began and ended (diagnostics/blocked.py), from what the loop's thread
notes at its selector's select() and what the watchdog saw at its last two ticks.

The watchdog sees a step only at its ticks (20-30 ms apart). On a selector loop, looptime's
wrapper notes when select() returned (`busy_since`, with one more iteration) and when it was
entered (`idle_since`, and the entry before it, `entered_before`): a step first seen after its
iteration began started when select() returned, and a step that has ended ended when the loop
next entered select(). A state that does not pin those down (more entries since than the two
noted, times outside the two ticks) falls back to the middle of the ticks."""
import types
import unittest

from tasklens_agent.diagnostics.blocked import BlockedWatch


def loop_record(selector=True, iterations=10, idle=False, idle_since=0.0, entered_before=None,
                busy_since=0.0, step_iterations=10):
    return types.SimpleNamespace(selector=selector, iterations=iterations, idle=idle,
                                 idle_since=idle_since, entered_before=entered_before,
                                 busy_since=busy_since, step_iterations=step_iterations)


class StartOfStep(unittest.TestCase):
    def test_an_iteration_begun_since_the_last_tick_began_the_step(self):
        rec = loop_record(busy_since=1.012)
        self.assertEqual(BlockedWatch._start_of_step(rec, now=1.030, prev_tick=1.000), 1.012)

    def test_an_iteration_begun_before_the_last_tick_gives_the_middle(self):
        rec = loop_record(busy_since=0.900)
        self.assertAlmostEqual(BlockedWatch._start_of_step(rec, now=1.030, prev_tick=1.000), 1.015)

    def test_a_loop_without_a_selector_gives_the_middle(self):
        rec = loop_record(selector=False, busy_since=1.012)
        self.assertAlmostEqual(BlockedWatch._start_of_step(rec, now=1.030, prev_tick=1.000), 1.015)


class EndOfStep(unittest.TestCase):
    def test_idle_in_the_first_select_since(self):
        rec = loop_record(idle=True, idle_since=1.004)
        self.assertEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.004)

    def test_out_of_the_first_select_since(self):
        rec = loop_record(iterations=11, idle=False, idle_since=1.004)
        self.assertEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.004)

    def test_a_quick_iteration_after_it_takes_the_entry_before(self):
        # the step ended a task; its awaiter ran in one more iteration; the loop sleeps again
        rec = loop_record(iterations=11, idle=True, idle_since=1.006, entered_before=1.004)
        self.assertEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.004)
        rec = loop_record(iterations=12, idle=False, idle_since=1.006, entered_before=1.004)
        self.assertEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.004)

    def test_more_entries_than_noted_give_the_middle(self):
        rec = loop_record(iterations=12, idle=True, idle_since=1.008, entered_before=1.006)
        self.assertAlmostEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.015)

    def test_no_entry_since_gives_the_middle(self):
        # another callback of the same iteration runs now
        rec = loop_record(idle=False, idle_since=0.500)
        self.assertAlmostEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.015)

    def test_an_entry_after_the_tick_was_read_is_not_taken(self):
        # the loop entered select() again between the tick's clock read and these reads
        rec = loop_record(idle=True, idle_since=1.031)
        self.assertAlmostEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.015)

    def test_a_loop_without_a_selector_gives_the_middle(self):
        rec = loop_record(selector=False, idle=True, idle_since=1.004)
        self.assertAlmostEqual(BlockedWatch._end_of_step(rec, now=1.030, prev_tick=1.000), 1.015)


if __name__ == "__main__":
    unittest.main()
