"""The child that family.py starts."""
import asyncio
import sys


async def work(n):
    result = n * 6  # CHILD_BREAKPOINT
    return result


print(asyncio.run(work(int(sys.argv[1]))), flush=True)
