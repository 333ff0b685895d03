"""Line and function breakpoints: placement, verification, conditions, counts, logpoints."""
from tests.harness import AgentTestCase, fixture, line_of, settrace_variant

BASIC = fixture("bp_basic.py")
LATE = fixture("late_module.py")


def spec(marker, path=BASIC, **extra):
    return {"line": line_of(path, marker), **extra}


class BreakpointTests(AgentTestCase):
    def start_with(self, bps, path=BASIC, functions=None):
        s = self.launch(BASIC)
        s.handshake()
        body = s.request("setBreakpoints", {"source": {"path": path}, "breakpoints": bps})
        if functions:
            s.request("setFunctionBreakpoints", {"breakpoints": functions})
        return s, body["breakpoints"]

    def stop_line(self, s, reason="breakpoint"):
        st = s.stopped(reason)
        return st, s.top_frame(st["threadId"])

    def test_moves_to_next_executable_line_and_reports_unplaceable(self):
        s, bps = self.start_with([spec("comment-line"), spec("trailing-comment"),
                                  {"line": 9999}])
        self.assertEqual(bps[0], {"id": bps[0]["id"], "verified": True,
                                  "line": line_of(BASIC, "after-comment")})
        for bad in bps[1:]:
            self.assertFalse(bad["verified"])
            self.assertIn("no executable code", bad["message"])
        s.start()
        st, frame = self.stop_line(s)
        self.assertEqual(st["hitBreakpointIds"], [bps[0]["id"]])
        self.assertEqual((frame["name"], frame["line"]), ("main", bps[0]["line"]))
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)

    def test_breakpoint_in_module_imported_later(self):
        s, bps = self.start_with([spec("late-line", LATE)], path=LATE)
        self.assertFalse(bps[0]["verified"])
        self.assertIn("not loaded", bps[0]["message"])
        s.start()
        changed = s.wait_event("breakpoint")
        self.assertEqual(changed["reason"], "changed")
        self.assertEqual(changed["breakpoint"]["id"], bps[0]["id"])
        self.assertTrue(changed["breakpoint"]["verified"])
        _, frame = self.stop_line(s)
        self.assertEqual((frame["name"], frame["line"]), ("work", line_of(LATE, "late-line")))

    def test_condition_and_hit_condition(self):
        s, bps = self.start_with([spec("add-body", condition="a >= 2", hitCondition="2")])
        self.assertTrue(bps[0]["verified"])
        s.start()
        st, frame = self.stop_line(s)
        self.assertEqual(s.locals(frame["id"])["a"]["value"], "3")
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_modulo_hit_condition(self):
        s, _ = self.start_with([spec("add-body", hitCondition="% 2")])
        s.start()
        seen = []
        for _ in range(2):
            st, frame = self.stop_line(s)
            seen.append(s.locals(frame["id"])["a"]["value"])
            s.request("continue")
        self.assertEqual(seen, ["1", "3"])

    def test_bad_condition_and_hit_condition_are_not_verified(self):
        _, bps = self.start_with([spec("add-body", condition="a ==== 1"),
                                  spec("after-comment", hitCondition="often")])
        self.assertFalse(bps[0]["verified"])
        self.assertIn("SyntaxError", bps[0]["message"])
        self.assertFalse(bps[1]["verified"])
        self.assertIn("hit condition", bps[1]["message"])

    def test_condition_raising_stops_and_says_why(self):
        s, _ = self.start_with([spec("add-body", condition="undefined_name > 1")])
        s.start()
        self.stop_line(s)
        notice = s.wait_event("output", category="important")
        self.assertIn("NameError", notice["output"])

    def test_logpoint_prints_and_does_not_stop(self):
        s, _ = self.start_with([spec("add-body", logMessage="a={a} sum={a + b} {{literal}}")])
        s.start()
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        logs = [e["output"] for e in s.events("output") if e["category"] == "console"]
        self.assertEqual(logs, ["a=%d sum=%d {literal}\n" % (i, i + 1) for i in range(5)])
        self.assertEqual(s.events("stopped"), [])
        self.assertNotIn("a=0", s.finish()[1])

    def test_function_breakpoints(self):
        s, _ = self.start_with([], functions=[{"name": "Counter.bump"}, {"name": "late_module.work"},
                                              {"name": "add", "condition": "a == 4"},
                                              {"name": "not a name"}])
        s.start()
        names = []
        first_lines = {"bump": line_of(BASIC, "bump-body"), "add": line_of(BASIC, "add-body"),
                       "work": line_of(LATE, "late-line")}
        for _ in range(3):
            st, frame = self.stop_line(s, "function breakpoint")
            names.append(frame["name"])
            self.assertEqual(frame["line"], first_lines[frame["name"]])   # the body, not `def`
            self.assertEqual(len(st["hitBreakpointIds"]), 1)
            if frame["name"] == "add":
                self.assertEqual(s.locals(frame["id"])["a"]["value"], "4")
            if frame["name"] == "bump":
                s.request("setFunctionBreakpoints", {"breakpoints": [
                    {"name": "late_module.work"}, {"name": "add", "condition": "a == 4"}]})
            s.request("continue")
        self.assertEqual(names, ["bump", "add", "work"])

    def test_function_breakpoint_on_a_coroutine_stops_once_per_call(self):
        path = fixture("async_workers.py")
        s = self.launch(path)
        s.handshake()
        s.request("setFunctionBreakpoints", {"breakpoints": [{"name": "helper",
                                                              "condition": "n == 2"}]})
        s.start()
        st = s.stopped("function breakpoint")
        frame = s.top_frame(st["threadId"])
        self.assertEqual((frame["name"], frame["line"]), ("helper", line_of(path, "helper-first")))
        s.request("continue")     # its resumption after the sleep is no new call
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_function_breakpoint_with_bad_name_is_not_verified(self):
        s = self.launch(BASIC)
        s.handshake()
        body = s.request("setFunctionBreakpoints", {"breakpoints": [{"name": "a b"},
                                                                    {"name": "main"}]})
        self.assertEqual([b["verified"] for b in body["breakpoints"]], [False, True])

    def test_breakpoints_can_be_removed_while_running(self):
        s, _ = self.start_with([spec("add-body")])
        s.start()
        self.stop_line(s)
        s.request("setBreakpoints", {"source": {"path": BASIC}, "breakpoints": []})
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])


globals().update(settrace_variant(BreakpointTests))
