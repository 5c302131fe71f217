"""Error pages in the portal's own words (issue 14, item 7): why it happened and what to do next.

The framework's stock texts ("The server could not verify that you are authorized…") tell
a viewer nothing. Each status gets a title, an explanation that fits the page that failed
(a viewer opening the upload page learns that uploading needs a seller account) and the
links that help from there. A view that already wrote a specific message keeps it.
The JSON API keeps its `{"error", "message"}` bodies (portal/errors.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, current_app, g, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from models.db import CONNECTION_ERRORS, as_unavailable
from models.errors import DomainError
from portal.body_limits import too_large_message
from portal.errors import domain_error, error_code, error_headers, status_of, wants_json
from portal.extensions import login_manager
from portal.presentation import local_time


@dataclass(frozen=True)
class ErrorPage:
    code: int
    title: str
    message: str
    # (label, url) pairs, the most useful first.
    actions: list[tuple[str, str]] = field(default_factory=list)


def _specific(exc: HTTPException) -> str | None:
    """The view's own description, or None when it is werkzeug's stock text."""
    description = exc.description
    return None if not description or description == type(exc).description else str(description)


def forbidden_message() -> str:
    """Why a signed-in account may not open this page, in the words of the part it tried."""
    path = request.path
    if path.startswith("/videos/upload") or path.startswith("/videos/mine"):
        return ("Uploading needs a seller account. Yours is a viewer account: sign up again with another "
                "e-mail as a seller, or ask an administrator to make this account a seller.")
    if path.startswith("/admin"):
        return "This page is for administrators. If you should have access, ask an administrator."
    return "Your account does not have access to this page."


def _login_wait() -> tuple[str, int | None]:
    """How long the sign-in limit still holds: ('in 12 minutes (at 14:05 Asia/Seoul)', seconds)."""
    limiter = current_app.extensions.get("paysystem.login_limiter")
    limit = getattr(limiter, "current_limit", None) if limiter is not None else None
    if limit is None:
        return "in a few minutes", None
    seconds = max(1, int(limit.reset_at - time.time()))
    minutes = -(-seconds // 60)
    at = local_time(datetime.fromtimestamp(limit.reset_at, UTC))
    return f"in {minutes} minute{'s' if minutes != 1 else ''} (at {at[11:]})", seconds


def page_for(exc: HTTPException) -> ErrorPage:
    return page_of(exc.code or 500, _specific(exc), exc.name)


def page_of(code: int, specific: str | None, name: str | None = None) -> ErrorPage:
    """The page of a status, with the view's own words (`specific`) where the status has room
    for them: the same page whether the view aborted or raised a DomainError."""
    home = ("Go to the start page", url_for("home.index"))
    videos = ("Browse the videos", url_for("catalog.index"))
    if code == 400:
        return ErrorPage(code, "Something in that request was not right",
                         specific or "A value was missing or not in the form we expected. Go back, check what you "
                                     "entered, and try again.", [home])
    if code == 401:
        return ErrorPage(code, "Please sign in", specific or "This page needs you to be signed in.",
                         [("Sign in", url_for("auth.signin", next=request.path)), ("Create an account",
                                                                                    url_for("auth.signup"))])
    if code == 403:
        actions = [home]
        if current_user.is_authenticated:
            actions.insert(0, ("Your account", url_for("auth.account")))
        return ErrorPage(code, "You cannot open this page", specific or forbidden_message(), actions)
    if code == 404:
        message = "The link may be old or mistyped, or the video was removed by its seller."
        return ErrorPage(code, "We could not find that", f"{specific} {message}" if specific else message,
                         [videos, home])
    if code == 405:
        return ErrorPage(code, "That is not something this page does",
                         "The page was asked to do something it does not support. Go back and use its buttons.",
                         [home])
    if code == 413:
        return ErrorPage(code, "That file is too large", specific or "The upload is larger than we accept.", [home])
    if code == 429:
        if request.endpoint == "auth.signin":
            when, _ = _login_wait()
            return ErrorPage(code, "Too many failed sign-in attempts",
                             f"To protect the account, signing in is paused after several wrong passwords. "
                             f"You can try again {when}. Forgot the password? Reset it now instead of guessing.",
                             [("Reset your password", url_for("auth.forgot")), home])
        return ErrorPage(code, "Slow down a little",
                         specific or "Too many requests in a short time. Wait a minute and try again.", [home])
    if code == 503 and specific:
        return ErrorPage(code, "Temporarily unavailable", f"{specific} Try again in a minute.", [home])
    if code >= 500:
        return ErrorPage(code, "Something went wrong on our side",
                         "It is not something you did. The error has been logged; try again in a minute, "
                         "and if it keeps happening, tell us what you were doing.", [home])
    return ErrorPage(code, name or "Error", specific or "The request could not be completed.", [home])


_DOMAIN_TITLES = {
    "bad_request": "Something in that request was not right",
    "invalid": "Something in that request was not right",
    "not_found": "We could not find that",
    "conflict": "That cannot be done right now",
    "forbidden": "You cannot do that",
    "unauthorized": "Please sign in",
    "unavailable": "Temporarily unavailable",
    "upstream": "The other side did not answer",
    "wrong_method": "That is not something this page does",
}
# A title that says more than its kind's, by code.
_CODE_TITLES = {"csrf_failed": "Form expired"}


# The kinds whose page is the HTTP error page of their status (page_of).
_AS_HTTP_PAGE = ("not_found", "forbidden")


def _account_or_visitor(database_down: bool = False) -> None:
    """An error page must render while the database is down (every page shows who is signed in):
    the account is loaded now, and when the database cannot be reached the page is drawn for a
    visitor — instead of the page's own error turning into a bare 500. With `database_down` (the
    request failed for want of it; its session is unusable until rolled back) it is not asked."""
    if "_login_user" in g:
        return  # loaded (or found absent) earlier in this request
    if database_down:
        login_manager._update_request_context_with_user()
        return
    try:
        current_user._get_current_object()  # flask-login loads the account on first use
    except CONNECTION_ERRORS as exc:
        if as_unavailable(exc) is None:
            raise
        login_manager._update_request_context_with_user()  # flask-login's own way to set the anonymous user


def _same_page() -> str:
    """This GET request's path and query, as a link that stays on this site."""
    return "/" + request.full_path.rstrip("?").lstrip("/")


