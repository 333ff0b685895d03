"""Handshake and the program running exactly as under plain python."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import zipapp

from tests.harness import (AgentSession, AgentTestCase, FIXTURES, LAUNCH, PYTHON, TIMEOUT,
                           fixture)


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

    def test_a_relative_path_gives_an_absolute_file_as_python(self):
        """`tasklens run app.py` from the program's folder: `__file__` absolute, argv[0] as typed
        (a program that changes directory still finds its data beside it)."""
        (code, out, _, _), ref = self.run_both(["show_env.py", "x"], cwd=FIXTURES)
        got, want = json.loads(out), json.loads(ref.stdout)
        self.assertEqual(got.pop("stdout_buffer"), "FileIO")
        want.pop("stdout_buffer")
        self.assertEqual(got, want)
        self.assertEqual(got["file"], fixture("show_env.py"))
        self.assertEqual(got["argv"], ["show_env.py", "x"])

    def test_a_directory_and_a_zipapp_run_their_main_as_python(self):
        with tempfile.TemporaryDirectory() as tmp:
            app = os.path.join(tmp, "app")
            os.mkdir(app)
            shutil.copy(fixture("show_env.py"), os.path.join(app, "__main__.py"))
            zipapp.create_archive(app, os.path.join(tmp, "app.pyz"))
            for program in ("app", "app.pyz"):
                (code, out, err, _), ref = self.run_both([program, "x"], cwd=tmp)
                self.assertEqual(code, 0, err)
                got, want = json.loads(out), json.loads(ref.stdout)
                got.pop("stdout_buffer")
                want.pop("stdout_buffer")
                for spec in (got, want):    # its loader's repr names an address
                    spec["spec"] = re.sub(r" at 0x[0-9a-f]+", "", spec["spec"])
                self.assertEqual(got, want)
                self.assertEqual(got["file"], os.path.join(tmp, program, "__main__.py"))

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


class WaitingForADebuggerTest(unittest.TestCase):
    def test_ctrl_c_while_waiting_ends_quietly_with_130(self):
        proc = subprocess.Popen([PYTHON, LAUNCH, "--listen", "127.0.0.1:0", "--",
                                 fixture("show_env.py")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            first = proc.stderr.readline()
            self.assertRegex(first, r"^tasklens: waiting for a debugger to attach on 127\.0\.0\.1:")
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.assertEqual((proc.returncode, out, err),
                         (130, "", "tasklens: interrupted while waiting for a debugger\n"))


class DisconnectBeforeStartTest(unittest.TestCase):
    def test_adapter_gone_before_start(self):
        s = AgentSession([fixture("show_env.py")])
        try:
            s.handshake()
            s.disconnect()
            self.assertEqual(s.finish()[0], 3)
        finally:
            s.close()
