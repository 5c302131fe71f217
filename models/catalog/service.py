"""Catalog work shared by the portal pages and the JSON API: uploads, listing, toggles (§3)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models.accounts.users import Role, User
from models.base import utcnow
from models.catalog.media import AD_LIMITS, VIDEO_LIMITS, MediaError, MediaLimits, stored_media
from models.catalog.posters import remove_media, write_poster
from models.catalog.tables import Ad, AdSlot, Video, ad_slot_positions
from models.errors import DomainError
from models.figures.cache import TITLES_SCOPE, bump_in
from models.listing import Paged, contains_pattern
from models.playback.ad_rotation import DEFAULT_WINDOW_HOURS, join_rotation

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
PAGE_SIZE = 12
MAX_PAGE_SIZE = 100


class CatalogError(DomainError, ValueError):
    """A catalog request that cannot be honoured; the message is safe to show."""


def _clean_title(title: str | None) -> str:
    value = (title or "").strip()
    if not value:
        raise CatalogError("A title is required.")
    if len(value) > TITLE_MAX:
        raise CatalogError(f"The title is longer than {TITLE_MAX} characters.")
    return value


def _clean_description(description: str | None) -> str:
    value = (description or "").strip()
    if len(value) > DESCRIPTION_MAX:
        raise CatalogError(f"The description is longer than {DESCRIPTION_MAX} characters.")
    return value


# The same checks for editing as for uploading (models/catalog/video_management.py).
clean_title, clean_description = _clean_title, _clean_description


def _commit_new(db: Session, row: Video | Ad) -> None:
    """Commit a new row; on failure roll back and re-raise so `stored_media` removes the file."""
    db.add(row)
    try:
        db.commit()
    except BaseException:
        db.rollback()
        raise


def create_video(
    db: Session,
    *,
    seller: User,
    title: str | None,
    description: str | None,
    upload: BinaryIO,
    filename: str,
    media_root: Path,
    limits: MediaLimits = VIDEO_LIMITS,
    published: bool = True,
) -> Video:
    """Store an uploaded video and its ad slots, committed; CatalogError or MediaError otherwise.

    Both the file and the row exist afterwards, or neither does. The ad slots follow the
    duration measured within `limits.max_seconds`, so they are bounded too (4 h: 48 slots).
    """
    if seller.role not in (Role.SELLER, Role.ADMIN):
        raise CatalogError("Only sellers can upload videos.", kind="forbidden", code="forbidden")
    clean_title, clean_description = _clean_title(title), _clean_description(description)
    with stored_media(upload, filename, media_root, "videos", limits=limits) as media:
        video = Video(
            seller_id=seller.id,
            title=clean_title,
            description=clean_description,
            media_path=media.relative_path,
            content_type=media.content_type,
            size_bytes=media.size_bytes,
            duration_seconds=media.duration_seconds,
            is_published=published,
        )
        video.slots = [
            AdSlot(slot_index=i, position_seconds=p) for i, p in enumerate(ad_slot_positions(media.duration_seconds))
        ]
        video.poster_path = write_poster(media_root, media.relative_path, media.duration_seconds, limits.max_pixels)
        try:
            _commit_new(db, video)
        except BaseException:
            remove_media(media_root, video.poster_path)
            raise
    return video


def create_ad(
    db: Session,
    *,
    admin: User,
    title: str | None,
    upload: BinaryIO,
    filename: str,
    media_root: Path,
    limits: MediaLimits = AD_LIMITS,
    active: bool = True,
    window_hours: int = DEFAULT_WINDOW_HOURS,
) -> Ad:
    """Store an uploaded ad, committed; the same all-or-nothing promise as `create_video`.
    An active ad joins the rotation level with the least-picked active ad (models/playback/ad_rotation.py)."""
    if admin.role != Role.ADMIN:
        raise CatalogError("Only admins can register ads.", kind="forbidden", code="forbidden")
    clean_title = _clean_title(title)
    with stored_media(upload, filename, media_root, "ads", limits=limits) as media:
        ad = Ad(
            title=clean_title,
            media_path=media.relative_path,
            content_type=media.content_type,
            size_bytes=media.size_bytes,
            duration_seconds=media.duration_seconds,
            is_active=active,
            impressions=0,
            created_by=admin.id,
        )
        db.add(ad)
        # The admins' ad list shows a poster frame (issue 21, item 14); ads have no poster
        # column, its path follows from the media's (models/catalog/posters.py poster_path_of).
        poster = write_poster(media_root, media.relative_path, media.duration_seconds, limits.max_pixels)
        try:
            if active:
                try:
                    db.flush()
                    join_rotation(db, ad.id, utcnow(), window_hours)
                except BaseException:
                    db.rollback()
                    raise
            _commit_new(db, ad)
        except BaseException:
            remove_media(media_root, poster)
            raise
    return ad


@dataclass(frozen=True)
class CatalogPage(Paged):
    videos: list[Video]
    page: int
    per_page: int
    total: int
    query: str


def list_published(db: Session, *, page: int = 1, per_page: int = PAGE_SIZE, query: str = "") -> CatalogPage:
    """Published videos, newest first, `per_page` at a time, optionally whose title contains `query`.

    The match is case-insensitive (the utf8mb4_unicode_ci collation on MariaDB).
    """
    if page < 1:
        raise CatalogError("page must be 1 or more.")
    if not 1 <= per_page <= MAX_PAGE_SIZE:
        raise CatalogError(f"per_page must be between 1 and {MAX_PAGE_SIZE}.")
    query = (query or "").strip()[:TITLE_MAX]
    where = [Video.is_published.is_(True), Video.deleted_at.is_(None)]
    if query:
        where.append(Video.title.ilike(contains_pattern(query), escape="\\"))
    total = db.scalar(select(func.count()).select_from(Video).where(*where)) or 0
    videos = db.scalars(
        select(Video)
        .options(joinedload(Video.seller))
        .where(*where)
        .order_by(Video.created_at.desc(), Video.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return CatalogPage(list(videos), page, per_page, total, query)


def can_watch(video: Video, user: User | None) -> bool:
    """Published videos are for every signed-in user; unpublished ones for their seller and admins."""
    if user is None:
        return False
    return video.is_published or video.seller_id == user.id or user.role == Role.ADMIN


def watchable_video(db: Session, video_id: int, user: User | None) -> Video:
    video = db.get(Video, video_id)
    if video is None or video.deleted_at is not None or not can_watch(video, user):
        raise CatalogError(f"There is no video {video_id}.", kind="not_found", code="unknown_video")
    return video


def sellers_videos(db: Session, seller: User) -> list[Video]:
    return list(db.scalars(select(Video).where(Video.seller_id == seller.id, Video.deleted_at.is_(None))
                           .order_by(Video.created_at.desc())).all())


def set_published(db: Session, *, video_id: int, seller: User, published: bool) -> Video:
    video = db.get(Video, video_id)
    if video is None or video.deleted_at is not None or (video.seller_id != seller.id and seller.role != Role.ADMIN):
        raise CatalogError(f"There is no video {video_id} of yours.", kind="not_found", code="unknown_video")
    video.is_published = published
    bump_in(db, [TITLES_SCOPE])  # the figures that show its title (models/figures/cache.py)
    db.commit()
    return video


def all_ads(db: Session) -> list[Ad]:
    return list(db.scalars(select(Ad).where(Ad.deleted_at.is_(None)).order_by(Ad.is_active.desc(), Ad.id)).all())


def set_ad_active(db: Session, *, ad_id: int, active: bool, window_hours: int = DEFAULT_WINDOW_HOURS) -> Ad:
    """Switch an ad on or off, committed; switched on, it rejoins the rotation level with the
    least-picked active ad rather than taking every break until it has caught up."""
    ad = db.get(Ad, ad_id)
    if ad is None or ad.deleted_at is not None:
        raise CatalogError(f"There is no ad {ad_id}.", kind="not_found", code="unknown_ad")
    if active and not ad.is_active:
        join_rotation(db, ad.id, utcnow(), window_hours)
    ad.is_active = active
    db.commit()
    return ad


__all__ = [
    "CatalogError",
    "CatalogPage",
    "MediaError",
    "all_ads",
    "can_watch",
    "create_ad",
    "create_video",
    "list_published",
    "sellers_videos",
    "set_ad_active",
    "set_published",
    "watchable_video",
]
