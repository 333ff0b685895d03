"""While a trace records, os._exit writes the trace's file first (trace.py), and whatever
writing does, the process still ends at once with the status it was given."""
import os
import subprocess
import sys
import tempfile
import unittest

AGENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = """
import asyncio, os, sys
from tasklens_agent import trace
trace.start(sys.argv[1], 100)
async def hop():
    await asyncio.sleep(0)
asyncio.run(hop())
os._exit(7)
print("not reached")
"""


def run(path):
    return subprocess.run([sys.executable, "-c", PROGRAM, path], cwd=AGENT, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=AGENT))


class OsExitTest(unittest.TestCase):
    def test_writes_then_exits_with_the_status(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "t.json")
            done = run(path)
            self.assertEqual(done.returncode, 7, done.stderr)
            self.assertNotIn("not reached", done.stdout)
            self.assertIn("tasklens: trace written to %s" % path, done.stderr)
            with open(path) as f:
                self.assertIn('"traceEvents"', f.read())

    def test_a_file_that_cannot_be_written_does_not_keep_the_process(self):
        done = run("/nonexistent-folder/t.json")
        self.assertEqual(done.returncode, 7, done.stderr)
        self.assertIn("tasklens: cannot write the trace", done.stderr)
        self.assertNotIn("not reached", done.stdout)


if __name__ == "__main__":
    unittest.main()
