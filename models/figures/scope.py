"""Who may see which figures, and the input every figure question shares (§2, §8).

Every figure function is scoped by `seller_id` (None: platform-wide, for admins); a video of
another seller is "not found", never someone else's numbers. Ranges are ordered and at most
366 days. The figures' values are plain JSON-ready dicts read through the Redis figure cache
(models/figures/cache.py), keyed with `cache_key`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models.accounts.users import Role
from models.catalog.tables import Video
from models.errors import DomainError
from models.figures.tables import VideoDailyStats
from models.money.settlement import VideoDailySettlement

MAX_RANGE_DAYS = 366
MAX_PER_PAGE = 500
FIGURES = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount", "total_amount")
MONEY = ("video_amount", "ad_amount", "total_amount")


class FigureError(DomainError):
    """A figure request refused; `kind` is transport-neutral (`not_found`, `invalid`), answered by
    the one error handler like every domain error."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message, kind=kind, code=code)


# ------------------------------------------------------------------------------ scope and input


def seller_scope(role: Role, caller_id: int, requested: int | None) -> int | None:
    """The seller whose figures the caller sees, for pages and API alike: sellers always
    themselves; admins the `seller_id` they ask for, or None for the platform."""
    return requested if role == Role.ADMIN else caller_id


def seller_video(session: Session, seller_id: int | None, video_id: int) -> Video:
    """The video if the caller may see it (its seller, or anybody when seller_id is None)."""
    video = session.get(Video, video_id)
    if video is None or (seller_id is not None and video.seller_id != seller_id):
        raise FigureError("not_found", "video_not_found", "There is no such video among yours.")
    return video


def check_range(first: date, last: date) -> None:
    """A range the portal computes: ordered and at most 366 days."""
    if last < first:
        raise FigureError("invalid", "inverted_range", "The end date is before the start date.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise FigureError("invalid", "range_too_long", f"A range covers at most {MAX_RANGE_DAYS} days.")


def video_titles(session: Session, video_ids: list[int]) -> dict[int, str]:
    if not video_ids:
        return {}
    return dict(session.execute(select(Video.id, Video.title).where(Video.id.in_(video_ids))).all())


def cache_key(*parts: object) -> str:
    return ":".join("all" if p is None else str(p) for p in parts)


def scoped(stats: Select, money: Select, seller_id: int | None, video_id: int | None) -> tuple[Select, Select]:
    """The stats and settlement queries narrowed to a seller's (or one video's) rows."""
    if seller_id is not None:
        stats = stats.where(VideoDailyStats.seller_id == seller_id)
        money = money.where(VideoDailySettlement.seller_id == seller_id)
    if video_id is not None:
        stats = stats.where(VideoDailyStats.video_id == video_id)
        money = money.where(VideoDailySettlement.video_id == video_id)
    return stats, money
