"""Which database errors are an outage (503, try again) and which stay a bug (500): only a
lost or refused connection is "unavailable" (models/db.py `is_connection_error`). Real errors
from the real servers, no imitations."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from models import Role
from models.db import DATABASE_DOWN, as_unavailable, is_connection_error, make_engine
from tests.support import free_port
from tests.watching_support import bearer, sign_in


def test_a_refused_connection_is_an_outage():
    engine = make_engine(f"mysql+pymysql://root@127.0.0.1:{free_port()}/nothing")
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    assert is_connection_error(caught.value)
    unavailable = as_unavailable(caught.value)
    assert unavailable is not None and unavailable.kind == "unavailable"


def test_bad_sql_and_a_lock_wait_timeout_are_not_an_outage(engine, database_url):
    # PyMySQL calls an unknown column an OperationalError too: the class alone says nothing.
    with engine.connect() as conn, pytest.raises(OperationalError) as bad:
        conn.execute(text("SELECT no_such_column FROM users"))
    assert not is_connection_error(bad.value)
    assert as_unavailable(bad.value) is None
    with engine.connect() as conn, pytest.raises(ProgrammingError) as syntax:
        conn.execute(text("SELEKT 1"))
    assert not is_connection_error(syntax.value)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS outage_probe (id INT PRIMARY KEY)"))
        conn.execute(text("INSERT IGNORE INTO outage_probe VALUES (1)"))
    holder, waiter = engine.connect(), engine.connect()
    try:
        holder.begin()
        holder.execute(text("SELECT id FROM outage_probe WHERE id = 1 FOR UPDATE"))
        waiter.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
        with pytest.raises(OperationalError) as timeout:
            waiter.execute(text("UPDATE outage_probe SET id = 1 WHERE id = 1"))
        assert timeout.value.orig.args[0] == 1205
        assert not is_connection_error(timeout.value)
    finally:
        holder.rollback()
        holder.close()
        waiter.close()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE outage_probe"))


def test_pages_and_api_answer_503_while_the_database_refuses_connections(settings, make_user):
    from portal import create_app

    app = create_app(replace(settings, database_url=f"mysql+pymysql://root@127.0.0.1:{free_port()}/gone"))
    seller = make_user(Role.SELLER)  # in the real test database; the app cannot reach it
    client = app.test_client()
    sign_in(client, seller)
    page = client.get("/dashboard")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    html = page.get_data(as_text=True)
    assert "Temporarily unavailable" in html and "Try again" in html and "Sign in" in html
    for path in ("/videos", "/api/v1/videos"):
        assert client.get(path).status_code == 503
    api = client.get("/api/v1/videos/1")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.get_json() == {"error": "unavailable", "message": DATABASE_DOWN}
    progress = client.post("/api/v1/videos/1/sessions/1/progress", json={"position_ms": 1000},
                           headers=bearer(seller, app.config["PAYSYSTEM_SETTINGS"]))
    assert (progress.status_code, progress.headers.get("Retry-After")) == (503, "5"), progress.get_data()
    assert progress.get_json()["error"] == "unavailable"
    # Other error pages show who is signed in too: without the database they are drawn for a
    # visitor rather than failing themselves (a bare 500).
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "We could not find that" in missing.get_data(as_text=True)


def test_a_database_error_that_is_not_an_outage_stays_an_internal_error(settings):
    from portal import create_app
    from portal.database import db_session

    app = create_app(settings)

    @app.get("/api/v1/_probe/bad-sql")
    def _bad_sql():  # type: ignore[no-untyped-def]
        db_session().execute(text("SELECT no_such_column FROM users"))
        return {}

    # TESTING propagates unhandled exceptions: the error handler did not turn it into a 503.
    with pytest.raises(OperationalError):
        app.test_client().get("/api/v1/_probe/bad-sql")
