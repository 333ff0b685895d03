"""What must outlive a process that ends past atexit. While a trace records, os._exit writes
the trace's file first (trace.py), and whatever writing does, the process still ends at once
with the status it was given. SIGTERM (what `timeout`, `systemctl stop` and `docker stop` send)
writes it too, and the process still dies by the signal. A forked child that leaves by os._exit
(a pool worker) removes its discovery file (os_exit.py)."""
import os
import signal
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


SERVICE = """
import asyncio
async def main():
    print("ready", flush=True)
    while True:
        await asyncio.sleep(0.01)
asyncio.run(main())
"""


class SigtermTest(unittest.TestCase):
    def test_sigterm_writes_the_trace_and_dies_by_the_signal(self):
        with tempfile.TemporaryDirectory() as folder:
            path, program = os.path.join(folder, "t.json"), os.path.join(folder, "service.py")
            with open(program, "w") as f:
                f.write(SERVICE)
            proc = subprocess.Popen([sys.executable, os.path.join(AGENT, "launch.py"), "--trace",
                                     path, "--", program], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                self.assertEqual(proc.stdout.readline(), "ready\n")
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            self.assertEqual(proc.returncode, -signal.SIGTERM, err)
            self.assertIn("tasklens: trace written to %s" % path, err)
            with open(path) as f:
                self.assertIn('"traceEvents"', f.read())



FORKS = """
import os, sys, time
pid = os.fork()
if pid == 0:
    time.sleep(0.3)         # its agent has written the child's own discovery file by now
    os._exit(3)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
"""


class ForkedChildLeavingByOsExitTest(unittest.TestCase):
    def test_it_takes_its_discovery_file_with_it(self):
        """A pool worker forked under `tasklens run` leaves by os._exit: its file must go too."""
        with tempfile.TemporaryDirectory() as runtime:
            program = os.path.join(runtime, "forks.py")
            with open(program, "w") as f:
                f.write(FORKS)
            done = subprocess.run([sys.executable, os.path.join(AGENT, "launch.py"), "--",
                                   program], capture_output=True, text=True, timeout=60,
                                  env=dict(os.environ, XDG_RUNTIME_DIR=runtime))
            self.assertEqual((done.returncode, done.stdout), (0, "child 3\n"), done.stderr)
            folder = os.path.join(runtime, "tasklens")
            self.assertEqual(os.listdir(folder) if os.path.isdir(folder) else [], [])

if __name__ == "__main__":
    unittest.main()
