"""asyncio throughput: 20,000 tasks hopping through sleep(0), then a 100,000-item pipeline of
three stages joined by two queues. Prints the time each part took (the program times itself),
and the process's CPU time over both."""
import asyncio
import sys
import time

TASKS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
HOPS = 10
ITEMS = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000


async def hopper(n):
    total = n
    for _ in range(HOPS):
        await asyncio.sleep(0)
        total += 1
    return total


async def producer(out):
    for i in range(ITEMS):
        await out.put(i)
    await out.put(None)


async def stage(inp, out):
    while (item := await inp.get()) is not None:
        await out.put(item * 2)
    await out.put(None)


async def consumer(inp):
    total = 0
    while (item := await inp.get()) is not None:
        total += item
    return total


async def main():
    cpu = time.process_time()
    start = time.perf_counter()
    results = await asyncio.gather(*(hopper(n) for n in range(TASKS)))
    hops = time.perf_counter() - start
    start = time.perf_counter()
    first, second = asyncio.Queue(1000), asyncio.Queue(1000)
    _, _, total = await asyncio.gather(producer(first), stage(first, second), consumer(second))
    pipeline = time.perf_counter() - start
    assert total == ITEMS * (ITEMS - 1) and len(results) == TASKS
    cpu = time.process_time() - cpu     # every thread's CPU time: robust on a busy machine
    print(f"hops={hops:.4f} pipeline={pipeline:.4f} elapsed={hops + pipeline:.4f} cpu={cpu:.4f}")


asyncio.run(main())
