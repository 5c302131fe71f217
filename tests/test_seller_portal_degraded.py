"""With Redis stopped, every portal page still answers 200 from the database, and once the
figure cache's circuit breaker has opened, no request waits for Redis.

The API is not in this test: its bearer-token check refuses with 503 when token revocation
cannot be checked (portal/api/auth.py), by design of the sign-out rules, not of the figures."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.support import free_port
from tests.watching_support import sign_in


@pytest.fixture(scope="module")
def no_redis_app(portal_data, media_root):
    from portal import create_app

    settings = replace(portal_data.backend.settings, media_root=media_root,
                       redis_url=f"redis://127.0.0.1:{free_port()}/0")
    return create_app(settings), settings


def test_pages_and_api_answer_from_the_database_without_redis(no_redis_app, portal_data):
    app, _ = no_redis_app
    seller = portal_data.sellers[0]
    vid = portal_data.videos[seller.id][0]
    first, last = portal_data.first, portal_data.last
    pages = ["/dashboard", f"/dashboard?metric=watch_seconds&period=week&date={last}",
             f"/settlements?granularity=month&from={first}&to={last}", f"/videos/{vid}/stats",
             f"/settlements/{vid}/{last}?granularity=week", f"/settlements.csv?from={first}&to={last}"]
    client = app.test_client()
    sign_in(client, seller)

    def fetch_all() -> list[tuple[str, int, float]]:
        out = []
        for url in pages:
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()  # a streamed CSV holds its request (and transaction) until read
            response.close()
            out.append((url, response.status_code, time.perf_counter() - started))
        return out

    fetch_all()  # the breaker opens after its first failures
    timings = min((fetch_all() for _ in range(3)), key=lambda t: max(s for _, _, s in t))  # the least loaded round
    assert [(u, s) for u, s, _ in timings if s != 200] == []
    slow = [(url, round(seconds * 1000)) for url, _, seconds in timings if seconds > 0.1]
    assert not slow, f"requests over 100 ms without Redis: {slow}"
