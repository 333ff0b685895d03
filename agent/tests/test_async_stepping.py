"""Async-aware stepping, docs/async-semantics.md rules 1-7. Several tasks run the same
coroutine at once (with different delays), so a step that lands in another task at the same
line fails."""
from tests.async_support import HAVE_UVLOOP, TASK_ID_BASE, AsyncTestCase
from tests.harness import fixture, line_of, settrace_variant

WORKERS = fixture("async_workers.py")
KINDS = fixture("async_kinds.py")
MISC = fixture("async_misc.py")


class AsyncSteppingTests(AsyncTestCase):
    def test_next_over_await_sleep_and_coroutine_stays_in_the_task(self):
        s, tid = self.at(WORKERS, "worker-sleep", "n == 2")
        self.assertGreaterEqual(tid, TASK_ID_BASE)
        for marker in ("worker-helper", "worker-after", "worker-last"):
            self.assertEqual(self.step(s, tid, "next", WORKERS, marker, n=2), tid)

    def test_step_in_on_await_coroutine_then_out_at_its_end(self):
        s, tid = self.at(WORKERS, "worker-helper", "n == 2")
        self.assertEqual(self.step(s, tid, "stepIn", WORKERS, "helper-first", 2, "helper"), tid)
        self.step(s, tid, "next", WORKERS, "helper-sleep", 2)
        self.step(s, tid, "next", WORKERS, "helper-return", 2)
        # back in the awaiting coroutine, at the line that awaited
        self.step(s, tid, "next", WORKERS, "worker-helper", 2, "worker")
        self.step(s, tid, "next", WORKERS, "worker-after", 2)

    def test_step_in_at_the_end_of_awaited_coroutine_stops_at_the_awaiting_line(self):
        s, tid = self.at(WORKERS, "helper-return", "n == 2")
        self.assertEqual(self.step(s, tid, "stepIn", WORKERS, "worker-helper", 2, "worker"), tid)
        self.step(s, tid, "stepIn", WORKERS, "worker-after", 2)

    def test_step_out_of_awaited_coroutine(self):
        s, tid = self.at(WORKERS, "helper-first", "n == 3")
        self.assertEqual(self.step(s, tid, "stepOut", WORKERS, "worker-helper", 3, "worker"), tid)

    def test_step_in_on_library_await_is_a_step_over(self):
        for jmc in (True, False):
            s, tid = self.at(WORKERS, "worker-sleep", "n == 1", justMyCode=jmc)
            self.step(s, tid, "stepIn", WORKERS, "worker-helper", 1, "worker")
            self.step(s, tid, "next", WORKERS, "worker-after", 1)
            s.close()

    def test_end_of_task_stops_where_the_gathering_task_resumes(self):
        for command in ("next", "stepOut", "stepIn"):
            s, tid = self.at(WORKERS, "worker-last", "n == 2")
            main = self.step(s, tid, command, WORKERS, "main-after", name="main")
            self.assertNotEqual(main, tid)
            self.assertGreaterEqual(main, TASK_ID_BASE)
            s.close()

    def test_end_of_awaited_task_stops_in_its_awaiter(self):
        s, tid = self.at(WORKERS, "worker-last", "n == 5")
        self.step(s, tid, "next", WORKERS, "main-after-task", name="main")

    def test_end_of_task_nobody_awaits_is_a_continue(self):
        s, tid = self.at(WORKERS, "lone-last")
        s.request("next", {"threadId": tid})
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_breakpoint_in_another_task_ends_the_step(self):
        s, tid = self.at(WORKERS, "worker-sleep", "n == 2")
        s.request("setBreakpoints", {"source": {"path": WORKERS}, "breakpoints": [
            {"line": line_of(WORKERS, "helper-first"), "condition": "n == 1"}]})
        s.request("next", {"threadId": tid})
        st = s.stopped("breakpoint")
        self.assertNotEqual(st["threadId"], tid)
        self.assertEqual(self.local(s, s.top_frame(st["threadId"])["id"], "n"), "1")
        s.request("setBreakpoints", {"source": {"path": WORKERS}, "breakpoints": []})
        self.finishes_without_stopping(s)

    def test_next_over_queue_lock_async_with_async_for_event_future(self):
        s, tid = self.at(KINDS, "k-queue", "n == 2")
        # `async with` exits and `async for` loops come back to their own line, as in sync code
        for marker in ("k-lock", "k-lock-body", "k-lock", "k-guard", "k-guard-body", "k-guard",
                       "k-for", "k-for-body", "k-for", "k-for-body", "k-for", "k-event",
                       "k-fut-make"):
            self.assertEqual(self.step(s, tid, "next", KINDS, marker, n=2), tid)
        s.request("next", {"threadId": tid})
        s.stopped("step")
        self.step(s, tid, "next", KINDS, "k-fut", 2)
        self.step(s, tid, "next", KINDS, "k-end", 2)

    def test_step_in_on_async_with_enters_user_aenter(self):
        s, tid = self.at(KINDS, "k-guard", "n == 3")
        self.step(s, tid, "stepIn", KINDS, "guard-enter", name="__aenter__")
        s.request("stepOut", {"threadId": tid})
        st = s.stopped("step")
        frame = s.top_frame(st["threadId"])
        self.assertEqual(frame["name"], "consumer")
        self.assertEqual(self.local(s, frame["id"], "n"), "3")

    def test_end_of_task_group_child_stops_in_the_parent_after_the_group(self):
        s, tid = self.at(KINDS, "g-last", "n == 1")
        self.step(s, tid, "next", KINDS, "main-after-group", name="main")

    def test_steps_in_executor_threads_belong_to_that_thread(self):
        s, tid = self.at(MISC, "exec-first", "n == 2", args=("executor",))
        self.assertLess(tid, TASK_ID_BASE)
        for marker in ("exec-second", "exec-last"):
            self.assertEqual(self.step(s, tid, "next", MISC, marker, name="blocking"), tid)
            self.assertEqual(self.local(s, s.top_frame(tid)["id"], "n"), "2")
        s.request("next", {"threadId": tid})
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])


globals().update(settrace_variant(AsyncSteppingTests))

if HAVE_UVLOOP:
    class AsyncSteppingUvloopTests(AsyncSteppingTests):
        fixture_env = {"FIXTURE_UVLOOP": "1"}

        test_steps_in_executor_threads_belong_to_that_thread = None
