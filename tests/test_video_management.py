"""Sellers edit, hide and delete their videos; admins their ads (issue 14, item 5).

Deleting a video removes it from the catalog and its files from disk, but every statistics,
settlement, play session and ad-view row of it stays (money history is never lost).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from models import (
    Ad,
    AdView,
    PlaySession,
    PricePlan,
    PricingBasis,
    Role,
    Video,
    VideoDailySettlement,
    VideoDailyStats,
)
from models.catalog.service import create_ad, create_video
from tests.watching_support import add_video, clip, csrf_token, sign_in

DAY = date(2026, 4, 10)


def _history_counts(db, video_id: int) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return tuple(
        db.scalar(select(func.count()).select_from(model).where(model.video_id == video_id))
        for model in (VideoDailyStats, VideoDailySettlement, PlaySession, AdView)
    )


def test_deleting_a_video_keeps_every_statistics_and_settlement_row(client, make_user, session_factory, settings,
                                                                    tmp_path_factory):
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    with session_factory() as db, clip(tmp_path_factory.getbasetemp(), 30).open("rb") as upload:
        video = create_video(db, seller=db.merge(seller), title="Goodbye clip", description="", upload=upload,
                             filename="bye.webm", media_root=settings.media_root, published=True)
        video_id, media, poster = video.id, settings.media_root / video.media_path, video.poster_path
        with clip(tmp_path_factory.getbasetemp(), 3).open("rb") as ad_upload:
            ad = create_ad(db, admin=db.merge(admin), title="Any ad", upload=ad_upload, filename="a.webm",
                           media_root=settings.media_root, active=False)
        now = datetime.now(UTC)
        play = PlaySession(viewer_id=viewer.id, video_id=video_id, day=DAY, started_at=now, last_report_at=now,
                           counted=True, updated_at=now, watch_ms=12_000, length_ms=video.duration_seconds * 1000)
        db.add(play)
        db.flush()
        db.add(AdView(session_id=play.id, video_id=video_id, day=DAY, counted=True, slot_index=0, ad_id=ad.id,
                      viewed_at=now))
        plan_id = db.scalar(select(PricePlan.id).order_by(PricePlan.id).limit(1))
        db.add(VideoDailyStats(day=DAY, video_id=video_id, seller_id=seller.id, views=1, watch_seconds=12,
                               ad_views=1, cum_views=1, cum_watch_seconds=12, cum_ad_views=1))
        db.add(VideoDailySettlement(day=DAY, video_id=video_id, seller_id=seller.id, plan_id=plan_id,
                                    basis=PricingBasis.DAILY, views=1, ad_views=1, video_amount=1, ad_amount=10,
                                    total_amount=11))
        db.commit()
        before = _history_counts(db, video_id)
    assert before == (1, 1, 1, 1) and media.is_file() and (settings.media_root / poster).is_file()

    sign_in(client, seller)
    token = csrf_token(client)
    assert "Its statistics and settlements stay" in client.get(f"/videos/{video_id}/delete").get_data(as_text=True)
    deleted = client.post(f"/videos/{video_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302

    with session_factory() as db:
        assert _history_counts(db, video_id) == before
        row = db.get(Video, video_id)
        assert row.deleted_at is not None and not row.is_published and row.title == "Goodbye clip"
    assert not media.exists() and not (settings.media_root / poster).exists()
    assert "Goodbye clip” is deleted" in client.get("/videos/mine").get_data(as_text=True)  # the flash
    assert "Goodbye clip" not in client.get("/videos/mine").get_data(as_text=True)
    assert "Goodbye clip" not in client.get("/videos?q=Goodbye").get_data(as_text=True)
    assert client.get(f"/videos/{video_id}").status_code == 404
    assert client.get(f"/videos/{video_id}/edit").status_code == 404


def test_sellers_edit_only_their_own_videos(client, make_user, session_factory):
    seller, other = make_user(Role.SELLER), make_user(Role.SELLER)
    video = add_video(session_factory, seller, title="Old title")
    sign_in(client, other)
    assert client.get(f"/videos/{video.id}/edit").status_code == 404
    assert client.post(f"/videos/{video.id}/delete", data={"csrf_token": csrf_token(client)}).status_code == 404
    sign_in(client, seller)
    token = csrf_token(client)
    empty = client.post(f"/videos/{video.id}/edit", data={"csrf_token": token, "title": " ", "description": ""})
    assert empty.status_code == 400 and "field-error" in empty.get_data(as_text=True)
    saved = client.post(f"/videos/{video.id}/edit", data={"csrf_token": token, "title": "New title",
                                                          "description": "Now with words"})
    assert saved.status_code == 302
    with session_factory() as db:
        assert (db.get(Video, video.id).title, db.get(Video, video.id).description) == ("New title", "Now with words")


def test_upload_form_does_not_publish_by_default_and_my_videos_shows_business_time(client, make_user,
                                                                                    session_factory):
    seller = make_user(Role.SELLER)
    sign_in(client, seller)
    form = client.get("/videos/upload").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="published"[^>]*>', form).group(0)
    assert "checked" not in checkbox and "data-upload" in form
    add_video(session_factory, seller, title="Timed", created_at=datetime(2026, 1, 1, 15, 30, tzinfo=UTC))
    mine = client.get("/videos/mine").get_data(as_text=True)
    assert "2026-01-02 00:30 KST" in mine and " UTC" not in mine


def test_admins_preview_rename_and_delete_ads(client, make_user, session_factory, settings, tmp_path_factory):
    admin = make_user(Role.ADMIN)
    with session_factory() as db, clip(tmp_path_factory.getbasetemp(), 3).open("rb") as upload:
        ad = create_ad(db, admin=db.merge(admin), title="Preview me", upload=upload, filename="p.webm",
                       media_root=settings.media_root, active=False)
        ad_id, media = ad.id, settings.media_root / ad.media_path
    sign_in(client, admin)
    token = csrf_token(client)
    page = client.get(f"/admin/ads/{ad_id}").get_data(as_text=True)
    assert f'src="/media/ads/{ad_id}"' in page and "ad-preview" in page
    assert client.post(f"/admin/ads/{ad_id}", data={"csrf_token": token, "title": "Renamed"}).status_code == 302
    assert client.post(f"/admin/ads/{ad_id}/delete", data={"csrf_token": token}).status_code == 302
    with session_factory() as db:
        row = db.get(Ad, ad_id)
        assert row.title == "Renamed" and row.deleted_at is not None and not row.is_active
    assert not media.exists()
    client.get("/admin/ads")  # shows the flashes
    assert "Renamed" not in client.get("/admin/ads").get_data(as_text=True)
    assert client.post(f"/admin/ads/{ad_id}/active", data={"csrf_token": token, "active": "1"}).status_code == 404
