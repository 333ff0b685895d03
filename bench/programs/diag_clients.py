"""A service of N clients under the diagnostics' looks: each client's handler waits on a queue
of its own, a feeder puts a message on a random one every millisecond, so each handler waits
about N/1000 seconds between two, and thousands newly wait past the stuck threshold all the
time (nothing is stuck: the feeder can put on every queue). Main measures how late a 50 ms
timer runs; prints, as JSON, the worst lateness of each second (ms) after the clients start."""
import asyncio
import json
import random
import sys
import time

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 30


async def handler(queue):
    while True:
        await queue.get()


async def feeder(queues):
    while True:
        await asyncio.sleep(0.001)
        random.choice(queues).put_nowait(1)


async def main():
    queues = [asyncio.Queue() for _ in range(CLIENTS)]
    tasks = [asyncio.create_task(handler(q)) for q in queues]
    tasks.append(asyncio.create_task(feeder(queues)))
    start = time.monotonic()
    worst, seconds = 0.0, []
    while time.monotonic() - start < SECONDS:
        due = time.monotonic() + 0.05
        await asyncio.sleep(0.05)
        worst = max(worst, time.monotonic() - due)
        if time.monotonic() - start >= len(seconds) + 1:
            seconds.append(round(worst * 1000, 1))
            worst = 0.0
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(seconds))


asyncio.run(main())
