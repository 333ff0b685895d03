"""diagnostics.stop (an attached debugger leaving) puts back everything diagnostics.start and
watch_running_loops put in, in a process of its own: the selector class's `select`, asyncio's
Lock and Semaphore methods, the loop class's `create_task`, Python's unawaited-coroutine hook,
the sys.monitoring tool id, the watchdog thread, and a lock's owner record; a second start
after the stop works again."""
import json
import os
import subprocess
import sys
import unittest

AGENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r'''
import _thread, asyncio, json, selectors, sys, time, warnings
from tasklens_agent import diagnostics, looptime

class Core:
    conn = None
    stopped = pause_requested = False
    exception_filters = frozenset()

def hooks(loop):
    mon = getattr(sys, "monitoring", None)
    return {
        "select": type(loop._selector).select,
        "select_own": "select" in vars(type(loop._selector)),
        "lock": (asyncio.Lock.acquire, asyncio.Lock.release),
        "semaphore": (asyncio.Semaphore.acquire, asyncio.Semaphore.release),
        "create_task": type(loop).create_task,
        "unawaited": warnings._warn_unawaited_coroutine,
        "tools": [i for i in range(6) if mon is not None and mon.get_tool(i) is not None],
    }

async def main():
    loop = asyncio.get_running_loop()
    before, threads = hooks(loop), _thread._count()
    out = {}
    for round in (1, 2):
        diagnostics.start(Core(), hold=False)
        diagnostics.watch_running_loops()
        lock = asyncio.Lock()
        await lock.acquire()        # held across the stop: its record must go too
        await asyncio.sleep(0.05)
        during = hooks(loop)
        out["changed%d" % round] = sorted(k for k in before if during[k] != before[k])
        out["threads_during%d" % round] = _thread._count() - threads
        out["lock_dict_during%d" % round] = sorted(vars(lock))
        diagnostics.stop()
        for _ in range(100):
            if _thread._count() == threads:
                break
            time.sleep(0.01)
        after = hooks(loop)
        out["left%d" % round] = sorted(k for k in before if after[k] != before[k])
        out["threads_after%d" % round] = _thread._count() - threads
        out["lock_dict%d" % round] = sorted(vars(lock))
        out["records%d" % round] = len(looptime.records())
        lock.release()
    print(json.dumps(out))

asyncio.run(main())
'''


class DiagnosticsStopTest(unittest.TestCase):
    def test_stop_restores_everything(self):
        env = dict(os.environ, PYTHONPATH=AGENT)
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        out = json.loads(done.stdout.strip().splitlines()[-1])
        wrapped = ["create_task", "lock", "select", "semaphore", "unawaited"]
        if sys.version_info >= (3, 12):
            wrapped.append("tools")
        for round in (1, 2):
            self.assertEqual(sorted(out["changed%d" % round]), sorted(wrapped), out)
            self.assertEqual(out["threads_during%d" % round], 1, out)
            self.assertEqual(out["left%d" % round], [], out)
            self.assertEqual(out["threads_after%d" % round], 0, out)
            self.assertIn("_tasklens_owner", out["lock_dict_during%d" % round], out)
            self.assertNotIn("_tasklens_owner", out["lock_dict%d" % round], out)
            self.assertEqual(out["records%d" % round], 0, out)


if __name__ == "__main__":
    unittest.main()
