"""The restatements of a seller's videos (§9), a page at a time, with titles and net changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.catalog.tables import Video
from models.figures.scope import FIGURES, MAX_PER_PAGE, FigureError
from models.listing import page_count
from models.money.restatements import REASON_TEXT, Restatement, RestatementReason


def restatement_dict(r: Restatement, title: str | None) -> dict[str, Any]:
    """One restatement: the video's title, what the day's figures were and are, and the net change
    of its money (now − was, whole won; negative when the day is now worth less)."""
    reason = RestatementReason(r.reason)
    return {"id": r.id, "day": r.day.isoformat(), "video_id": r.video_id, "title": title, "run_id": r.run_id,
            "recorded_at": r.recorded_at.isoformat(), "reason": reason.value, "reason_text": REASON_TEXT[reason],
            "was": {n: getattr(r, f"was_{n}") for n in FIGURES}, "now": {n: getattr(r, f"now_{n}") for n in FIGURES},
            "net_change": r.now_total_amount - r.was_total_amount}


def restatement_page(session: Session, seller_id: int | None, *, first: date | None = None, last: date | None = None,
                     video_id: int | None = None, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of the restatements of the caller's videos (days `first`..`last`, one video),
    newest first, with titles, how many there are in all and their net change in total (an
    empty page for a forged video). The dashboard's list used to stop silently at ten: the
    count and the pages say how many more there are (issue 21, item 7)."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise FigureError("invalid", "bad_page", f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}.")
    where = []
    if seller_id is not None:
        where.append(Restatement.seller_id == seller_id)
    if video_id is not None:
        where.append(Restatement.video_id == video_id)
    if first is not None:
        where.append(Restatement.day >= first)
    if last is not None:
        where.append(Restatement.day <= last)
    count, net = session.execute(select(
        func.count(), func.coalesce(func.sum(Restatement.now_total_amount - Restatement.was_total_amount), 0))
        .where(*where)).one()
    rows = session.execute(select(Restatement, Video.title).join(Video, Video.id == Restatement.video_id).where(*where)
                           .order_by(Restatement.recorded_at.desc(), Restatement.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [restatement_dict(r, title) for r, title in rows], "page": page, "per_page": per_page,
            "total_rows": int(count), "pages": page_count(int(count), per_page), "net_change_total": int(net)}


def restatement_list(session: Session, seller_id: int | None, first: date | None = None,
                     last: date | None = None, video_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """The newest `limit` restatements of the caller's videos (`restatement_page`'s first page)."""
    return restatement_page(session, seller_id, first=first, last=last, video_id=video_id, per_page=limit)["items"]
