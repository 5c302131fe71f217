"""Defect 1 of issue 13: counted views (money) under concurrent opens, on MariaDB and SQLite.

A viewer who opens several play sessions of one video at the same instant gets exactly one
counted view within the §6 30-second window, and no open answers 500 — also on a first
visit, when the resume row does not exist yet.
"""

from __future__ import annotations

from sqlalchemy import select

from models import PlaySession, Role
from models.accounts.service import create_user
from models.db import make_engine, make_sessionmaker
from portal import create_app
from tests.conftest import LiveServer
from tests.security_support import at_once, post_json, sqlite_settings
from tests.support import TEST_PASSWORD, unique_email
from tests.watching_support import add_video, bearer

OPENS = 8


def _open_all(url: str, video_id: int, headers: dict[str, str]) -> list:  # type: ignore[type-arg]
    return at_once(OPENS, lambda _: post_json(f"{url}/api/v1/videos/{video_id}/sessions", {}, headers))


def _assert_one_counted(replies: list, sessions: list[PlaySession]) -> None:  # type: ignore[type-arg]
    assert sorted(r.status_code for r in replies) == [201] * OPENS, [r.text[:200] for r in replies]
    counted = [r.json()["counted"] for r in replies]
    assert counted.count(True) == 1, counted
    assert {r.json()["reject_reason"] for r in replies if not r.json()["counted"]} == {"repeat_within_30s"}
    assert len(sessions) == OPENS and sum(s.counted for s in sessions) == 1


def test_concurrent_first_opens_count_one_view_on_mariadb(live_server, make_user, session_factory, settings):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller)
    headers = bearer(viewer, settings)
    replies = _open_all(live_server.url, video.id, headers)
    with session_factory() as db:
        sessions = list(db.scalars(select(PlaySession).where(PlaySession.video_id == video.id)))
    _assert_one_counted(replies, sessions)
    # A second burst inside the window counts nothing more.
    again = _open_all(live_server.url, video.id, headers)
    assert [r.status_code for r in again] == [201] * OPENS and not any(r.json()["counted"] for r in again)


def test_concurrent_first_opens_count_one_view_on_sqlite(settings, tmp_path):
    lite = sqlite_settings(settings, tmp_path)
    factory = make_sessionmaker(make_engine(lite.database_url))
    with factory() as db:
        seller = create_user(db, email=unique_email("seller"), password=TEST_PASSWORD, role=Role.SELLER)
        viewer = create_user(db, email=unique_email("viewer"), password=TEST_PASSWORD, role=Role.VIEWER)
        db.commit()
        db.expunge_all()
    video = add_video(factory, seller)
    server = LiveServer(create_app(lite)).start()
    try:
        replies = _open_all(server.url, video.id, bearer(viewer, lite))
    finally:
        server.stop()
    with factory() as db:
        sessions = list(db.scalars(select(PlaySession).where(PlaySession.video_id == video.id)))
    _assert_one_counted(replies, sessions)
