"""Issue 18, item 5: one reset link submitted 8 times at the same instant sets the password once,
on MariaDB and on SQLite; the other submissions get the 410 page and change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import requests
from sqlalchemy.orm import Session, sessionmaker

from models import Role, User
from models.accounts.passwords import verify_password
from models.accounts.recovery import create_reset_token
from models.accounts.service import create_user
from models.db import make_engine, make_sessionmaker
from portal import create_app
from tests.conftest import LiveServer
from tests.security_support import at_once, sqlite_settings
from tests.support import TEST_PASSWORD, unique_email

SUBMISSIONS = 8


def _submit_all(base_url: str, token: str) -> list[requests.Response]:
    """Eight browsers each open the link's form, then all submit it at the same instant."""
    path = f"{base_url}/auth/reset/{token}"
    browsers = [requests.Session() for _ in range(SUBMISSIONS)]
    forms = []
    for browser in browsers:
        page = browser.get(path, timeout=30)
        assert page.status_code == 200, page.text[:300]
        forms.append(re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]

    def submit(i: int) -> requests.Response:
        password = f"new passphrase number {i}"
        return browsers[i].post(path, data={"csrf_token": forms[i], "password": password, "confirm": password},
                                allow_redirects=False, timeout=60)

    return at_once(SUBMISSIONS, submit)


def _assert_used_once(replies: list[requests.Response], factory: sessionmaker[Session], user_id: int) -> None:
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [302] + [410] * (SUBMISSIONS - 1), [(r.status_code, r.text[:200]) for r in replies]
    assert all("already been used" in r.text for r in replies if r.status_code == 410)
    winner = next(i for i, r in enumerate(replies) if r.status_code == 302)
    with factory() as db:
        stored = db.get(User, user_id).password_hash  # type: ignore[union-attr]
    assert verify_password(stored, f"new passphrase number {winner}")  # the one that succeeded set it


def test_one_reset_link_submitted_eight_times_at_once_works_once_on_mariadb(live_server, make_user, session_factory):
    user = make_user(Role.VIEWER)
    with session_factory() as db:
        token = create_reset_token(db, db.get(User, user.id), datetime.now(UTC))
    _assert_used_once(_submit_all(live_server.url, token), session_factory, user.id)


def test_one_reset_link_submitted_eight_times_at_once_works_once_on_sqlite(settings, tmp_path):
    lite = sqlite_settings(settings, tmp_path)
    factory = make_sessionmaker(make_engine(lite.database_url))
    with factory() as db:
        user = create_user(db, email=unique_email("reset"), password=TEST_PASSWORD, role=Role.VIEWER)
        token = create_reset_token(db, user, datetime.now(UTC))
        user_id = user.id
    server = LiveServer(create_app(lite)).start()
    try:
        _assert_used_once(_submit_all(server.url, token), factory, user_id)
    finally:
        server.stop()
