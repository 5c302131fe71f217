"""Issue 23, the Redis split: REDIS_QUEUE_URL holds RQ's queues, REDIS_CACHE_URL the figure
cache, the sign-in limits and the revocation feed; each defaults to REDIS_URL. Two private
redis-server instances, and a REDIS_URL nothing listens on, show which data goes where."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis

from jobs.enqueue import enqueue_day
from jobs.inline import run_days_inline
from jobs.queues import queue_name
from models import Role
from models.accounts.service import create_user
from portal import create_app
from settings import Settings
from tests.batch_support import DAY0, Backend, busy_world
from tests.security_support import private_redis
from tests.support import TEST_PASSWORD, free_port, unique_email

METRICS_TOKEN = "redis-split-test-metrics-token-0123456789"


def test_each_url_defaults_to_redis_url():
    plain = Settings(redis_url="redis://one:6379/2")
    assert plain.queue_redis_url == plain.cache_redis_url == "redis://one:6379/2"
    split = Settings(redis_url="redis://one:6379/2", redis_queue_url="redis://q:6379/0",
                     redis_cache_url="redis://c:6379/0")
    assert (split.queue_redis_url, split.cache_redis_url) == ("redis://q:6379/0", "redis://c:6379/0")


@pytest.mark.slow
def test_queues_and_cache_live_in_their_own_redis(tmp_path):
    queue_port, cache_port = free_port(), free_port()
    (tmp_path / "q").mkdir()
    (tmp_path / "c").mkdir()
    servers = [private_redis(queue_port, tmp_path / "q"), private_redis(cache_port, tmp_path / "c")]
    queue_url, cache_url = f"redis://127.0.0.1:{queue_port}/0", f"redis://127.0.0.1:{cache_port}/0"
    backend = Backend("mariadb", cache_url, tmp_path)
    app = None
    try:
        busy_world(backend, days=2)
        # REDIS_URL points where nothing listens: every client must use its own URL.
        settings = backend.with_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_queue_url=queue_url,
                                         redis_cache_url=cache_url, metrics_token=METRICS_TOKEN)
        run_days_inline(settings, [DAY0])  # bumps the figure versions in the cache Redis
        enqueue_day(settings, DAY0 + timedelta(days=1))  # the day's partitions wait in the queue Redis
        with backend.engine.begin() as conn:
            from sqlalchemy.orm import Session

            with Session(bind=conn) as session:
                email = unique_email("split")
                create_user(session, email=email, password=TEST_PASSWORD, role=Role.SELLER)
                session.flush()
        app = create_app(settings)
        client = app.test_client()
        for _ in range(2):  # failed sign-ins: counted by the limiter
            assert client.post("/api/v1/auth/token", json={"email": email, "password": "wrong-password"}
                               ).status_code == 401
        token = client.post("/api/v1/auth/token", json={"email": email, "password": TEST_PASSWORD}).get_json()
        top5 = client.get(f"/api/v1/stats/top5?day={DAY0.isoformat()}",
                          headers={"Authorization": f"Bearer {token['access_token']}"})
        assert top5.status_code == 200, top5.get_data(as_text=True)  # a figure read: cached in the cache Redis
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "up", "redis": "up"}
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
        print([line for line in metrics.splitlines() if line.startswith("paysystem_queue")])
        # Read from the queue Redis: the day's 3 partitions queued, its final step deferred.
        assert f'paysystem_queue_jobs{{queue="{queue_name(settings)}",registry="queued"}} 3.0' in metrics
        assert f'paysystem_queue_jobs{{queue="{queue_name(settings)}",registry="deferred"}} 1.0' in metrics
        assert "paysystem_queue_redis_up 1.0" in metrics

        queue_keys = {key.decode() for key in Redis.from_url(queue_url).keys("*")}
        cache_keys = {key.decode() for key in Redis.from_url(cache_url).keys("*")}
        assert f"rq:queue:{queue_name(settings)}" in queue_keys
        assert all(key.startswith("rq:") for key in queue_keys), queue_keys
        assert not any(key.startswith("rq:") for key in cache_keys), cache_keys
        assert any(":figures:" in key for key in cache_keys), cache_keys
        assert any(key.startswith("LIMITS") for key in cache_keys), cache_keys
    finally:
        if app is not None:
            from portal.redis_client import revocations

            revocations(app).stop()
        backend.close()
        for server in servers:
            server.kill()
            server.wait()
