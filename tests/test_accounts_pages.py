"""Sign-up, sign-in and sign-out pages: roles, argon2, CSRF, same-site redirects, cookies."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models import Role, User
from portal import create_app
from portal.mail_outbox import mail_outbox
from settings import generate_fernet_key
from tests.mail_support import smtp_server
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


def test_sign_up_as_seller_stores_an_argon2_hash_and_the_mailed_link_verifies_it(settings, session_factory):
    """Issue 18, item 16: sign-up answers "check your mail"; the account exists unverified, can
    sign in, and the mailed link (single use) verifies it."""
    with smtp_server() as (inbox, port):
        app = create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port))
        client = app.test_client()
        response, data = sign_up(client, role="seller", display_name="Hana Studio", next="/auth/account")
        assert response.status_code == 200 and "Check your e-mail" in response.get_data(as_text=True)
        assert who(client) is None
        assert mail_outbox(app).wait_until_idle()
        mail = inbox.wait_for(data["email"])
    with session_factory() as session:
        user = session.scalar(select(User).where(User.email == data["email"]))
    assert user.role == Role.SELLER and user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash
    assert user.email_verified_at is None and not user.is_verified
    # Unverified accounts sign in; the account page says so and offers the link again.
    assert sign_in(client, data["email"]).status_code == 302
    assert who(client) == ("Hana Studio", "seller")
    page = client.get("/auth/account").get_data(as_text=True)
    assert "data-email-unverified" in page and "Send the link again" in page

    path = urlsplit(re.search(r"https?://\S+/auth/verify/\S+", mail.get_payload(decode=True).decode()).group(0)).path
    verified = client.get(path)
    assert verified.status_code == 302 and verified.headers["Location"] == "/auth/account"
    page = client.get("/auth/account").get_data(as_text=True)
    assert "data-email-verified" in page and "Send the link again" not in page
    with session_factory() as session:
        assert session.scalar(select(User).where(User.email == data["email"])).is_verified
    again = app.test_client().get(path)  # single use
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


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


def test_a_refused_sign_up_keeps_good_passwords_and_empties_a_refused_one(client):
    """Issue 21, item 14: a typo in the e-mail used to cost typing both passwords again."""
    response, data = sign_up(client, email="not-an-address")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.count(f'value="{data["password"]}"') == 2  # password and confirmation kept
    differ, data = sign_up(client, confirm="something else")
    assert differ.status_code == 400 and data["password"] not in differ.get_data(as_text=True)


def test_sign_up_with_a_taken_email_gets_the_same_page_as_a_new_one(client, make_user):
    existing = make_user(Role.VIEWER, email=unique_email("taken").replace(".test", ".com"))
    response, _ = sign_up(client, email=existing.email.upper())
    assert response.status_code == 200  # issue 18, item 16 (tests/test_signup_enumeration.py)
    assert "Check your e-mail" in response.get_data(as_text=True)
    assert who(client) is None


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
