"""Attach on 3.11 adopts the program's running threads by walking the interpreter's thread
states: the walk ends promptly however busy the program is, and finds every thread."""
import os
import subprocess
import sys
import unittest

from tests.harness import AGENT_DIR, PYTHON, fixture


@unittest.skipIf(sys.version_info[:2] != (3, 11), "the thread-state walk is 3.11's (3.12+ trace all threads)")
class AdoptWalkTests(unittest.TestCase):
    def test_the_walk_never_waits_long_for_the_gil_in_a_busy_program(self):
        # Two spinning threads always have one waiting for the GIL; a walk switched out must get
        # it back within a switch interval, not after a raised one (it stalled attaches for 1000 s).
        env = dict(os.environ, PYTHONPATH=AGENT_DIR)
        out = subprocess.run([PYTHON, fixture("adopt_walk.py"), "3"], env=env, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        walks, slowest, complete = out.stdout.split()
        self.assertGreater(int(walks), 1000)
        self.assertLess(float(slowest), 1.0)
        self.assertEqual(complete, "True")


if __name__ == "__main__":
    unittest.main()
