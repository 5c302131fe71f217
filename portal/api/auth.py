"""`api_auth`: the decorator every protected API endpoint carries."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from redis.exceptions import RedisError

from models import Role, User
from portal.api import api_error
from portal.api.tokens import TokenClaims, TokenError, decode_token
from portal.database import db_session
from portal.redis_client import revocations
from portal.settings import settings

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_revoked(jti: str) -> bool:
    """From this process's mirror of the denylist, or Redis while the mirror is not in sync."""
    return revocations().is_revoked(jti)


def current_api_user() -> User:
    """The user of the request being served by an `api_auth` endpoint."""
    return g.api_user


def current_api_claims() -> TokenClaims:
    return g.api_claims


def api_auth(*roles: Role, load_user: bool = True) -> Callable[[F], F]:
    """Require a valid, unrevoked bearer token; with `roles`, one of them (admins pass all).

    401 when the caller is not authenticated, 403 when authenticated but not allowed.
    Revocation cannot be checked without Redis, so the API then answers 503 rather than
    accept a token that may have been revoked.

    `load_user=False` (no roles then) skips the user's row: for a hot endpoint whose own
    query checks that the account still exists and is active; it reads only
    `current_api_claims()`.
    """
    if roles and not load_user:
        raise ValueError("a role check needs the user's row (load_user=True)")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            if token is None:
                return api_error(401, "missing_token", "Send an 'Authorization: Bearer <token>' header.")
            try:
                claims = decode_token(token, settings())
            except TokenError as exc:
                return api_error(401, exc.code, exc.message)
            try:
                revoked = is_revoked(claims.jti)
            except RedisError:
                return api_error(503, "unavailable", "Token revocation cannot be checked right now; try again.")
            if revoked:
                return api_error(401, "token_revoked", "The access token has been revoked.")
            g.api_claims = claims
            if not load_user:
                return view(*args, **kwargs)
            user = db_session().get(User, claims.user_id)
            if user is None or not user.is_active:
                return api_error(401, "invalid_token", "The access token is not valid.")
            # The role in the database wins over the one in the token: a demoted user loses access at once.
            if roles and user.role not in roles and user.role != Role.ADMIN:
                return api_error(403, "forbidden", "Your role does not allow this request.")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
