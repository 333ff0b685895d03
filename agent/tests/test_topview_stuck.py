"""`top`'s stuck warning (topview_stuck.py): a task is asked about from half the threshold on,
judged on its loop's own thread in one job per answer (a task asleep needs none), and looked
up after that while it waits on the same future; a task nothing can wake is warned about, one a live task can wake is not;
an answer never waits for a verdict a blocked loop has not reached; the live screen's answer
gives the first warnings their line and counts the rest, and tells tasks stuck alike in one;
a loop's next verdict job waits PACE times its last."""
import asyncio
import concurrent.futures
import threading
import time
import unittest

from tasklens_agent import looptime
from tasklens_agent import tasktime
from tasklens_agent import topview
from tasklens_agent import topview_screen
from tasklens_agent import topview_stuck
from tasklens_agent.diagnostics import onloop


def ask(args):
    return asyncio.get_running_loop().run_in_executor(None, topview.task_times, None, args)


def stuck_names(answer):
    return sorted(w["task"] for w in answer["warnings"] if w["kind"] == "stuck")


def stuck_count(answer):
    """The tasks a live screen's answer warns of as stuck: each warning's and those alike."""
    return sum(1 + w.get("alike", 0) for w in answer["warnings"]
               if w["kind"] == "stuck" and "alikeOf" not in w)


def distinct_lonely(count):
    """`count` coroutine functions, each waiting at a line of its own: stuck, but not alike."""
    source = "".join("async def lonely_%d():\n    await asyncio.Event().wait()\n" % i
                     for i in range(count))
    space = {"asyncio": asyncio}
    exec(compile(source, __file__, "exec"), space)
    return [space["lonely_%d" % i] for i in range(count)]


