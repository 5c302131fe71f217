"""`/healthz` tells an operator whether the database and Redis are reachable, and the public
nothing more: which dependency is down, never its error text (host, port, user)."""

from __future__ import annotations

import re
from dataclasses import replace

from portal import create_app
from tests.support import free_port


def test_healthz_is_200_when_both_are_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up", "redis": "up"}


def test_healthz_is_503_when_redis_is_down_and_says_only_that(settings, caplog):
    port = free_port()
    app = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{port}/0"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "up", "redis": "down"}
    assert str(port) not in response.get_data(as_text=True)
    assert any("redis is down" in r.getMessage() and str(port) in r.getMessage() for r in caplog.records)


def test_healthz_is_503_when_the_database_is_down_and_says_only_that(settings, caplog):
    port = free_port()
    app = create_app(replace(settings, database_url=f"mysql+pymysql://dbuser@127.0.0.1:{port}/nothing"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "down", "redis": "up"}
    text = response.get_data(as_text=True)
    assert str(port) not in text and "127.0.0.1" not in text and "OperationalError" not in text
    # The details are the operator's, in the log.
    assert any("database is down" in r.getMessage() and "Can't connect" in r.getMessage() for r in caplog.records)


def test_pages_and_installed_browser_code_are_served(client):
    page = client.get("/")
    assert page.status_code == 200
    htmx_url = re.search(r'src="(/static/vendor/htmx\.min\.[0-9a-f]{12}\.js)"', page.get_data(as_text=True)).group(1)
    htmx = client.get(htmx_url)
    assert htmx.status_code == 200 and b"htmx" in htmx.data
    assert client.get("/static/vendor/jquery.js").status_code == 404


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
