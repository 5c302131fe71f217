"""Helpers for the watching tests: real clips, videos and ads, signing a test client in."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import Ad, AdSlot, User, Video, ad_slot_positions
from paysystem.demo_media import write_clip
from portal.api.tokens import issue_token
from settings import Settings

_CLIPS: dict[tuple[Path, int], Path] = {}


def clip(directory: Path, seconds: int) -> Path:
    """A real WebM clip of `seconds`, encoded once per test session and directory."""
    key = (directory, seconds)
    if key not in _CLIPS:
        _CLIPS[key] = write_clip(directory / "clips" / f"clip-{seconds}s.webm", seconds, (30, 60, 110), "")
    return _CLIPS[key]


def add_video(
    factory: sessionmaker[Session],
    seller: User,
    *,
    seconds: int = 720,
    title: str | None = None,
    media_path: str = "videos/not-on-disk.webm",
    published: bool = True,
    created_at: datetime | None = None,
) -> Video:
    """A committed video row (and its ad slots) pointing at `media_path`."""
    with factory() as db:
        video = Video(seller_id=seller.id, title=title or f"Clip {uuid.uuid4().hex[:8]}", description="",
                      media_path=media_path, content_type="video/webm", size_bytes=1, duration_seconds=seconds,
                      is_published=published)
        if created_at is not None:
            video.created_at = created_at
        video.slots = [AdSlot(slot_index=i, position_seconds=p) for i, p in enumerate(ad_slot_positions(seconds))]
        db.add(video)
        db.commit()
        db.refresh(video)
        db.expunge(video)
        return video


def add_ad(factory: sessionmaker[Session], *, impressions: int = 0, active: bool = True,
           media_path: str = "ads/not-on-disk.webm", seconds: int = 3, only: bool = False) -> Ad:
    """A committed ad; with `only`, every other ad is switched off first."""
    with factory() as db:
        if only:
            db.execute(update(Ad).values(is_active=False))
        ad = Ad(title=f"Ad {uuid.uuid4().hex[:6]}", media_path=media_path, content_type="video/webm", size_bytes=1,
                duration_seconds=seconds, is_active=active, impressions=impressions)
        db.add(ad)
        db.commit()
        db.refresh(ad)
        db.expunge(ad)
        return ad


def sign_in(client, user: User) -> None:  # type: ignore[no-untyped-def]
    """Give a Flask test client the cookie session flask-login would after signing in."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_sv"] = user.session_version  # portal/auth/server_sessions.py
        session["_fresh"] = True


def csrf_token(client) -> str:  # type: ignore[no-untyped-def]
    """The token the pages put in <meta name="csrf-token">, as the player script reads it."""
    html = client.get("/videos").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF meta tag on the page"
    return match.group(1)


def bearer(user: User, settings: Settings) -> dict[str, str]:
    token, _ = issue_token(user, settings)
    return {"Authorization": f"Bearer {token}"}
