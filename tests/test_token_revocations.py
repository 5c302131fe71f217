"""The per-process mirror of revoked API tokens (portal/revocations.py), with real Redis pub/sub:
two apps stand for two portal processes, each with its own mirror and subscription; and the
database rows that back it (models/accounts/revoked_tokens.py), which answer while Redis cannot."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import event

from models import Role
from models.accounts.revoked_tokens import (
    RevokedToken,
    is_token_revoked,
    live_revocations,
    record_revocation,
)
from portal import create_app
from portal import revocations as module
from portal.database import session_factory as app_sessions
from portal.redis_client import revocations
from portal.revocations import STALE_AFTER, RevocationMirror
from tests.security_support import private_redis
from tests.support import TEST_PASSWORD, free_port


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _mirror(app) -> RevocationMirror:  # type: ignore[no-untyped-def]
    with app.app_context():
        return revocations()


@pytest.fixture
def two_processes(settings):  # type: ignore[no-untyped-def]
    apps = [create_app(settings), create_app(settings)]
    yield apps
    for app in apps:
        _mirror(app).stop()


def _token(client, email: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/auth/token", json={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def _me(client, token: str):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_revocation_reaches_the_other_process_through_its_feed(two_processes, make_user):
    first, second = (app.test_client() for app in two_processes)
    user = make_user(Role.VIEWER)
    token = _token(first, user.email)
    assert _me(first, token).status_code == 200 and _me(second, token).status_code == 200
    other = _mirror(two_processes[1])
    assert _wait_for(lambda: other.synced), "the second process's mirror never synced"

    revoked = first.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 200
    jti = revoked.get_json()["jti"]
    assert _me(first, token).status_code == 401  # the revoking process knows at once
    assert _wait_for(lambda: jti in other._revoked, 2.0), "the revocation never reached the other mirror"
    assert other.synced  # answered from memory, not by falling back to Redis
    refused = _me(second, token)
    assert refused.status_code == 401 and refused.get_json()["error"] == "token_revoked"


def test_a_process_that_starts_later_loads_the_denylist(settings, make_user):
    first = create_app(settings)
    user = make_user(Role.VIEWER)
    client = first.test_client()
    token = _token(client, user.email)
    jti = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}).get_json()["jti"]
    _mirror(first).stop()

    later = create_app(settings)
    mirror = _mirror(later)
    try:
        # Before its feed is synced the new process asks Redis; afterwards it has the list itself.
        assert _me(later.test_client(), token).status_code == 401
        assert _wait_for(lambda: mirror.synced)
        assert jti in mirror._revoked
        assert _me(later.test_client(), token).status_code == 401
        other = make_user(Role.VIEWER)
        assert _me(later.test_client(), _token(later.test_client(), other.email)).status_code == 200
    finally:
        mirror.stop()


def test_a_lost_subscription_falls_back_to_redis_and_comes_back(two_processes, make_user, redis: Redis):
    app = two_processes[0]
    client = app.test_client()
    user = make_user(Role.VIEWER)
    token = _token(client, user.email)
    assert _me(client, token).status_code == 200
    mirror = _mirror(app)
    assert _wait_for(lambda: mirror.synced)
    host, port = mirror._pubsub.connection._sock.getsockname()[:2]  # type: ignore[union-attr]
    redis.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")
    assert _wait_for(lambda: not mirror.synced, 2.0), "the mirror did not notice its feed was cut"
    assert _me(client, token).status_code == 200  # checked against Redis meanwhile
    assert _wait_for(lambda: mirror.synced, 10.0), "the mirror did not resubscribe"


def test_a_feed_that_stops_answering_is_not_trusted(two_processes, make_user):
    app = two_processes[0]
    user = make_user(Role.VIEWER)
    assert _me(app.test_client(), _token(app.test_client(), user.email)).status_code == 200
    mirror = _mirror(app)
    assert _wait_for(lambda: mirror.synced)
    mirror._last_pong -= STALE_AFTER  # as if no PONG had come back for that long
    assert not mirror.synced


def _logout(client, token: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.slow
def test_a_token_revoked_while_redis_is_down_stays_refused_after_it_returns(settings, make_user, tmp_path):
    """Two processes on a private Redis that is killed: the logout made meanwhile is written
    to the database only; both processes refuse the token while Redis is down (asking the
    database) and after it is back empty (their mirrors reload the database rows)."""
    port = free_port()
    proc = private_redis(port, tmp_path)
    private = replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    apps = [create_app(private), create_app(private)]
    first, second = (app.test_client() for app in apps)
    mirrors = [_mirror(app) for app in apps]
    try:
        user = make_user(Role.VIEWER)
        before, during, kept = (_token(first, user.email) for _ in range(3))
        assert _logout(first, before).status_code == 200  # revoked while Redis is up
        assert all(_me(client, kept).status_code == 200 for client in (first, second))
        assert all(_wait_for(lambda m=m: m.synced) for m in mirrors)

        proc.kill()
        proc.wait()
        assert all(_wait_for(lambda m=m: not m.synced, STALE_AFTER + 2) for m in mirrors)
        revoked = _logout(second, during)
        assert revoked.status_code == 200, revoked.get_json()  # the database row is the revocation
        for client in (first, second):
            assert _me(client, kept).status_code == 200
            for token in (before, during):
                refused = _me(client, token)
                assert refused.status_code == 401 and refused.get_json()["error"] == "token_revoked"

        proc = private_redis(port, tmp_path)  # back, and empty: it never saw the second logout
        assert all(_wait_for(lambda m=m: m.synced, 15.0) for m in mirrors), "the mirrors did not resync"
        assert all(revoked.get_json()["jti"] in m._revoked for m in mirrors)  # loaded from the database
        for client in (first, second):
            assert _me(client, kept).status_code == 200
            for token in (before, during):
                assert _me(client, token).status_code == 401
        # A process started now learns both from the database as well.
        later = create_app(private)
        mirror = _mirror(later)
        try:
            assert _me(later.test_client(), during).status_code == 401  # from the database until synced
            assert _wait_for(lambda: mirror.synced)
            assert _me(later.test_client(), during).status_code == 401
            assert _me(later.test_client(), before).status_code == 401
        finally:
            mirror.stop()
    finally:
        for m in mirrors:
            m.stop()
        proc.kill()


def test_a_synced_mirror_checks_no_database_and_reloads_revocations_it_was_not_told(two_processes, make_user,
                                                                                     session_factory):
    """While the feed is healthy the check is answered from memory (no query); a revocation
    whose publish never came (its process could not reach Redis) arrives with the periodic
    reload of the database rows."""
    app = two_processes[0]
    client = app.test_client()
    user = make_user(Role.VIEWER)
    token = _token(client, user.email)
    assert _me(client, token).status_code == 200  # starts the feed
    mirror = _mirror(app)
    assert _wait_for(lambda: mirror.synced)
    engine = app_sessions(app).kw["bind"]
    queries: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "revoked_tokens" in statement:
            queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(20):
            assert mirror.is_revoked("0" * 32) is False
        assert queries == []
    finally:
        event.remove(engine, "before_cursor_execute", count)

    jti = "f" * 32  # revoked elsewhere, written to the database only
    with session_factory() as session:
        record_revocation(session, jti, user.id, datetime.now(UTC) + timedelta(hours=1))
    assert mirror.is_revoked(jti) is False  # not told yet
    mirror._next_reload = 0.0  # as if RELOAD_EVERY had passed
    assert module.RELOAD_EVERY <= 30
    assert _wait_for(lambda: mirror.is_revoked(jti), 3.0), "the periodic reload did not pick the row up"
    assert _me(client, token).status_code == 200


def test_revocation_rows_are_kept_until_the_token_expires_then_purged(session_factory, make_user):
    user = make_user(Role.VIEWER)
    now = datetime.now(UTC)
    with session_factory() as db:
        record_revocation(db, "a" * 32, user.id, now + timedelta(hours=1), now=now)
        record_revocation(db, "a" * 32, user.id, now + timedelta(hours=1), now=now)  # twice: no error
        record_revocation(db, "b" * 32, user.id, now + timedelta(seconds=1), now=now)
        assert is_token_revoked(db, "a" * 32, now) and is_token_revoked(db, "b" * 32, now)
        assert not is_token_revoked(db, "c" * 32, now) and not is_token_revoked(db, "x" * 500, now)
        later = now + timedelta(seconds=2)
        assert not is_token_revoked(db, "b" * 32, later)  # its token has expired: nothing to refuse
        assert {"a" * 32} <= set(live_revocations(db, later)) and "b" * 32 not in live_revocations(db, later)
        record_revocation(db, "d" * 32, user.id, later + timedelta(hours=1), now=later)  # purges "b"
        assert db.get(RevokedToken, "b" * 32) is None and db.get(RevokedToken, "a" * 32) is not None
