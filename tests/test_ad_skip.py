"""Skipping an ad (§5): only ads longer than 15 s, only after 5 s, once; the view stays recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models import Role
from models.playback.ad_breaks import record_ad_skip
from models.playback.service import open_session, record_ad_view
from models.playback.tables import AdPick
from models.playback.watch_rules import PlaybackError
from tests.watching_support import add_ad, add_video, bearer, csrf_token, sign_in

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_skip_rules(db, make_user, session_factory):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    short, long = add_ad(session_factory, seconds=15, only=True), add_ad(session_factory, seconds=16)
    opened = open_session(db, viewer=viewer, video=video, now=at(0), tz=ZoneInfo("Asia/Seoul"), start_position_ms=0)
    ids = {"viewer_id": viewer.id, "video_id": video.id, "session_id": opened.session_id}

    def choose(session_id: int, ad_id: int) -> None:
        """The server's choice for slot 0 (an ad view must be of the chosen ad, issue 13)."""
        db.add(AdPick(session_id=session_id, slot_index=0, ad_id=ad_id, picked_at=at(0)))
        db.commit()

    def skip(seconds: float, slot: int = 0, **overrides):  # type: ignore[no-untyped-def]
        return record_ad_skip(db, **{**ids, **overrides}, slot_index=slot, now=at(seconds))

    with pytest.raises(PlaybackError) as nothing_yet:
        skip(10)
    assert (nothing_yet.value.kind, nothing_yet.value.code) == ("not_found", "no_ad_view")
    choose(opened.session_id, long.id)
    record_ad_view(db, **ids, slot_index=0, ad_id=long.id, now=at(1))
    for seconds, overrides, code in [(4.5, {}, "skip_too_early"), (10, {"viewer_id": seller.id}, "no_ad_view")]:
        with pytest.raises(PlaybackError) as refused:
            skip(seconds, **overrides)
        assert refused.value.code == code
    view = skip(6.5)
    assert view.skipped_at == at(6.5) and view.viewed_at == at(1)
    with pytest.raises(PlaybackError) as twice:
        skip(8)
    assert twice.value.code == "already_skipped"

    other = open_session(db, viewer=viewer, video=video, now=at(100), tz=ZoneInfo("Asia/Seoul"), start_position_ms=0)
    choose(other.session_id, short.id)
    record_ad_view(db, viewer_id=viewer.id, video_id=video.id, session_id=other.session_id, slot_index=0,
                   ad_id=short.id, now=at(101))
    with pytest.raises(PlaybackError) as short_ad:
        record_ad_skip(db, viewer_id=viewer.id, video_id=video.id, session_id=other.session_id, slot_index=0,
                       now=at(130))
    assert short_ad.value.code == "not_skippable"


def test_skip_over_http_says_when_and_why(client, make_user, session_factory):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    ad = add_ad(session_factory, seconds=30, only=True)
    sign_in(client, viewer)
    headers = {"X-CSRFToken": csrf_token(client)}
    sid = client.post(f"/videos/{video.id}/sessions", json={}, headers=headers).get_json()["session_id"]
    picked = client.get(f"/videos/{video.id}/sessions/{sid}/slots/0/ad").get_json()
    assert picked["ad"]["skippable_after_seconds"] == 5
    assert client.post(f"/videos/{video.id}/sessions/{sid}/ad-views", json={"slot_index": 0, "ad_id": ad.id},
                       headers=headers).status_code == 201
    early = client.post(f"/videos/{video.id}/sessions/{sid}/slots/0/skip", json={}, headers=headers)
    assert early.status_code == 409 and early.get_json()["error"] == "skip_too_early"
    missing = client.post(f"/videos/{video.id}/sessions/{sid}/slots/1/skip", json={}, headers=headers)
    assert missing.status_code == 404 and "slot 1" in missing.get_json()["message"]


def test_other_players_skip_through_the_api(client, make_user, session_factory, settings):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    ad = add_ad(session_factory, seconds=3, only=True)
    auth = bearer(viewer, settings)
    base = f"/api/v1/videos/{video.id}"
    sid = client.post(f"{base}/sessions", json={"start_position_ms": 0}, headers=auth).get_json()["session_id"]
    assert client.get(f"{base}/sessions/{sid}/slots/0/ad", headers=auth).get_json()["ad"][
        "skippable_after_seconds"] is None
    assert client.post(f"{base}/sessions/{sid}/ad-views", json={"slot_index": 0, "ad_id": ad.id},
                       headers=auth).status_code == 201
    short = client.post(f"{base}/sessions/{sid}/slots/0/skip", headers=auth)
    assert short.status_code == 409 and short.get_json()["error"] == "not_skippable"
    assert client.post(f"{base}/sessions/{sid}/slots/0/skip").status_code == 401
