"""Deleting one's own account (issue 21, item 14), and what happens to what it leaves behind.

The person goes: e-mail, name, password, social identities, sessions, remember-me tokens and
mailed links are removed, and the account can never sign in again (it stays as an anonymous,
switched-off row, because play sessions, videos and money records point at it).

What stays, said plainly on the page: views watched and views of the seller's videos stay
counted, anonymously (§8: figures describe what was watched); the seller's videos leave the
catalog and their files are deleted. Money is the platform's accounting record: an account whose
videos have earned money (any settlement) cannot be deleted from the account page — the seller
asks an administrator, so that earnings owed are paid out and the records kept as the law asks.
The last active admin cannot delete their account either.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from models.accounts.mailed_links import MailedLink
from models.accounts.passwords import verify_password
from models.accounts.service import AccountError, locked_active_admins
from models.accounts.sign_in_sessions import end_sessions_in
from models.accounts.users import RememberToken, SocialIdentity, User
from models.catalog.posters import remove_media
from models.catalog.tables import Video
from models.figures.cache import TITLES_SCOPE, bump_in
from models.money.settlement import VideoDailySettlement

DELETED_NAME = "Deleted account"


def has_earnings(db: Session, user_id: int) -> bool:
    """Whether any of the account's videos has a settlement: money on the books."""
    return bool(db.scalar(select(exists().where(VideoDailySettlement.seller_id == user_id))))


def delete_account(db: Session, user: User, password: str, *, media_root: Path, now: datetime) -> None:
    """Delete `user`'s account as described above (committed), or AccountError with nothing
    changed: a wrong password, earnings on record, or the last active admin."""
    if user.password_hash and not verify_password(user.password_hash, password):
        raise AccountError("That is not your current password.", code="wrong_password")
    if has_earnings(db, user.id):
        raise AccountError("Your videos have earned money, which the platform must settle and keep on record: "
                           "ask an administrator to close the account.", kind="conflict", code="has_earnings")
    admins = locked_active_admins(db)
    if user.id in admins and not admins - {user.id}:
        db.rollback()
        raise AccountError("You are the last active admin: make another admin first.", kind="conflict",
                           code="last_admin")
    files = [(path, poster) for path, poster in db.execute(
        select(Video.media_path, Video.poster_path).where(Video.seller_id == user.id, Video.deleted_at.is_(None)))]
    db.execute(update(Video).where(Video.seller_id == user.id, Video.deleted_at.is_(None))
               .values(deleted_at=now, is_published=False, poster_path=None))
    if files:
        bump_in(db, [TITLES_SCOPE])
    end_sessions_in(db, user)
    for table in (SocialIdentity, RememberToken, MailedLink):
        db.execute(delete(table).where(table.user_id == user.id))
    user.email = None
    user.email_verified_at = None
    user.password_hash = None
    user.display_name = DELETED_NAME
    user.is_active = False
    db.commit()
    for media, poster in files:  # after the commit: a crash leaves an orphan file, never a broken entry
        remove_media(media_root, media)
        remove_media(media_root, poster)
