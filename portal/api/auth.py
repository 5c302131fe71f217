"""`api_auth`: the decorator every protected API endpoint carries, and `verified_claims`, the
token check it runs, which the layers in front of Flask (portal/api/progress_fast_path.py,
portal/read_router) run too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from models import Role, User
from models.accounts.users import active_role
from models.errors import Forbidden
from models.figures.scope import seller_scope
from portal.api.tokens import Refusal, TokenClaims, decode_token
from portal.database import db_session
from portal.read_pipeline import CHECKED_READ, CheckedRead
from portal.redis_client import revocations
from portal.revocations import RevocationMirror
from portal.settings import settings
from settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def verified_claims(authorization: str | None, config: Settings, revoked: RevocationMirror) -> TokenClaims:
    """The claims of a valid, unrevoked `Authorization: Bearer` header; Refusal otherwise.

    Revocations are recorded in the database, so Redis being down changes nothing here
    (portal/revocations.py); when the database cannot be asked either, its error goes up
    rather than accepting a token that may have been revoked: a lost connection is answered
    503 with Retry-After by the one error handler (portal/errors.py), as everywhere.
    """
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Refusal(401, "missing_token", "Send an 'Authorization: Bearer <token>' header.")
    claims = decode_token(token, config)  # TokenError, a Refusal: 401 with its own code
    if revoked.is_revoked(claims.jti):
        raise Refusal(401, "token_revoked", "The access token has been revoked.")
    return claims


def current_api_user() -> User:
    """The user of the request being served by an `api_auth` endpoint (its row, loaded on the
    first call: most read endpoints need only `current_api_caller`)."""
    user = g.get("api_user")
    if user is None:
        user = g.api_user = db_session().get(User, g.api_caller.id)
    return user


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling, as checked by `api_auth` against the database on this request."""

    id: int
    role: Role


def current_api_caller() -> ApiCaller:
    return g.api_caller


def current_api_claims() -> TokenClaims:
    return g.api_claims


def scoped_seller(query: Any) -> int | None:
    """The seller a figure query is about: sellers always themselves, admins the `seller_id`
    they chose (None: platform-wide)."""
    caller = current_api_caller()
    return seller_scope(caller.role, caller.id, query.seller_id)


def api_auth(*roles: Role) -> Callable[[F], F]:
    """Require a valid, unrevoked bearer token; with `roles`, one of them (admins pass all).

    401 when the caller is not authenticated, 403 when authenticated but not allowed; the
    user's role, active flag and session version are read on every request, so a switched-off
    or demoted account loses access at once, and so does every token issued before the
    account's sessions were ended (sign-out, password change).
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            authorization = request.headers.get("Authorization")
            checked: CheckedRead | None = request.environ.get(CHECKED_READ)
            if checked is not None and checked.authorization == authorization:
                # Checked by the read router on this very request (same token check, same
                # active-role rule), which then could not answer it: not asked again.
                claims, role = checked.claims, checked.role
            else:
                claims = verified_claims(authorization, settings(), revocations())  # Refusal: 401
                # One lean query (the role of an active account), not the ORM row: every request asks.
                role = active_role(db_session(), claims.user_id, claims.session_version)
            g.api_claims = claims
            if role is None:
                raise Refusal(401, "invalid_token", "The access token is not valid.")
            # The role in the database wins over the one in the token: a demoted user loses access at once.
            if roles and role not in roles and role != Role.ADMIN:
                raise Forbidden("Your role does not allow this request.")
            g.api_caller = ApiCaller(claims.user_id, role)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
