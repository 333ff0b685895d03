"""10,000 pending tasks, each suspended three coroutines deep, then a breakpoint in main."""
import asyncio
import sys

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


async def inner(release, n):
    await release.wait()
    return n


async def middle(release, n):
    return await inner(release, n)


async def outer(release, n):
    return await middle(release, n)


async def main():
    release = asyncio.Event()
    tasks = [asyncio.create_task(outer(release, n), name=f"pending-{n}") for n in range(COUNT)]
    await asyncio.sleep(0)
    ready = len(tasks)  # BREAK_LINE
    release.set()
    await asyncio.gather(*tasks)
    print("done", ready)


asyncio.run(main())
