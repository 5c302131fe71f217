"""The per-process mirror of revoked API tokens (portal/revocations.py), with real Redis pub/sub:
two apps stand for two portal processes, each with its own mirror and subscription."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from redis import Redis

from models import Role
from portal import create_app
from portal.redis_client import revocations
from portal.revocations import STALE_AFTER, RevocationMirror
from tests.support import TEST_PASSWORD


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
