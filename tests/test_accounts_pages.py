"""Sign-up, sign-in and sign-out pages: roles, argon2, CSRF, same-site redirects, cookies."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from models import Role, User
from portal import create_app
from settings import generate_fernet_key
from tests.support import TEST_PASSWORD, reset_login_limits, unique_email


@pytest.fixture(autouse=True)
def _fresh_login_limits(redis_url):
    yield
    reset_login_limits(redis_url)


def csrf(client, path="/auth/signin") -> str:
    page = client.get(path)
    return re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)


def who(client) -> tuple[str, str] | None:
    match = re.search(r'class="who"[^>]*data-role="(\w+)">([^<]*) · ', client.get("/").get_data(as_text=True))
    return (match.group(2), match.group(1)) if match else None


def sign_up(client, **fields):
    data = {"role": "viewer", "display_name": "", "email": unique_email("signup").replace(".test", ".com"),
            "password": TEST_PASSWORD, "confirm": TEST_PASSWORD, "next": ""}
    data.update(fields)
    return client.post("/auth/signup", data={"csrf_token": csrf(client, "/auth/signup"), **data}), data


def sign_in(client, email, password=TEST_PASSWORD, next=""):
    return client.post("/auth/signin", data={"csrf_token": csrf(client), "email": email, "password": password,
                                             "next": next})


def test_sign_up_as_seller_stores_an_argon2_hash_and_signs_in(client, session_factory):
    response, data = sign_up(client, role="seller", display_name="Hana Studio", next="/auth/account")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert who(client) == ("Hana Studio", "seller")
    with session_factory() as session:
        user = session.scalar(select(User).where(User.email == data["email"]))
    assert user.role == Role.SELLER and user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"role": "admin"}, 400, "Not a valid choice"),
        ({"password": "short", "confirm": "short"}, 400, "at least 8"),
        ({"confirm": "something else"}, 400, "The passwords differ"),
        ({"email": "not-an-address"}, 400, "Invalid email address"),
    ],
)
def test_sign_up_refuses_bad_input_with_a_message(client, session_factory, fields, status, message):
    response, data = sign_up(client, **fields)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert who(client) is None
    with session_factory() as session:
        assert session.scalar(select(User).where(User.email == data["email"])) is None


def test_sign_up_with_a_taken_email_is_refused_without_naming_it(client, make_user):
    existing = make_user(Role.VIEWER, email=unique_email("taken").replace(".test", ".com"))
    response, _ = sign_up(client, email=existing.email.upper())
    assert response.status_code == 400  # issue 13: no "already exists" (tests/test_signup_enumeration.py)
    assert "could not create an account" in response.get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_refusal(client, make_user):
    user = make_user(Role.SELLER)
    wrong = sign_in(client, user.email, "not the password")
    unknown = sign_in(client, unique_email("nobody"))
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "E-mail or password is not correct." in response.get_data(as_text=True)
    assert who(client) is None


def test_deactivated_and_social_only_accounts_cannot_sign_in_with_a_password(client, make_user, session_factory):
    user = make_user(Role.VIEWER)
    with session_factory() as session:
        session.get(User, user.id).is_active = False
        social_only = User(email=unique_email("social"), password_hash=None, display_name="S", role=Role.VIEWER)
        session.add(social_only)
        session.commit()
    assert sign_in(client, user.email).status_code == 401
    assert sign_in(client, social_only.email, "").status_code == 400  # no password given at all
    assert sign_in(client, social_only.email, "any password").status_code == 401


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/auth/account", "/auth/account"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/steal", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_sign_in_redirects_only_within_the_site(client, make_user, next_url, landing):
    user = make_user(Role.VIEWER)
    response = sign_in(client, user.email, next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_sign_out_needs_a_post_with_the_csrf_token(client, make_user):
    user = make_user(Role.SELLER)
    sign_in(client, user.email)
    assert client.get("/auth/signout").status_code == 405
    assert client.post("/auth/signout").status_code == 400  # no CSRF token
    assert who(client) == (user.display_name, "seller")
    assert client.post("/auth/signout", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert who(client) is None


def test_forms_and_htmx_posts_without_the_csrf_token_are_refused(client, make_user):
    user = make_user(Role.VIEWER)
    form = client.post("/auth/signin", data={"email": user.email, "password": TEST_PASSWORD})
    assert form.status_code == 400 and "Form expired" in form.get_data(as_text=True)
    htmx = client.post("/auth/signin", data={"email": user.email, "password": TEST_PASSWORD},
                       headers={"HX-Request": "true"})
    assert htmx.status_code == 400
    token = csrf(client)
    with_header = client.post("/auth/signin", data={"email": user.email, "password": TEST_PASSWORD},
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    assert with_header.status_code == 302


def test_pages_that_need_an_account_send_to_sign_in_and_back(client, make_user):
    response = client.get("/auth/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/signin?next=")
    user = make_user(Role.VIEWER)
    signed_in = sign_in(client, user.email, next="/auth/account")
    assert signed_in.headers["Location"] == "/auth/account"
    assert user.email in client.get("/auth/account").get_data(as_text=True)


def test_cookies_are_secure_outside_development(settings):
    app = create_app(replace(settings, environment="production", payout_details_keys=(generate_fernet_key(),)))
    response = app.test_client().get("/auth/signin", base_url="https://portal.example")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_nav_offers_sign_in_and_sign_up_to_visitors(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/auth/signin"' in page and 'href="/auth/signup"' in page
