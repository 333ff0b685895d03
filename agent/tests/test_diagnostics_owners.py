"""Holders of asyncio locks taken before the diagnostics watched them (diagnostics/owners.py):
the task suspended inside the body of an `async with` of the lock, by a local name or an
attribute; not a task waiting in that `async with`, nor one that took the lock with a bare
`acquire()`, nor one whose `async with` belongs to an enclosing function."""
import asyncio
import unittest

from tasklens_agent.diagnostics import owners


class Service:
    def __init__(self):
        self._lock = asyncio.Lock()

    async def hold(self, event):
        async with self._lock:  # SERVICE_HOLDS
            await event.wait()


async def hold(lock, event):
    async with lock:  # HOLDS
        await event.wait()


async def wait_for(lock):
    async with lock:  # WAITS
        pass


async def bare(lock, event):
    await lock.acquire()
    await event.wait()


async def outer(lock, event):
    async with lock:  # OUTER_HOLDS
        async def inner():
            await event.wait()
        await inner()


def line_of(marker):
    with open(__file__) as f:
        return next(i for i, text in enumerate(f, 1) if "# " + marker in text)


class OwnersTest(unittest.TestCase):
    def test_holders(self):
        asyncio.run(self._check())

    async def _check(self):
        event = asyncio.Event()
        service, plain, taken, nested = Service(), asyncio.Lock(), asyncio.Lock(), asyncio.Lock()
        tasks = {
            "service": asyncio.create_task(service.hold(event)),
            "holder": asyncio.create_task(hold(plain, event)),
            "waiter": asyncio.create_task(wait_for(plain)),
            "bare": asyncio.create_task(bare(taken, event)),
            "outer": asyncio.create_task(outer(nested, event)),
        }
        await asyncio.sleep(0.05)
        everyone = list(tasks.values())
        found = {name: [(t, s["line"]) for t, s in owners.holders(lock, everyone)]
                 for name, lock in (("service", service._lock), ("plain", plain),
                                    ("taken", taken), ("nested", nested))}
        self.assertEqual(found["service"], [(tasks["service"], line_of("SERVICE_HOLDS"))])
        self.assertEqual(found["plain"], [(tasks["holder"], line_of("HOLDS"))])
        self.assertEqual(found["taken"], [])
        # `outer` awaits `inner`, whose frame is not inside the `async with`: the outer one is.
        self.assertEqual(found["nested"], [(tasks["outer"], line_of("OUTER_HOLDS"))])
        event.set()
        await asyncio.gather(*everyone)


if __name__ == "__main__":
    unittest.main()
