"""The benchmarks' lean HTTP client (bench/http_load.py) against a scripted server: an answer
is complete only when its whole body has arrived, with Content-Length or chunked framing,
and keep-alive connections carry the next request after it."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.http_load import ConnectionPool, HttpError, _body_end

# Each answer is sent in pieces with a pause between them, so a client that stops at the
# head (or at the first chunk) would be done long before the last piece.
PAUSE = 0.05
ANSWERS = [
    [b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{\"items\": ",
     b"[1, 2, 3, 4, 5]}"],
    [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<html",
     b">\r\n7;ext=1\r\n</html>\r\n",
     b"0\r\n\r\n"],
    [b"HTTP/1.1 404 NOT FOUND\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n",
     b"\r\n"],
    [b"HTTP/1.1 204 No Content\r\n\r\n"],
]


async def _serve(received: list[bytes]) -> tuple[asyncio.AbstractServer, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for pieces in ANSWERS:
            received.append(await reader.readuntil(b"\r\n\r\n"))
            for i, piece in enumerate(pieces):
                if i:
                    await asyncio.sleep(PAUSE)
                writer.write(piece)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_get_waits_for_whole_bodies_and_keeps_the_connection() -> None:
    async def scenario() -> tuple[list[tuple[int, float]], int, list[bytes], int]:
        received: list[bytes] = []
        server, port = await _serve(received)
        pool = ConnectionPool("127.0.0.1", port, timeout=5)
        results = []
        for headers in (b"Authorization: Bearer abc\r\n", b"Cookie: session=xyz\r\n", b"", b""):
            t0 = time.perf_counter()
            status = await pool.get("/api/v1/stats/top5?metric=views", headers)
            results.append((status, time.perf_counter() - t0))
        connections = len(pool.idle)
        pool.close()
        server.close()
        await server.wait_closed()
        return results, pool.body_bytes, received, connections

    # A thread of its own: Playwright's sync API leaves an event loop running in the main thread.
    with ThreadPoolExecutor(1) as thread:
        results, body_bytes, received, connections = thread.submit(asyncio.run, scenario()).result()
    assert [status for status, _ in results] == [200, 200, 404, 204]
    # The bodies: 26 bytes; chunked "5\r\n<html>\r\n7;ext=1\r\n</html>\r\n0\r\n\r\n"; the trailer one; none.
    assert body_bytes == 26 + len(b"5\r\n<html>\r\n7;ext=1\r\n</html>\r\n0\r\n\r\n") + len(
        b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n")
    # Every piece after the first came PAUSE later: the client waited for it.
    assert results[0][1] >= PAUSE * 0.8
    assert results[1][1] >= 2 * PAUSE * 0.8
    assert results[2][1] >= PAUSE * 0.8
    # One keep-alive connection served all four; the extra header lines were sent.
    assert connections == 1 and len(received) == 4
    assert received[0].startswith(b"GET /api/v1/stats/top5?metric=views HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nAuthorization: Bearer abc\r\n" in received[0]
    assert b"\r\nCookie: session=xyz\r\n" in received[1]


@pytest.mark.parametrize(("head", "body", "expected"), [
    (b"http/1.1 200 ok\r\ncontent-length: 5", b"abcde", 5),
    (b"http/1.1 200 ok\r\ncontent-length: 5", b"abcd", -1),
    (b"http/1.1 200 ok", b"", 0),
    (b"http/1.1 200 ok\r\ntransfer-encoding: chunked", b"2\r\nab\r\n0\r\n\r\n", 12),
    (b"http/1.1 200 ok\r\ntransfer-encoding: chunked", b"2\r\nab\r\n0\r\n", -1),
    (b"http/1.1 200 ok\r\ntransfer-encoding: chunked", b"2\r\nab\r", -1),
])
def test_body_end(head: bytes, body: bytes, expected: int) -> None:
    buffer = bytearray(head + b"\r\n\r\n" + body)
    start = len(head) + 4
    assert _body_end(head, buffer, start) == (expected if expected < 0 else start + expected)


def test_bad_chunk_size_is_an_http_error() -> None:
    head = b"http/1.1 200 ok\r\ntransfer-encoding: chunked"
    with pytest.raises(HttpError):
        _body_end(head, bytearray(head + b"\r\n\r\nzz\r\n"), len(head) + 4)
