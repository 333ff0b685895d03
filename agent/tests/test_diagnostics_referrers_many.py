"""Who holds what many tasks wait on, found for all the objects at once (referrers.py's
`referring_tasks_many`: from the tasks down) says what the one-by-one walk up says
of each: a local, a container, an attribute of an object a task holds (`self.queue`), a
module global, and a task whose code names no completing method; and waits.build uses it
past ONE_BY_ONE objects. Also: the verdicts leave no reference cycle behind, and neither does
a look at the other threads' frames (threads.other_frames), so a refresh of `top` gives the
program's cyclic collector nothing to do."""
import asyncio
import gc
import sys
import unittest

from tasklens_agent import threads
from tasklens_agent.diagnostics import referrers
from tasklens_agent.diagnostics import verdicts
from tasklens_agent.diagnostics import waits

SHARED = asyncio.Event      # replaced by an Event in the scenario: a module global


class Service:
    def __init__(self):
        self.queue = asyncio.Queue()

    async def feed(self):
        await asyncio.sleep(60)
        self.queue.put_nowait(1)


async def setter(event):
    await asyncio.sleep(60)
    event.set()


async def looker(event):
    await asyncio.sleep(60)
    return event.is_set()       # names no completing method


async def lister(events):
    await asyncio.sleep(60)
    for e in events:
        e.set()


async def waiter(obj):
    if isinstance(obj, asyncio.Queue):
        return await obj.get()
    return await obj.wait()


def both_ways():
    """For each object waited on: (the one-by-one answer, the all-at-once answer), as
    (sorted names of the tasks able to complete it, whether a module global refers to it)."""
    async def scenario():
        global SHARED
        SHARED = asyncio.Event()
        service = Service()
        events = [asyncio.Event() for _ in range(20)]
        kept = [asyncio.Event(), asyncio.Event()]
        objs = events + kept + [service.queue, SHARED]
        tasks = [asyncio.create_task(setter(e), name="setter-%d" % i)
                 for i, e in enumerate(events[:10])]
        tasks += [asyncio.create_task(looker(e), name="looker-%d" % i)
                  for i, e in enumerate(events[10:])]
        tasks.append(asyncio.create_task(lister(kept), name="lister"))
        tasks.append(asyncio.create_task(service.feed(), name="feeder"))
        tasks += [asyncio.create_task(waiter(o), name="waiter-%d" % i) for i, o in enumerate(objs)]
        await asyncio.sleep(0.05)
        owners = referrers.tasks_by_coroutine(tasks)
        many = referrers.referring_tasks_many(objs, owners, (waits.Wait,))
        out = []
        for obj in objs:
            names = ("put_nowait",) if obj is service.queue else ("set",)
            one, glob = referrers.referring_tasks(obj, owners, names, (waits.Wait,))
            entries, glob_many = many[id(obj)]
            out.append(((sorted(t.get_name() for t in one), glob),
                        (sorted(t.get_name() for t in referrers.completing(entries, names)),
                         glob_many)))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return out
    return asyncio.run(scenario())


