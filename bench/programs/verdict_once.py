"""The stuck-task verdict (diagnostics' Judge) on the shape of bench/programs/diag_clients.py:
N clients, each waiting on a queue of its own, and a feeder that holds every queue (so none is
stuck); K of them judged, REPS times, with the collector off as onloop.post runs it. Prints
each verdict's wall time. Run with the agent's directory on PYTHONPATH; counted by
bench/verdict-instructions.ts (REPS 0 and 2: the difference, halved, is one verdict).

    python verdict_once.py [N] [K] [REPS]
"""
import asyncio
import gc
import sys
import threading
import time

from tasklens_agent import task_origins
from tasklens_agent.diagnostics import verdicts

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
K = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 7


async def handler(q):
    while True:
        await q.get()


async def feeder(queues):
    while True:
        await asyncio.sleep(3600)
        queues[0].put_nowait(1)


def lost_callback(_):
    pass


async def main():
    queues = [asyncio.Queue() for _ in range(N)]
    tasks = [asyncio.create_task(handler(q)) for q in queues]
    tasks.append(asyncio.create_task(feeder(queues)))
    if sys.version_info < (3, 12):
        task_origins.done_callback = lost_callback      # lost.py's, on every task on 3.11
        for t in tasks:
            t.add_done_callback(lost_callback)
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(REPS):
        gc.disable()        # as onloop.post runs a look
        t0 = time.perf_counter()
        out = verdicts.Judge(loop, threading.get_ident(), tasks).hopeless(tasks[:K])
        times.append(time.perf_counter() - t0)
        gc.enable()
        assert out == [], out       # the feeder holds every queue
    print("VERDICT_MS %s" % " ".join("%.1f" % (t * 1000) for t in times))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main())
