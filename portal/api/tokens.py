"""JWT access tokens for the JSON API (§2): HS256 or RS256, `sub`, `role`, `jti`, `exp`, `sv`.

Revocation, two ways: one token (logout) — its `jti` is denied until the token would expire
anyway, recorded in the database and mirrored in each process through Redis
(portal/revocations.py); every token of an account — `sv` is the account's session version
when the token was issued, and every request compares it with the users row it reads anyway
(models/accounts/users.py `active_role`), so whatever ends the account's sessions (sign-out, a password
change by reset link or on the account page, deactivation: models/accounts/sign_in_sessions.py
`end_sessions_in`) ends its tokens too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import jwt

from models import Role, User
from models.errors import DomainError
from portal.errors import STATUS_OF_KIND, status_of
from portal.numbers import whole_number
from settings import Settings

ISSUER = "paysystem"


class Refusal(DomainError):
    """A caller the API does not accept (401): answered by the one error handler inside Flask,
    and by the fast paths in front of it (which read `status`) with the same body."""

    kind = "unauthorized"

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, kind=_KIND_OF_STATUS[status], code=code)

    @property
    def status(self) -> int:
        return status_of(self)


_KIND_OF_STATUS = {status: kind for kind, status in STATUS_OF_KIND.items()}


class TokenError(Refusal):
    """A token that must not be accepted (401); `code` is the API error code. A `Refusal`, so
    the token check's callers, the fast paths included, need not convert it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(401, code, message)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: Role
    jti: str
    expires_at: datetime
    # The account's session_version when the token was issued (models/accounts/users.py).
    session_version: int


@lru_cache(maxsize=8)
def _read_key(path: str) -> str:
    return Path(path).read_text()


def _signing_key(settings: Settings) -> str:
    if settings.jwt_algorithm == "RS256":
        return _read_key(settings.jwt_private_key_file)
    return settings.secret_key


def _verification_key(settings: Settings) -> str:
    if settings.jwt_algorithm == "RS256":
        return _read_key(settings.jwt_public_key_file)
    return settings.secret_key


def issue_token(user: User, settings: Settings, now: datetime | None = None) -> tuple[str, TokenClaims]:
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=settings.jwt_ttl_seconds)
    claims = TokenClaims(user_id=user.id, role=user.role, jti=uuid.uuid4().hex, expires_at=expires,
                         session_version=user.session_version or 0)
    payload = {
        "iss": ISSUER,
        "sub": str(user.id),
        "role": user.role.value,
        "jti": claims.jti,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "sv": claims.session_version,
    }
    return jwt.encode(payload, _signing_key(settings), algorithm=settings.jwt_algorithm), claims


# Every player sends its token with each progress report: a token whose signature has been
# verified once is remembered (bounded), and only its expiry is checked again on later uses.
_VERIFIED_LIMIT = 50_000
_verified: dict[tuple[str, str, str], TokenClaims] = {}


def decode_token(token: str, settings: Settings) -> TokenClaims:
    """Verified claims, or TokenError; only the configured algorithm is accepted."""
    key = (token, settings.jwt_algorithm, _verification_key(settings))
    claims = _verified.get(key)
    if claims is None:
        claims = _verify(token, settings)
        if len(_verified) >= _VERIFIED_LIMIT:
            try:
                del _verified[next(iter(_verified))]  # the oldest entry
            except (KeyError, RuntimeError, StopIteration):
                pass  # another thread evicted it first
        _verified[key] = claims
    if datetime.now(UTC) >= claims.expires_at:
        raise TokenError("token_expired", "The access token has expired; request a new one.")
    return claims


def _user_id(sub: object) -> int:
    """The subject as an account id: ASCII digits in BIGINT range (portal/numbers.py). A signed
    token is trusted for what it says, not for being a usable number: a 30-digit subject made
    the account lookup overflow (a 500 on SQLite)."""
    user_id = whole_number(str(sub))
    if user_id is None:
        raise ValueError("the token's subject is not an account id")
    return user_id


def _whole_number(value: object) -> int:
    """A JSON integer claim in BIGINT range (a huge one would overflow the lookup on SQLite)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError("not a whole number in range")
    return value


def _verify(token: str, settings: Settings) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            _verification_key(settings),
            algorithms=[settings.jwt_algorithm],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "jti", "iat", "sv"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token_expired", "The access token has expired; request a new one.") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid_token", "The access token is not valid.") from exc
    try:
        return TokenClaims(
            user_id=_user_id(payload["sub"]),
            role=Role(payload.get("role")),
            jti=str(payload["jti"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            session_version=_whole_number(payload["sv"]),
        )
    except (ValueError, TypeError) as exc:
        raise TokenError("invalid_token", "The access token is not valid.") from exc
