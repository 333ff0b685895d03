"""tasktime: exact per-task step counters on the loop's call_soon, on every kind of task."""
import asyncio
import sys
import time
import unittest

from tasklens_agent import tasktime, trace


class Sink:
    """Stands in for trace.Recorder: keeps what the loop thread hands over."""

    def __init__(self):
        self.steps, self.callbacks, self.done = [], [], []
        self.serials = {}
        self.pack_step = trace.STEP.pack     # the loop thread hands steps over packed
        self.add_step = lambda b: self.steps.append(self._step(*trace.unpack_steps([b])[0]))
        self.add_callback = lambda r: self.callbacks.append((r[1], r[3]))

    def _step(self, start, end, serial, waker, ready):
        return self.serials[serial], start, waker

    def task_seen(self, lt, st, task, now):
        self.serials[st.serial] = task

    def task_done(self, lt, st, now):
        self.done.append((st.name, st.outcome))

    def lag(self, lt, now, late):
        pass


async def hops(n):
    for _ in range(n):
        await asyncio.sleep(0)


class TaskTimeTest(unittest.TestCase):
    def setUp(self):
        self.owner = object()
        tasktime._leases.add(self.owner)
        self.addCleanup(tasktime.release, self.owner)

    def run_counted(self, body, runner=asyncio.run):
        async def main():
            loop = asyncio.get_running_loop()
            early = asyncio.create_task(hops(3), name="early")
            await asyncio.sleep(0)      # its first step runs before counting begins
            self.lt = tasktime.watch(loop)
            self.assertIsNotNone(self.lt)
            result = await body(loop)
            await early
            self.early = early
            return result
        return runner(main())

    def stats(self, task):
        for st in list(self.lt.stats.values()) + list(self.lt.finished):
            if st.key == id(task):
                return st
        raise AssertionError("no counters for %r" % task)

    def stats_or_none(self, task):
        try:
            return self.stats(task)
        except AssertionError:
            return None

    def test_steps_of_a_task_made_while_counting(self):
        async def body(loop):
            t = asyncio.create_task(hops(5), name="hopper")
            await t
            return t
        t = self.run_counted(body)
        st = self.stats(t)
        self.assertEqual(st.polls, 6)           # the first step and one per sleep(0)
        self.assertEqual(st.self_wakes, 5)
        self.assertEqual(st.outcome, "ok")
        self.assertEqual(sum(st.hist), 6)
        self.assertGreaterEqual(st.busy, 0.0)

    def test_a_task_dropped_while_pending_leaves_the_lookup(self):
        import gc

        async def body(loop):
            async def waits():
                await loop.create_future()      # only the task holds it: both go together
            t = asyncio.create_task(waits())
            await asyncio.sleep(0)      # its first step: counted, now it waits
            key = id(t)
            self.assertIs(tasktime.by_task[key].ref(), t)
            st = tasktime.by_task[key]
            t._log_destroy_pending = False
            del t
            gc.collect()
            self.assertNotIn(key, tasktime.by_task)
            self.assertNotIn(key, self.lt.stats)
            self.assertGreaterEqual(self.lt.done_steps, st.polls)   # its step stays in the totals
        self.run_counted(body)

    def test_wakes_and_the_loop_totals(self):
        async def body(loop):
            t = asyncio.create_task(hops(3))
            st = tasktime.by_task[id(t)]
            self.assertEqual((st.wakes, st.polls), (1, 0))     # scheduled, not run yet
            await t
            return t
        t = self.run_counted(body)
        st = self.stats(t)
        self.assertEqual((st.wakes, st.polls), (4, 4))
        self.assertGreaterEqual(self.lt.steps, 4)
        self.assertGreaterEqual(self.lt.busy, st.busy)

    def test_task_that_existed_before_counting_is_adopted(self):
        self.run_counted(lambda loop: asyncio.sleep(0.01))
        st = self.stats(self.early)
        self.assertGreaterEqual(st.polls, 1)
        self.assertLessEqual(st.polls, 3)

    def test_long_step_and_python_task(self):
        async def blocker():
            time.sleep(0.05)
            await asyncio.sleep(0)

        async def body(loop):
            t = asyncio.tasks._PyTask(blocker(), loop=loop, name="py")
            await t
            return t
        t = self.run_counted(body)
        st = self.stats(t)
        self.assertGreaterEqual(st.max_step, 0.05)
        self.assertEqual(st.polls, 2)

    @unittest.skipIf(sys.version_info < (3, 12), "eager tasks are 3.12+")
    def test_eager_task_counts_its_later_steps(self):
        async def body(loop):
            t = asyncio.Task(hops(4), loop=loop, name="eager", eager_start=True)
            await t
            return t
        t = self.run_counted(body)
        self.assertEqual(self.stats(t).polls, 4)    # the first ran inside its creator's step

    def test_wakes_name_their_waker(self):
        sink = Sink()
        tasktime.trace_sink = sink
        self.addCleanup(setattr, tasktime, "trace_sink", None)

        async def body(loop):
            q = asyncio.Queue()

            async def consumer():
                await q.get()

            async def producer():
                await asyncio.sleep(0.01)
                q.put_nowait(1)
            c = asyncio.create_task(consumer(), name="consumer")
            p = asyncio.create_task(producer(), name="producer")
            await asyncio.gather(c, p)
            return c, p
        c, p = self.run_counted(body)
        # a step (or timer callback) is known by its start time
        starts_of = {}
        for task, start, _ in sink.steps:
            starts_of.setdefault(task, []).append(start)
        woken = [waker for task, _, waker in sink.steps if task is c][-1]
        self.assertEqual(woken, starts_of[p][-1])     # the queue put in producer's last step
        timer_starts = {start for start, name in sink.callbacks if "set_result" in name}
        producer_wakers = [waker for task, _, waker in sink.steps if task is p]
        self.assertTrue(timer_starts & set(producer_wakers), (sink.callbacks, producer_wakers))
        self.assertIn(("consumer", "ok"), sink.done)

    def test_release_puts_the_loop_back(self):
        async def body(loop):
            cls = type(loop)
            self.assertNotIn("_call_soon", loop.__dict__)   # on the class, not the object
            self.assertTrue(cls._call_soon._tasklens_time)
            tasktime.release(self.owner)
            for name in ("_call_soon", "call_soon", "call_later", "call_at"):
                self.assertNotIn(name, cls.__dict__)
                self.assertIs(getattr(cls, name), getattr(asyncio.BaseEventLoop, name))
            t = asyncio.create_task(hops(2))
            await t
            self.assertIsNone(self.stats_or_none(t))
        self.run_counted(body)

    def test_a_step_runs_in_the_loop_handle_with_no_frame_between(self):
        seen = []

        async def step():
            frame = sys._getframe().f_back
            seen.append((frame.f_code.co_name, frame.f_back.f_code.co_name,
                         type(frame.f_locals["self"])))

        async def body(loop):
            t = asyncio.create_task(step())
            await t
            return t
        t = self.run_counted(body)
        self.assertEqual(seen[0][:2], ("_run", "_run_once"))
        self.assertIsInstance(seen[0][2], type)     # asyncio's handle class, one slot more
        self.assertTrue(issubclass(seen[0][2], asyncio.Handle))
        self.assertEqual(seen[0][2].__name__, "Handle")
        self.assertEqual(self.stats(t).polls, 1)

    def test_a_task_method_that_raises_is_reported_as_asyncio_does(self):
        reported = []

        async def body(loop):
            loop.set_exception_handler(lambda loop, context: reported.append(context))
            t = asyncio.create_task(asyncio.sleep(0.01), name="sleeper")
            loop.call_soon(t.set_name)      # a TypeError: no name given
            await t
            return t
        self.run_counted(body)
        self.assertEqual(len(reported), 1)
        self.assertIn("Exception in callback", reported[0]["message"])
        self.assertIsInstance(reported[0]["exception"], TypeError)
        self.assertIsInstance(reported[0]["handle"], asyncio.Handle)

    def test_a_subclass_of_a_loop_class_counted_already(self):
        class Sub(asyncio.SelectorEventLoop):
            pass

        async def body(loop):
            t = asyncio.create_task(hops(2))
            await t
            return t
        self.run_counted(lambda loop: asyncio.sleep(0))     # its base class is wrapped
        sub = Sub()
        try:
            t = self.run_counted(body, runner=lambda coro: sub.run_until_complete(coro))
        finally:
            sub.close()
        self.assertEqual(self.stats(t).polls, 3)

    def test_uvloop(self):
        try:
            import uvloop
        except ImportError:
            self.skipTest("uvloop is not installed for this interpreter")

        async def body(loop):
            t = asyncio.create_task(hops(5))
            await t
            return t
        t = self.run_counted(body, runner=uvloop.run)
        self.assertEqual(self.stats(t).polls, 6)

    def test_percentile(self):
        hist = [0] * 32
        hist[3], hist[10] = 90, 10      # 90 steps under 8 µs, 10 under 1 ms
        self.assertEqual(tasktime.percentile(hist, 0.5, 1.0), 8e-6)
        self.assertEqual(tasktime.percentile(hist, 0.99, 1.0), 1024e-6)
        self.assertEqual(tasktime.percentile(hist, 0.99, 0.0005), 0.0005)


