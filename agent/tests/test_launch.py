"""Handshake and the program running exactly as under plain python."""
import json
import os
import signal
import subprocess
import unittest

from tests.harness import AgentSession, AgentTestCase, FIXTURES, PYTHON, fixture


def plain(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([PYTHON] + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=20, env=env)


class HandshakeTest(AgentTestCase):
    def test_hello_then_handshake(self):
        s = self.launch(fixture("show_env.py"))
        self.assertEqual(s.hello["protocol"], 1)
        self.assertEqual(s.hello["token"], s.token)
        self.assertEqual(s.hello["mode"], "launch")
        self.assertEqual(s.hello["pid"], s.proc.pid)
        self.assertIn(s.hello["backend"], ("monitoring", "hooked", "settrace"))
        s.handshake()
        s.start()
        self.assertEqual(s.wait_event("programExited"), {"exitCode": 0})
        self.assertEqual(s.finish()[0], 0)

    def test_wrong_token_is_rejected_and_program_never_runs(self):
        s = self.launch(fixture("show_env.py"))
        resp = s.request_raw("handshake", {"token": "nope", "protocol": 1})
        self.assertFalse(resp["success"])
        self.assertIn("token", resp["message"])
        code, out, _ = s.finish()
        self.assertEqual(code, 3)
        self.assertEqual(out, "")

    def test_requests_before_handshake_and_unknown_commands(self):
        s = self.launch(fixture("show_env.py"))
        resp = s.request_raw("threads")
        self.assertFalse(resp["success"])
        s.handshake()
        resp = s.request_raw("frobnicate")
        self.assertEqual((resp["success"], resp["error"]), (False, "unknownCommand"))
        resp = s.request_raw("stackTrace", {"threadId": 1})
        self.assertEqual(resp["error"], "notStopped")


class ParityTest(AgentTestCase):
    def run_both(self, args, cwd=None):
        s = self.launch(*args, cwd=cwd, env={"PYTHONPATH": None})
        s.handshake()
        s.start()
        exited = s.wait_event("programExited")
        code, out, err = s.finish()
        ref = plain(*(args if args[0] != "--module" else ["-m"] + args[1:]), cwd=cwd)
        return (code, out, err, exited["exitCode"]), ref

    def test_argv_path_main_env_match_plain_python(self):
        (code, out, _, _), ref = self.run_both([fixture("show_env.py"), "x", "--y"])
        got, want = json.loads(out), json.loads(ref.stdout)
        self.assertEqual(got.pop("stdout_buffer"), "FileIO")   # like python -u
        want.pop("stdout_buffer")
        self.assertEqual(got, want)
        self.assertFalse(got["agent_on_path"])
        self.assertNotIn("TASKLENS_TOKEN", got["tasklens_env"])

    def test_module_mode_matches_plain_python(self):
        (code, out, _, _), ref = self.run_both(["--module", "showmod", "a"], cwd=FIXTURES)
        self.assertEqual(json.loads(out), json.loads(ref.stdout))
        self.assertEqual(code, 0)

    def test_exit_codes(self):
        for arg, expected in (("exit=0", 0), ("exit=5", 5), ("exit=bye", 1)):
            (code, _, err, reported), ref = self.run_both([fixture("show_env.py"), arg])
            self.assertEqual((code, reported), (expected, expected), arg)
            self.assertEqual(ref.returncode, expected)
            self.assertEqual(err, ref.stderr)

    def test_uncaught_exception_traceback_is_identical(self):
        (code, out, err, reported), ref = self.run_both([fixture("crash_nested.py")])
        self.assertEqual((code, reported), (1, 1))
        self.assertEqual(err, ref.stderr)
        self.assertIn("ZeroDivisionError", err)
        self.assertNotIn("launch.py", err)
        self.assertNotIn("runpy", err)

    def test_syntax_error_and_missing_program_like_plain_python(self):
        for name, code in (("syntax_error.py", 1), ("no_such_file.py", 2)):
            path = fixture(name)
            (got, out, err, reported), ref = self.run_both([path])
            self.assertEqual((got, reported, ref.returncode), (code, code, code), name)
            if code == 1:
                self.assertEqual(err, ref.stderr)
            else:
                self.assertIn("can't open file %r" % path, err)

    def test_output_before_os_exit_is_not_lost(self):
        s = self.launch(fixture("output_then_os_exit.py"))
        s.handshake()
        s.start()
        code, out, err = s.finish()
        self.assertEqual((code, out, err), (7, "no newline before os._exit", "err text"))

    def test_keyboard_interrupt_exits_by_sigint_after_atexit(self):
        (code, out, err, reported), ref = self.run_both([fixture("interrupt.py")])
        self.assertEqual(code, -signal.SIGINT)
        self.assertEqual(ref.returncode, -signal.SIGINT)
        self.assertEqual(out, "atexit ran\n")
        self.assertEqual(err, ref.stderr)
        self.assertEqual(reported, -2)


class DisconnectBeforeStartTest(unittest.TestCase):
    def test_adapter_gone_before_start(self):
        s = AgentSession([fixture("show_env.py")])
        try:
            s.handshake()
            s.disconnect()
            self.assertEqual(s.finish()[0], 3)
        finally:
            s.close()
