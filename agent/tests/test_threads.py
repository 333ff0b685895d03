"""Threads: listing, breakpoints in threads started before/after, pause, disconnect."""
import time

from tests.harness import AgentTestCase, fixture, line_of, settrace_variant

LATE = fixture("threads_late.py")


class ThreadTests(AgentTestCase):
    def test_threads_started_before_and_after_breakpoint_is_set(self):
        s, st = self.run_to("threads_late.py", "main-ready")
        names = {t["name"] for t in s.request("threads")["threads"]}
        self.assertEqual(names, {"MainThread", "early-thread"})
        s.request("setBreakpoints", {"source": {"path": LATE},
                                     "breakpoints": [{"line": line_of(LATE, "work-line")}]})
        s.request("continue")
        hits = []
        for _ in range(2):
            st = s.stopped("breakpoint")
            threads = {t["id"]: t["name"] for t in s.request("threads")["threads"]}
            hits.append(threads[st["threadId"]])
            frame = s.top_frame(st["threadId"])
            self.assertEqual(frame["name"], "work")
            s.request("continue")
        self.assertEqual(hits, ["early-thread", "late-thread"])
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        events = [(e["reason"], e["name"]) for e in s.events("thread")]
        self.assertEqual(events, [("started", "early-thread"), ("exited", "early-thread"),
                                  ("started", "late-thread"), ("exited", "late-thread")])

    def test_simultaneous_hits_are_each_reported(self):
        s, first = self.run_to("two_hits.py", "both-line")
        s.request("continue")
        second = s.stopped("breakpoint")
        self.assertNotEqual(first["threadId"], second["threadId"])
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])

    def test_thread_ids_are_stable_and_agent_threads_hidden(self):
        s, st = self.run_to("threads_late.py", "main-ready")
        first = s.request("threads")["threads"]
        again = s.request("threads")["threads"]
        self.assertEqual(first, again)
        self.assertTrue(all(not t["name"].startswith("tasklens") for t in first))
        self.assertEqual(st["threadId"], [t["id"] for t in first
                                          if t["name"] == "MainThread"][0])

    def test_pause_tight_loop_stops_every_thread(self):
        s = self.launch(fixture("spin.py"))
        s.handshake()
        s.start()
        time.sleep(0.3)
        s.request("pause")
        st = s.stopped("pause")
        self.assertTrue(st["allThreadsStopped"])
        threads = {t["name"]: t["id"] for t in s.request("threads")["threads"]}
        self.assertEqual(set(threads), {"MainThread", "sleeper"})
        # the other thread comes to a stop too (it runs Python between sleeps)
        main = s.top_frame(threads["MainThread"])
        ticks = lambda: s.request("evaluate", {"expression": "ticks", "context": "watch",
                                               "frameId": main["id"]})["result"]
        before = ticks()
        time.sleep(0.3)
        self.assertEqual(ticks(), before)
        main = s.top_frame(threads["MainThread"])
        self.assertEqual(main["name"], "spin")
        s.request("continue")
        time.sleep(0.2)
        s.request("pause")
        s.stopped("pause")

    def test_pause_in_sleep_stops_at_once_labelled_then_parks_when_it_wakes(self):
        s = self.launch(fixture("sleep_main.py"))
        s.handshake()
        s.start()
        time.sleep(0.2)
        s.request("pause")
        st = s.stopped("pause", timeout=1)
        self.assertIn("MainThread is blocked in native code: time.sleep() at sleep_main.py:3",
                      st["description"])
        names = [t["name"] for t in s.request("threads")["threads"]]
        self.assertEqual(names, ["MainThread (blocked in native code)"])
        label, frame = s.request("stackTrace", {"threadId": st["threadId"]})["stackFrames"]
        self.assertEqual(label["presentationHint"], "label")
        self.assertEqual((frame["name"], frame["line"]),
                         ("<module>", line_of(fixture("sleep_main.py"), "sleep-line")))
        self.assertIn("time", s.locals(frame["id"]))
        # when the sleep ends it parks at its next line, still stopped
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            frames = s.request("stackTrace", {"threadId": st["threadId"]})["stackFrames"]
            if frames[0].get("presentationHint") != "label":
                break
            time.sleep(0.1)
        self.assertEqual(frames[0]["line"], line_of(fixture("sleep_main.py"), "after-sleep"))
        self.assertEqual(s.events("stopped"), [])
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)

    def test_step_over_a_thread_in_native_code_waits_until_it_runs(self):
        s = self.launch(fixture("sleep_main.py"))
        s.handshake()
        s.start()
        time.sleep(0.2)
        s.request("pause")
        tid = s.stopped("pause", timeout=1)["threadId"]
        s.request("next", {"threadId": tid})
        st = s.stopped("step", timeout=5)
        self.assertEqual(st["threadId"], tid)
        self.assertEqual(s.top_frame(tid)["line"],
                         line_of(fixture("sleep_main.py"), "after-sleep"))
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)

    def test_connection_lost_while_stopped_ends_launched_program(self):
        s, _ = self.run_to("threads_late.py", "main-ready")
        s.disconnect()
        code, out, _ = s.finish()
        self.assertEqual((code, out), (1, ""))

    def test_disconnect_request_without_terminate_detaches(self):
        s, _ = self.run_to("threads_late.py", "main-ready")
        s.request("setBreakpoints", {"source": {"path": LATE},
                                     "breakpoints": [{"line": line_of(LATE, "work-line")}]})
        self.assertEqual(s.request("disconnect", {"terminate": False}), {})
        code, out, _ = s.finish()
        self.assertEqual((code, out), (0, "done\n"))

    def test_disconnect_request_with_terminate_ends_program(self):
        s, _ = self.run_to("threads_late.py", "main-ready")
        s.request("disconnect", {"terminate": True})
        code, out, _ = s.finish()
        self.assertNotEqual(code, 0)
        self.assertEqual(out, "")

    def test_terminate_on_disconnect(self):
        s, _ = self.run_to("threads_late.py", "main-ready", terminateOnDisconnect=True)
        s.disconnect()
        code, out, _ = s.finish()
        self.assertNotEqual(code, 0)
        self.assertEqual(out, "")


globals().update(settrace_variant(ThreadTests))


class ForkTests(AgentTestCase):
    def test_forked_child_never_stops_and_parent_still_does(self):
        path = fixture("forks.py")
        s = self.launch(path)
        s.handshake()
        s.request("setBreakpoints", {"source": {"path": path},
                                     "breakpoints": [{"line": line_of(path, "child-line")}]})
        s.start()
        st = s.stopped("breakpoint")
        frames = s.request("stackTrace", {"threadId": st["threadId"]})["stackFrames"]
        self.assertEqual(frames[1]["line"], line_of(path, "parent-call"))
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])
        self.assertEqual(s.finish()[1], "parent 42\n")