def register(app: Flask) -> None:
    """The one handler of domain errors and of HTTP errors: JSON for the API and scripts
    (portal/errors.py shapes it), these pages for people."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> ResponseReturnValue:
        if wants_json():
            return domain_error(exc)
        _account_or_visitor(database_down=exc.kind == "unavailable")
        status = status_of(exc)
        if exc.kind in _AS_HTTP_PAGE:
            # NotFound and Forbidden are the 404 and 403 pages, links and all: a view raises
            # them instead of abort(404/403) and the person sees no difference.
            page = page_of(status, exc.message)
            return render_template("errors/error.html", code=status, title=page.title, message=page.message,
                                   actions=page.actions), status
        if exc.kind == "unavailable":
            actions = [("Try again", _same_page() if request.method == "GET" else url_for("home.index"))]
        else:
            actions = [("Go to the start page", url_for("home.index"))]
        return render_template("errors/error.html", code=status, title=_CODE_TITLES.get(exc.code) or _DOMAIN_TITLES.get(exc.kind, "Error"),
                               message=exc.message, actions=actions), status, error_headers(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if wants_json():
            # A 413 says the limit that applies whichever layer refused the body (the body limit,
            # an upload's form parser), in the API's one code.
            message = too_large_message() if code == 413 else exc.description
            return jsonify(error=error_code(exc), message=message), code
        _account_or_visitor()
        page = page_for(exc)
        return render_template("errors/error.html", code=code, title=page.title, message=page.message,
                               actions=page.actions), code
