"""Shared steps for the asyncio tests: run a fixture to a (conditional) breakpoint in a task,
step, and check where the step landed and in which task."""
import importlib.util

from tests.harness import AgentTestCase, line_of

TASK_ID_BASE = 1_000_000
HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


class AsyncTestCase(AgentTestCase):
    fixture_env = {}

    def launch_async(self, path, *args, **kw):
        env = dict(self.fixture_env)
        env.update(kw.pop("env", {}))
        return self.launch(path, *args, env=env, **kw)

    def at(self, path, marker, condition=None, args=(), filters=None, **configure):
        """Run to `marker` (where `condition` holds), then clear the breakpoint."""
        s = self.launch_async(path, *args)
        s.handshake(**configure)
        bp = {"line": line_of(path, marker)}
        if condition:
            bp["condition"] = condition
        s.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [bp]})
        if filters:
            s.request("setExceptionBreakpoints", {"filters": filters})
        s.start()
        st = s.stopped("breakpoint")
        s.request("setBreakpoints", {"source": {"path": path}, "breakpoints": []})
        return s, st["threadId"]

    def local(self, s, frame_id, name):
        return s.locals(frame_id)[name]["value"]

    def step(self, s, tid, command, path, marker, n=None, name=None):
        """Step; assert the stop is a step at `marker`, in frame `name`, where `n` is `n`."""
        s.request(command, {"threadId": tid})
        st = s.stopped("step")
        frame = s.top_frame(st["threadId"])
        self.assertEqual(frame["line"], line_of(path, marker), (command, marker, frame))
        if name is not None:
            self.assertEqual(frame["name"], name)
        if n is not None:
            self.assertEqual(self.local(s, frame["id"], "n"), str(n), (command, marker))
        return st["threadId"]

    def finishes_without_stopping(self, s):
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(s.events("stopped"), [])
