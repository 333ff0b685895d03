"""Breakpoints that cost nothing until hit: on 3.11, calls compiled into the code of the main
program and of modules imported after the breakpoint was set, with no trace function while
nothing needs one (the same tests hold for sys.monitoring on 3.12+)."""
import sys
import time

from tests.harness import AgentTestCase, fixture, line_of

PROGRAM = fixture("hooks_program.py")
MODULE = fixture("hooks_module.py")
SPINNER = fixture("hooks_spinner.py")


def bp(path, marker, **extra):
    return {"line": line_of(path, marker), **extra}


class HookTests(AgentTestCase):
    def expect_untraced(self, session):
        """Whether the program should see no trace function (not with settrace on 3.12+)."""
        return sys.version_info < (3, 12) or session.hello["backend"] == "monitoring"

    def start_program(self, program_bps, module_bps=()):
        s = self.launch(PROGRAM)
        s.handshake()
        body = s.request("setBreakpoints", {"source": {"path": PROGRAM},
                                            "breakpoints": list(program_bps)})
        self.assertTrue(all(b["verified"] for b in body["breakpoints"]), body)
        module = s.request("setBreakpoints", {"source": {"path": MODULE},
                                              "breakpoints": list(module_bps)})
        s.start()
        return s, module["breakpoints"]

    def local(self, s, st, name):
        return s.locals(s.top_frame(st["threadId"])["id"])[name]["value"]

    def test_program_and_imported_module_breakpoints_with_conditions(self):
        s, module_bps = self.start_program(
            [bp(PROGRAM, "never-line"), bp(PROGRAM, "add-line", condition="n == 2")],
            [bp(MODULE, "module-line"), bp(MODULE, "work-line", condition="n > 3"),
             bp(MODULE, "raise-line", condition="False")])
        self.assertFalse(any(b["verified"] for b in module_bps))
        st = s.stopped("breakpoint")
        self.assertEqual(s.top_frame(st["threadId"])["line"], line_of(MODULE, "module-line"))
        changed = {e["breakpoint"]["id"] for e in s.events("breakpoint")
                   if e["breakpoint"]["verified"]}
        self.assertEqual(changed, {b["id"] for b in module_bps})
        s.request("continue")
        st = s.stopped("breakpoint")
        self.assertEqual(s.top_frame(st["threadId"])["line"], line_of(PROGRAM, "add-line"))
        self.assertEqual(self.local(s, st, "n"), "2")
        s.request("continue")
        st = s.stopped("breakpoint")
        self.assertEqual(s.top_frame(st["threadId"])["name"], "work")
        self.assertEqual(self.local(s, st, "n"), "4")
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        code, out, _ = s.finish()
        self.assertIn("untraced %s" % self.expect_untraced(s), out)
        # a hooked line keeps its line number in tracebacks
        self.assertIn("raised at %d" % line_of(MODULE, "raise-line"), out)
        self.assertIn("countdown 15", out)

    def test_while_header_counts_every_test_like_a_line_event(self):
        s, _ = self.start_program([bp(PROGRAM, "while-line", hitCondition="6")])
        st = s.stopped("breakpoint")
        self.assertEqual(self.local(s, st, "n"), "0")
        self.assertEqual(self.local(s, st, "total"), "15")
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_steps_from_a_hook_stop_and_no_second_stop_on_its_line(self):
        s, _ = self.start_program([bp(PROGRAM, "call-line"), bp(PROGRAM, "add-line")])
        st = s.stopped("breakpoint")
        tid = st["threadId"]
        s.request("stepIn", {"threadId": tid})
        s.stopped("step")
        frame = s.top_frame(tid)
        self.assertEqual((frame["name"], frame["line"]),
                         ("countdown", line_of(PROGRAM, "total-line")))
        s.request("next", {"threadId": tid})
        s.stopped("step")
        s.request("next", {"threadId": tid})
        st = s.stopped("breakpoint")
        self.assertEqual(s.top_frame(tid)["line"], line_of(PROGRAM, "add-line"))
        self.assertEqual(self.local(s, st, "n"), "5")
        # a call made by a request does not stop at the breakpoints it runs through
        result = s.request("evaluate", {"expression": "countdown(2)", "context": "repl",
                                        "frameId": s.top_frame(tid)["id"]})["result"]
        self.assertEqual(result, "3")
        s.request("next", {"threadId": tid})
        s.stopped("step")
        self.assertEqual(s.top_frame(tid)["line"], line_of(PROGRAM, "sub-line"))
        s.request("next", {"threadId": tid})
        s.stopped("step")
        self.assertEqual(s.top_frame(tid)["line"], line_of(PROGRAM, "while-line"))
        s.request("next", {"threadId": tid})
        st = s.stopped("breakpoint")
        self.assertEqual(self.local(s, st, "n"), "4")
        s.request("setBreakpoints", {"source": {"path": PROGRAM}, "breakpoints": []})
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_breakpoint_added_after_the_module_was_loaded(self):
        s, _ = self.start_program([bp(PROGRAM, "call-line")])
        st = s.stopped("breakpoint")
        body = s.request("setBreakpoints", {"source": {"path": MODULE},
                                            "breakpoints": [bp(MODULE, "work-line")]})
        self.assertTrue(body["breakpoints"][0]["verified"])
        s.request("continue")
        for n in ("3", "4"):
            st = s.stopped("breakpoint")
            self.assertEqual(s.top_frame(st["threadId"])["name"], "work")
            self.assertEqual(self.local(s, st, "n"), n)
            s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)

    def test_pause_a_tight_loop_in_a_second_thread(self):
        s = self.launch(SPINNER)
        s.handshake()
        s.start()
        time.sleep(0.3)
        s.request("pause")
        st = s.stopped("pause")
        threads = {t["id"]: t["name"] for t in s.request("threads")["threads"]}
        self.assertEqual(threads[st["threadId"]], "spinner")
        frame = s.top_frame(st["threadId"])
        self.assertEqual(frame["name"], "spin")
        self.assertIn(frame["line"], (line_of(SPINNER, "spin-loop"), line_of(SPINNER, "spin-line")))
        state = s.request("evaluate", {"expression": "state['untraced']", "context": "watch",
                                       "frameId": frame["id"]})["result"]
        self.assertEqual(state, str(self.expect_untraced(s)))
        s.request("next", {"threadId": st["threadId"]})
        s.stopped("step")
        s.request("continue")
        time.sleep(0.2)
        s.request("pause")
        st = s.stopped("pause")
        self.assertEqual(threads[st["threadId"]], "spinner")
