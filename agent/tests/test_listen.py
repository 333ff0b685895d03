"""Listen mode (attach) and `tasklens run` mode: discovery file, token check, late attach."""
import json
import os
import socket
import subprocess
import tempfile
import time
import unittest

from tests.harness import LAUNCH, PYTHON, ProtocolClient, fixture, line_of


def attach(test, info, token):
    client = ProtocolClient(socket.create_connection((info["host"], info["port"]), timeout=10),
                            token)
    client.sock.settimeout(None)
    test.addCleanup(client.disconnect)
    return client


class ListenTest(unittest.TestCase):
    def spawn(self, *args):
        self.runtime = tempfile.mkdtemp()
        env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime)
        proc = subprocess.Popen([PYTHON, LAUNCH] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        self.addCleanup(self._reap, proc)
        return proc

    @staticmethod
    def _reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def discovery(self, proc):
        path = os.path.join(self.runtime, "tasklens", "%d.json" % proc.pid)
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            self.assertLess(time.monotonic(), deadline, "no discovery file")
            time.sleep(0.02)
        time.sleep(0.05)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)
        with open(path) as f:
            return path, json.load(f)

    def test_listen_waits_for_adapter_then_debugs(self):
        target = fixture("wait_for_file.py")
        flag = os.path.join(tempfile.mkdtemp(), "go")
        proc = self.spawn("--listen", "127.0.0.1:0", "--", target, flag)
        path, info = self.discovery(proc)
        self.assertEqual((info["pid"], info["protocol"], info["host"]),
                         (proc.pid, 1, "127.0.0.1"))
        bad = attach(self, info, "wrong")
        self.assertNotIn("token", bad.hello)
        self.assertEqual(bad.hello["mode"], "listen")
        self.assertFalse(bad.request_raw("handshake", {"token": "wrong", "protocol": 1})[
            "success"])
        bad.disconnect()
        c = attach(self, info, info["token"])
        c.handshake()
        c.request("setBreakpoints", {"source": {"path": target}, "breakpoints": [
            {"line": line_of(target, "released-line")}]})
        c.start()
        open(flag, "w").close()
        st = c.stopped("breakpoint")
        self.assertEqual(c.top_frame(st["threadId"])["name"], "<module>")
        c.request("continue")
        self.assertEqual(c.wait_event("programExited")["exitCode"], 0)
        out, _ = proc.communicate(timeout=10)
        self.assertEqual(out, b"released\n")
        self.assertFalse(os.path.exists(path))

    def test_run_mode_runs_at_once_and_accepts_late_attach(self):
        target = fixture("wait_for_file.py")
        flag = os.path.join(tempfile.mkdtemp(), "go")
        proc = self.spawn("--", target, flag)
        _, info = self.discovery(proc)
        c = attach(self, info, info["token"])
        c.handshake()
        names = [t["name"] for t in c.request("threads")["threads"]]
        self.assertEqual(names, ["MainThread"])
        c.request("pause")
        st = c.stopped("pause")
        frame = c.top_frame(st["threadId"])
        self.assertEqual(frame["name"], "<module>")
        c.request("continue")
        open(flag, "w").close()
        self.assertEqual(c.wait_event("programExited")["exitCode"], 0)
        self.assertEqual(proc.communicate(timeout=10)[0], b"released\n")

    def test_a_thread_shown_in_native_code_is_plain_again_after_a_detach(self):
        proc = self.spawn("--", fixture("sleep_long.py"))
        _, info = self.discovery(proc)
        c = attach(self, info, info["token"])
        c.handshake()
        c.request("pause")
        c.stopped("pause")
        self.assertEqual([t["name"] for t in c.request("threads")["threads"]],
                         ["MainThread (blocked in native code)"])
        c.disconnect()
        time.sleep(0.3)
        again = attach(self, info, info["token"])
        again.handshake()
        self.assertEqual([t["name"] for t in again.request("threads")["threads"]],
                         ["MainThread"])
