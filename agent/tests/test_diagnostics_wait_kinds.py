"""Waits asyncio builds of others are named by the outer one (diagnostics/waits.py):
`Queue.join()` is a wait on the queue (its workers' `task_done` ends it), not on an Event of
the queue's that no task refers to; `Barrier.wait()` a wait on the barrier (another party's
`wait` ends it), not on its Condition. A live task that will call those can end the wait; once
none is left, nothing can. A Semaphore at 0 that no task took has no holder to name. What a
task waits on is named as its code names it, a local or a module global (`Lock GUARD`)."""
import asyncio
import unittest

from tasklens_agent.diagnostics import waits

GUARD = None    # a module-level lock, made in the scenario (asyncio's objects bind a loop)


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


def wait_of(make):
    """(kind, what, names of the tasks that could end it) of the waiting task `make` returns,
    with the other tasks it made still pending."""
    async def scenario():
        waiting, others = make()
        await settle()
        pending = [t for t in [waiting, *others] if not t.done()]
        built = waits.build([waiting], lambda obj: [], everyone=pending)
        w = built[id(waiting)]
        out = (w.kind, w.what, sorted(t.get_name() for t, _ in w.edges))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return out
    return asyncio.run(scenario())


async def worker(queue):
    await queue.get()
    await asyncio.sleep(60)     # long over the item, then done with it
    queue.task_done()


async def party(barrier, delay):
    await asyncio.sleep(delay)
    await barrier.wait()


class QueueJoin(unittest.TestCase):
    def make(self, alive):
        def made():
            queue = asyncio.Queue()
            queue.put_nowait(1)
            return (asyncio.create_task(queue.join(), name="joiner"),
                    [asyncio.create_task(worker(queue), name="worker")] if alive else [])
        return made

    def test_a_worker_still_on_the_item_can_end_it(self):
        kind, what, enders = wait_of(self.make(alive=True))
        self.assertEqual((kind, enders), ("queue", ["worker"]))
        self.assertEqual(what, "Queue.join() (1 unfinished)")

    def test_with_no_worker_nothing_can(self):
        self.assertEqual(wait_of(self.make(alive=False))[::2], ("queue", []))


class BarrierWait(unittest.TestCase):
    def make(self, late):
        def made():
            barrier = asyncio.Barrier(3)
            first = asyncio.create_task(party(barrier, 0), name="first")
            others = [asyncio.create_task(party(barrier, 0), name="second")]
            if late:
                others.append(asyncio.create_task(party(barrier, 60), name="late"))
            return first, others
        return made

    def test_a_party_yet_to_come_can_end_it(self):
        kind, what, enders = wait_of(self.make(late=True))
        self.assertEqual((kind, enders), ("barrier", ["late"]))
        self.assertEqual(what, "Barrier barrier.wait() (2 of 3 parties waiting)")    # as party() names it

    def test_with_the_last_party_missing_nothing_can(self):
        self.assertEqual(wait_of(self.make(late=False))[::2], ("barrier", []))



class SemaphoreAtZero(unittest.TestCase):
    def test_no_holder_is_invented_for_a_counter_at_zero(self):
        async def scenario():
            sem = asyncio.Semaphore(0)

            async def worker():
                async with sem:
                    pass
            task = asyncio.create_task(worker(), name="worker")
            await settle()
            w = waits.build([task], lambda obj: [], everyone=[task])[id(task)]
            why = (w.kind, w.why, w.edges)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return why
        kind, why, edges = asyncio.run(scenario())
        self.assertEqual((kind, edges), ("lock", []))
        self.assertIn("its counter is 0", why)
        self.assertIn("only a release() frees it", why)
        self.assertNotIn("held", why)


class NamedAsTheCodeNamesIt(unittest.TestCase):
    def test_a_local_and_a_module_global(self):
        async def scenario():
            global GUARD
            GUARD = asyncio.Lock()
            mine = asyncio.Lock()

            async def take_global():
                async with GUARD:
                    pass

            async def take_local(lock):
                async with lock:
                    pass
            await GUARD.acquire()
            await mine.acquire()
            tasks = [asyncio.create_task(take_global()), asyncio.create_task(take_local(mine))]
            await settle()
            built = waits.build(tasks, lambda obj: [], everyone=tasks)
            named = [(built[id(t)].short, built[id(t)].what) for t in tasks]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            GUARD = None
            return named
        self.assertEqual(asyncio.run(scenario()), [("Lock GUARD", "Lock GUARD.acquire()"),
                                                   ("Lock lock", "Lock lock.acquire()")])

if __name__ == "__main__":
    unittest.main()
