"""A lean HTTP/1.1 keep-alive client for the load generator of bench/progress.py.

The load generator shares the 2 cores with the server it measures, so every microsecond it
spends per request is taken from the portal. aiohttp cost about 0.4 ms of CPU per report;
this client writes prepared request bytes on asyncio protocols and reads only the status
line and Content-Length of each answer, at roughly a quarter of that. It does just what the
benchmark needs: POST with a JSON body to one loopback host, one request at a time per
connection, connections reused from an idle pool.
"""

from __future__ import annotations

import asyncio


class HttpError(Exception):
    """The connection failed or the answer was not HTTP."""


class _Connection(asyncio.Protocol):
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError("connection closed by the server"))

    def send(self, request: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.waiter = self.pool.loop.create_future()
        self.buffer.clear()
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        length = 0
        marker = head.find(b"\r\ncontent-length:")
        if marker >= 0:
            stop = head.find(b"\r\n", marker + 2)
            length = int(head[marker + 17: stop if stop >= 0 else None])
        if len(self.buffer) < end + 4 + length:
            return  # body still arriving
        waiter, self.waiter = self.waiter, None
        try:
            status = int(head[9:12])
        except ValueError:
            status = -1
        if b"\r\nconnection: close" in head and self.transport is not None:
            self.transport.close()
        if waiter is not None and not waiter.done():
            if status < 0:
                waiter.set_exception(HttpError("not an HTTP answer"))
            else:
                waiter.set_result(status)


class ConnectionPool:
    """Keep-alive connections to one host; a request takes an idle one or opens another."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Connection] = []
        self.head = f"Host: {host}:{port}\r\nContent-Type: application/json\r\n".encode()

    async def post(self, path: str, body: bytes, headers: bytes = b"") -> int:
        """The status of `POST path`; HttpError or TimeoutError when it fails."""
        request = (b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head + headers
                   + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                break
        else:
            _, connection = await self.loop.create_connection(lambda: _Connection(self), self.host, self.port)
        future = connection.send(request)
        timer = self.loop.call_later(self.timeout, _expire, future)
        try:
            status = await future
        except BaseException:
            if connection.transport is not None:
                connection.transport.close()
            raise
        finally:
            timer.cancel()
        if not connection.closed:
            self.idle.append(connection)
        return status

    def close(self) -> None:
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()
        self.idle.clear()


def _expire(future: asyncio.Future[int]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
