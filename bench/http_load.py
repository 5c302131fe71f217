"""A lean HTTP/1.1 keep-alive client for the load generators of bench/progress.py and
bench/portal.py.

The load generator shares the 2 cores with the server it measures, so every microsecond it
spends per request is taken from the portal. aiohttp cost about 0.4 ms of CPU per report;
this client writes prepared request bytes on asyncio protocols and parses only the status
line and the framing headers of each answer, at roughly a quarter of that. An answer counts
as complete only when its whole body has arrived (Content-Length or chunked framing), so a
slow body is timed, not hidden. It does just what the benchmarks need: POST with a JSON body
or GET with extra headers (a bearer token, a cookie) to one loopback host, one request at a
time per connection, connections reused from an idle pool.
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
        try:
            body_end = _body_end(head, self.buffer, end + 4)
        except (HttpError, ValueError) as exc:
            body_end = -2
            failure: Exception = exc if isinstance(exc, HttpError) else HttpError(f"bad framing: {exc}")
        if body_end == -1:
            return  # body still arriving
        waiter, self.waiter = self.waiter, None
        if body_end == -2:
            if self.transport is not None:
                self.transport.close()
            if waiter is not None and not waiter.done():
                waiter.set_exception(failure)
            return
        try:
            status = int(head[9:12])
        except ValueError:
            status = -1
        if status >= 0:
            self.pool.body_bytes += body_end - end - 4
        if b"\r\nconnection: close" in head and self.transport is not None:
            self.transport.close()
        if waiter is not None and not waiter.done():
            if status < 0:
                waiter.set_exception(HttpError("not an HTTP answer"))
            else:
                waiter.set_result(status)


def _header(head: bytes, name: bytes) -> bytes | None:
    """The value of header `name` (lower case, as `head` is) or None."""
    marker = head.find(b"\r\n" + name + b":")
    if marker < 0:
        return None
    start = marker + len(name) + 3
    stop = head.find(b"\r\n", start)
    return head[start: stop if stop >= 0 else None].strip()


def _body_end(head: bytes, buffer: bytearray, start: int) -> int:
    """Where the answer whose body starts at `start` ends in `buffer`; -1 while incomplete."""
    if _header(head, b"transfer-encoding") == b"chunked":
        position = start
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return -1
            try:
                size = int(bytes(buffer[position:line_end]).split(b";", 1)[0], 16)
            except ValueError:
                raise HttpError("bad chunk size") from None
            if size == 0:  # the last chunk, then optional trailer lines and an empty line
                if buffer[line_end + 2: line_end + 4] == b"\r\n":
                    return line_end + 4
                trailers_end = buffer.find(b"\r\n\r\n", line_end + 2)
                return -1 if trailers_end < 0 else trailers_end + 4
            position = line_end + 2 + size + 2
            if len(buffer) < position:
                return -1
    length = _header(head, b"content-length")
    end = start + (int(length) if length else 0)
    return end if len(buffer) >= end else -1


class ConnectionPool:
    """Keep-alive connections to one host; a request takes an idle one or opens another."""

    protocol: type[_Connection] = _Connection  # what reads an answer (subclasses read more of it)

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Connection] = []
        self.body_bytes = 0  # of every complete answer so far
        self.host_line = f"Host: {host}:{port}\r\n".encode()
        self.head = self.host_line + b"Content-Type: application/json\r\n"

    async def post(self, path: str, body: bytes, headers: bytes = b"") -> int:
        """The status of `POST path`; HttpError or TimeoutError when it fails."""
        return await self.send(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head + headers
                               + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    async def get(self, path: str, headers: bytes = b"") -> int:
        """The status of `GET path` once its whole body has arrived; `headers` are complete
        lines (`Authorization: Bearer …\\r\\n`). HttpError or TimeoutError when it fails."""
        return await self.send(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.host_line + headers + b"\r\n")

    async def send(self, request: bytes) -> int:
        """The status of a prepared request (request line, headers, empty line, body)."""
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                break
        else:
            _, connection = await self.loop.create_connection(lambda: self.protocol(self), self.host, self.port)
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
