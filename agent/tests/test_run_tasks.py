"""Under `tasklens run`: the task table's creation sites, ages, OS thread ids and qualified
names, and read-only clients (`ps`) beside an attached debugger."""
import os
import subprocess
import tempfile
import unittest

from tests import test_listen
from tests.harness import LAUNCH, PYTHON, AgentSession, ProtocolError, fixture, line_of

attach = test_listen.attach

APP = fixture("async_run.py")


class RunModeTaskTests(unittest.TestCase):
    discovery = test_listen.ListenTest.discovery
    _reap = staticmethod(test_listen.ListenTest._reap)

    def start_app(self):
        self.runtime = tempfile.mkdtemp()
        env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime)
        proc = subprocess.Popen([PYTHON, LAUNCH, "--", APP], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.addCleanup(self._reap, proc)
        words = proc.stdout.readline().split()
        self.assertEqual(words[:1], [b"ready"], proc.stderr.read() if not words else words)
        return proc, int(words[1]), self.discovery(proc)[1]

    def read_only(self, info):
        c = attach(self, info, info["token"])
        c.request("handshake", {"token": info["token"], "protocol": 1, "readOnly": True})
        return c

    def test_rows_carry_creation_site_age_native_thread_and_qualified_names(self):
        proc, native, info = self.start_app()
        client = self.read_only(info)
        rows = {r["name"]: r for r in client.request("taskTable")["tasks"]}
        loop_thread = next(t["id"] for t in client.request("threads")["threads"]
                           if t["name"] == "loop-thread")
        main = next(r for r in rows.values() if r["coroutine"] == "main")
        for row, marker in ((rows["parked"], "made-parked"), (rows["eager"], "made-eager"),
                            (main, "made-main")):
            self.assertEqual(row["createdAt"], {"path": APP, "line": line_of(APP, marker)})
            self.assertGreaterEqual(row["ageSeconds"], 0.25, row)
            self.assertLess(row["ageSeconds"], 30, row)
            self.assertEqual(row["osThreadId"], native)
            self.assertNotEqual(row["osThreadId"], proc.pid)   # not the main thread's
            self.assertEqual(row["threadIdOfLoop"], loop_thread)
        self.assertEqual([f["name"] for f in rows["parked"]["stack"]],
                         ["Event.wait", "Holder.park"])
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        self.assertEqual(proc.wait(10), 0)
        self.assertEqual(proc.stdout.read(), b"done\n")

    def test_read_only_clients_beside_a_debugger(self):
        proc, _, info = self.start_app()
        first = self.read_only(info)
        debugger = attach(self, info, info["token"])
        debugger.handshake()        # not refused: the read-only client claimed nothing
        bp = debugger.request("setBreakpoints", {"source": {"path": APP}, "breakpoints": [
            {"line": line_of(APP, "released")}]})
        self.assertTrue(bp["breakpoints"][0]["verified"])
        second = self.read_only(info)      # accepted while the debugger is attached
        self.assertIn("tasks", second.request("taskTable"))
        self.assertEqual(second.request("threads")["threads"][0]["name"], "MainThread")
        for command, args in (("setBreakpoints", {"source": {"path": APP}, "breakpoints": []}),
                              ("pause", {}), ("configure", {}), ("continue", {})):
            with self.assertRaisesRegex(ProtocolError, "read-only"):
                first.request(command, args)
        first.request("disconnect", {"terminate": True})   # ends nothing, detaches nothing
        with self.assertRaisesRegex(ProtocolError, "read-only"):
            second.request("handshake", {"token": info["token"], "protocol": 1})
        second.disconnect()
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        st = debugger.stopped("breakpoint")
        self.assertEqual(debugger.top_frame(st["threadId"])["line"], line_of(APP, "released"))
        debugger.request("continue")
        self.assertEqual(debugger.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(proc.wait(10), 0)


class LaunchModeTests(unittest.TestCase):
    def test_a_launched_program_records_no_task_origins(self):
        s = AgentSession([fixture("async_workers.py")])
        self.addCleanup(s.close)
        s.handshake()
        path = fixture("async_workers.py")
        s.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
            {"line": line_of(path, "helper-first"), "condition": "n == 2"}]})
        s.start()
        s.stopped("breakpoint")
        rows = s.request("taskTable")["tasks"]
        self.assertTrue(rows)
        self.assertFalse([r for r in rows if "ageSeconds" in r])
        self.assertEqual({r["osThreadId"] for r in rows}, {s.proc.pid})
        self.assertEqual({r["threadIdOfLoop"] for r in rows}, {1})

