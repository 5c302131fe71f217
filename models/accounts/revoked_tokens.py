"""Revoked API tokens, recorded in the database: the record of truth of the denylist.

The Redis denylist and each portal process's mirror of it (portal/revocations.py) make the
check cheap, but Redis runs without persistence and can be stopped: a revocation kept only
there is lost when it restarts and cannot be checked while it is down (the API then had to
answer 503). A row here is written first, so the database can always vouch for a token
when Redis cannot, and the mirrors reload from it when their feed comes back.

Rows are only useful until their token would have expired anyway; each revocation purges
the expired ones (one indexed DELETE; logouts are rare next to the requests they protect).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow
from models.upserts import insert_if_missing

JTI_LENGTH = 64  # the tokens' ids are uuid4 hex (32); room for another issuer's format


class RevokedToken(Base):
    """One revoked access token (its `jti`), kept until the token's own expiry."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (TABLE_ARGS,)

    jti: Mapped[str] = mapped_column(String(JTI_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_RT = RevokedToken.__table__


def record_revocation(db: Session, jti: str, user_id: int, expires_at: datetime,
                      now: datetime | None = None) -> None:
    """Deny token `jti` of `user_id` until `expires_at`, and purge expired rows (committed).

    Revoking the same token twice (two logouts racing) leaves the first row as it is.
    """
    now = now or utcnow()
    insert_if_missing(db, _RT, {"jti": jti, "user_id": user_id, "expires_at": expires_at, "revoked_at": now})
    purge_expired(db, now)
    db.commit()


def is_token_revoked(db: Session, jti: str, now: datetime | None = None) -> bool:
    """True when `jti` has a revocation row whose token has not expired yet (one key lookup)."""
    if len(jti) > JTI_LENGTH:
        return False  # never stored, so never revoked
    expires = db.execute(select(RevokedToken.expires_at).where(RevokedToken.jti == jti)).scalar_one_or_none()
    return expires is not None and expires > (now or utcnow())


def live_revocations(db: Session, now: datetime | None = None) -> dict[str, float]:
    """Every still-relevant revoked `jti` → unix time its token expires (the mirrors' load)."""
    rows = db.execute(select(RevokedToken.jti, RevokedToken.expires_at)
                      .where(RevokedToken.expires_at > (now or utcnow()))).all()
    return {jti: expires.timestamp() for jti, expires in rows}


def purge_expired(db: Session, now: datetime | None = None) -> int:
    """Delete rows whose token has expired (not committed); how many went."""
    result = db.execute(delete(RevokedToken).where(RevokedToken.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