class StuckVerdicts(unittest.TestCase):
    def setUp(self):
        owner = object()
        tasktime.acquire(owner)
        self.addCleanup(tasktime.release, owner)
        self.addCleanup(topview_stuck._verdicts.clear)
        self.addCleanup(topview_stuck._last.clear)
        self.addCleanup(topview_stuck._asked.clear)
        judged_on = self.judged_on = []
        real = topview_stuck._judge

        def judge(loop, ident, tasks):
            judged_on.append((threading.get_ident(), sorted(t.get_name() for t in tasks)))
            return real(loop, ident, tasks)
        topview_stuck._judge = judge
        self.addCleanup(setattr, topview_stuck, "_judge", real)

    def run_program(self, body, lonely_count=3, distinct=False):
        async def lonely():
            await asyncio.Event().wait()        # nothing else holds it: stuck
        kinds = distinct_lonely(lonely_count) if distinct else [lonely] * lonely_count

        async def kept(event):
            await event.wait()

        async def main():
            tasktime.watch(asyncio.get_running_loop())
            event = asyncio.Event()
            tasks = [asyncio.create_task(kind(), name="lonely-%d" % i)
                     for i, kind in enumerate(kinds)]
            tasks.append(asyncio.create_task(kept(event), name="kept"))
            result = await body(threading.get_ident())
            event.set()                         # main can complete it: `kept` is not stuck
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return result
        return asyncio.run(main())

    def test_asked_at_half_judged_on_the_loop_then_warned_without_judging_again(self):
        async def body(loop_thread):
            await asyncio.sleep(0.3)
            early = await ask({"stuckS": 0.5, "limit": 10})      # past half: asked, no warning
            await asyncio.sleep(0.3)
            late = await ask({"stuckS": 0.5, "limit": 10})       # past it: the verdict is in
            again = await ask({"stuckS": 0.5})                    # the other answer: looked up
            return loop_thread, early, late, again
        loop_thread, early, late, again = self.run_program(body)
        self.assertEqual(stuck_names(early), [])
        self.assertEqual(stuck_count(late), 3)      # alike: one warning, two more like it
        self.assertEqual(stuck_names(again), ["lonely-0", "lonely-1", "lonely-2"])
        # one job, on the loop's own thread, for the four waiting tasks; not for main, asleep:
        # a timer ends its wait, which its coroutine chain tells without a verdict
        self.assertEqual(len(self.judged_on), 1, self.judged_on)
        self.assertEqual(self.judged_on[0][0], loop_thread)
        self.assertEqual(self.judged_on[0][1], ["kept", "lonely-0", "lonely-1", "lonely-2"])

    def test_an_answer_asked_past_the_threshold_waits_for_its_verdicts(self):
        async def body(loop_thread):
            await asyncio.sleep(0.6)
            return await ask({"stuckS": 0.5, "limit": 10})
        self.assertEqual(stuck_count(self.run_program(body)), 3)

    def test_a_blocked_loop_delays_the_verdict_not_the_answers(self):
        async def body(loop_thread):
            await asyncio.sleep(0.6)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                first = pool.submit(topview.task_times, None, {"stuckS": 0.5, "limit": 10})
                time.sleep(1.0)     # the loop blocked: it cannot run the posted job
                answered_meanwhile = first.done()
                answer = first.result()
            await asyncio.sleep(0.05)   # the loop runs the job now
            return answered_meanwhile, answer, await ask({"stuckS": 0.5, "limit": 10})
        answered_meanwhile, answer, later = self.run_program(body)
        self.assertTrue(answered_meanwhile, "the answer waited for a loop that could not run")
        self.assertEqual(stuck_names(answer), [])
        self.assertEqual(stuck_count(later), 3)

    def test_a_wait_the_diagnostics_saw_begin_counts_from_then(self):
        """Tasks that began to wait before `top` asked: where the diagnostics saw a wait begin
        (`--diagnose` samples every task's wait), it counts from then, not from top's start;
        a task they did not see counts from top's start."""
        async def main():
            loop = asyncio.get_running_loop()
            seen = asyncio.create_task(asyncio.Event().wait(), name="seen-long-ago")
            unseen = asyncio.create_task(asyncio.Event().wait(), name="unseen")
            await asyncio.sleep(0)      # both wait, before the counting begins
            tasktime.watch(loop)
            looptime.sample_waits(looptime.record_of(loop), [seen], time.monotonic() - 100)
            answer = await ask({"stuckS": 10, "limit": 10})
            for t in (seen, unseen):
                t.cancel()
            await asyncio.gather(seen, unseen, return_exceptions=True)
            return answer
        answer = asyncio.run(main())
        self.assertEqual(stuck_names(answer), ["seen-long-ago"])
        warning = next(w for w in answer["warnings"] if w["kind"] == "stuck")
        self.assertRegex(warning["message"], r"^waiting 10\d s on ")

    def test_a_loops_next_walk_waits_pace_times_its_last(self):
        """A walk of 0.05 s: the tasks that newly wait long meanwhile are judged 1 s after it
        (onloop.PACE = 20), in one walk, not one per answer."""
        real = topview_stuck._judge
        took = []

        def slow(loop, ident, tasks):
            began = time.monotonic()
            time.sleep(0.05)
            try:
                return real(loop, ident, tasks)
            finally:
                took.append(time.monotonic() - began)
        topview_stuck._judge = slow     # under setUp's spy, which counts the walks

        async def body(loop_thread):
            await asyncio.sleep(0.6)
            first = await ask({"stuckS": 0.5, "limit": 10})
            walked = time.monotonic()
            late = [asyncio.create_task(asyncio.Event().wait(), name="late-%d" % i)
                    for i in range(2)]
            answers = []
            # Till 3 s, or longer where a loaded machine made the first walk longer than its
            # 0.05 s (the pace follows the walk's own length) and the paced walk comes later.
            while time.monotonic() - walked < max(3.0, 1.5 * onloop.PACE * max(took, default=0.05) + 0.5):
                await asyncio.sleep(0.15)
                answers.append((time.monotonic() - walked,
                                await ask({"stuckS": 0.5, "limit": 10})))
            for t in late:
                t.cancel()
            return first, answers
        first, answers = self.run_program(body)
        self.assertEqual(stuck_count(first), 3)
        self.assertEqual(len(self.judged_on), 2, self.judged_on)
        self.assertEqual(self.judged_on[1][1], ["late-0", "late-1"])
        late = [(t, any(n.startswith("late-") for n in stuck_names(a))) for t, a in answers]
        self.assertTrue(all(not warned for t, warned in late if t < 1.0), late)
        self.assertTrue(late[-1][1], late)

    def test_the_screen_gives_the_first_warnings_a_line_and_counts_the_rest(self):
        many = topview_screen.WARNINGS_SHOWN + 30

        async def body(loop_thread):
            await asyncio.sleep(0.6)
            selected = [t for t in asyncio.all_tasks() if t.get_name() == "lonely-%d" % (many - 1)]
            await ask({"stuckS": 0.5, "limit": 10})     # the verdicts come in
            return (await ask({"stuckS": 0.5, "limit": 10}),
                    await ask({"stuckS": 0.5, "limit": 10, "detail": [id(selected[0])]}),
                    await ask({"stuckS": 0.5}))
        screen, with_selected, everything = self.run_program(body, lonely_count=many,
                                                             distinct=True)
        self.assertEqual(len(stuck_names(screen)), topview_screen.WARNINGS_SHOWN)
        self.assertEqual(screen["warningsLeftOut"], many - topview_screen.WARNINGS_SHOWN)
        # the selected task's warning has its line even past the first ones
        self.assertIn("lonely-%d" % (many - 1), stuck_names(with_selected))
        self.assertEqual(len(stuck_names(with_selected)) + with_selected["warningsLeftOut"], many)
        # without a limit (`top --once`): every warning, none left out
        self.assertEqual(len(stuck_names(everything)), many)
        self.assertNotIn("warningsLeftOut", everything)

    def test_the_screen_tells_tasks_stuck_alike_in_one_warning(self):
        many = topview_screen.WARNINGS_SHOWN + 30

        async def body(loop_thread):
            await asyncio.sleep(0.6)
            selected = [t for t in asyncio.all_tasks() if t.get_name() == "lonely-7"]
            await ask({"stuckS": 0.5, "limit": 10})     # the verdicts come in
            return (await ask({"stuckS": 0.5, "limit": 10}),
                    await ask({"stuckS": 0.5, "limit": 10, "detail": [id(selected[0])]}),
                    await ask({"stuckS": 0.5}))
        screen, with_selected, everything = self.run_program(body, lonely_count=many)
        [told] = [w for w in screen["warnings"] if w["kind"] == "stuck"]
        self.assertEqual(told["alike"], many - 1)
        self.assertNotIn("warningsLeftOut", screen)
        # the selected task, one of them, has a warning of its own, for its details: the one
        # that tells them all, or its own marked as one of them
        heads = [w for w in with_selected["warnings"] if "alikeOf" not in w]
        own = [w for w in with_selected["warnings"] if w["task"] == "lonely-7"]
        self.assertEqual(len(own), 1, with_selected["warnings"])
        self.assertEqual(len(heads), 1)
        self.assertEqual(own[0].get("alikeOf"),
                         None if own[0] is heads[0] else heads[0]["taskId"])
        self.assertEqual(stuck_count(with_selected), many)
        # without a limit (`top --once`): every task's own warning, as before
        self.assertEqual(len(stuck_names(everything)), many)
        self.assertTrue(all("alike" not in w for w in everything["warnings"]))


if __name__ == "__main__":
    unittest.main()
