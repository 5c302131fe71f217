"""Defect 5 of issue 13: numbers out of range, Unicode digits, deeply nested JSON and a role
given as a list get a 4xx with a message on every endpoint, on MariaDB and on SQLite."""

from __future__ import annotations

import re

import pytest

from models import Role
from models.accounts import create_user
from portal import create_app
from portal.database import session_factory
from tests.security_support import sqlite_settings
from tests.support import TEST_PASSWORD, unique_email
from tests.watching_support import bearer, sign_in

BEYOND_64_BITS = str(2**64)
HOSTILE_NUMBERS = [BEYOND_64_BITS, "9" * 40, str(2**63), "²", "٣", "1e3", "-1", "0x10"]
NESTED = "[" * 50_000 + "]" * 50_000
MUTATING = {"POST", "PATCH", "PUT", "DELETE"}


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def target(request, settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """(app, admin bearer headers) on the test MariaDB database or on a fresh SQLite file."""
    if request.param == "mariadb":
        app = create_app(settings)
    else:
        lite = sqlite_settings(settings, tmp_path_factory.mktemp("lite"))
        app = create_app(lite)
    with session_factory(app)() as db:
        admin = create_user(db, email=unique_email("admin"), password=TEST_PASSWORD, role=Role.ADMIN)
        db.commit()
        db.refresh(admin)
        db.expunge(admin)
    return app, admin


def _client(app, admin):  # type: ignore[no-untyped-def]
    """A test client signed in as `admin` both ways: cookie session and bearer token."""
    client = app.test_client()
    sign_in(client, admin)
    return client, bearer(admin, app.config["PAYSYSTEM_SETTINGS"])


def _urls(app, value: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, url) of every route with its <int:...> parts replaced by `value`."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:\w+>", value, rule.rule)
        found.extend((method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return found


def _assert_refused(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:200])
    if response.is_json:
        assert response.get_json().get("message"), what


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_ids_out_of_range_or_not_ascii_digits_are_refused(target, value):
    app, admin = target
    client, admin = _client(app, admin)
    urls = _urls(app, value)
    assert len(urls) > 10
    for method, url in urls:
        _assert_refused(client.open(url, method=method, headers=admin, json={}), f"{method} {url}")


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_page_arguments_out_of_range_are_refused(target, value):
    app, admin = target
    client, admin = _client(app, admin)
    for url in ("/api/v1/videos?page=", "/api/v1/videos?per_page=", "/api/v1/admin/users?page=",
                "/api/v1/admin/users?per_page=", "/videos?page="):
        _assert_refused(client.get(url + value, headers=admin), url + value)


def test_deeply_nested_json_is_refused_on_every_json_endpoint(target):
    app, admin = target
    client, admin = _client(app, admin)
    headers = {"Content-Type": "application/json"}
    for method, url in [*_urls(app, "1"), ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/videos"),
                        ("POST", "/api/v1/ads")]:
        if method not in MUTATING or method == "DELETE":  # a DELETE reads no body (and would delete)
            continue
        for auth in ({}, admin):
            response = client.open(url, method=method, data=NESTED, headers={**headers, **auth})
            _assert_refused(response, f"{method} {url}")


def test_a_role_given_as_a_list_is_refused(target):
    app, admin = target
    client, admin = _client(app, admin)
    with session_factory(app)() as db:
        viewer = create_user(db, email=unique_email("viewer"), password=TEST_PASSWORD, role=Role.VIEWER)
        db.commit()
        viewer_id = viewer.id
    for role in (["admin"], {"admin": 1}, 7, None):
        response = client.patch(f"/api/v1/admin/users/{viewer_id}", json={"role": role}, headers=admin)
        _assert_refused(response, repr(role))
    for body in (["role", "admin"], "admin", 3):
        _assert_refused(client.patch(f"/api/v1/admin/users/{viewer_id}", json=body, headers=admin), repr(body))
    assert client.get("/api/v1/admin/users?role=admin&role=viewer", headers=admin).status_code == 200
