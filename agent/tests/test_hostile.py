"""Hostile objects in a stopped frame: every variable is listed, each shown as itself."""
import os
import sys
import time

from tests.harness import AGENT_DIR, AgentTestCase, line_of, settrace_variant

HOSTILE = os.path.join(os.path.dirname(AGENT_DIR), "test", "fixtures", "hostile_values.py")


class HostileValuesTests(AgentTestCase):
    def setUp(self):
        self.s = self.launch(HOSTILE, "main", "0.5")
        self.s.handshake()
        self.s.request("setBreakpoints", {"source": {"path": HOSTILE}, "breakpoints": [
            {"line": line_of(HOSTILE, "inspect-here")}]})
        self.s.start()
        self.tid = self.s.stopped("breakpoint")["threadId"]
        self.frame = self.s.top_frame(self.tid)

    def children(self, ref):
        body = self.s.request("variables", {"variablesReference": ref})
        return {v["name"]: v for v in body["variables"]}

    def test_every_local_is_listed_as_itself(self):
        v = self.s.locals(self.frame["id"])
        self.assertEqual(set(v), {
            "plain", "bad_attrs", "bad_dir", "bad_len", "bad_key_dict", "slow", "spin_repr",
            "sleep_repr", "huge", "slow_class", "bad_dict", "loud", "weird", "half", "nested",
            "text"})
        self.assertEqual(v["plain"]["value"], "42")
        self.assertRegex(v["bad_attrs"]["value"], r"^<__main__\.BadAttrs object at ")
        self.assertEqual(v["bad_len"]["value"], "[1, 2, 3]")
        self.assertEqual(v["bad_len"]["indexedVariables"], 3)
        self.assertEqual(v["bad_key_dict"]["value"], "{BadKey(): 'value', 'ok': 1}")
        self.assertEqual(v["spin_repr"]["value"], "<SpinRepr object: repr timed out after 1.0 s>")
        self.assertRegex(v["sleep_repr"]["value"], r"^<SleepRepr object: repr (timed out|skip)")
        self.assertTrue(v["huge"]["value"].endswith("\u2026 (repr of 5,000,000 characters)"))
        self.assertTrue(v["text"]["value"].endswith("\u2026 (100,000 characters)"))
        self.assertTrue(v["loud"]["value"].endswith("\u2026 (10,000 characters)"))
        self.assertEqual(v["weird"]["type"], "__main__.Weird")
        self.assertEqual(v["half"]["value"], "<HalfBuilt object: repr failed: AttributeError: "
                                             "'HalfBuilt' object has no attribute 'name'>")
        self.assertRegex(v["slow_class"]["value"], r"^<__main__\.SlowClass object at ")
        self.assertRegex(v["bad_dict"]["value"], r"^<__main__\.BadDict object at ")

    def test_children_and_globals(self):
        v = self.s.locals(self.frame["id"])
        self.assertEqual([c["value"] for c in self.children(
            v["bad_len"]["variablesReference"]).values()], ["1", "2", "3"])
        self.assertEqual(set(self.children(v["bad_key_dict"]["variablesReference"])),
                         {"BadKey()", "'ok'"})
        nested = self.children(v["nested"]["variablesReference"])
        self.assertEqual(len(nested), 4)
        self.assertIn("timed out", nested["1"]["value"])
        scopes = self.s.request("scopes", {"frameId": self.frame["id"]})["scopes"]
        glob = self.children(scopes[1]["variablesReference"])
        self.assertEqual(glob["BadKey()"]["value"], "'a global with a hostile key'")
        self.assertNotIn("evaluateName", glob["BadKey()"])
        self.assertIn("main", glob)