class ScreenfulTest(unittest.TestCase):
    """taskTimes with a limit (the live screen): sorted, filtered and cut by the agent."""

    def test_only_the_rows_asked_come_in_the_order_asked(self):
        from tasklens_agent import topview
        owner = object()
        tasktime.acquire(owner)
        self.addCleanup(tasktime.release, owner)

        async def worker(n, go):
            for _ in range(n):
                await asyncio.sleep(0)
            await go.wait()

        async def main():
            tasktime.watch(asyncio.get_running_loop())
            go = asyncio.Event()
            tasks = [asyncio.create_task(worker(n, go), name="w-%d" % n) for n in range(30)]
            await asyncio.sleep(0.05)
            ask = lambda args: asyncio.get_running_loop().run_in_executor(  # noqa: E731
                None, topview.task_times, None, args)
            top = await ask({"limit": 5, "sort": "polls"})
            low = await ask({"limit": 3, "sort": "polls", "reverse": True, "filter": "W-1",
                             "detail": [id(tasks[29])]})
            go.set()
            await asyncio.gather(*tasks)
            return top, low
        top, low = asyncio.run(main())
        self.assertEqual([r["name"] for r in top["tasks"]], ["w-29", "w-28", "w-27", "w-26", "w-25"])
        self.assertEqual(top["matched"], 31)        # and main
        self.assertTrue(all("stack" in r and "p50" in r["times"] for r in top["tasks"]))
        self.assertEqual(sum(top["loops"][0]["tasks"].values()), 31)
        # filter "w-1": w-1 and w-10..w-19, the fewest polls first; the detail asked comes too
        self.assertEqual([r["name"] for r in low["tasks"]], ["w-1", "w-10", "w-11", "w-29"])
        self.assertEqual(low["matched"], 11)


