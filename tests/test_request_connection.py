"""Issue 11: a portal request costs the database as few round trips as it can — one ROLLBACK
when its session closes (not the session's and then the pool's), a working connection even
after the server dropped an idle one."""

from __future__ import annotations

import time

from sqlalchemy import select, text

from portal.database import db_session, session_factory


def _count_rollbacks(engine, monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    real = engine.dialect.do_rollback

    def counted(dbapi_connection):  # type: ignore[no-untyped-def]
        seen.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_rollback", counted)
    return seen


def test_a_request_session_is_rolled_back_once(app, monkeypatch):
    engine = session_factory(app).kw["bind"]
    with app.test_request_context("/"):
        db_session().execute(select(1))  # a pooled connection exists (a new one is set up first)
    seen = _count_rollbacks(engine, monkeypatch)
    with app.test_request_context("/"):
        assert db_session().execute(select(1)).scalar() == 1
    assert len(seen) == 1
    with app.test_request_context("/"):
        db_session()  # a session that never touched the database costs nothing
    assert len(seen) == 1


def test_a_failed_request_session_is_still_closed_and_its_connection_reusable(app):
    with app.test_request_context("/"):
        session = db_session()
        try:
            session.execute(text("SELECT * FROM no_such_table"))
        except Exception:  # noqa: BLE001 - the error itself is not the point
            pass
    with app.test_request_context("/"):
        assert db_session().execute(select(1)).scalar() == 1


def _connection_id(app) -> int:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        return int(db_session().execute(text("SELECT CONNECTION_ID()")).scalar_one())


def test_a_connection_used_a_moment_ago_is_not_pinged_again(app, monkeypatch):
    engine = session_factory(app).kw["bind"]
    _connection_id(app)
    pings: list[int] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
    for _ in range(3):
        _connection_id(app)
    assert pings == []


def test_a_connection_the_server_dropped_while_idle_is_replaced(app, engine):
    from portal.database import PING_IDLE_SECONDS

    before = _connection_id(app)
    with engine.connect() as admin:
        admin.execute(text(f"KILL CONNECTION {before}"))
    time.sleep(PING_IDLE_SECONDS + 0.2)
    # Whichever pooled connection a request gets, the killed one is pinged on checkout, found
    # dead and replaced: no request fails.
    assert before not in {_connection_id(app) for _ in range(8)}
