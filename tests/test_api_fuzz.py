"""Issue 13: schemathesis fuzzes every operation of /api/v1/openapi.json on the test MariaDB and
Redis, as a seller, an admin and a viewer: no 5xx, and every answer is one the document
declares (status, content type, body schema).

The document is generated from the views (portal/api/openapi.py), so this test covers every
route of the API that is in it, including the ones added later. Each generated request is
sent by one of the roles, in turn, twice: once as generated (mostly unknown ids: the
refusals) and once with the ids of that role's own play session, video and ad of the small
data set below, so that the operations also answer from real rows (sessions, ad breaks,
uploads, a computed day).
Bearer tokens are issued per request, so `POST /auth/logout` revoking one does not lock the
rest of the run out.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from jobs.inline import run_days_inline
from models import Role, User
from models.accounts.service import create_user
from models.business_time import today
from portal.api.openapi import openapi_document
from settings import Settings
from tests.support import (
    REDIS_SERVER_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    reset_login_limits,
    unique_email,
)
from tests.watching_support import add_ad, add_video, bearer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation; each example is sent by one role in turn, with its generated ids and with the role's own.
# API_FUZZ_EXAMPLES=200 for a longer hunt on a quiet machine.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
ROLES = itertools.cycle(("seller", "admin", "viewer"))


@dataclass
class Seeded:
    """Who calls, and the ids of rows each of them may reach."""

    settings: Settings
    users: dict[str, User]
    own_ids: dict[str, dict[str, int]] = field(default_factory=dict)  # role -> path parameter -> id

    def headers(self, role: str) -> dict[str, str]:
        return bearer(self.users[role], self.settings)


def _user(factory: sessionmaker[Session], role: Role) -> User:
    with factory() as db:
        user = create_user(db, email=unique_email(f"fuzz-{role.value}"), password=TEST_PASSWORD, role=role)
        db.commit()
        db.refresh(user)
        db.expunge(user)
        return user


@pytest.fixture(scope="module")
def seeded(app, settings: Settings, session_factory: sessionmaker[Session], redis_url: str):  # type: ignore[no-untyped-def]
    """A seller with two published videos and a hidden one, a short and a skippable ad, a
    viewer and an admin, one open play session each, and yesterday computed by the batch."""
    users = {role.value: _user(session_factory, role) for role in (Role.SELLER, Role.ADMIN, Role.VIEWER)}
    seller = users["seller"]
    videos = [add_video(session_factory, seller, seconds=seconds) for seconds in (720, 95)]
    add_video(session_factory, seller, seconds=300, published=False)
    short_ad = add_ad(session_factory, seconds=3)
    add_ad(session_factory, seconds=20)
    world = Seeded(settings, users)
    client = app.test_client()
    for role in users:
        opened = client.post(f"/api/v1/videos/{videos[0].id}/sessions", headers=world.headers(role))
        assert opened.status_code == 201, opened.get_json()
        world.own_ids[role] = {"video_id": videos[0].id, "session_id": opened.get_json()["session_id"],
                               "ad_id": short_ad.id, "slot_index": 0}
    run_days_inline(settings, [today(settings.tz) - timedelta(days=1)])
    yield world
    reset_login_limits(redis_url)  # the fuzzed POST /auth/token fails sign-ins on purpose


def _document() -> dict[str, Any]:
    """The document of an app built by the same factory on an empty SQLite database, so the
    operations are known when pytest collects this module (schemathesis' fixture-based lazy
    loading needs a pytest internal, `Node._nodeid`, that pytest 9 no longer has); the first
    test checks that the app under test serves the same document."""
    from portal import create_app

    bare = Settings(environment="test", database_url="sqlite:///:memory:", redis_url=REDIS_SERVER_URL,
                    secret_key=TEST_SECRET)
    return openapi_document(create_app(bare))


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_app_serves_the_fuzzed_document(app):  # type: ignore[no-untyped-def]
    assert app.test_client().get("/api/v1/openapi.json").get_json() == DOCUMENT


def _with_own_ids(case: Any, ids: dict[str, int]) -> bool:
    """Point the case's path at the caller's own rows; False when it has no ids to replace."""
    names = [name for name in (case.path_parameters or {}) if name in ids]
    for name in names:
        case.path_parameters[name] = ids[name]
    return bool(names)


@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_document_says(case, app, seeded):  # type: ignore[no-untyped-def]
    role = next(ROLES)  # the roles take turns, example by example
    # schemathesis asks for gzip/br like requests does but its WSGI transport does not decode the
    # body; compressed answers are checked in tests/test_static_assets.py.
    headers = {**seeded.headers(role), "Accept-Encoding": "identity"}
    response = case.call(app=app, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    if _with_own_ids(case, seeded.own_ids[role]):
        response = case.call(app=app, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)


def test_the_progress_fast_path_and_its_documented_flask_twin_answer_alike(app, seeded):  # type: ignore[no-untyped-def]
    """The fuzzed progress operation is answered by portal/api/progress_fast_path.py; the Flask view
    that documents it must give the same statuses and bodies (refusals change nothing, so the
    same session serves both; an accepted report gets a session of its own on each side)."""
    from werkzeug.test import Client

    fast = app.test_client()
    flask_only = Client(lambda environ, start: Flask.wsgi_app(app, environ, start))
    headers = seeded.headers("viewer")
    video_id = seeded.own_ids["viewer"]["video_id"]

    def session() -> str:
        opened = fast.post(f"/api/v1/videos/{video_id}/sessions", headers=headers)
        return f"/api/v1/videos/{video_id}/sessions/{opened.get_json()['session_id']}/progress"

    refused = session()
    bodies: list[dict[str, Any]] = [
        {"json": {"position_ms": -5}}, {"json": {"position_ms": "12"}}, {"json": {}}, {"json": ["position_ms", 1]},
        {"json": {"position_ms": 1000, "state": "rewinding"}}, {"json": {"position_ms": 10**12}},
        {"data": "{position", "content_type": "application/json"}, {"data": {"position_ms": "5000"}},
    ]
    for body in bodies:
        one, other = fast.post(refused, headers=headers, **body), flask_only.post(refused, headers=headers, **body)
        assert (one.status_code, one.get_json()) == (other.status_code, other.get_json()), body
        assert one.status_code == 422, body
    for client in (fast, flask_only):
        unknown = client.post(f"{refused[:-len('/progress')]}9/progress", json={"position_ms": 1}, headers=headers)
        assert unknown.status_code == 404 and unknown.get_json()["error"] == "unknown_session"
        assert client.post(refused, json={"position_ms": 1}).get_json()["error"] == "missing_token"
    accepted = [client.post(session(), json={"position_ms": 4000, "state": "paused"}, headers=headers)
                for client in (fast, flask_only)]
    assert [r.status_code for r in accepted] == [200, 200]
    assert [{k: v for k, v in r.get_json().items() if k != "session_id"} for r in accepted] == [
        {"position_ms": 4000, "status": "PAUSE", "ended": False}] * 2


def test_a_form_field_without_a_readable_name_is_a_422_not_a_500(app, seeded):
    """Found by the fuzz above: `name="0\\"` reaches the form as a field named None."""
    body = (b'--b\r\nContent-Disposition: form-data; name="0\\"\r\n\r\nnull\r\n'
            b'--b\r\nContent-Disposition: form-data; name="description"\r\n\r\n\r\n--b--\r\n')
    answer = app.test_client().post("/api/v1/videos", data=body, content_type="multipart/form-data; boundary=b",
                                    headers=seeded.headers("seller"))
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["message"] == "form: every field needs a name"
