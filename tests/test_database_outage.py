"""Fault of issue 18 (item 4): MariaDB killed (SIGKILL) while the portal serves pages, the API
and progress reports, and started again. Nothing answers 500 meanwhile: 503 with Retry-After
during the outage (JSON `{error, message}` on the API and the progress fast path, the humane
error page in the browser), the answers come back by themselves once the server is up, and
the progress acknowledged before the outage is still there. A private mariadbd and a private
Redis, the app served over real HTTP; the shared test servers are not touched."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from models import Role
from models.db import make_engine, make_sessionmaker
from paysystem import migrate
from portal import create_app
from tests.conftest import LiveServer
from tests.mariadb_support import PrivateMariaDB, needs_mariadb_server
from tests.ops_support import make_account
from tests.security_support import private_redis
from tests.support import free_port
from tests.watching_support import add_video, bearer, sign_in


def _check_answer(kind: str, response: requests.Response) -> str | None:
    """What is wrong with an answer given during or around the outage (None: acceptable)."""
    status = response.status_code
    if status < 500:
        return None
    if status != 503:
        return f"{kind}: {status} {response.text[:200]!r}"
    if not response.headers.get("Retry-After", "").isdigit():
        return f"{kind}: 503 without Retry-After"
    if kind in ("page", "missing"):
        if "text/html" not in response.headers.get("Content-Type", "") or "Temporarily unavailable" not in response.text:
            return f"{kind}: 503 is not the humane error page: {response.text[:200]!r}"
    else:
        body = response.json()
        if set(body) != {"error", "message"} or body["error"] != "unavailable":
            return f"{kind}: 503 body {body!r}"
    return None


@pytest.mark.slow
@needs_mariadb_server
def test_a_database_outage_answers_503_and_recovers_by_itself(settings, tmp_path):
    database = PrivateMariaDB(tmp_path)
    database.start()
    redis_port = free_port()
    redis_proc = private_redis(redis_port, tmp_path)
    server = None
    try:
        url = database.database_url("paysystem_outage")
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        app = create_app(replace(settings, database_url=url, redis_url=f"redis://127.0.0.1:{redis_port}/0"))
        server = LiveServer(app).start()
        base = server.url
        seller, viewer = make_account(factory, Role.SELLER), make_account(factory, Role.VIEWER)
        video = add_video(factory, seller)
        auth = bearer(viewer, app.config["PAYSYSTEM_SETTINGS"])
        client = app.test_client()
        sign_in(client, seller)
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        seller_cookies = {cookie.key: cookie.value}
        opened = requests.post(f"{base}/api/v1/videos/{video.id}/sessions", json={}, headers=auth, timeout=10)
        assert opened.status_code == 201, opened.text
        sid = opened.json()["session_id"]
        progress_url = f"{base}/api/v1/videos/{video.id}/sessions/{sid}/progress"

        seller_auth = bearer(seller, app.config["PAYSYSTEM_SETTINGS"])
        requests_made = [
            ("missing", "/no-such-page", seller_cookies, None),  # an error page of its own, drawn without the database
            ("page", "/dashboard", seller_cookies, None), ("page", "/videos", seller_cookies, None),
            ("page", "/videos", None, None), ("page", f"/videos/{video.id}", seller_cookies, None),
            ("api", "/api/v1/videos", None, None), ("api", f"/api/v1/videos/{video.id}", None, None),
            ("api", "/api/v1/me", None, auth), ("api", "/api/v1/stats/summary", None, seller_auth),
            # answered by the read fast path when cached, else handed to Flask
            ("api", "/api/v1/stats/top5", None, seller_auth),
        ]
        answers: Counter = Counter()  # type: ignore[type-arg]
        problems: list[str] = []
        acknowledged: list[int] = []  # positions of the reports answered 200, in order
        position = [0]
        player = threading.Lock()
        stop = threading.Event()

        def one_round() -> dict[str, set[int]]:
            seen: dict[str, set[int]] = {}
            for kind, path, cookies, headers in requests_made:
                response = requests.get(base + path, cookies=cookies, headers=headers, timeout=30,
                                        allow_redirects=False)
                answers[(path, response.status_code)] += 1
                seen.setdefault(kind, set()).add(response.status_code)
                if (problem := _check_answer(kind, response)) is not None:
                    problems.append(problem)
            with player:  # one player: its reports go one after another
                position[0] += 200
                report = requests.post(progress_url, json={"position_ms": position[0], "state": "playing"},
                                       headers=auth, timeout=30)
                if report.status_code == 200:
                    acknowledged.append(position[0])
            answers[("progress", report.status_code)] += 1
            seen.setdefault("progress", set()).add(report.status_code)
            if (problem := _check_answer("progress", report)) is not None:
                problems.append(problem)
            return seen

        def load() -> None:
            while not stop.is_set():
                one_round()

        before = one_round()
        assert before == {"page": {200}, "api": {200}, "progress": {200}, "missing": {404}}, (before, answers)
        # Several at once, so that the pools hold several connections when the server dies.
        workers = [threading.Thread(target=load) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)
        acknowledged_before = list(acknowledged)
        database.kill()
        time.sleep(3.0)
        during = one_round()
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
            assert not worker.is_alive()
        # During the outage every kind of request said "unavailable, come back".
        assert during == {"page": {503}, "api": {503}, "progress": {503}, "missing": {404}}, (during, answers)
        database.start()
        # Back without a restart of the portal: the very first requests succeed (no dead pooled
        # connection is handed out), and so do the ones after them.
        for _ in range(3):
            after = one_round()
            assert after == {"page": {200}, "api": {200}, "progress": {200}, "missing": {404}}, (after, answers)
        # A restart nobody noticed: the pools hold several connections the server has dropped
        # (rounds in parallel fill them), no request comes while it is down, and the first
        # requests after it are answered as usual.
        others = [requests.post(f"{base}/api/v1/videos/{video.id}/sessions", json={}, headers=auth,
                                timeout=10).json()["session_id"] for _ in range(4)]
        together = threading.Barrier(len(others))

        def report_at_once(other: int) -> None:
            for position_ms in (100, 200, 300):
                together.wait(timeout=30)
                reported = requests.post(f"{base}/api/v1/videos/{video.id}/sessions/{other}/progress",
                                         json={"position_ms": position_ms}, headers=auth, timeout=30)
                assert reported.status_code == 200, reported.text

        parallel = [threading.Thread(target=one_round) for _ in range(4)]
        parallel += [threading.Thread(target=report_at_once, args=(other,)) for other in others]
        for thread in parallel:
            thread.start()
        for thread in parallel:
            thread.join(timeout=60)
        database.kill()
        database.start()
        quiet_restart = one_round()
        assert quiet_restart == {"page": {200}, "api": {200}, "progress": {200}, "missing": {404}}, (
            quiet_restart, answers)
        assert problems == [], (problems[:10], answers)
        assert {status for (_, status) in answers} <= {200, 404, 503}, answers
        # Nothing acknowledged was lost: the session holds the last acknowledged report.
        assert acknowledged_before and acknowledged[-1] > acknowledged_before[-1]
        with Session(engine) as session:
            last, furthest = session.execute(text(
                "SELECT last_position_ms, furthest_position_ms FROM play_sessions WHERE id = :id"), {"id": sid}).one()
        assert (last, furthest) == (acknowledged[-1], acknowledged[-1])
        engine.dispose()
    finally:
        if server is not None:
            server.stop()
        redis_proc.kill()
        if database.proc is not None:
            database.kill()
