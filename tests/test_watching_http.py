"""Catalog, uploads, media and the playback endpoints over HTTP (browser and JSON API)."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from models import Ad, AdView, PlaySession, Role, User, Video
from portal import create_app
from tests.watching_support import add_ad, add_video, bearer, clip, csrf_token, sign_in


def media_files(media_root, folder: str) -> set[str]:  # type: ignore[no-untyped-def]
    path = media_root / folder
    return {p.name for p in path.iterdir()} if path.exists() else set()


def counts(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    db.rollback()
    return db.scalar(select(func.count()).select_from(Video)), db.scalar(select(func.count()).select_from(Ad))


# --- catalog ---------------------------------------------------------------------------------

def test_catalog_lists_published_videos_newest_first_with_search_and_pages(client, make_user, session_factory):
    seller = make_user(Role.SELLER)
    tag = uuid.uuid4().hex[:8]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        add_video(session_factory, seller, title=f"{tag} river walk {i}", created_at=base + timedelta(days=i))
    add_video(session_factory, seller, title=f"{tag} hidden draft", published=False)
    add_video(session_factory, seller, title=f"{tag} Kimchi", created_at=base)

    api = client.get(f"/api/v1/videos?q={tag}+river&per_page=2&page=1").get_json()
    assert [v["title"] for v in api["items"]] == [f"{tag} river walk 4", f"{tag} river walk 3"]
    assert (api["total"], api["pages"]) == (5, 3)
    last = client.get(f"/api/v1/videos?q={tag}+river&per_page=2&page=3").get_json()
    assert [v["title"] for v in last["items"]] == [f"{tag} river walk 0"]
    assert last["items"][0]["ad_slots"] == [0, 300] and last["items"][0]["duration_seconds"] == 720
    # Search is case-insensitive and unpublished videos never show.
    assert [v["title"] for v in client.get(f"/api/v1/videos?q={tag}+KIMCHI").get_json()["items"]] == [f"{tag} Kimchi"]
    assert client.get(f"/api/v1/videos?q={tag}+draft").get_json()["total"] == 0
    # LIKE wildcards in the query are taken literally.
    assert client.get(f"/api/v1/videos?q={tag}%25").get_json()["total"] == 0
    assert client.get("/api/v1/videos?page=0").status_code == 422
    assert client.get("/api/v1/videos?per_page=abc").status_code == 422

    page = client.get(f"/videos?q={tag}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index(f"{tag} river walk 4") < html.index(f"{tag} river walk 0") and "hidden draft" not in html
    assert client.get("/videos?page=-1").status_code == 422


# --- uploads ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_seller_uploads_a_video_and_its_duration_comes_from_the_file(app, client, make_user, settings, db,
                                                                      tmp_path_factory):
    seller = make_user(Role.SELLER)
    source = clip(tmp_path_factory.getbasetemp(), 305)
    sign_in(client, seller)
    token = csrf_token(client)
    response = client.post("/videos/upload", data={
        "csrf_token": token, "title": "Han River 🌧️", "description": "Rain", "published": "y",
        "file": (source.open("rb"), "river.webm"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    video = db.scalars(select(Video).where(Video.seller_id == seller.id)).one()
    assert (video.title, video.duration_seconds, video.content_type) == ("Han River 🌧️", 305, "video/webm")
    assert [s.position_seconds for s in video.slots] == [0]
    stored = settings.media_root / video.media_path
    assert stored.read_bytes() == source.read_bytes() and video.size_bytes == source.stat().st_size
    assert "Han River" in client.get("/videos/mine").get_data(as_text=True)

    api = client.post("/api/v1/videos", headers=bearer(seller, settings), data={
        "title": "Via the API", "published": "false", "file": (source.open("rb"), "api.webm"),
    }, content_type="multipart/form-data")
    assert api.status_code == 201 and api.get_json()["published"] is False
    assert api.get_json()["duration_seconds"] == 305


@pytest.mark.parametrize(
    ("filename", "payload", "message"),
    [
        ("junk.webm", b"this is not a video" * 500, "could not be read as a video"),
        ("notes.txt", None, "not a supported video file"),
        ("clip.mp4", None, "do not match its name"),
        ("empty.webm", b"", "empty"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_saved(client, make_user, settings, db, tmp_path_factory,
                                                      filename, payload, message):
    seller = make_user(Role.SELLER)
    data = payload if payload is not None else clip(tmp_path_factory.getbasetemp(), 305).read_bytes()
    before, files_before = counts(db), media_files(settings.media_root, "videos")
    sign_in(client, seller)
    response = client.post("/videos/upload", data={
        "csrf_token": csrf_token(client), "title": "Bad", "file": (io.BytesIO(data), filename),
    }, content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    api = client.post("/api/v1/videos", headers=bearer(seller, settings), data={
        "title": "Bad", "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    assert api.status_code == 422 and message in api.get_json()["message"]
    assert counts(db) == before
    assert media_files(settings.media_root, "videos") == files_before
    assert media_files(settings.media_root, "incoming") == set()


def test_an_upload_over_the_size_limit_gets_a_clear_413(settings, make_user, db):
    app = create_app(replace(settings, max_upload_mb=1))
    client = app.test_client()
    seller = make_user(Role.SELLER)
    sign_in(client, seller)
    before = counts(db)
    big = b"\0" * (1024 * 1024 + 10)
    page = client.post("/videos/upload", data={"csrf_token": csrf_token(client), "title": "Big",
                                               "file": (io.BytesIO(big), "big.webm")},
                       content_type="multipart/form-data")
    assert page.status_code == 413 and "upload limit of 1 MB" in page.get_data(as_text=True)
    api = client.post("/api/v1/videos", headers=bearer(seller, settings),
                      data={"title": "Big", "file": (io.BytesIO(big), "big.webm")}, content_type="multipart/form-data")
    assert api.status_code == 413 and "1 MB" in api.get_json()["message"]
    assert counts(db) == before


def test_a_row_that_cannot_be_saved_takes_its_file_away(client, make_user, settings, db, tmp_path_factory):
    seller = make_user(Role.SELLER)
    files_before = media_files(settings.media_root, "videos")
    sign_in(client, seller)
    response = client.post("/api/v1/videos", headers=bearer(seller, settings), data={
        "title": "x" * 201, "file": (clip(tmp_path_factory.getbasetemp(), 305).open("rb"), "long.webm"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422 and "longer than 200" in response.get_json()["message"]
    assert media_files(settings.media_root, "videos") == files_before


def test_only_sellers_upload_and_only_admins_manage_ads(client, make_user, settings, db, tmp_path_factory):
    viewer, seller, admin = make_user(Role.VIEWER), make_user(Role.SELLER), make_user(Role.ADMIN)
    source = clip(tmp_path_factory.getbasetemp(), 3)
    assert client.post("/api/v1/videos", headers=bearer(viewer, settings), data={
        "title": "x", "file": (source.open("rb"), "a.webm")}, content_type="multipart/form-data").status_code == 403
    assert client.get("/videos/upload").status_code == 302  # to the sign-in page
    sign_in(client, seller)
    assert client.get("/admin/ads").status_code == 403
    sign_in(client, admin)
    title = f"Spring sale {uuid.uuid4().hex[:6]}"
    response = client.post("/admin/ads", data={"csrf_token": csrf_token(client), "title": title,
                                               "active": "y", "file": (source.open("rb"), "ad.webm")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    ad = db.scalars(select(Ad).where(Ad.title == title)).one()
    assert (ad.duration_seconds, ad.is_active, ad.impressions, ad.created_by) == (3, True, 0, admin.id)
    off = client.post(f"/admin/ads/{ad.id}/active", data={"csrf_token": csrf_token(client), "active": "0"})
    assert off.status_code == 302
    db.rollback()
    assert db.get(Ad, ad.id).is_active is False
    listed = client.get("/api/v1/ads", headers=bearer(admin, settings)).get_json()["items"]
    assert any(item["id"] == ad.id and item["is_active"] is False for item in listed)


# --- media -----------------------------------------------------------------------------------

def test_media_is_served_with_range_requests_to_signed_in_users(client, make_user, settings, db, tmp_path_factory):
    seller, viewer, other = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.VIEWER)
    source = clip(tmp_path_factory.getbasetemp(), 305)
    response = client.post("/api/v1/videos", headers=bearer(seller, settings), data={
        "title": "Seekable", "file": (source.open("rb"), "seek.webm")}, content_type="multipart/form-data")
    video_id = response.get_json()["id"]
    data = source.read_bytes()

    assert client.get(f"/media/videos/{video_id}").status_code == 302  # sign in first
    assert client.get(f"/api/v1/videos/{video_id}/media").status_code == 401
    sign_in(client, viewer)
    whole = client.get(f"/media/videos/{video_id}")
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes" and whole.data == data
    assert whole.headers["Content-Type"] == "video/webm" and "private" in whole.headers["Cache-Control"]
    part = client.get(f"/media/videos/{video_id}", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.data == data[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    tail = client.get(f"/api/v1/videos/{video_id}/media", headers={**bearer(viewer, settings), "Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.data == data[-100:]
    assert client.get(f"/media/videos/{video_id}", headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416

    # Hidden videos are only for their seller.
    assert client.post(f"/videos/{video_id}/published",
                       data={"csrf_token": csrf_token(client), "published": "0"}).status_code == 403
    sign_in(client, seller)
    assert client.post(f"/videos/{video_id}/published",
                       data={"csrf_token": csrf_token(client), "published": "0"}).status_code == 302
    assert client.get(f"/media/videos/{video_id}", headers={"Range": "bytes=0-9"}).status_code == 206
    sign_in(client, other)
    assert client.get(f"/media/videos/{video_id}").status_code == 404
    assert client.get(f"/videos/{video_id}").status_code == 404
    assert client.get(f"/api/v1/videos/{video_id}").status_code == 404


# --- playback over HTTP ----------------------------------------------------------------------

@pytest.fixture
def watching(make_user, session_factory):  # type: ignore[no-untyped-def]
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    ad = add_ad(session_factory, only=True)
    return seller, viewer, video, ad


def snapshot(db, session_id: int) -> tuple:  # type: ignore[no-untyped-def]
    db.rollback()
    row = db.execute(select(PlaySession.__table__).where(PlaySession.id == session_id)).one()
    views = db.scalar(select(func.count()).select_from(AdView).where(AdView.session_id == session_id))
    return tuple(row), views


def test_a_player_watches_through_the_api(client, settings, db, watching):
    seller, viewer, video, ad = watching
    auth = bearer(viewer, settings)
    base = f"/api/v1/videos/{video.id}"
    opened = client.post(f"{base}/sessions", headers=auth)
    assert opened.status_code == 201
    body = opened.get_json()
    assert body["counted"] is True and body["ad_slots"] == [0, 300] and body["due_slots"] == [0]
    sid = body["session_id"]
    picked = client.get(f"{base}/sessions/{sid}/slots/0/ad", headers=auth).get_json()
    assert picked["ad"]["id"] == ad.id and picked["ad"]["media_url"] == f"/api/v1/ads/{ad.id}/media"
    viewed = client.post(f"{base}/sessions/{sid}/ad-views", json={"slot_index": 0, "ad_id": ad.id}, headers=auth)
    assert viewed.status_code == 201
    progress = client.post(f"{base}/sessions/{sid}/progress", json={"position_ms": 1500, "state": "paused"},
                           headers=auth)
    assert progress.status_code == 200 and progress.get_json()["status"] == "PAUSE"
    details = client.get(f"{base}/sessions/{sid}", headers=auth).get_json()
    assert details["ad_views"] == [{"slot_index": 0, "ad_id": ad.id}] and details["last_position_ms"] == 1500
    assert 0 < details["watch_ms"] <= 1500
    history = client.get(f"{base}/history", headers=auth).get_json()
    assert (history["resume_position_ms"], history["status"]) == (1500, "PAUSE")
    # Someone else cannot read it.
    assert client.get(f"{base}/sessions/{sid}", headers=bearer(seller, settings)).status_code == 404


def test_bad_playback_input_gets_a_4xx_and_changes_nothing(client, settings, db, make_user, watching):
    _, viewer, video, ad = watching
    auth = bearer(viewer, settings)
    base = f"/api/v1/videos/{video.id}"
    sid = client.post(f"{base}/sessions", headers=auth).get_json()["session_id"]
    assert client.get(f"{base}/sessions/{sid}/slots/0/ad", headers=auth).get_json()["ad"]["id"] == ad.id
    assert client.post(f"{base}/sessions/{sid}/ad-views", json={"slot_index": 0, "ad_id": ad.id},
                       headers=auth).status_code == 201
    before = snapshot(db, sid)
    stranger = bearer(make_user(Role.VIEWER), settings)
    progress = f"{base}/sessions/{sid}/progress"
    cases = [
        (progress, {"position_ms": 5000}, stranger, 404, "unknown_session"),
        (f"{base}/sessions/{sid + 999}/progress", {"position_ms": 5000}, auth, 404, "unknown_session"),
        (f"/api/v1/videos/{video.id + 999}/sessions/{sid}/progress", {"position_ms": 5000}, auth, 404,
         "unknown_session"),
        (progress, {"position_ms": 720_001}, auth, 422, "position_beyond_duration"),
        (progress, {"position_ms": -5}, auth, 422, "negative_value"),
        (progress, {"position_ms": "12"}, auth, 422, "not_a_number"),
        (progress, {"position_ms": None}, auth, 422, "missing_field"),
        (progress, {"position_ms": True}, auth, 422, "not_a_number"),
        (progress, {"position_ms": 5000, "seek_to_ms": 900_000}, auth, 422, "position_beyond_duration"),
        (progress, {"position_ms": 5000, "state": "rewinding"}, auth, 422, "invalid_state"),
        (progress, ["position_ms", 5000], auth, 422, "invalid_json"),
        (f"{base}/sessions/{sid}/ad-views", {"slot_index": 1, "ad_id": ad.id}, auth, 409, "slot_ahead"),
        (f"{base}/sessions/{sid}/ad-views", {"slot_index": 7, "ad_id": ad.id}, auth, 422, "no_such_slot"),
        (f"{base}/sessions/{sid}/ad-views", {"slot_index": 0, "ad_id": ad.id}, auth, 409, "duplicate_ad_view"),
        (f"{base}/sessions/{sid}/ad-views", {"slot_index": 0, "ad_id": "x"}, auth, 422, "not_a_number"),
        (f"{base}/sessions/{sid}/ad-views", {"slot_index": 0, "ad_id": ad.id}, stranger, 404, "unknown_session"),
        (f"{base}/sessions/{sid}/ad-views", {"slot_index": 0}, auth, 422, "missing_field"),
        (f"{base}/sessions", {"start_position_ms": 800_000}, auth, 422, "position_beyond_duration"),
    ]
    for url, payload, headers, status, code in cases:
        response = client.post(url, json=payload, headers=headers)
        assert (response.status_code, response.get_json()["error"]) == (status, code), (url, payload)
        assert response.get_json()["message"]
    bad_json = client.post(progress, data="{position", headers={**auth, "Content-Type": "application/json"})
    assert bad_json.status_code == 422
    assert client.get(f"{base}/sessions/{sid}/slots/1/ad", headers=auth).status_code == 409
    assert client.get(f"{base}/sessions/{sid}/slots/5/ad", headers=auth).status_code == 422
    assert client.post(progress, json={"position_ms": 5000}).status_code == 401
    assert snapshot(db, sid) == before


def test_the_browser_endpoints_need_the_cookie_session_and_the_csrf_header(client, db, watching):
    _, viewer, video, ad = watching
    anonymous = {"X-CSRFToken": csrf_token(client), "Accept": "application/json"}
    opened = client.post(f"/videos/{video.id}/sessions", json={}, headers=anonymous)
    assert opened.status_code == 401 and opened.get_json()["error"] == "not_signed_in"
    sign_in(client, viewer)
    page = client.get(f"/videos/{video.id}").get_data(as_text=True)
    assert 'id="player-config"' in page and "/static/js/player." in page
    no_csrf = client.post(f"/videos/{video.id}/sessions", json={}, headers={"Accept": "application/json"})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["error"] == "csrf_failed"
    headers = {"X-CSRFToken": csrf_token(client), "Accept": "application/json"}
    opened = client.post(f"/videos/{video.id}/sessions", json={"start_position_ms": 0}, headers=headers)
    assert opened.status_code == 201
    sid = opened.get_json()["session_id"]
    picked = client.get(f"/videos/{video.id}/sessions/{sid}/slots/0/ad").get_json()
    assert picked["ad"]["media_url"] == f"/media/ads/{ad.id}"
    assert client.post(f"/videos/{video.id}/sessions/{sid}/ad-views", json={"slot_index": 0, "ad_id": ad.id},
                       headers=headers).status_code == 201
    moved = client.post(f"/videos/{video.id}/sessions/{sid}/progress",
                        json={"position_ms": 0, "seek_to_ms": 310_000, "state": "paused"}, headers=headers)
    assert moved.status_code == 200
    # The next visit of the page starts where the viewer stopped.
    assert '"resumeMs": 310000' in client.get(f"/videos/{video.id}").get_data(as_text=True)


def test_the_api_progress_endpoint_refuses_revoked_tokens_and_switched_off_accounts(client, settings, db, watching):
    """Progress skips the per-request user load of api_auth, not any of its refusals."""
    _, viewer, video, _ = watching
    auth = bearer(viewer, settings)
    base = f"/api/v1/videos/{video.id}"
    sid = client.post(f"{base}/sessions", headers=auth).get_json()["session_id"]
    progress = f"{base}/sessions/{sid}/progress"
    assert client.post(progress, json={"position_ms": 1000}, headers=auth).status_code == 200
    before = snapshot(db, sid)
    garbage = client.post(progress, json={"position_ms": 2000}, headers={"Authorization": "Bearer not.a.token"})
    assert (garbage.status_code, garbage.get_json()["error"]) == (401, "invalid_token")
    db.execute(update(User).where(User.id == viewer.id).values(is_active=False))
    db.commit()
    disabled = client.post(progress, json={"position_ms": 2000}, headers=auth)
    assert (disabled.status_code, disabled.get_json()["error"]) == (401, "account_disabled")
    db.execute(update(User).where(User.id == viewer.id).values(is_active=True))
    db.commit()
    assert client.post("/api/v1/auth/logout", headers=auth).status_code in (200, 204)
    revoked = client.post(progress, json={"position_ms": 2000}, headers=auth)
    assert (revoked.status_code, revoked.get_json()["error"]) == (401, "token_revoked")
    assert snapshot(db, sid) == before


def test_the_api_progress_endpoint_speaks_plain_http_correctly(client, settings, db, watching):
    """It is answered in front of Flask (portal/api/progress_fast_path.py): methods, content
    types and sizes get the answers Flask would give, and refusals change nothing."""
    _, viewer, video, _ = watching
    auth = bearer(viewer, settings)
    base = f"/api/v1/videos/{video.id}"
    sid = client.post(f"{base}/sessions", headers=auth).get_json()["session_id"]
    progress = f"{base}/sessions/{sid}/progress"
    before = snapshot(db, sid)
    as_form = client.post(progress, data={"position_ms": "5000"}, headers=auth)
    assert (as_form.status_code, as_form.get_json()["error"]) == (422, "invalid_json")
    huge = client.post(progress, data='{"position_ms": 5000, "pad": "' + "x" * 20_000 + '"}',
                       headers={**auth, "Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.get_json()["message"]
    wrong_method = client.get(progress, headers=auth)
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert client.options(progress).status_code == 200
    assert snapshot(db, sid) == before
    vendor_json = client.post(progress, data='{"position_ms": 4000, "state": "paused"}',
                              headers={**auth, "Content-Type": "application/vnd.player+json; charset=utf-8"})
    assert vendor_json.status_code == 200 and vendor_json.headers["Content-Type"] == "application/json"
    assert vendor_json.get_json() == {"session_id": sid, "position_ms": 4000, "status": "PAUSE", "ended": False}
    # Paths that only look alike are Flask's.
    assert client.post(f"{base}/sessions/{sid}/progress/extra", json={}, headers=auth).status_code == 404
