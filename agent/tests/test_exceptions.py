"""Exception breakpoints: raised (user code only, first user frame) and uncaught."""
from tests.harness import AgentTestCase, fixture, line_of, settrace_variant

EXC = fixture("exceptions.py")


class ExceptionTests(AgentTestCase):
    def start(self, filters, *args, **configure):
        s = self.launch(EXC, *args)
        s.handshake(**configure)
        s.request("setExceptionBreakpoints", {"filters": filters})
        s.start()
        return s

    def test_raised_stops_in_user_code_only(self):
        s = self.start(["raised"])
        st = s.stopped("exception")
        self.assertEqual(st["text"], "ValueError")
        frame = s.top_frame(st["threadId"])
        self.assertEqual((frame["name"], frame["line"]), ("fail", line_of(EXC, "raise-line")))
        info = s.request("exceptionInfo", {"threadId": st["threadId"]})
        self.assertEqual(info["breakMode"], "always")
        self.assertEqual(info["details"]["typeName"], "ValueError")
        self.assertEqual(info["description"], "bad caught")
        s.request("continue")
        # json raises inside the library: the stop is in the first user frame it reaches
        st = s.stopped("exception")
        frame = s.top_frame(st["threadId"])
        self.assertEqual((frame["name"], frame["line"]), ("caught", line_of(EXC, "library-raise")))
        self.assertEqual(s.request("exceptionInfo", {"threadId": st["threadId"]})[
            "details"]["fullTypeName"], "json.decoder.JSONDecodeError")
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_uncaught_in_main_stops_before_traceback(self):
        s = self.start(["uncaught"], "uncaught")
        st = s.stopped("exception")
        frames = s.request("stackTrace", {"threadId": st["threadId"]})["stackFrames"]
        self.assertEqual([f["name"] for f in frames], ["fail", "<module>"])
        scopes = s.request("scopes", {"frameId": frames[0]["id"]})["scopes"]
        loc = s.request("variables", {"variablesReference": scopes[0]["variablesReference"]})
        self.assertEqual(loc["variables"][0]["value"], "'uncaught'")
        info = s.request("exceptionInfo", {"threadId": st["threadId"]})
        self.assertEqual(info["breakMode"], "unhandled")
        self.assertIn('raise ValueError("bad %s" % kind)', info["details"]["stackTrace"])
        self.assertNotIn("launch.py", info["details"]["stackTrace"])
        self.assertEqual(b"".join(s.stderr), b"")   # not printed yet
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 1)
        code, out, err = s.finish()
        self.assertEqual(code, 1)
        self.assertIn("ValueError: bad uncaught", err)

    def test_uncaught_in_thread(self):
        s = self.start(["uncaught"], "thread")
        st = s.stopped("exception")
        names = {t["id"]: t["name"] for t in s.request("threads")["threads"]}
        self.assertEqual(names[st["threadId"]], "failing-thread")
        frames = s.request("stackTrace", {"threadId": st["threadId"]})["stackFrames"]
        self.assertEqual([f["name"] for f in frames], ["fail", "thread_body"])
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertIn("failing-thread", s.finish()[2])

    def test_no_filters_no_stops(self):
        s = self.start([], "uncaught")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 1)
        self.assertEqual(s.events("stopped"), [])

    def test_library_exceptions_stop_without_just_my_code(self):
        s = self.start(["raised"], justMyCode=False)
        s.stopped("exception")
        s.request("continue")
        st = s.stopped("exception")
        frame = s.request("stackTrace", {"threadId": st["threadId"], "justMyCode": False})[
            "stackFrames"][0]
        self.assertTrue(frame["library"])
        self.assertIn("json", frame["path"])


globals().update(settrace_variant(ExceptionTests))
