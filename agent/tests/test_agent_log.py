"""Internal errors carry the agent's traceback, and the agent writes a log when asked."""
import json
import os
import shutil
import tempfile

from tests.harness import AgentTestCase, fixture

# A breakpoint spec that is not an object: the agent fails on it in a way no check foresaw.
BROKEN = {"breakpoints": [5]}


class InternalErrorTests(AgentTestCase):
    def test_internal_error_carries_the_traceback_beside_a_short_message(self):
        s = self.launch(fixture("show_env.py"))
        s.handshake()
        path = fixture("show_env.py")
        resp = s.request_raw("setBreakpoints", {"source": {"path": path}, **BROKEN})
        self.assertFalse(resp["success"])
        self.assertEqual(resp["error"], "internal")
        self.assertEqual(resp["message"], "AttributeError: 'int' object has no attribute 'get'")
        self.assertTrue(resp["traceback"].startswith("Traceback (most recent call last):"),
                        resp["traceback"])
        self.assertIn("breakpoints.py", resp["traceback"])
        # The agent goes on serving.
        self.assertEqual(s.request("setBreakpoints", {"source": {"path": path},
                                                      "breakpoints": []}),
                         {"breakpoints": []})


class AgentLogTests(AgentTestCase):
    def setUp(self):
        folder = tempfile.mkdtemp(prefix="tasklens-agentlog-")
        self.addCleanup(shutil.rmtree, folder, True)
        self.log = os.path.join(folder, "dap.log.agent")

    def read_log(self):
        with open(self.log, encoding="utf-8") as f:
            return f.read()

    def test_log_records_messages_and_internal_errors(self):
        s = self.launch(fixture("show_env.py"), env={"TASKLENS_AGENT_LOG": self.log})
        s.handshake()
        s.request_raw("setBreakpoints", {"source": {"path": fixture("show_env.py")}, **BROKEN})
        s.start()
        code, out, err = s.finish()
        self.assertEqual((code, err), (0, ""))
        # The variable is the agent's: the program never sees it.
        self.assertNotIn("TASKLENS_AGENT_LOG", json.loads(out)["tasklens_env"])
        text = self.read_log()
        pid = s.proc.pid
        self.assertRegex(text, r"(?m)^\d{4}-\d\d-\d\dT[\d:.]+Z %d \[.+\] agent started: Python"
                         % pid)
        self.assertRegex(text, r'(?m)^\S+ %d \[[^]]+\] -> \{"type": "event", "event": "hello"'
                         % pid)
        self.assertRegex(text, r'(?m)^\S+ %d \[[^]]+\] <- \{.*"command": "handshake"' % pid)
        self.assertRegex(text, r"(?m)^\S+ %d \[[^]]+\] internal error:\nTraceback \(most recent"
                         % pid)
        self.assertIn("AttributeError: 'int' object has no attribute 'get'", text)
        self.assertRegex(text, r'(?m)^\S+ %d \[[^]]+\] -> \{.*"event": "programExited"' % pid)

    def test_a_log_that_cannot_be_written_does_not_stop_the_program(self):
        missing = os.path.join(self.log, "no", "such", "dir")
        s = self.launch(fixture("show_env.py"), env={"TASKLENS_AGENT_LOG": missing})
        s.handshake()
        s.start()
        code, out, err = s.finish()
        self.assertEqual(code, 0)
        self.assertIn("tasklens: cannot write the agent log", err)
        self.assertNotIn("TASKLENS_AGENT_LOG", json.loads(out)["tasklens_env"])
