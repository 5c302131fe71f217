"""Whole answers (status, headers, body) on bench/http_load.py's lean keep-alive client.

bench/http_load.py reads only the status line of each answer, which is all the progress
benchmark needs. The soak (bench/soak.py) also signs sellers in with a form (CSRF token from
the page, session cookie from Set-Cookie), reads the session id of each play session it
opens and follows redirects to the sign-in page, so it needs the headers and the body. This
module adds that without changing http_load's classes: a connection protocol that keeps the
whole answer (Content-Length or chunked bodies) and a pool that makes those connections.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bench.http_load import ConnectionPool, HttpError, _Connection

__all__ = ["Client", "CookieJar", "HttpError", "Response"]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CookieJar:
    """The cookies of one browser: name → value, from Set-Cookie (no paths or expiry: one host)."""

    cookies: dict[str, str] = field(default_factory=dict)

    def update(self, response: Response) -> None:
        for key, value in response.headers:
            if key == "set-cookie":
                pair = value.split(";", 1)[0]
                name, _, content = pair.partition("=")
                if content == "" or "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower():
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = content.strip()

    def header(self) -> bytes:
        if not self.cookies:
            return b""
        return ("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n").encode()


class _WholeAnswer(_Connection):
    """A connection that resolves its waiter with a Response instead of the status alone."""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1")
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers.append((key.strip().lower(), value.strip()))
        values = dict(headers)
        start = end + 4
        if "content-length" in values:
            length = int(values["content-length"])
            if len(self.buffer) < start + length:
                return
            body = bytes(self.buffer[start:start + length])
        elif values.get("transfer-encoding", "").lower() == "chunked":
            decoded = _dechunk(bytes(self.buffer[start:]))
            if decoded is None:
                return
            body = decoded
        else:
            body = b""
        waiter, self.waiter = self.waiter, None
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            status = -1
        if values.get("connection", "").lower() == "close" and self.transport is not None:
            self.transport.close()
        if waiter is not None and not waiter.done():
            if status < 0:
                waiter.set_exception(HttpError("not an HTTP answer"))
            else:
                waiter.set_result(Response(status, headers, body))  # type: ignore[arg-type]


def _dechunk(raw: bytes) -> bytes | None:
    """The body of a complete chunked encoding, or None while more is to come."""
    out, at = bytearray(), 0
    while True:
        line_end = raw.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(raw[at:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(out) if raw.find(b"\r\n", line_end + 2) >= 0 else None
        if len(raw) < line_end + 2 + size + 2:
            return None
        out += raw[line_end + 2:line_end + 2 + size]
        at = line_end + 2 + size + 2


class Client(ConnectionPool):
    """ConnectionPool with `request`: any method, extra headers, the whole answer back."""

    protocol = _WholeAnswer

    async def request(self, method: str, path: str, body: bytes = b"", headers: bytes = b"",
                      content_type: str | None = None) -> Response:
        """The answer to `method path`; HttpError, OSError or TimeoutError when it fails."""
        head = self.host_line + headers
        if content_type:
            head += f"Content-Type: {content_type}\r\n".encode()
        if body or method in ("POST", "PUT", "PATCH"):
            head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        request = method.encode() + b" " + path.encode() + b" HTTP/1.1\r\n" + head + b"\r\n" + body
        return await self.send(request)  # type: ignore[return-value]  (protocol = _WholeAnswer)
