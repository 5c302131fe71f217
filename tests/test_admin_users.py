"""Admins list users and change roles: the page (htmx), the API and the command line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Role, User
from models.accounts.service import AccountError, change_role, create_user
from models.db import make_engine, make_sessionmaker
from tests.support import TEST_PASSWORD, drop_mysql_database, migrated_mysql_database, unique_email
from tests.test_cli import run_cli


def signed_in(app, user):
    client = app.test_client()
    page = client.get("/auth/signin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/auth/signin", data={"csrf_token": token, "email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    client.csrf = token
    return client


def role_of(session_factory, user_id):
    with session_factory() as session:
        return session.get(User, user_id).role


def api_token(client, user):
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD})
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}


def test_only_admins_open_the_users_page(app, make_user):
    assert app.test_client().get("/admin/users/").status_code == 302
    assert signed_in(app, make_user(Role.SELLER)).get("/admin/users/").status_code == 403
    admin = make_user(Role.ADMIN)
    page = signed_in(app, admin).get("/admin/users/")
    assert page.status_code == 200
    assert admin.email in page.get_data(as_text=True)
    assert 'href="/admin/users/"' in page.get_data(as_text=True)  # the nav shows admins the page


def test_the_page_filters_by_email_and_role(app, make_user):
    tag = unique_email("needle").split("@")[0]
    seller = make_user(Role.SELLER, email=f"{tag}@example.test")
    viewer = make_user(Role.VIEWER)
    client = signed_in(app, make_user(Role.ADMIN))
    found = client.get(f"/admin/users/?q={tag}").get_data(as_text=True)
    assert seller.email in found and viewer.email not in found and "1 user<" in found
    assert seller.email not in client.get(f"/admin/users/?q={tag}&role=viewer").get_data(as_text=True)
    table = client.get(f"/admin/users/?q={tag}", headers={"HX-Request": "true", "HX-Target": "user-table"})
    assert table.get_data(as_text=True).startswith('<div id="user-table">')
    assert client.get("/admin/users/?role=owner").status_code == 422


def test_an_admin_changes_a_role_with_htmx(app, make_user, session_factory):
    viewer = make_user(Role.VIEWER)
    client = signed_in(app, make_user(Role.ADMIN))
    row = client.post(f"/admin/users/{viewer.id}/role", data={"role": "seller"},
                      headers={"HX-Request": "true", "X-CSRFToken": client.csrf})
    assert row.status_code == 200
    html = row.get_data(as_text=True)
    assert html.startswith(f'<tr id="user-{viewer.id}"') and "saved" in html
    assert role_of(session_factory, viewer.id) == Role.SELLER
    # Without the CSRF header the change is refused.
    refused = client.post(f"/admin/users/{viewer.id}/role", data={"role": "viewer"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert role_of(session_factory, viewer.id) == Role.SELLER


def test_an_admin_cannot_change_their_own_role(app, make_user, session_factory):
    admin = make_user(Role.ADMIN)
    client = signed_in(app, admin)
    row = client.post(f"/admin/users/{admin.id}/role", data={"role": "viewer"},
                      headers={"HX-Request": "true", "X-CSRFToken": client.csrf})
    assert "cannot change your own role" in row.get_data(as_text=True)
    plain = client.post(f"/admin/users/{admin.id}/role", data={"role": "viewer", "csrf_token": client.csrf})
    assert plain.status_code == 409
    assert role_of(session_factory, admin.id) == Role.ADMIN


def test_the_page_without_javascript_redirects_after_a_change(app, make_user, session_factory):
    seller = make_user(Role.SELLER)
    client = signed_in(app, make_user(Role.ADMIN))
    response = client.post(f"/admin/users/{seller.id}/role", data={"role": "viewer", "csrf_token": client.csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users/"
    assert role_of(session_factory, seller.id) == Role.VIEWER
    bad = client.post(f"/admin/users/{seller.id}/role", data={"role": "owner", "csrf_token": client.csrf})
    assert bad.status_code == 422 and "role:" in bad.get_data(as_text=True)  # the one refusal (issue 19)
    assert client.post("/admin/users/999999999/role", data={"role": "viewer", "csrf_token": client.csrf}).status_code == 404


def test_the_api_lists_users_and_changes_roles(client, make_user, session_factory):
    admin = make_user(Role.ADMIN)
    headers = api_token(client, admin)
    tag = unique_email("api").split("@")[0]
    viewers = [make_user(Role.VIEWER, email=f"{tag}-{i}@example.test") for i in range(3)]
    listing = client.get(f"/api/v1/admin/users?q={tag}&per_page=2", headers=headers).get_json()
    assert listing["total"] == 3 and listing["pages"] == 2 and len(listing["users"]) == 2
    assert [u["id"] for u in listing["users"]] == [viewers[2].id, viewers[1].id]  # newest first
    assert set(listing["users"][0]) >= {"id", "email", "role", "providers", "is_active"}
    assert "password_hash" not in listing["users"][0]
    page2 = client.get(f"/api/v1/admin/users?q={tag}&per_page=2&page=2", headers=headers).get_json()
    assert [u["id"] for u in page2["users"]] == [viewers[0].id]

    changed = client.patch(f"/api/v1/admin/users/{viewers[0].id}", json={"role": "seller"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["role"] == "seller"
    assert role_of(session_factory, viewers[0].id) == Role.SELLER
    sellers = client.get(f"/api/v1/admin/users?q={tag}&role=seller", headers=headers).get_json()
    assert [u["id"] for u in sellers["users"]] == [viewers[0].id]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/admin/users/{other}", {"role": "owner"}, 422, "invalid_request"),
        ("/api/v1/admin/users/{other}", None, 422, "invalid_request"),
        ("/api/v1/admin/users/999999999", {"role": "viewer"}, 404, "not_found"),
        ("/api/v1/admin/users/{me}", {"role": "viewer"}, 409, "conflict"),
    ],
)
def test_the_api_refuses_bad_role_changes(client, make_user, session_factory, path, body, status, code):
    admin, other = make_user(Role.ADMIN), make_user(Role.SELLER)
    url = path.format(me=admin.id, other=other.id)
    response = client.patch(url, json=body, headers=api_token(client, admin))
    assert response.status_code == status and response.get_json()["error"] == code
    assert role_of(session_factory, admin.id) == Role.ADMIN and role_of(session_factory, other.id) == Role.SELLER


def test_the_api_refuses_bad_paging(client, make_user):
    headers = api_token(client, make_user(Role.ADMIN))
    for query in ("page=0", "per_page=abc", "role=owner"):
        assert client.get(f"/api/v1/admin/users?{query}", headers=headers).status_code == 422


@pytest.fixture
def scratch_db():
    url = migrated_mysql_database("paysystem_roles")
    yield url
    drop_mysql_database(url)


@pytest.mark.slow
def test_the_last_admin_cannot_be_demoted_and_the_cli_sets_roles(scratch_db):
    factory = make_sessionmaker(make_engine(scratch_db))
    with factory() as session:
        only = create_user(session, email=unique_email("only-admin"), password=TEST_PASSWORD, role=Role.ADMIN)
        viewer = create_user(session, email=unique_email("viewer"), password=TEST_PASSWORD, role=Role.VIEWER)
        session.commit()
        only_email, viewer_email = only.email, viewer.email
        with pytest.raises(AccountError, match="last admin"):
            change_role(session, only, Role.SELLER)
        session.rollback()
    env = {"DATABASE_URL": scratch_db}
    refused = run_cli("set-role", "--email", only_email, "--role", "viewer", env=env)
    assert refused.returncode == 1 and "last admin" in refused.stderr
    promoted = run_cli("set-role", "--email", viewer_email.upper(), "--role", "admin", env=env)
    assert promoted.returncode == 0, promoted.stderr
    demoted = run_cli("set-role", "--email", only_email, "--role", "seller", env=env)
    assert demoted.returncode == 0, demoted.stderr
    unknown = run_cli("set-role", "--email", unique_email(), "--role", "seller", env=env)
    assert unknown.returncode == 1 and "no account" in unknown.stderr
    with factory() as session:
        roles = dict(session.execute(select(User.email, User.role)).all())
    assert roles == {only_email: Role.SELLER, viewer_email: Role.ADMIN}


def test_deactivation_ends_sessions_and_tokens_and_reactivation_revives_none(app, make_user, session_factory):
    """Issue 21, item 1: accounts are switched off from the page (and on again)."""
    admin, seller = make_user(Role.ADMIN), make_user(Role.SELLER)
    seller_browser = signed_in(app, seller)
    token = api_token(app.test_client(), seller)
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 200
    client = signed_in(app, admin)
    row = client.post(f"/admin/users/{seller.id}/active", data={"active": "0"},
                      headers={"HX-Request": "true", "X-CSRFToken": client.csrf})
    assert row.status_code == 200 and "(deactivated)" in row.get_data(as_text=True)
    assert "Reactivate" in row.get_data(as_text=True)
    with session_factory() as session:
        assert session.get(User, seller.id).is_active is False
    assert seller_browser.get("/dashboard").status_code == 302  # signed out
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 401
    again = client.post(f"/admin/users/{seller.id}/active", data={"active": "1", "csrf_token": client.csrf})
    assert again.status_code == 303
    with session_factory() as session:
        assert session.get(User, seller.id).is_active is True
    assert seller_browser.get("/dashboard").status_code == 302  # no earlier session comes back
    assert client.post(f"/admin/users/{seller.id}/active", data={"active": "maybe", "csrf_token": client.csrf}
                       ).status_code == 422
    own = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"},
                      headers={"HX-Request": "true", "X-CSRFToken": client.csrf})
    assert "cannot deactivate your own account" in own.get_data(as_text=True)
    with session_factory() as session:
        assert session.get(User, admin.id).is_active is True


def test_the_api_switches_accounts_off_and_on(client, make_user, session_factory):
    admin, viewer = make_user(Role.ADMIN), make_user(Role.VIEWER)
    headers = api_token(client, admin)
    viewer_token = api_token(client, viewer)
    off = client.patch(f"/api/v1/admin/users/{viewer.id}", json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    assert client.get("/api/v1/me", headers=viewer_token).status_code == 401
    on = client.patch(f"/api/v1/admin/users/{viewer.id}", json={"active": True}, headers=headers)
    assert on.status_code == 200 and on.get_json()["is_active"] is True
    for body in ({}, {"role": "seller", "active": False}, {"active": "no"}, {"active": False, "extra": 1}):
        refused = client.patch(f"/api/v1/admin/users/{viewer.id}", json=body, headers=headers)
        assert refused.status_code == 422 and refused.get_json()["error"] == "invalid_request", body
    me = client.patch(f"/api/v1/admin/users/{admin.id}", json={"active": False}, headers=headers)
    assert me.status_code == 409 and "your own account" in me.get_json()["message"]
    with session_factory() as session:
        assert session.get(User, viewer.id).role == Role.VIEWER and session.get(User, admin.id).is_active


def test_the_last_active_admin_stays_and_the_cli_switches_accounts(scratch_db):
    factory = make_sessionmaker(make_engine(scratch_db))
    with factory() as session:
        only = create_user(session, email=unique_email("only-admin"), password=TEST_PASSWORD, role=Role.ADMIN)
        seller = create_user(session, email=unique_email("seller"), password=TEST_PASSWORD, role=Role.SELLER)
        session.commit()
        only_email, seller_email = only.email, seller.email
    env = {"DATABASE_URL": scratch_db}
    refused = run_cli("deactivate", "--email", only_email, env=env)
    assert refused.returncode == 1 and "last active admin" in refused.stderr
    off = run_cli("deactivate", "--email", seller_email, env=env)
    assert off.returncode == 0 and "deactivated" in off.stdout, off.stderr
    with factory() as session:
        assert dict(session.execute(select(User.email, User.is_active)).all()) == {only_email: True,
                                                                                  seller_email: False}
    on = run_cli("reactivate", "--email", seller_email.upper(), env=env)
    assert on.returncode == 0, on.stderr
    unknown = run_cli("deactivate", "--email", unique_email(), env=env)
    assert unknown.returncode == 1 and "no account" in unknown.stderr
    with factory() as session:
        assert session.get(User, seller.id).is_active is True
