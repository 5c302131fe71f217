"""How large a request body may be: MAX_BODY_KB everywhere, MAX_UPLOAD_MB on upload routes.

A single app-wide limit as large as an upload let any endpoint, the public token endpoint
included, read and parse hundreds of megabytes. Views that take files carry
`@accepts_uploads`; every other request whose declared length is over the small limit is
refused with 413 before anything reads the body (before the sign-in limiter's hook, which
reads it), and a body without a declared length is cut off at the limit by werkzeug.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from portal.view_marks import mark_view, marked_endpoints
from settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_paysystem_accepts_uploads"
_UPLOAD_ENDPOINTS = "paysystem.upload_endpoints"


def accepts_uploads(view: F) -> F:
    """Mark a view that receives files: its body may be up to MAX_UPLOAD_MB."""
    return mark_view(view, _MARK)


def is_upload_request() -> bool:
    return request.endpoint in current_app.extensions.get(_UPLOAD_ENDPOINTS, ())


def too_large_message() -> str:
    """What a 413 says: the upload limit on upload routes, the body limit elsewhere."""
    settings: Settings = current_app.config["PAYSYSTEM_SETTINGS"]
    if is_upload_request():
        return f"The file is larger than the upload limit of {settings.max_upload_mb} MB."
    return f"The request body is too large: this endpoint takes at most {settings.max_body_kb:,} KB."


def limit_body() -> None:
    """Before-request hook, registered by create_app ahead of every hook that reads bodies."""
    if is_upload_request():
        settings: Settings = current_app.config["PAYSYSTEM_SETTINGS"]
        request.max_content_length = settings.max_upload_mb * 1024 * 1024
    elif (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge(too_large_message())


def init_body_limits(app: Flask, settings: Settings) -> None:
    """Set the limits of `app` (call after the blueprints); `limit_body` applies them."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_kb * 1024
    app.extensions[_UPLOAD_ENDPOINTS] = marked_endpoints(app, _MARK)
