# 50 threads parked a few calls deep (in Event.wait, Lock.acquire or time.sleep), next to a main
# thread running an event loop with a few tasks: what `tasklens dump` meets in a busy service.
# Prints "ready".
import asyncio
import threading
import time

N = 50
release = threading.Event()
lock = threading.Lock()
lock.acquire()


def park(kind, depth):
    if depth > 0:
        return park(kind, depth - 1)
    if kind == 0:
        release.wait()
    elif kind == 1:
        lock.acquire()
    else:
        time.sleep(3600)


async def idle():
    await asyncio.sleep(3600)


async def main():
    for i in range(N - 1):
        threading.Thread(target=park, args=(i % 3, 5 + i % 7), name=f"worker-{i}", daemon=True).start()
    tasks = [asyncio.create_task(idle()) for _ in range(10)]
    await asyncio.sleep(0.3)
    print("ready", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
