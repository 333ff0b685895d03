"""One diagnosable moment for bench/diagnose-latency.ts, chosen by the first argument; the
program prints `moment <time.time()>` as it happens, so that the report's `time` can be set
against it.

- `blocked`: a task step blocks the loop in `time.sleep(0.6)` (the moment: the step starts);
- `lost`: a task ends with an exception nothing awaits, while the program keeps a reference to
  it (the moment: just before the raise);
- `deadlock`: two tasks each wait for the other's Event, and the loop goes idle for good (the
  moment: just before the second task waits). This one never ends: the benchmark kills it.
"""
import asyncio
import sys
import time

KIND = sys.argv[1]


def moment():
    print("moment %.6f" % time.time(), flush=True)


async def blocks():
    moment()
    time.sleep(0.6)


async def fails():
    await asyncio.sleep(0.2)
    moment()
    raise ValueError("nobody awaits this")


async def waits(mine, theirs, last):
    await asyncio.sleep(0.2)
    if last:
        moment()
    await mine.wait()
    theirs.set()


async def main():
    await asyncio.sleep(0.3)        # the watchdog is up and the loop has turned
    if KIND == "blocked":
        await asyncio.create_task(blocks())
        await asyncio.sleep(0.5)
    elif KIND == "lost":
        kept = asyncio.create_task(fails())
        await asyncio.sleep(0.8)
        assert kept.done()
    else:
        a, b = asyncio.Event(), asyncio.Event()
        await asyncio.gather(waits(a, b, False), waits(b, a, True))


asyncio.run(main())
