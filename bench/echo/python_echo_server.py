"""Echo server on the Python `websockets` library, the reference peer of the echo benchmark.

Usage: python_echo_server.py PORT

Listens on 127.0.0.1:PORT and echoes every message on any path, with compression off (the load
generator never offers it) and the library's default asyncio event loop.
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(connection):
    async for message in connection:
        await connection.send(message)


async def main(port):
    async with serve(echo, "127.0.0.1", port, compression=None, ping_interval=None,
                     max_size=1 << 20):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
