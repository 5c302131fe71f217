"""Helpers of the operations-console tests: signed-in clients per role, batch rows."""

from __future__ import annotations

import re
import uuid
from datetime import date

import requests
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from models import Role, User
from models.accounts.service import create_user
from models.base import utcnow
from models.batch.tables import BatchPartition, BatchRun, RunState, RunTrigger
from tests.support import TEST_PASSWORD, unique_email

ROLES = (Role.VIEWER, Role.SELLER, Role.ADMIN)


def signed_in(app, user):  # type: ignore[no-untyped-def]
    """A test client with `user` signed in; `client.csrf` holds the page's CSRF token."""
    client = app.test_client()
    page = client.get("/auth/signin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/auth/signin", data={"csrf_token": token, "email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    client.csrf = token
    return client


def make_account(factory: sessionmaker[Session], role: Role) -> User:
    with factory() as session:
        user = create_user(session, email=unique_email(role.value), password=TEST_PASSWORD, role=role)
        session.commit()
        session.refresh(user)
        session.expunge(user)
        return user


def clients_by_role(app, factory: sessionmaker[Session]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """anonymous, viewer, seller and admin clients of `app`."""
    clients: dict[str, object] = {"anonymous": app.test_client()}
    for role in ROLES:
        clients[role.value] = signed_in(app, make_account(factory, role))
    return clients


def add_run(factory: sessionmaker[Session], day: date, state: RunState,
            trigger: RunTrigger = RunTrigger.NIGHTLY, partitions: int = 0) -> int:
    """A batch run row as the pipeline would leave it (no jobs behind it)."""
    with factory() as session:
        now = utcnow()
        finished = now if state in (RunState.SUCCEEDED, RunState.FAILED) else None
        run = BatchRun(day=day, trigger=trigger, state=state, partitions_total=partitions, rows_written=0,
                       created_at=now, started_at=now, finished_at=finished,
                       error="boom" if state == RunState.FAILED else None)
        run.partitions = [BatchPartition(partition_index=i, video_id_lo=i * 10, video_id_hi=i * 10 + 9, state=state,
                                         attempt=1, rows_written=0) for i in range(partitions)]
        session.add(run)
        session.commit()
        return run.id


def forget_runs(factory: sessionmaker[Session], *days: date) -> None:
    with factory() as session:
        session.execute(delete(BatchRun).where(BatchRun.day.in_(days)))
        session.commit()


def http_signed_in(base_url: str, user) -> requests.Session:  # type: ignore[no-untyped-def]
    """A real HTTP session (against a live server) with `user` signed in; `.csrf` holds the token."""
    http = requests.Session()
    page = http.get(base_url + "/auth/signin").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = http.post(base_url + "/auth/signin", data={"csrf_token": token, "email": user.email,
                                                          "password": TEST_PASSWORD}, allow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    page = http.get(base_url + "/").text
    http.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[attr-defined]
    return http


def ops_app(settings):  # type: ignore[no-untyped-def]
    """An app on a batch queue of its own, so no other test's worker takes these jobs."""
    from dataclasses import replace

    from portal import create_app

    return create_app(replace(settings, batch_queue=f"ops-{uuid.uuid4().hex[:8]}"))


def assert_admin_only_page(by_role, url: str) -> None:  # type: ignore[no-untyped-def]
    """Anonymous -> sign-in page, viewer and seller -> 403, admin -> 200."""
    anonymous = by_role["anonymous"].get(url)
    assert anonymous.status_code == 302 and "/auth/signin" in anonymous.headers["Location"]
    assert by_role["viewer"].get(url).status_code == 403
    assert by_role["seller"].get(url).status_code == 403
    assert by_role["admin"].get(url).status_code == 200


def process_env(settings, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of a real worker / scheduler process on the test's database and queue."""
    import os

    from tests.support import TEST_SECRET

    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "BATCH_QUEUE": settings.batch_queue, "SECRET_KEY": TEST_SECRET, "PAYSYSTEM_ENV": "test",
            "BATCH_PARTITIONS": str(settings.batch_partitions), "BATCH_RETRIES": "0",
            "BATCH_LOCK_WAIT_SECONDS": "30", **extra}


def start_process(settings, *command: str, **extra: str):  # type: ignore[no-untyped-def]
    """`python -m paysystem <command>` in a session of its own (RQ's worker forks helpers)."""
    import subprocess
    import sys

    from settings import PROJECT_ROOT

    return subprocess.Popen([sys.executable, "-m", "paysystem", *command], env=process_env(settings, **extra),
                            cwd=PROJECT_ROOT, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop_process(proc) -> str:  # type: ignore[no-untyped-def]
    """Warm shutdown (SIGTERM to its process group); its output for failure messages."""
    import os
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        return proc.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate(timeout=10)[0]


def bearer(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}


def tokens_by_role(app, factory: sessionmaker[Session]) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Authorization headers: none for anonymous, a bearer token for viewer, seller and admin."""
    client = app.test_client()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ROLES:
        headers[role.value] = bearer(client, make_account(factory, role))
    return headers
