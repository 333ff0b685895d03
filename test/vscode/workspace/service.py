"""The program the VS Code browser tests attach to by PID, started with plain python (not under
tasklens): three pollers tick until the program is killed, each tick printed so the test sees
that the program runs on after the debugger detaches."""
import asyncio


async def poll(name, counts):
    while True:
        await asyncio.sleep(0.2)
        counts[name] += 1  # BREAKPOINT
        print(f"{name} {counts[name]}", flush=True)


async def main():
    counts = {f"poller-{i}": 0 for i in range(3)}
    async with asyncio.TaskGroup() as tg:
        for name in counts:
            tg.create_task(poll(name, counts), name=name)


asyncio.run(main())