class AllAtOnce(unittest.TestCase):
    def test_the_same_answer_as_one_by_one(self):
        answers = both_ways()
        for one, many in answers:
            self.assertEqual(one, many)
        found = [one for one, _ in answers]
        # what the scenario holds, so that agreeing is not agreeing on nothing
        self.assertIn("setter-3", found[3][0])
        self.assertNotIn("looker-3", found[13][0])      # its code sets nothing
        self.assertIn("lister", found[20][0])           # through a list in its frame
        self.assertIn("feeder", found[22][0])           # through `self.queue`
        self.assertTrue(found[23][1])                   # a module global

    def test_the_walk_down_starts_at_coroutines_as_their_frames_hold_nothing(self):
        """What the walk down leaves out relies on it: a suspended coroutine's frame object
        has no referents (the locals are the coroutine's), on every interpreter."""
        async def holder(queue):
            kept = [queue]
            await queue.get()
            return kept

        async def scenario():
            queue = asyncio.Queue()
            task = asyncio.create_task(holder(queue))
            await asyncio.sleep(0)
            coro = task.get_coro()
            owners = referrers.tasks_by_coroutine([task])
            try:
                return (gc.get_referents(coro.cr_frame), queue in gc.get_referents(coro),
                        id(coro.cr_frame) in owners, [type(r) for r in owners.roots])
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        frame_refs, in_coro, frame_owned, roots = asyncio.run(scenario())
        self.assertEqual(frame_refs, [])
        self.assertTrue(in_coro)
        self.assertTrue(frame_owned)        # the walk up still meets it as a referrer
        self.assertNotIn(type(sys._getframe()), roots)

    def test_the_work_is_what_the_tasks_hold_not_the_heap(self):
        """From the tasks down, each holder looked into once: 200,000 objects no task holds
        add no look, and one list of every object, held by 30 tasks (the walk up met it once
        per object), is looked into once."""
        looked = []
        real = referrers._referents

        def spy(x):
            looked.append(x)
            return real(x)
        referrers._referents = spy
        self.addCleanup(setattr, referrers, "_referents", real)

        async def scenario():
            events = [asyncio.Event() for _ in range(30)]
            tasks = [asyncio.create_task(lister(events)) for _ in range(30)]
            tasks += [asyncio.create_task(e.wait()) for e in events]
            await asyncio.sleep(0.01)
            looked.clear()
            held = referrers.referring_tasks_many(events, referrers.tasks_by_coroutine(tasks))
            seen = list(looked)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return events, held, seen
        events, held, seen = asyncio.run(scenario())
        self.assertEqual(sum(1 for x in seen if x is events), 1)
        for e in events:    # the 30 listers, and the task waiting on it (its own frame)
            codes = [code.co_name for _, code in held[id(e)][0]]
            self.assertEqual((codes.count("lister"), len(codes)), (30, 31), codes)
        unrelated = [[i] for i in range(200_000)]
        _, _, again = asyncio.run(scenario())
        del unrelated
        self.assertLessEqual(len(again), len(seen) + 5, (len(again), len(seen)))
        self.assertLess(len(seen), 1000)

    def test_build_takes_the_batch_past_one_by_one(self):
        calls = []
        real = referrers.referring_tasks_many

        def spy(objs, owners, skip=()):
            calls.append(len(objs))
            return real(objs, owners, skip)
        referrers.referring_tasks_many = spy
        self.addCleanup(setattr, referrers, "referring_tasks_many", real)

        async def scenario(count):
            events = [asyncio.Event() for _ in range(count)]
            tasks = [asyncio.create_task(e.wait()) for e in events]
            await asyncio.sleep(0.01)
            built = waits.build(tasks, lambda obj: [])
            whys = [w.why for w in built.values()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return whys
        few = asyncio.run(scenario(referrers.ONE_BY_ONE))
        self.assertEqual(calls, [])
        many = asyncio.run(scenario(referrers.ONE_BY_ONE + 5))
        self.assertEqual(calls, [referrers.ONE_BY_ONE + 5])
        self.assertTrue(all(w.startswith("no other live task uses this Event") for w in few + many),
                        few + many)


def cyclic_garbage(fn):
    """How many objects `fn()` leaves that only the cyclic collector can free."""
    gc.collect()
    gc.disable()
    try:
        fn()
        return gc.collect()
    finally:
        gc.enable()


class NoCycles(unittest.TestCase):
    def test_other_frames_leaves_no_cycle(self):
        def keeps_all():
            frames = sys._current_frames()   # the hazard: our own frame among them
            return len(frames)

        def keeps_others():
            frames = threads.other_frames()
            return len(frames)
        self.assertGreater(cyclic_garbage(keeps_all), 0)
        self.assertEqual(cyclic_garbage(keeps_others), 0)

    def test_a_verdict_leaves_no_cycle(self):
        async def scenario():
            loop = asyncio.get_running_loop()
            events = [asyncio.Event() for _ in range(5)]
            tasks = [asyncio.create_task(e.wait()) for e in events]
            await asyncio.sleep(0.01)
            whys = []       # what a report reads of them; not the Waits, which would be kept
            left = cyclic_garbage(lambda: whys.extend(
                w.why for w in
                verdicts.Judge(loop, threads.threading.get_ident(), tasks).hopeless(tasks)))
            stuck = len(whys)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return left, stuck, whys
        left, stuck, whys = asyncio.run(scenario())
        self.assertEqual(stuck, 5)
        self.assertTrue(all(whys), whys)     # explained before they let go of their context
        self.assertEqual(left, 0)


if __name__ == "__main__":
    unittest.main()
