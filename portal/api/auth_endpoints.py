"""Token endpoints of the JSON API: issue a JWT for e-mail + password, revoke it, who am I."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from models import User
from models.accounts.service import authenticate
from models.errors import Unauthorized
from portal.api import auth_schemas as schema
from portal.api.auth import api_auth, current_api_claims, current_api_user
from portal.api.blueprint import api_bp
from portal.api.openapi import PUBLIC, api_spec, responses
from portal.api.tokens import issue_token
from portal.database import db_session
from portal.login_limits import login_attempt
from portal.queries.parse import parse_body
from portal.redis_client import revocations
from portal.settings import settings

# The documented status of a refused sign-in body (older than the API's 422 for other bodies).
TOKEN_REFUSAL = 400


def user_payload(user: User) -> dict[str, Any]:
    """The API's view of an account (no password hash, ever)."""
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role.value,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "providers": sorted(identity.provider for identity in user.identities),
    }


def _credentials() -> schema.TokenRequest:
    """The body spectree validated with TokenRequest; an HTML form (which the JSON schema does not
    cover) is read by the same model, refused with the same 400."""
    validated = request.context.json  # type: ignore[attr-defined]
    if validated is not None:
        return validated
    return parse_body(schema.TokenRequest, request.form, TOKEN_REFUSAL)


@api_bp.post("/auth/token")
@login_attempt
@api_spec.validate(json=schema.TokenRequest, resp=responses(schema.TokenReply, TOKEN_REFUSAL, 401, 413, 429),
                   security=PUBLIC, validation_error_status=TOKEN_REFUSAL, tags=["auth"])
def issue_access_token() -> ResponseReturnValue:
    """`{"email", "password"}` → a bearer JWT; failed attempts count toward the sign-in limits.

    A body without them, as JSON or as an HTML form, is refused with 400 `invalid_request`."""
    credentials = _credentials()
    session = db_session()
    user = authenticate(session, credentials.email, credentials.password)
    if user is None:
        session.rollback()
        raise Unauthorized("E-mail or password is not correct.", code="invalid_credentials")
    token, claims = issue_token(user, settings())
    return jsonify(
        access_token=token,
        token_type="Bearer",
        expires_in=int((claims.expires_at - datetime.now(UTC)).total_seconds()),
        expires_at=claims.expires_at.isoformat(),
        role=user.role.value,
    )


@api_bp.post("/auth/logout")
@api_auth()
@api_spec.validate(resp=responses(schema.LogoutReply, 401, 503), tags=["auth"])
def revoke_access_token() -> ResponseReturnValue:
    """Deny the caller's token (its `jti`) until it would have expired anyway.

    The database row is the revocation; Redis being down does not fail the logout
    (portal/revocations.py). Without the database nothing is revoked: 503 with Retry-After
    (portal/errors.py).
    """
    claims = current_api_claims()
    revocations().revoke(claims.jti, claims.user_id, claims.expires_at.timestamp())
    return jsonify(revoked=True, jti=claims.jti)


@api_bp.get("/me")
@api_auth()
@api_spec.validate(resp=responses(schema.Account, 401, 503), tags=["auth"])
def me() -> ResponseReturnValue:
    """The caller's own account."""
    return jsonify(user_payload(current_api_user()))
