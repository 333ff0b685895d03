"""Stops in a task of a loop with 20 other tasks sleeping, for bench/await-bench.ts: the
console's `await` is timed against a plain evaluate in the same frame."""
import asyncio
import sys


async def fetch(delay):
    await asyncio.sleep(delay)
    return 42


async def idle(n):
    await asyncio.sleep(3600)


async def stopper():
    value = 1
    print(value)  # BENCH-STOP


async def main():
    sleepers = [asyncio.create_task(idle(n)) for n in range(20)]
    await asyncio.sleep(0)
    await asyncio.create_task(stopper())
    for task in sleepers:
        task.cancel()


if "--loop=uvloop" in sys.argv:
    import uvloop
    asyncio.run(main(), loop_factory=uvloop.new_event_loop)
else:
    asyncio.run(main())
