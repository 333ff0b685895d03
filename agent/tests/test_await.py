"""`await` in the console (await_eval.py): coroutines run to their value on a fresh loop, the
paused loop's pending futures are refused, timeouts cancel, statements write to the frame, and
the program's loop runs on afterwards as if nothing happened."""
from tests.harness import AgentTestCase, fixture, line_of, settrace_variant

PROGRAM = fixture("await_console.py")


class AwaitTests(AgentTestCase):
    def setUp(self):
        self.s, st = self.run_to("await_console.py", "STOP", awaitTimeout=1)
        self.tid = st["threadId"]
        self.frame = self.s.top_frame(self.tid)["id"]

    def evaluate(self, text, frame=None, context="repl"):
        return self.s.request_raw("evaluate", {"expression": text, "context": context,
                                               "frameId": frame or self.frame})

    def value(self, text, frame=None):
        resp = self.evaluate(text, frame)
        self.assertTrue(resp["success"], resp)
        return resp["body"]["result"]

    def error(self, text, frame=None, context="repl"):
        resp = self.evaluate(text, frame, context)
        self.assertFalse(resp["success"], resp)
        return resp["error"], resp["message"]

    def ends_normally(self, expected_total):
        self.s.request("continue")
        code, out, err = self.s.finish()
        self.assertEqual(code, 0, err)
        self.assertIn("total %d" % expected_total, out)
        self.assertNotIn("Traceback", err)

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
        self.s.request("continue")
        code, out, err = self.s.finish()
        self.assertIn("stop 42", out)
        self.assertIn("total 42", out)      # the parked task saw the new value through its future

    def test_future_of_the_paused_loop_is_refused(self):
        code, message = self.error("await pending")
        self.assertEqual(code, "evalError")
        self.assertIn("belongs to the paused event loop", message)
        self.assertIn("Future pending", message)
        _, message = self.error("await parked")
        self.assertIn("Task pending", message)
        self.assertEqual(self.value("pending.done()"), "False")
        self.ends_normally(1)

    def test_timeout_cancels(self):
        code, message = self.error("await asyncio.sleep(30)")
        self.assertEqual(code, "timeout")
        self.assertIn("still waiting after 1 s: cancelled", message)
        self.assertEqual(self.value("await asyncio.sleep(0, result=7)"), "7")
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


class AwaitWithoutAsyncioTests(AgentTestCase):
    def test_program_without_asyncio(self):
        s, st = self.run_to("values.py", "inspect-here")
        frame = s.top_frame(st["threadId"])["id"]
        resp = s.request("evaluate", {"expression": "await __import__('asyncio').sleep(0, 3)",
                                      "context": "repl", "frameId": frame})
        self.assertEqual(resp["result"], "3")


globals().update(settrace_variant(AwaitTests))
