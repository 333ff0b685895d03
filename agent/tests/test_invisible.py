"""The agent's threads and imports, as the program sees them: `threading.enumerate()` and
`threading.active_count()` as under plain python in every mode (with the control thread, the
listen thread, a repr worker and a pause watcher running), and no module beyond the agent's own
package and the standard library it uses."""
import ast
import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
import unittest

from tests.harness import LAUNCH, PYTHON, TIMEOUT, AgentTestCase, fixture, settrace_variant

VIEW = fixture("thread_view.py")
# Importing these would change what a program or its libraries decide (sniffio looks for
# asyncio in sys.modules; logging and concurrent.futures register exit hooks).
NEVER_IMPORTED = ("asyncio", "concurrent", "logging", "uvloop")


STDLIB_DIRS = tuple({sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")})


def in_stdlib(name):
    """A standard-library module, including the private ones its modules load (the
    `_sysconfigdata_*` of sysconfig) that sys.stdlib_module_names leaves out."""
    if name in sys.stdlib_module_names:
        return True
    spec = importlib.util.find_spec(name)
    return spec is not None and (spec.origin or "").startswith(STDLIB_DIRS)


def plain_run(*args):
    done = subprocess.run([PYTHON, "-u", VIEW] + list(args), capture_output=True,
                          timeout=TIMEOUT, check=True)
    return done.stdout.decode().splitlines()


class InvisibleThreadsTests(AgentTestCase):
    def test_connect_mode_with_repr_worker_and_pause_watcher(self):
        expected = plain_run()[0]
        s = self.launch(VIEW, "spin")
        s.handshake()
        s.start()
        deadline = time.monotonic() + TIMEOUT
        while not b"".join(s.stdout).startswith(b"spinning\n"):
            self.assertLess(time.monotonic(), deadline, "the fixture never started spinning")
            time.sleep(0.01)
        s.request("pause")    # starts the pause watcher thread
        tid = s.stopped("pause")["threadId"]
        frame_id = s.top_frame(tid)["id"]
        # a user __repr__ that calls threading.current_thread(), run on the repr worker
        self.assertEqual(s.locals(frame_id)["shown"]["value"], "Shown in a thread")
        s.request("evaluate", {"expression": "spin.clear()", "frameId": frame_id,
                               "context": "repl"})
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        code, out, err = s.finish()
        self.assertEqual((code, out.splitlines()[1:], err), (0, [expected], ""))


class InvisibleWithoutDebuggerTests(unittest.TestCase):
    def run_agent(self, *agent_args):
        runtime = tempfile.mkdtemp()
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        done = subprocess.run([PYTHON, LAUNCH] + list(agent_args) + ["--", VIEW, "modules"],
                              capture_output=True, timeout=TIMEOUT, env=env)
        # exits at once, quietly, with the listen thread blocked in accept(); port 0 (the
        # system picks it) is named, the one way to learn it but `tasklens ps`
        said = done.stderr.decode()
        if "--listen" in agent_args:
            self.assertRegex(said, r"^tasklens: listening for a debugger on 127\.0\.0\.1:\d+ "
                                   r"\(pid \d+\)\n$")
            said = ""
        self.assertEqual((done.returncode, said), (0, ""))
        return done.stdout.decode().splitlines()

    def check(self, *agent_args):
        plain = plain_run("modules")
        seen = self.run_agent(*agent_args)
        self.assertEqual(seen[0], plain[0])
        extra = set(ast.literal_eval(seen[1])) - set(ast.literal_eval(plain[1]))
        tops = {name.partition(".")[0] for name in extra}
        self.assertIn("tasklens_agent", tops)
        self.assertEqual({t for t in tops if t != "tasklens_agent" and not in_stdlib(t)}, set())
        self.assertEqual(tops & set(NEVER_IMPORTED), set())

    def test_run_mode(self):
        self.check()

    def test_listen_no_wait(self):
        self.check("--listen", "127.0.0.1:0", "--no-wait")


globals().update(settrace_variant(InvisibleThreadsTests))
