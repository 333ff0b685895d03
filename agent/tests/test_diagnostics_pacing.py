"""The watchdog's looks at a loop's waits pause the loop (heap walks on its own thread), so the
next look waits onloop.PACE times the last one's length: a program whose tasks keep newly
waiting long gets a look of 0.05 s once a second, not every sample (a quarter of a second
with --stuck-s 0.5). Run in a process of its own: the diagnostics hook the process."""
import json
import os
import subprocess
import sys
import unittest

AGENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r'''
import asyncio, json, sys, time
from tasklens_agent import diagnostics
from tasklens_agent.diagnostics import onloop, verdicts

onloop.PACE = int(sys.argv[1])
looks = []
real = verdicts.examine

def examine(*args):
    looks.append(time.monotonic())
    time.sleep(0.05)
    return real(*args)
verdicts.examine = examine

async def main():
    diagnostics.watch_running_loops()
    tasks = []
    started = time.monotonic()
    while time.monotonic() - started < 3.5:
        tasks.append(asyncio.create_task(asyncio.Event().wait()))   # newly waiting, each
        await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

diagnostics.start(None, stuck=0.5, stderr=False)
asyncio.run(main())
diagnostics.stop()
print(json.dumps([b - a for a, b in zip(looks, looks[1:])]))
'''


def gaps(pace):
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(pace)], cwd=AGENT,
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Pacing(unittest.TestCase):
    def test_a_look_of_50_ms_comes_once_a_second_at_most(self):
        between = gaps(20)
        self.assertGreaterEqual(len(between), 1, between)
        self.assertTrue(all(g >= 1.0 for g in between), between)

    def test_unpaced_they_come_every_sample(self):
        """What the pacing changes: without it, a look every quarter of a second."""
        between = gaps(0)
        self.assertGreaterEqual(len(between), 6, between)
        self.assertLess(min(between), 0.5, between)


if __name__ == "__main__":
    unittest.main()
