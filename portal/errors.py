"""Error pages for the browser and JSON errors for the API (`{"error", "message"}`).

A leaf of the portal (it imports nothing of the portal): the API, the player's endpoints,
the pages and the progress fast path all build their errors here. A `DomainError` that a
view does not handle itself is answered by one handler (portal/error_pages.py, which draws the
pages), which maps its `kind` to the HTTP status here (`STATUS_OF_KIND`), as JSON for scripts and
the API and as the error page for people.

A lost database connection (models/db.py `is_connection_error`: server down, restarting, out of
connections, a Galera node not ready) is not a bug in the request: it is answered as the domain
error `Unavailable`, 503 with Retry-After, through that same handler; so is a transaction the
database rolled back for a conflicting one (`is_conflict_error`: deadlock or failed Galera
certification, lock wait timeout). Any other database error stays a 500.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from models.db import CONNECTION_ERRORS, as_unavailable
from models.errors import BadRequest, DomainError

# The one mapping from a domain error's kind to an HTTP status.
STATUS_OF_KIND = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404, "invalid": 422,
                  "conflict": 409, "unavailable": 503, "upstream": 502, "wrong_method": 405}
# When a client should ask again after a 503: a database restart takes a few seconds.
RETRY_AFTER_SECONDS = 5


# The one code of a 413, whichever layer refuses the body (the body limit, an upload's form parser,
# the progress fast path).
TOO_LARGE = "too_large"


# The refusal of a form whose CSRF token is missing, expired or not ours (flask-wtf's CSRFError:
# CSRFProtect checks every form post before its view, so the views' own forms never refuse it).
FORM_EXPIRED = "The form expired or was sent from elsewhere; reload the page and try again."


class WrongMethod(DomainError):
    """An action asked for the wrong way (a state-changing action opened by a link): 405 with
    the methods that do it in `Allow`. A portal error, not a domain one: methods are HTTP's."""

    kind = "wrong_method"
    code = "method_not_allowed"

    def __init__(self, message: str, allowed: tuple[str, ...] = ("POST",)) -> None:
        super().__init__(message)
        self.allowed = allowed


def form_expired() -> BadRequest:
    """The one refusal of a form that failed its CSRF check."""
    return BadRequest(FORM_EXPIRED, code="csrf_failed")


def sentence(text: str) -> str:
    """A service's message ("batch run 7 is already running; wait…") as a sentence for a page."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def as_sentence(exc: DomainError) -> DomainError:
    """The same refusal (kind, code) with its message as a sentence, for a page that shows it."""
    return DomainError(sentence(exc.message), kind=exc.kind, code=exc.code)


def error_body(code: str, message: str) -> dict[str, str]:
    """The one error shape of the API: `{"error": code, "message": text}`."""
    return {"error": code, "message": message}


def status_of(exc: DomainError) -> int:
    return STATUS_OF_KIND.get(exc.kind, 400)


def error_headers(exc: DomainError) -> dict[str, str]:
    """Headers that go with the answer: when to try again, for an outage; what to use instead,
    for a wrong method."""
    if exc.kind == "unavailable":
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if isinstance(exc, WrongMethod):
        return {"Allow": ", ".join(exc.allowed)}
    return {}


def domain_error(exc: DomainError) -> ResponseReturnValue:
    """A refused request as JSON: the status its kind maps to, its code and message."""
    return jsonify(error_body(exc.code, exc.message)), status_of(exc), error_headers(exc)


def answer_in_json() -> None:
    """Mark this request as a script's whatever it accepts (the browser player's session
    endpoints, portal/watch/views.py): its refusals are JSON, as the API's are."""
    g.answer_in_json = True


def wants_json() -> bool:
    return request.path.startswith("/api/") or g.get("answer_in_json", False) or (
        request.accept_mimetypes.best == "application/json" and not request.headers.get("HX-Request")
    )


def error_code(exc: HTTPException) -> str:
    if exc.code == 413:
        return TOO_LARGE
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register(app: Flask) -> None:
    def _database(exc: Exception) -> ResponseReturnValue:
        unavailable = as_unavailable(exc)
        if unavailable is None:
            raise exc  # a statement the database refused: a bug, answered 500 and logged
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        # Answered by the one DomainError handler (portal/error_pages.py).
        return app.handle_user_exception(unavailable)

    for error_type in CONNECTION_ERRORS:
        app.register_error_handler(error_type, _database)

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> ResponseReturnValue:
        # flask-wtf's own exception, answered as the one refusal by the one DomainError handler.
        return app.handle_user_exception(form_expired())

