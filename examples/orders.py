"""A small asyncio program for trying tasklens: three workers drain a queue of orders.

Run it under the debugger with `./bin/tasklens demo`, or on its own with `python3 examples/orders.py`.
"""
import asyncio
from dataclasses import dataclass


@dataclass
class Order:
    order_id: int
    item: str
    quantity: int


def price_of(order):
    unit = {"apple": 3, "pear": 4, "plum": 5}[order.item]
    total = unit * order.quantity  # the demo stops here
    return total


async def worker(name, queue, totals):
    while True:
        order = await queue.get()
        try:
            await asyncio.sleep(0.01)
            totals[name] = totals.get(name, 0) + price_of(order)
        finally:
            queue.task_done()


async def main():
    queue = asyncio.Queue()
    for order_id, item in enumerate(["apple", "pear", "plum", "apple", "pear", "plum"]):
        queue.put_nowait(Order(order_id, item, quantity=order_id + 1))
    totals = {}
    workers = [asyncio.create_task(worker(f"worker-{i}", queue, totals), name=f"worker-{i}") for i in range(3)]
    await queue.join()
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    print(f"revenue by worker: {totals}")
    print(f"total revenue: {sum(totals.values())}")


if __name__ == "__main__":
    asyncio.run(main())
