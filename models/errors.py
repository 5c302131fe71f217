"""The one shape of a refused request in the domain: `kind`, `code`, `message`.

Service functions raise a `DomainError` subclass, with nothing changed, for a request the
rules refuse. `kind` says what went wrong in transport-neutral terms — `invalid`,
`not_found`, `conflict`, `forbidden`, `unauthorized`, `bad_request` (a malformed request),
`unavailable` (a dependency such as the database cannot be reached: try again shortly),
`upstream` (a service we asked on the caller's behalf, such as a sign-in provider, did not
answer properly), `wrong_method` (an action asked for the wrong way, such as by a link) — and
the portal maps it to an HTTP status in one place (portal/errors.py); `code` is the
machine-readable error and `message` is safe to show to the person who asked.
"""

from __future__ import annotations

KINDS = ("invalid", "not_found", "conflict", "forbidden", "unauthorized", "bad_request", "unavailable", "upstream",
         "wrong_method")


class DomainError(Exception):
    """Base of every domain error; subclasses set a default `kind` and `code`."""

    kind = "invalid"
    code = "invalid_request"

    def __init__(self, message: str, *, kind: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        if code is not None:
            self.code = code


class Unavailable(DomainError):
    """The request could not be served because a dependency is down (models/db.py
    `as_unavailable` turns a lost database connection into this): not the caller's fault and
    not a bug, so it is answered "try again shortly" rather than as an internal error."""

    kind = "unavailable"
    code = "unavailable"


class NotFound(DomainError):
    """What was asked for does not exist, or the caller may not know that it does (a forged id
    tells nothing about who exists)."""

    kind = "not_found"
    code = "not_found"


class Unauthorized(DomainError):
    """The caller is not known: no credentials, or credentials that do not check out."""

    kind = "unauthorized"
    code = "unauthorized"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    kind = "forbidden"
    code = "forbidden"


class BadRequest(DomainError):
    """The request is malformed or out of step (an expired form, a sign-in answer that does not
    match what was started): asking again the same way will not help, starting over will."""

    kind = "bad_request"
    code = "bad_request"


class Upstream(DomainError):
    """A service asked on the caller's behalf (a sign-in provider) could not be reached or
    answered nonsense: neither the caller's fault nor ours, so it is not an internal error."""

    kind = "upstream"
    code = "upstream_failed"
