"""`POST /api/v1/videos/<id>/sessions/<id>/progress`, answered in front of Flask.

Every player sends this report every 10 s, so a node's capacity is what one report costs.
Through Flask, the request's plumbing — request and app contexts, URL map, cookie session,
before/after hooks, werkzeug's JSON helpers — cost more CPU than the report's own work
(token check, §4 rules, one database round trip): measured in-process, about 0.3 ms against
0.2 ms (bench/progress.py measures the whole node). This WSGI layer recognises just that
one path and does the same work with the same functions as the rest of the API —
`verified_claims` (bearer token, revocation), `progress_reply` (parsing, §4 rules, the
recorder) and the API's error shape — and hands every other request to Flask untouched.
The browser player's progress endpoint (cookie session and CSRF) stays in Flask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from flask import Flask
from werkzeug.exceptions import InternalServerError

from models.db import as_unavailable
from portal.api.auth import Refusal, verified_claims
from portal.database import progress_recorder
from portal.errors import TOO_LARGE, error_body, error_headers, status_of
from portal.numbers import MAX_ID, loads
from portal.playback.http import progress_reply
from portal.redis_client import revocations
from portal.security_headers import security_headers

# The same ids as the `<int:...>` routes (portal/numbers.py); other paths go to Flask (404 there).
PATH = re.compile(r"/api/v1/videos/([0-9]{1,19})/sessions/([0-9]{1,19})/progress")
# A report is a few dozen bytes; anything much larger is not one.
MAX_BODY_BYTES = 16 * 1024

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ProgressFastPath:
    """WSGI middleware: the API's progress endpoint here, everything else to `wrapped`."""

    def __init__(self, app: Flask, wrapped: WsgiApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self.settings = app.config["PAYSYSTEM_SETTINGS"]
        self.recorder = progress_recorder(app)
        self.revocations = revocations(app)
        self.headers = security_headers(self.settings)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or max(int(match[1]), int(match[2])) > MAX_ID:
            return self.wrapped(environ, start_response)
        start_response = _with_headers(start_response, self.headers)
        method = environ.get("REQUEST_METHOD", "")
        if method == "OPTIONS":
            return _answer(start_response, 200, None, [("Allow", "POST, OPTIONS")])
        if method != "POST":
            return _answer(start_response, 405, error_body("method_not_allowed", "Progress is reported with POST."),
                           [("Allow", "POST, OPTIONS")])
        headers: list[tuple[str, str]] = []
        try:
            status, reply = self._report(environ, int(match[1]), int(match[2]))
        except Exception as exc:  # the same outcomes as inside Flask (portal/errors.py)
            unavailable = as_unavailable(exc)
            if unavailable is None:  # unexpected: logged, 500 JSON
                self.app.logger.exception("Exception on %s [POST]", environ.get("PATH_INFO"))
                status, reply = 500, error_body("internal_server_error", InternalServerError.description)
            else:  # the database is down: 503 with Retry-After; the player sends its next report later
                self.app.logger.warning("database unavailable on POST %s: %s", environ.get("PATH_INFO"), exc)
                status, reply = status_of(unavailable), error_body(unavailable.code, unavailable.message)
                headers = list(error_headers(unavailable).items())
        return _answer(start_response, status, reply, headers)

    def _report(self, environ: dict[str, Any], video_id: int, session_id: int) -> tuple[int, dict[str, Any]]:
        try:
            claims = verified_claims(environ.get("HTTP_AUTHORIZATION"), self.settings, self.revocations)
        except Refusal as refusal:
            return refusal.status, error_body(refusal.code, refusal.message)
        try:
            body = _json_body(environ)
        except _TooLarge:
            return 413, error_body(TOO_LARGE, f"A progress report is at most {MAX_BODY_BYTES} bytes.")
        return progress_reply(self.recorder, viewer_id=claims.user_id, video_id=video_id, session_id=session_id,
                              body=body, session_version=claims.session_version)


def _with_headers(start_response: StartResponse, extra: list[tuple[str, str]]) -> StartResponse:
    def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        return start_response(status, [*headers, *extra], *args)

    return start


class _TooLarge(Exception):
    pass


def _json_body(environ: dict[str, Any]) -> Any:
    """The decoded JSON body, or None when it is not JSON (as werkzeug's get_json(silent=True))."""
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if not (mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))):
        return None
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            size = int(length)
        except ValueError:
            return None
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        raw = stream.read(size) if size > 0 else b""
    elif environ.get("wsgi.input_terminated"):  # chunked: read to the end, within the limit
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise _TooLarge
    else:
        return None
    try:
        return loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _answer(start_response: StartResponse, status: int, reply: dict[str, Any] | None,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = b"" if reply is None else json.dumps(reply).encode() + b"\n"
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *(headers or [])])
    return [body]

