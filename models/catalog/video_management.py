"""Sellers manage their videos, admins their ads: edit, hide, delete (issue 14, item 5).

Deleting removes the thing from the catalog (or from the ad rotation) and its media from
disk, but keeps the row: play sessions, ad views, daily statistics, settlements and
restatements refer to it, and money history is never lost (§8: figures describe what was
watched). A deleted video or ad cannot be brought back; its title stays readable in the
statistics.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from models.accounts.users import Role, User
from models.catalog.posters import poster_path_of, remove_media
from models.catalog.service import CatalogError, clean_description, clean_title
from models.catalog.tables import Ad, Video
from models.figures.cache import TITLES_SCOPE, bump_in


def owned_video(db: Session, video_id: int, seller: User) -> Video:
    """A video `seller` may manage (their own; admins any), not deleted; CatalogError otherwise."""
    video = db.get(Video, video_id)
    if video is None or video.deleted_at is not None or (video.seller_id != seller.id and seller.role != Role.ADMIN):
        raise CatalogError(f"There is no video {video_id} of yours.", kind="not_found", code="unknown_video")
    return video


def edit_video(db: Session, *, video_id: int, seller: User, title: str | None, description: str | None) -> Video:
    """Change a video's title and description; committed."""
    video = owned_video(db, video_id, seller)
    video.title, video.description = clean_title(title), clean_description(description)
    bump_in(db, [TITLES_SCOPE])  # cached figures showing the old title are never read again
    db.commit()
    return video


def delete_video(db: Session, *, video_id: int, seller: User, media_root: Path, now: datetime) -> Video:
    """Take a video out of the catalog for good and remove its files; committed. Its history stays.

    The row is marked first and committed, then the files go: a crash in between leaves an
    orphan file, never a catalog entry whose media is missing.
    """
    video = owned_video(db, video_id, seller)
    video.deleted_at, video.is_published = now, False
    media, poster = video.media_path, video.poster_path
    video.poster_path = None
    bump_in(db, [TITLES_SCOPE])
    db.commit()
    remove_media(media_root, media)
    remove_media(media_root, poster)
    return video


def _live_ad(db: Session, ad_id: int) -> Ad:
    ad = db.get(Ad, ad_id)
    if ad is None or ad.deleted_at is not None:
        raise CatalogError(f"There is no ad {ad_id}.", kind="not_found", code="unknown_ad")
    return ad


def edit_ad(db: Session, *, ad_id: int, title: str | None) -> Ad:
    """Rename an ad; committed."""
    ad = _live_ad(db, ad_id)
    ad.title = clean_title(title)
    db.commit()
    return ad


def delete_ad(db: Session, *, ad_id: int, media_root: Path, now: datetime) -> Ad:
    """Take an ad out of rotation for good and remove its file; committed. Its ad views stay."""
    ad = _live_ad(db, ad_id)
    ad.deleted_at, ad.is_active = now, False
    media = ad.media_path
    db.commit()
    remove_media(media_root, media)
    remove_media(media_root, poster_path_of(media))
    return ad
