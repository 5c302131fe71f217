"""Issue 18, item 6: upload routes decide who is asking before they read the body.

A 50 MB multipart body is handed to the app as a stream that counts what is read from it.
A visitor, a viewer (not a seller), a stale CSRF token and a bad or missing bearer token
are answered having read (almost) nothing; the body used to be spooled in full first, by
flask-wtf's CSRF check that runs before every view.
"""

from __future__ import annotations

import io

import pytest

from models import Role
from tests.watching_support import bearer, csrf_token, sign_in

BODY_BYTES = 50 * 1024 * 1024
BOUNDARY = "paysystem-test-boundary"
# Reading a few chunks (headers, the start of a part) is allowed; reading the file is not.
READ_ALLOWANCE = 1024 * 1024


class CountingBody(io.RawIOBase):
    """A multipart body of BODY_BYTES, made as it is read; `consumed` counts the bytes read."""

    def __init__(self, fields: dict[str, str]) -> None:
        head = "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                       for name, value in fields.items())
        head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.webm"\r\n'
                 "Content-Type: video/webm\r\n\r\n")
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self._head, self._tail = head.encode(), tail
        self._filler = BODY_BYTES - len(self._head) - len(tail)
        self._position = 0
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # werkzeug's test client measures the body by seeking to its end
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: BODY_BYTES}[whence] + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        want = len(buffer)
        chunk = bytearray()
        position = self._position
        if position < len(self._head):
            chunk += self._head[position:position + want]
        filler_start = len(self._head)
        filler_end = filler_start + self._filler
        if len(chunk) < want and position + len(chunk) < filler_end:
            take = min(want - len(chunk), filler_end - (position + len(chunk)))
            chunk += b"\0" * take
        if len(chunk) < want and position + len(chunk) >= filler_end:
            offset = position + len(chunk) - filler_end
            chunk += self._tail[offset:offset + want - len(chunk)]
        buffer[:len(chunk)] = chunk
        self._position += len(chunk)
        self.consumed += len(chunk)
        return len(chunk)


def _post(client, url: str, fields: dict[str, str], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    body = CountingBody(fields)
    response = client.post(url, input_stream=body, headers=headers or {},
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")
    return response, body.consumed


@pytest.mark.parametrize("url", ["/videos/upload", "/admin/ads"])
def test_upload_pages_turn_away_visitors_and_wrong_roles_unread(client, make_user, url):
    response, consumed = _post(client, url, {"title": "Big"})
    assert response.status_code == 302 and "/auth/signin" in response.headers["Location"]
    assert consumed < READ_ALLOWANCE, f"a visitor's body was read: {consumed:,} bytes"

    sign_in(client, make_user(Role.VIEWER))
    token = csrf_token(client)
    response, consumed = _post(client, url, {"csrf_token": token, "title": "Big"})
    assert response.status_code == 403
    assert consumed < READ_ALLOWANCE, f"a viewer's body was read: {consumed:,} bytes"


def test_upload_page_still_checks_the_csrf_token_after_sign_in(client, make_user):
    sign_in(client, make_user(Role.SELLER))
    csrf_token(client)
    response, _ = _post(client, "/videos/upload", {"csrf_token": "forged", "title": "Big"})
    assert response.status_code == 400
    response, _ = _post(client, "/videos/upload", {"title": "Big"})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/videos", "/api/v1/ads"])
def test_upload_api_turns_away_bad_tokens_and_wrong_roles_unread(client, make_user, settings, url):
    for headers, status in (({}, 401), ({"Authorization": "Bearer not-a-token"}, 401),
                            (bearer(make_user(Role.VIEWER), settings), 403)):
        response, consumed = _post(client, url, {"title": "Big"}, headers)
        assert response.status_code == status, response.get_json()
        assert consumed < READ_ALLOWANCE, f"{headers or 'no token'}: {consumed:,} bytes read"
