"""How long a request line and a request header may be, answered in the portal's own error model.

gunicorn refuses a request line over `limit_request_line` (414) and a header line over
`limit_request_field_size` (431) itself, before the app sees the request, with an HTML page of
its own — also on /api, whose clients expect `{"error", "message"}`. So gunicorn.conf.py lets
through up to gunicorn's largest request line (GUNICORN_REQUEST_LINE) and twice the header
size, and the app enforces the sizes gunicorn enforced before (REQUEST_LINE_BYTES,
HEADER_FIELD_BYTES): such a request is answered 414 / 431 by the one error handler (JSON on
/api, the error page in the browser). Only a request line over gunicorn's own maximum (8,190
bytes, which it does not let us raise) still gets gunicorn's HTML answer.

The check runs in front of the layers that answer some API calls before Flask (the progress and
read fast paths): an oversized request is handed straight to Flask, marked, and refused there
by the app's first before-request hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from flask import Flask, request
from werkzeug.exceptions import RequestHeaderFieldsTooLarge, RequestURITooLarge

# gunicorn's defaults, which clients have met so far.
REQUEST_LINE_BYTES = 4094
HEADER_FIELD_BYTES = 8190
# What gunicorn.conf.py sets: gunicorn's largest request line, and room above the app's header limit.
GUNICORN_REQUEST_LINE = 8190
GUNICORN_HEADER_FIELD = 2 * HEADER_FIELD_BYTES

_REFUSAL = "paysystem.request_limit"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_line_bytes(environ: dict[str, Any]) -> int:
    """The length of `METHOD target HTTP/x.y` as the client sent it (gunicorn's RAW_URI; else rebuilt)."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target is None:
        target = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/;=,@:$&+!*'()~")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
    return len(environ.get("REQUEST_METHOD", "")) + len(target) + len(environ.get("SERVER_PROTOCOL", "")) + 2


def longest_header_bytes(environ: dict[str, Any]) -> int:
    """The longest `Name: value` header line (as WSGI passes them: HTTP_*, CONTENT_TYPE, CONTENT_LENGTH)."""
    longest = 0
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key[5:] if key.startswith("HTTP_") else key
            longest = max(longest, len(name) + 2 + len(str(value)))
    return longest


def refusal(environ: dict[str, Any]) -> str | None:
    """Which limit the request is over ("line" or "header"), or None."""
    if request_line_bytes(environ) > REQUEST_LINE_BYTES:
        return "line"
    if longest_header_bytes(environ) > HEADER_FIELD_BYTES:
        return "header"
    return None


class RequestLimits:
    """WSGI layer in front of the fast paths: an oversized request goes straight to Flask."""

    def __init__(self, flask_app: WsgiApp, wrapped: WsgiApp) -> None:
        self.flask_app = flask_app
        self.wrapped = wrapped

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        over = refusal(environ)
        if over is None:
            return self.wrapped(environ, start_response)
        environ[_REFUSAL] = over
        return self.flask_app(environ, start_response)


def refuse_oversized() -> None:
    """Before-request hook (create_app registers it ahead of the extensions' hooks)."""
    over = request.environ.get(_REFUSAL)
    if over == "line":
        raise RequestURITooLarge(f"The request line (method, path and query) is longer than {REQUEST_LINE_BYTES:,} "
                                 "bytes: send fewer or shorter query parameters.")
    if over == "header":
        raise RequestHeaderFieldsTooLarge(f"A request header is longer than {HEADER_FIELD_BYTES:,} bytes.")


def init_request_limits(app: Flask, flask_wsgi: WsgiApp) -> None:
    """Put the check in front of the current `app.wsgi_app` (Flask refuses the marked request in
    `refuse_oversized`, a before-request hook create_app registers); `flask_wsgi` is the app as it
    was before the fast paths were put in front of it. Call after the fast paths are installed and
    before the metrics layer."""
    app.wsgi_app = RequestLimits(flask_wsgi, app.wsgi_app)  # type: ignore[method-assign]
