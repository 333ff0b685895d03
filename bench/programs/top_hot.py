"""N tasks (argv[1]) that hop back to back through `await asyncio.sleep(0)`: a loop that never
sleeps, for `top`'s first contact and samples against it (bench/top-first-contact.ts). With
`--idle` each task sleeps a second instead: the same tasks on a loop that waits, the anchor.
Runs until killed."""
import asyncio
import sys

COUNT = int(sys.argv[1])
PAUSE = 1.0 if "--idle" in sys.argv else 0


async def hopper():
    while True:
        await asyncio.sleep(PAUSE)


async def main():
    tasks = [asyncio.create_task(hopper(), name="hopper-%d" % i) for i in range(COUNT)]
    await asyncio.gather(*tasks)


asyncio.run(main())
