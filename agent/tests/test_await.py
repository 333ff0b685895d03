"""`await` in the console (await_eval.py): coroutines run to their value on a fresh loop, the
paused loop's pending futures are refused, timeouts cancel, statements write to the frame, and
the program's loop runs on afterwards as if nothing happened."""
import os
import unittest

from tasklens_agent.errors import AgentError
from tests.harness import AGENT_DIR, AgentTestCase, line_of, settrace_variant

# The end-to-end tests' program (test/console_await.test.ts), run here on the default loop.
PROGRAM = os.path.join(os.path.dirname(AGENT_DIR), "test", "fixtures", "console_await.py")


class StoppedInATask(AgentTestCase):
    """Stopped at STOP in the `stopper` task, with awaitTimeout 1 s."""

    def setUp(self):
        self.s, st = self.run_to(PROGRAM, "STOP", awaitTimeout=1)
        self.tid = st["threadId"]
        self.frame = self.s.top_frame(self.tid)["id"]

    def evaluate(self, text, frame=None, context="repl"):
        return self.s.request_raw("evaluate", {"expression": text, "context": context,
                                               "frameId": frame or self.frame})

    def value(self, text, frame=None):
        """The result without the note on what the paused loop ran meanwhile."""
        return self.noted(text, frame)[0]

    def noted(self, text, frame=None):
        resp = self.evaluate(text, frame)
        self.assertTrue(resp["success"], resp)
        result = resp["body"]["result"]
        if result.startswith("(the paused event loop ran"):
            return "", result
        value, _, note = result.partition("   (the paused event loop ran")
        return value, note

    def error(self, text, frame=None, context="repl"):
        resp = self.evaluate(text, frame, context)
        self.assertFalse(resp["success"], resp)
        return resp["error"], resp["message"]

    def ends_normally(self, expected_total, queued=1):
        self.s.request("continue")
        code, out, err = self.s.finish()
        self.assertEqual(code, 0, err)
        self.assertIn("total %d ready ready left in queue %d" % (expected_total, queued), out)
        self.assertNotIn("Traceback", err)
        return out


class AwaitTests(StoppedInATask):
    def test_coroutines_run_to_their_value(self):
        self.assertEqual(self.value("await asyncio.sleep(0, result=5)"), "5")
        self.assertEqual(self.value("await fetch(3)"), "42")
        self.assertEqual(self.value("await finished"), "14")     # done: no loop needed
        self.assertEqual(self.value("[t async for t in ticks(3)]"), "[0, 1, 2]")
        self.assertEqual(self.value("counter"), "1")
        self.ends_normally(1)

    def test_statement_with_await_assigns_in_the_frame(self):
        self.assertEqual(self.value("counter = await fetch(2)"), "")
        self.assertEqual(self.value("counter"), "28")
        self.assertEqual(self.value("async with asyncio.timeout(1): counter += await fetch(1)"),
                         "")
        self.assertEqual(self.value("counter"), "42")
        out = self.ends_normally(42)        # the parked task saw the value through its future
        self.assertIn("stop 42", out)

    def test_timeout_cancels(self):
        code, message = self.error("await asyncio.sleep(30)")
        self.assertEqual(code, "timeout")
        self.assertIn("still waiting after 1 s: cancelled", message)
        self.assertEqual(self.value("await asyncio.sleep(0, result=7)"), "7")
        self.ends_normally(1)

    def test_console_code_that_blocks_is_interrupted_on_the_paused_loop(self):
        code, message = self.error(
            "await asyncio.sleep(0); [__import__('time').sleep(0.01) for _ in range(1000)]")
        self.assertEqual(code, "timeout", message)
        self.assertIn("interrupted", message)
        self.ends_normally(1)

    def test_errors(self):
        _, message = self.error("await (")
        self.assertIn("SyntaxError", message)
        _, message = self.error("await fetch(1)", context="watch")
        self.assertIn("SyntaxError", message)       # the console only
        _, message = self.error("await fetch('x', None)")
        self.assertIn("TypeError", message)
        self.ends_normally(1)

    def test_in_a_suspended_tasks_frame(self):
        threads = self.s.request("threads")["threads"]
        parked = next(t for t in threads if "(parked)" in t["name"])
        top = self.s.top_frame(parked["id"])
        self.assertEqual(top["line"], line_of(PROGRAM, "SUSPENDED"))
        self.assertEqual(self.value("seen = await fetch(3)", top["id"]), "")
        self.assertEqual(self.value("seen", top["id"]), "42")
        self.ends_normally(43)

    def test_completions_offer_await(self):
        targets = self.s.request("completions", {"text": "aw", "frameId": self.frame})["targets"]
        self.assertIn({"label": "await", "type": "keyword", "start": 0, "length": 2}, targets)
        labels = [t["label"] for t in self.s.request(
            "completions", {"text": "await fin", "frameId": self.frame})["targets"]]
        self.assertIn("finished", labels)
        self.ends_normally(1)


