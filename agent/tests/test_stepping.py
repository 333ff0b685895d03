"""next / stepIn / stepOut, including leaving a function and generators; stopOnEntry."""
import time

from tests.async_support import TASK_ID_BASE, AsyncTestCase
from tests.harness import FIXTURES, AgentTestCase, fixture, line_of, settrace_variant

STEP = fixture("stepping.py")
TASKS = fixture("stepping_tasks.py")


class SteppingTests(AgentTestCase):
    def at(self, marker):
        s, st = self.run_to("stepping.py", marker)
        return s, st["threadId"]

    def step(self, s, tid, command):
        s.request(command, {"threadId": tid})
        st = s.stopped("step")
        self.assertEqual(st["threadId"], tid)
        frame = s.top_frame(tid)
        return frame["name"], frame["line"]

    def where(self, marker):
        return line_of(STEP, marker)

    @staticmethod
    def local(s, tid, name):
        return s.locals(s.top_frame(tid)["id"])[name]["value"]

    def test_next_stays_in_function(self):
        s, tid = self.at("middle-call")
        self.assertEqual(self.step(s, tid, "next"), ("middle", self.where("middle-after")))
        self.assertEqual(self.step(s, tid, "next"), ("middle", self.where("middle-return")))

    def test_next_over_last_line_stops_at_the_call_then_the_callers_next_line(self):
        s, tid = self.at("leaf-last")
        self.assertEqual(self.step(s, tid, "next"), ("middle", self.where("middle-call")))
        self.assertEqual(self.step(s, tid, "next"), ("middle", self.where("middle-after")))

    def test_step_in_and_out(self):
        s, tid = self.at("middle-call")
        self.assertEqual(self.step(s, tid, "stepIn"), ("leaf", self.where("leaf-first")))
        self.assertEqual(self.step(s, tid, "stepOut"), ("middle", self.where("middle-call")))
        self.assertEqual(self.step(s, tid, "stepOut"), ("main", self.where("main-call")))
        self.assertEqual(self.step(s, tid, "next"), ("main", self.where("main-after")))

    def test_step_out_leaves_the_rest_of_the_calling_line_to_run(self):
        s, tid = self.at("main-two-calls")
        self.assertEqual(self.step(s, tid, "stepIn"), ("leaf", self.where("leaf-first")))
        self.assertEqual(self.step(s, tid, "stepOut"), ("main", self.where("main-two-calls")))
        self.assertEqual(self.local(s, tid, "b"), "7")      # not assigned yet
        self.assertEqual(self.step(s, tid, "stepIn"), ("middle", self.where("middle-call")))
        self.assertEqual(self.step(s, tid, "stepOut"), ("main", self.where("main-two-calls")))
        self.assertEqual(self.step(s, tid, "next"), ("main", self.where("main-return")))
        self.assertEqual(self.local(s, tid, "b"), "29")

    def test_step_in_on_line_without_call_goes_to_next_line(self):
        s, tid = self.at("main-after")
        self.assertEqual(self.step(s, tid, "stepIn"), ("main", self.where("main-for")))
        self.assertEqual(self.step(s, tid, "stepIn"), ("numbers", self.where("gen-first")))
        # stepping over a yield goes back to the consumer
        self.assertEqual(self.step(s, tid, "next"), ("main", self.where("main-body")))

    def test_next_out_of_a_raise_stops_in_the_handler(self):
        s, tid = self.at("raiser-line")
        self.assertEqual(self.step(s, tid, "next"), ("catcher", self.where("catcher-except")))

    def test_next_over_a_long_call_does_not_trace_it(self):
        s, tid = self.at("main-long")
        started = time.monotonic()
        self.assertEqual(self.step(s, tid, "next"), ("main", self.where("main-call")))
        self.assertLess(time.monotonic() - started, 3.0)

    def test_breakpoint_wins_over_step(self):
        s, tid = self.at("main-call")
        s.request("setBreakpoints", {"source": {"path": STEP},
                                     "breakpoints": [{"line": self.where("leaf-first")}]})
        s.request("next", {"threadId": tid})
        st = s.stopped("breakpoint")
        self.assertEqual(s.top_frame(st["threadId"])["name"], "leaf")

    def test_stop_on_entry(self):
        s = self.launch(STEP)
        s.handshake(stopOnEntry=True)
        s.start()
        st = s.stopped("entry")
        frame = s.top_frame(st["threadId"])
        self.assertEqual((frame["name"], frame["line"]), ("<module>", 1))
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)


    def test_stop_on_entry_in_module_mode_hides_runpy(self):
        s = self.launch("--module", "showmod", cwd=FIXTURES)
        s.handshake(stopOnEntry=True, justMyCode=False)
        s.start()
        st = s.stopped("entry")
        frames = s.request("stackTrace", {"threadId": st["threadId"], "justMyCode": False})
        self.assertEqual([(f["name"], f["path"]) for f in frames["stackFrames"]],
                         [("<module>", fixture("showmod.py"))])


class CallSiteInTaskTests(AsyncTestCase):
    """A plain function called from a coroutine: leaving it stops at the calling line in the
    same task (other tasks run the same code)."""

    def test_step_out_and_next_at_the_last_line(self):
        for command, marker in (("stepOut", "price-first"), ("next", "price-last")):
            s, tid = self.at(TASKS, marker, "n == 2")
            self.assertGreaterEqual(tid, TASK_ID_BASE)
            self.assertEqual(self.step(s, tid, command, TASKS, "worker-call", 2, "worker"), tid)
            self.assertEqual(self.local(s, s.top_frame(tid)["id"], "totals"), "{1: 4}")
            self.assertEqual(self.step(s, tid, "next", TASKS, "worker-after", 2), tid)
            self.assertEqual(self.local(s, s.top_frame(tid)["id"], "totals"), "{1: 4, 2: 7}")
            s.close()


globals().update(settrace_variant(SteppingTests))
globals().update(settrace_variant(CallSiteInTaskTests))