class DeadlineTests(AgentTestCase):
    """evaluateTimeout 1 s: user code is cut at its deadline or left to finish in native code."""

    def stop_in_main(self, sleep="3"):
        s = self.launch(HOSTILE, "main", sleep)
        s.handshake(evaluateTimeout=1)
        s.request("setBreakpoints", {"source": {"path": HOSTILE}, "breakpoints": [
            {"line": line_of(HOSTILE, "inspect-here")}]})
        s.start()
        tid = s.stopped("breakpoint")["threadId"]
        return s, tid, s.top_frame(tid)["id"]

    def evaluate(self, s, frame, expression):
        return s.request_raw("evaluate", {"expression": expression, "frameId": frame,
                                          "context": "repl"})

    def test_python_code_is_interrupted_and_the_program_goes_on(self):
        s, tid, frame = self.stop_in_main()
        for expression in ("spin()", "sum(1 for _ in range(10**10))"):
            resp = self.evaluate(s, frame, expression)
            self.assertEqual((resp["success"], resp["message"]),
                             (False, "still running after 1 s; interrupted"))
        self.assertEqual(self.evaluate(s, frame, "plain")["body"]["result"], "42")
        s.request("continue", {"threadId": tid})
        self.assertEqual(s.finish()[:2], (7, "inspected\n"))

    def test_native_code_finishes_later_on_the_console(self):
        s, tid, frame = self.stop_in_main("3")
        resp = self.evaluate(s, frame, "slow.value")
        self.assertFalse(resp["success"])
        self.assertIn("printed to the console when it finishes", resp["message"])
        # Meanwhile: what does not need the busy thread is answered, what does says why not.
        self.assertEqual(len(s.request("stackTrace", {"threadId": tid})["stackFrames"]), 2)
        self.assertIn("plain", s.locals(frame))
        self.assertIn("still running `slow.value`", self.evaluate(s, frame, "plain")["message"])
        step = s.request_raw("next", {"threadId": tid})
        self.assertIn("cannot step", step["message"])
        late = s.wait_event("output", timeout=10)
        self.assertEqual(late["output"].split(": ", 1)[1], "'slept'\n")
        self.assertEqual(self.evaluate(s, frame, "plain")["body"]["result"], "42")
        s.request("continue", {"threadId": tid})
        self.assertEqual(s.finish()[:2], (7, "inspected\n"))

    def test_system_exit_is_a_result(self):
        s, tid, frame = self.stop_in_main()
        for expression, shown in (("sys.exit(9)", "9"), ("raise SystemExit", "None")):
            body = self.evaluate(s, frame, expression)["body"]
            self.assertEqual(body["result"],
                             "SystemExit(%s) raised; the program keeps running" % shown)
        s.request("continue", {"threadId": tid})
        self.assertEqual(s.finish()[:2], (7, "inspected\n"))

    def test_a_hanging_condition_stops_once_and_is_switched_off(self):
        for condition in ("spin()", "time.sleep(1.5) or i == 3"):
            with self.subTest(condition=condition):
                s = self.launch(HOSTILE, "loop")
                s.handshake(evaluateTimeout=1)
                s.request("setBreakpoints", {"source": {"path": HOSTILE}, "breakpoints": [
                    {"line": line_of(HOSTILE, "condition-line"), "condition": condition}]})
                s.start()
                tid = s.stopped("breakpoint")["threadId"]
                notice = s.wait_event("output")
                self.assertIn("ran longer than 1 s", notice["output"])
                changed = s.wait_event("breakpoint")["breakpoint"]
                self.assertFalse(changed["verified"])
                s.request("continue", {"threadId": tid})
                self.assertEqual(s.finish()[:2], (7, "loop done 10\n"))
                self.assertEqual(s.events("stopped"), [])


globals().update(settrace_variant(DeadlineTests))


class HostileExceptionTests(AgentTestCase):
    def test_exception_info_of_an_exception_whose_message_hangs(self):
        s = self.launch(HOSTILE, "raise")
        s.handshake()
        s.request("setExceptionBreakpoints", {"filters": ["uncaught"]})
        s.start()
        tid = s.stopped("exception")["threadId"]
        started = time.monotonic()
        info = s.request("exceptionInfo", {"threadId": tid})
        took = time.monotonic() - started
        self.assertEqual(info["exceptionId"], "__main__.HangingError")
        self.assertIn("timed out", info["description"])
        self.assertIn("raise HangingError()", info["details"]["stackTrace"])
        sys.stderr.write(" [exceptionInfo %.2f s] " % took)
        s.request("continue", {"threadId": tid})
        code, _, err = s.finish()
        self.assertEqual(code, 1)
        self.assertIn("HangingError: hanging error", err)