class PausedLoopTests(StoppedInATask):
    """The turn of the paused loop, also with the settrace backend (3.12+), where the stopped
    thread waits inside a trace function instead of a monitoring callback."""

    def test_the_paused_loop_runs_for_its_own_futures_queues_and_locks(self):
        value, note = self.noted("await ready")
        self.assertEqual(value, "'ready'")
        self.assertRegex(note, r"^ [\d.]+ s for this; meanwhile \d other tasks? ran: .*producer")
        self.assertEqual(self.value("await queue.get()"), "7")
        self.assertEqual(self.value("async with lock: counter = 100"), "")
        self.assertEqual(self.value("lock.locked(), counter"), "(False, 100)")
        code, message = self.error("await pending")   # only the stopped task completes it
        self.assertEqual(code, "timeout")
        self.assertIn("`await pending` was still waiting after 1 s: cancelled", message)
        self.assertEqual(self.value("pending.cancelled(), parked.done()"), "(False, False)")
        threads = [e["threadId"] for e in self.s.events("thread") if e["reason"] == "exited"]
        self.assertEqual(len(threads), 2, "producer and holder ended: thread events")
        out = self.ends_normally(100, queued=0)
        self.assertIn("stop 100", out)


class AwaitOffTheLoopTests(AgentTestCase):
    def test_a_fresh_loop_refuses_another_loops_future_and_frees_a_queue(self):
        s, st = self.run_to("await_threads.py", "STOP", awaitTimeout=1)
        frame = s.top_frame(st["threadId"])["id"]

        def evaluate(text):
            return s.request_raw("evaluate", {"expression": text, "context": "repl",
                                              "frameId": frame})
        self.assertEqual(evaluate("await asyncio.sleep(0.01, result=value)")["body"]["result"],
                         "3")
        refused = evaluate("await fut")
        self.assertEqual(refused["error"], "evalError")
        self.assertIn("belongs to a paused event loop that cannot run from this thread",
                      refused["message"])
        waited = evaluate("await queue.get()")
        self.assertIn("was still waiting after 1 s: cancelled", waited["message"])
        self.assertEqual(evaluate("fut.done(), queue._loop")["body"]["result"], "(False, None)")
        s.request("continue")
        code, out, err = s.finish()
        self.assertEqual(code, 0, err)
        self.assertIn("served 3", out)


class AwaitWithoutAsyncioTests(AgentTestCase):
    def test_program_without_asyncio(self):
        s, st = self.run_to("values.py", "inspect-here")
        frame = s.top_frame(st["threadId"])["id"]
        resp = s.request("evaluate", {"expression": "await __import__('asyncio').sleep(0, 3)",
                                      "context": "repl", "frameId": frame})
        self.assertEqual(resp["result"], "3")


globals().update(settrace_variant(PausedLoopTests))


class RefusalWordsTest(unittest.TestCase):
    def test_a_queue_bound_to_the_paused_loop_is_named_in_one_sentence(self):
        """asyncio's own words for a queue or lock of another loop ("<Queue …> is bound to a
        different event loop") are not pasted whole into the refusal's sentence."""
        from tasklens_agent import await_eval

        class Done:
            timed_out = False
        import asyncio

        async def bound():
            raise RuntimeError("<Queue at 0x1 maxsize=0> is bound to a different event loop")
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(bound())
            loop.run_until_complete(asyncio.wait([task]))
        finally:
            loop.close()
        with self.assertRaises(AgentError) as caught:
            await_eval._outcome(task, Done(), "await q.join()")
        self.assertTrue(str(caught.exception.message).startswith(
            "cannot wait for <Queue at 0x1 maxsize=0> here: it belongs to a paused event loop"),
            caught.exception.message)
