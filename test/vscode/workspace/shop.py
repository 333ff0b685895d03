"""The program the VS Code browser tests debug: a supervisor task runs three workers in a
TaskGroup; each worker prices its orders, awaiting a slow lookup for each."""
import asyncio


async def lookup(order):
    await asyncio.sleep(0.05)
    return order * 3


async def worker(orders, totals):
    for order in orders:
        price = await lookup(order)  # STEP_OVER_AWAIT
        totals.append(price)  # BREAKPOINT


async def supervise(totals):
    async with asyncio.TaskGroup() as tg:
        for i in range(3):
            tg.create_task(worker(range(i, 9, 3), totals), name=f"worker-{i}")


async def main():
    totals = []
    await asyncio.create_task(supervise(totals), name="supervisor")
    print(f"total: {sum(totals)}")


asyncio.run(main())
