"""Tasks that wait alike are told once (diagnostics/alike.py): the Waits of real waiting tasks
grouped by where, on what kind of thing, why, made where and by which coroutine; the others
named in the order of their names (numbers as numbers) and counted past a few; whether the
tasks share what they wait on. The whole report's text and JSON are checked end to end
(test/diagnose_run.test.ts, 'tasks stuck alike')."""
import asyncio
import unittest

from tasklens_agent import task_origins
from tasklens_agent.diagnostics import alike
from tasklens_agent.diagnostics import wait_text, waits


async def on_event(ev):
    await ev.wait()


async def on_lock(lock):
    async with lock:
        pass


def waits_of(make, origins=False):
    """The Waits of the tasks `make()` starts, once they all wait; then they are cancelled.
    With `origins`, their creation sites are recorded as under --diagnose."""
    async def scenario():
        if origins:
            task_origins.watch(asyncio.get_running_loop())
        tasks = make()
        await asyncio.sleep(0.01)
        built = [waits.Wait(t) for t in tasks]
        for w in built:
            w.info      # read while the tasks live, as a report does
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return built
    try:
        return asyncio.run(scenario())
    finally:
        task_origins.unwatch()


def names(group):
    return [w.info["name"] for w in group]


class Grouping(unittest.TestCase):
    def test_tasks_alike_but_for_their_objects_make_one_group_in_name_order(self):
        got = waits_of(lambda: [asyncio.create_task(on_event(asyncio.Event()), name="w%d" % i)
                                for i in (10, 2, 1, 0)])
        [group] = alike.groups(got)
        self.assertEqual(names(group), ["w0", "w1", "w2", "w10"])
        self.assertEqual(alike.objects(group), 4)
        self.assertEqual(alike.objects_text(group), "each on an Event of its own")

    def test_a_shared_object_and_a_mix(self):
        def make():
            shared = asyncio.Event()
            other = asyncio.Event()
            return [asyncio.create_task(on_event(ev), name="t%d" % i)
                    for i, ev in enumerate([shared, shared, other])]
        [group] = alike.groups(waits_of(make))
        self.assertEqual(alike.objects_text(group), "on 2 different Events")
        self.assertEqual(alike.objects_text(group[:2]), "all on the same Event")
        self.assertEqual(alike.objects_text(group[:1]), "")

    def test_another_coroutine_line_or_kind_is_another_group(self):
        def make():
            lock = asyncio.Lock()
            lock._locked = True     # held by no task: its waiters queue up
            return [asyncio.create_task(on_event(asyncio.Event()), name="e1"),
                    asyncio.create_task(on_lock(lock), name="l1"),
                    asyncio.create_task(on_event(asyncio.Event()), name="e2"),
                    asyncio.create_task(on_lock(lock), name="l2")]
        groups = alike.groups(waits_of(make))
        self.assertEqual([names(g) for g in groups], [["e1", "e2"], ["l1", "l2"]])
        self.assertEqual([g[0].kind for g in groups], ["event", "lock"])

    def test_made_at_another_line_is_another_group(self):
        def make():
            first = [asyncio.create_task(on_event(asyncio.Event()), name="a%d" % i)
                     for i in range(2)]
            second = [asyncio.create_task(on_event(asyncio.Event()), name="b%d" % i)
                      for i in range(2)]
            return first + second
        groups = alike.groups(waits_of(make, origins=True))
        self.assertEqual([names(g) for g in groups], [["a0", "a1"], ["b0", "b1"]])

    def test_an_extra_key_splits_and_an_order_comes_before_the_name(self):
        got = waits_of(lambda: [asyncio.create_task(on_event(asyncio.Event()), name=n)
                                for n in ("a", "b", "c")])
        split = alike.groups(got, extra=lambda w: w.info["name"] == "b")
        self.assertEqual([names(g) for g in split], [["a", "c"], ["b"]])
        ordered = alike.groups(got, order=lambda w: w.info["name"] != "c")
        self.assertEqual([names(g) for g in ordered], [["c", "a", "b"]])

    def test_the_others_named_up_to_a_few_then_counted(self):
        got = waits_of(lambda: [asyncio.create_task(on_event(asyncio.Event()), name="w%d" % i)
                                for i in range(1200)])
        [group] = alike.groups(got)
        self.assertEqual(alike.others_text(group[:3]), "w1, w2")
        self.assertEqual(alike.others_text(group),
                         "w1, w2, w3, w4, w5, w6, w7, w8 and 1,191 more")

    def test_a_deadlock_line_tells_a_group_once(self):
        got = waits_of(lambda: [asyncio.create_task(on_event(asyncio.Event()), name="w%d" % i)
                                for i in range(3)])
        [group] = alike.groups(got)
        line = wait_text.line_of(group[0], group)
        self.assertRegex(line, r"^task w0 \(on_event\) and 2 more like it \(w1, w2\) wait at "
                               r".*test_diagnostics_alike\.py:\d+ in on_event on Event "
                               r"ev\.wait\(\), each on an Event of its own$")
        self.assertEqual(wait_text.line_of(group[0], group[:1]), wait_text.line_of(group[0]))


if __name__ == "__main__":
    unittest.main()
