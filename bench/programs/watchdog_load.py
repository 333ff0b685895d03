"""The diagnostics watchdog's cost: N tasks waiting on an Event that main could set, while main
sleeps (so the loop is idle with a timer: no deadlock, no stuck task). Prints, as JSON, the CPU
time every thread but this one has used, read from /proc/self/task/*/schedstat (nanoseconds,
per thread, so the watchdog's own time) at each second after the tasks started waiting."""
import asyncio
import json
import os
import sys
import threading
import time

TASKS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 12


def other_threads_ns():
    me = str(threading.get_native_id())
    out = {}
    for tid in os.listdir("/proc/self/task"):
        if tid == me:
            continue
        try:
            with open("/proc/self/task/%s/schedstat" % tid) as f:
                out[tid] = int(f.read().split()[0])
        except OSError:     # ended meanwhile
            pass
    return out


async def waiter(release):
    await release.wait()


async def main():
    release = asyncio.Event()
    tasks = [asyncio.create_task(waiter(release)) for _ in range(TASKS)]
    await asyncio.sleep(0)
    samples = []
    start = time.monotonic()
    for second in range(SECONDS + 1):
        await asyncio.sleep(max(0.0, start + second - time.monotonic()))
        samples.append(other_threads_ns())
    release.set()
    await asyncio.gather(*tasks)
    print(json.dumps({"tasks": TASKS, "samples": samples}))


asyncio.run(main())
