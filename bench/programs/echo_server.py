"""An I/O-bound asyncio program (bench/top-bench.ts): an echo server on the loopback and 20
clients in the same process, each sending 250 lines one at a time and reading each echo before
the next. Prints the time the exchange took and the process's CPU time (it times itself)."""
import asyncio
import sys
import time

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
MESSAGES = int(sys.argv[2]) if len(sys.argv) > 2 else 250


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(MESSAGES):
        writer.write(b"message %d\n" % i)
        await writer.drain()
        assert await reader.readline() == b"message %d\n" % i
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cpu = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(client(port) for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    server.close()
    await server.wait_closed()
    print(f"elapsed={elapsed:.4f} cpu={cpu:.4f}")


asyncio.run(main())