class BlockedLoopTest(unittest.TestCase):
    def test_a_step_that_blocks_counts_busy_while_it_blocks(self):
        """Asked while a task's step holds the loop (time.sleep), `top` shows that task busy
        for as long as it has blocked, and the loop busy, not idle until the step ends."""
        import threading
        from tasklens_agent import topview
        owner = object()
        tasktime.acquire(owner)
        self.addCleanup(tasktime.release, owner)
        seen = {}

        def ask_meanwhile():
            time.sleep(0.3)
            seen["answer"] = topview.task_times(None, {"detail": []})   # compact rows

        async def hog():
            await asyncio.sleep(0)
            time.sleep(0.6)

        async def main():
            tasktime.watch(asyncio.get_running_loop())
            task = asyncio.create_task(hog(), name="hog")
            await asyncio.sleep(0)
            asker = threading.Thread(target=ask_meanwhile)
            asker.start()
            await task
            asker.join()
        asyncio.run(main())
        answer = seen["answer"]
        row = next(r for r in answer["tasks"] if r["name"] == "hog")
        self.assertEqual(row["times"]["state"], "running")
        self.assertGreaterEqual(row["times"]["busy"], 0.25)
        self.assertGreaterEqual(row["times"]["maxStep"], 0.25)
        self.assertLess(row["times"]["idle"], 0.1)
        self.assertGreaterEqual(answer["loops"][0]["busy"], 0.25)


class TraceFileTest(unittest.TestCase):
    def test_writes_gzip_and_json(self):
        import gzip
        import json
        import os
        import tempfile
        folder = tempfile.mkdtemp()
        rec = trace.Recorder(os.path.join(folder, "t.json.gz"), 10)
        path, events, size = rec.write()
        with gzip.open(path, "rt") as f:
            doc = json.load(f)
        self.assertEqual(len(doc["traceEvents"]), events)
        self.assertEqual(os.path.getsize(path), size)


if __name__ == "__main__":
    unittest.main()
