"""10,000 tasks for `tasklens top`'s refresh (bench/top-bench.ts): each waits three coroutines
deep on an event set every second, so all of them wake once a second; runs until killed.
With `--idle` the event is never set: the loop then runs nothing but what `top` makes it run,
so how late its timers fire is the pause a refresh causes. With `--stuck` each task waits on
an event of its own that nothing else holds: the loop idles too, and every task is stuck (a
warning each, past `--stuck-s`)."""
import asyncio
import sys

COUNT = 10_000
STUCK = "--stuck" in sys.argv


async def inner(tick):
    await tick.wait()


async def middle(tick):
    await inner(tick)


async def worker(tick):
    while True:
        await middle(asyncio.Event() if STUCK else tick)


async def main():
    tick = asyncio.Event()
    tasks = [asyncio.create_task(worker(tick), name=f"worker-{n}") for n in range(COUNT)]
    while True:
        await asyncio.sleep(1)
        if "--idle" not in sys.argv and not STUCK:
            tick.set()
            tick.clear()


asyncio.run(main())
