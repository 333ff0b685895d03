"""Child processes (tasklens_agent/children.py): the environment children inherit and what the
bootstrap does in a Python child, checked in real child interpreters. The sessions they open
are tested end to end in test/children*.test.ts."""
import os
import subprocess
import tempfile
import types
import unittest

from tasklens_agent import children
from tasklens_agent.breakpoints import BreakpointStore
from tasklens_agent.session import Session
from tests.harness import PYTHON, TIMEOUT, fixture

PROBE = ("import os, sys; print(os.environ.get('HIDDEN_RAN'), 'tasklens_agent' in sys.modules, "
         "any('bootstrap' in p for p in sys.path), sys.argv[1:])")


class EnvironmentTests(unittest.TestCase):
    def setUp(self):
        self.saved = dict(os.environ)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved)

    def test_follow_and_restore(self):
        os.environ["PYTHONPATH"] = "/somewhere"
        children.start("run")
        self.assertEqual(os.environ[children.ENV], "run")
        self.assertEqual(os.environ["PYTHONPATH"].split(os.pathsep), [children.BOOTSTRAP, "/somewhere"])
        children.configure({"host": "127.0.0.1", "port": 4000, "token": "abc", "launched": True})
        self.assertEqual(os.environ[children.ENV], "debug 127.0.0.1:4000 abc launch")
        self.assertEqual(os.environ["PYTHONPATH"].count(children.BOOTSTRAP), 1)
        children.restore()
        self.assertEqual(os.environ[children.ENV], "run")

    def test_parse(self):
        self.assertIsNone(children._parse("run"))
        self.assertEqual(children._parse("debug 127.0.0.1:9 t attach"), ("127.0.0.1", 9, "t", False))
        with self.assertRaises(ValueError):
            children._parse("debug nonsense")


class BootstrapTests(unittest.TestCase):
    def run_child(self, spec, *args, program=("-c", PROBE)):
        hidden = tempfile.mkdtemp()
        with open(os.path.join(hidden, "sitecustomize.py"), "w") as f:
            f.write("import os\nos.environ['HIDDEN_RAN'] = 'yes'\n")
        env = dict(os.environ, XDG_RUNTIME_DIR=tempfile.mkdtemp(),
                   PYTHONPATH=os.pathsep.join([children.BOOTSTRAP, hidden]))
        env.pop(children.ENV, None)
        if spec is not None:
            env[children.ENV] = spec
        done = subprocess.run([PYTHON, *program] + list(args), capture_output=True,
                              timeout=TIMEOUT, env=env, text=True)
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        return done.stdout.strip()

    def test_run_mode_loads_the_agent_and_the_hidden_sitecustomize(self):
        self.assertEqual(self.run_child("run", "a"), "yes True False ['a']")

    def test_without_the_variable_only_the_hidden_sitecustomize_runs(self):
        self.assertEqual(self.run_child(None), "yes False False []")

    def test_a_gone_adapter_leaves_the_child_undebugged(self):
        self.assertEqual(self.run_child("debug 127.0.0.1:9 token launch"), "yes True False []")


    def test_a_fork_server_freezes_what_it_holds_before_the_program(self):
        # Its workers' collections leave the agent's objects (and Python's start-up) alone; the
        # objects the program's main module makes in the fork server are collected as ever.
        plain = self.run_child(None, program=(fixture("forkserver_gc.py"),)).split()
        followed = self.run_child("run", program=(fixture("forkserver_gc.py"),)).split()
        self.assertEqual((plain[1:], followed[1:]), (["True", "False"], ["True", "True"]))
        self.assertGreater(int(followed[0]), int(plain[0]) + 1000)

if __name__ == "__main__":
    unittest.main()


class PresetTests(unittest.TestCase):
    """A child meets its parent's breakpoints (the registry's reply, `_preset`) and its own
    session's from two threads, in either order: what its session set stays."""
    FILE = fixture("bp_basic.py")
    OTHER = fixture("exceptions.py")

    def setUp(self):
        core = types.SimpleNamespace(bps=BreakpointStore(), exception_filters=frozenset(),
                                     filters_from_session=False,
                                     backend=types.SimpleNamespace(refresh=lambda **kw: None))
        self.agent = types.SimpleNamespace(core=core)
        self.session = types.SimpleNamespace(core=core)
        self.reply = {"breakpoints": [{"source": {"path": self.FILE}, "breakpoints": [{"line": 2}]},
                                      {"source": {"path": self.OTHER}, "breakpoints": [{"line": 1}]}],
                      "filters": ["raised"]}

    def session_sets(self):
        """What the child's own session sends, through the session's own handlers."""
        body = Session.r_setBreakpoints(self.session, {"source": {"path": self.FILE},
                                                       "breakpoints": [{"line": 3}]})
        Session.r_setExceptionBreakpoints(self.session, {"filters": ["uncaught"]})
        return [bp["id"] for bp in body["breakpoints"]]

    def lines(self, path):
        return {line: [bp.id for bp in bps]
                for line, bps in self.agent.core.bps.by_file.get(path, {}).items()}

    def test_the_session_first_then_a_late_preset_keeps_the_sessions(self):
        ids = self.session_sets()
        children._preset(self.agent, self.reply)
        self.assertEqual(self.lines(self.FILE), {3: ids})
        self.assertEqual(self.agent.core.exception_filters, frozenset({"uncaught"}))
        self.assertEqual(list(self.lines(self.OTHER)), [1], "a file the session did not set")

    def test_the_preset_first_then_the_session_replaces_it(self):
        children._preset(self.agent, self.reply)
        self.assertEqual(list(self.lines(self.FILE)), [2])
        self.assertEqual(self.agent.core.exception_filters, frozenset({"raised"}))
        ids = self.session_sets()
        self.assertEqual(self.lines(self.FILE), {3: ids})
        self.assertEqual(self.agent.core.exception_filters, frozenset({"uncaught"}))

    def test_a_cleared_store_takes_a_preset_again(self):
        """A forked child's store is cleared (main.Agent._forked): its session is a new one."""
        self.session_sets()
        self.agent.core.bps.clear()
        self.agent.core.filters_from_session = False
        children._preset(self.agent, self.reply)
        self.assertEqual(list(self.lines(self.FILE)), [2])
