"""A task waiting on an object kept as an attribute (`self.queue`), which another task holds
through the same object, is not stuck while that task lives and names a method that completes
it (diagnostics/waits.py): the object's dictionary (3.11) or the object itself (3.12+) stands
between the queue and the task's frame, one level more than a local or a closure cell."""
import asyncio
import unittest

from tasklens_agent.diagnostics import waits


class Service:
    def __init__(self):
        self.queue = asyncio.Queue()

    async def produce(self, fail):
        await asyncio.sleep(0 if fail else 60)
        if fail:
            raise ValueError("producer broke")
        self.queue.put_nowait(1)

    async def consume(self):
        return await self.queue.get()


def completers(fail):
    """The tasks the consumer's Wait names as able to complete its queue."""
    async def scenario():
        service = Service()
        producer = asyncio.create_task(service.produce(fail), name="producer")
        consumer = asyncio.create_task(service.consume(), name="consumer")
        await asyncio.sleep(0.05)
        pending = [t for t in (producer, consumer) if not t.done()]
        built = waits.build([consumer], lambda obj: [], everyone=pending)
        names = [t.get_name() for t, _ in built[id(consumer)].edges]
        for task in pending:
            task.cancel()
        await asyncio.gather(producer, consumer, return_exceptions=True)
        return names
    return asyncio.run(scenario())


class AttributeOfAnObject(unittest.TestCase):
    def test_a_live_task_holding_the_same_object_could_complete_it(self):
        self.assertEqual(completers(fail=False), ["producer"])

    def test_once_that_task_has_failed_nothing_can(self):
        self.assertEqual(completers(fail=True), [])


if __name__ == "__main__":
    unittest.main()
