"""A transaction the database rolls back for a conflicting one — a deadlock here, a failed
Galera certification on the cluster (both error 1213) — is transient: the batch runs the step
again, and a request that meets it is refused with 503 "try again", never a 500."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from jobs.errors import is_transient
from models.db import DATABASE_BUSY, as_unavailable, is_conflict_error, is_connection_error


@pytest.fixture
def two_rows(engine: Engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE conflict_probe (id INT PRIMARY KEY, v INT) ENGINE=InnoDB"))
        conn.execute(text("INSERT INTO conflict_probe VALUES (1, 0), (2, 0)"))
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE conflict_probe"))


def _deadlock(engine: Engine) -> DBAPIError:
    """Two transactions locking the same two rows in opposite order: InnoDB rolls one back."""
    errors: list[DBAPIError] = []
    first_locked, second_locked = threading.Event(), threading.Event()

    def worker(mine: int, other: int, locked: threading.Event, wait_for: threading.Event) -> None:
        with engine.connect() as conn:
            try:
                conn.execute(text("UPDATE conflict_probe SET v = v + 1 WHERE id = :id"), {"id": mine})
                locked.set()
                wait_for.wait(10)
                conn.execute(text("UPDATE conflict_probe SET v = v + 1 WHERE id = :id"), {"id": other})
                conn.commit()
            except DBAPIError as exc:
                errors.append(exc)
                conn.rollback()

    threads = [threading.Thread(target=worker, args=(1, 2, first_locked, second_locked)),
               threading.Thread(target=worker, args=(2, 1, second_locked, first_locked))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_deadlock_is_a_conflict_the_batch_retries_and_the_portal_answers_with_503(engine, two_rows):
    lost = _deadlock(engine)
    assert is_conflict_error(lost) and not is_connection_error(lost)
    assert is_transient(lost)
    refused = as_unavailable(lost)
    assert refused is not None and refused.kind == "unavailable" and refused.message == DATABASE_BUSY


def test_a_wrong_statement_is_neither(engine):
    with engine.connect() as conn, pytest.raises(DBAPIError) as wrong:
        conn.execute(text("SELECT no_such_column FROM users"))
    assert not is_conflict_error(wrong.value) and not is_transient(wrong.value)
    assert as_unavailable(wrong.value) is None


def test_a_request_that_loses_a_conflict_gets_503_with_retry_after(settings, engine, two_rows):
    from portal import create_app

    lost = _deadlock(engine)
    app = create_app(settings)

    @app.get("/api/v1/conflict-probe")
    def _probe():  # type: ignore[no-untyped-def]
        raise lost

    answer = app.test_client().get("/api/v1/conflict-probe")
    assert answer.status_code == 503
    assert answer.get_json() == {"error": "unavailable", "message": DATABASE_BUSY}
    assert answer.headers["Retry-After"]
