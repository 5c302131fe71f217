"""Sign-in attempts are limited per account and per IP (flask-limiter on Redis)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from models import Role
from models.redis_conn import key_namespace
from portal import create_app
from tests.support import TEST_PASSWORD, free_port, reset_login_limits, unique_email

PER_ACCOUNT, PER_IP = 3, 5


@pytest.fixture(autouse=True)
def _fresh_login_limits(redis_url):
    reset_login_limits(redis_url)
    yield
    reset_login_limits(redis_url)


@pytest.fixture(scope="module")
def limited_app(settings):
    return create_app(replace(settings, login_limit_per_account=f"{PER_ACCOUNT} per 15 minutes",
                              login_limit_per_ip=f"{PER_IP} per 15 minutes"))


@pytest.fixture
def browser_client(limited_app):
    return limited_app.test_client()


def page_sign_in(client, email, password):
    page = client.get("/auth/signin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post("/auth/signin", data={"csrf_token": token, "email": email, "password": password})


def api_sign_in(client, email, password):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_an_account_gets_429_after_the_configured_failures_even_with_the_right_password(browser_client, make_user):
    user = make_user(Role.SELLER)
    for _ in range(PER_ACCOUNT):
        assert page_sign_in(browser_client, user.email, "wrong password").status_code == 401
    blocked = page_sign_in(browser_client, user.email.upper(), TEST_PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    # Another account from the same address is still welcome.
    other = make_user(Role.VIEWER)
    assert page_sign_in(browser_client, other.email, TEST_PASSWORD).status_code == 302


def test_an_ip_gets_429_after_the_configured_failures_across_accounts(limited_app, make_user):
    client = limited_app.test_client()
    for _ in range(PER_IP):
        assert api_sign_in(client, unique_email("guess"), "wrong password").status_code == 401
    user = make_user(Role.VIEWER)
    blocked = api_sign_in(client, user.email, TEST_PASSWORD)
    assert blocked.status_code == 429
    assert blocked.get_json()["error"] == "too_many_requests"
    assert "access_token" not in blocked.get_json()
    # The page and the API share the counters: the page is locked for this address too.
    assert page_sign_in(limited_app.test_client(), user.email, TEST_PASSWORD).status_code == 429


def test_the_api_and_the_page_share_the_account_counter(limited_app, make_user):
    user = make_user(Role.VIEWER)
    client = limited_app.test_client()
    for _ in range(PER_ACCOUNT):
        assert api_sign_in(client, user.email, "wrong password").status_code == 401
    assert page_sign_in(client, user.email, TEST_PASSWORD).status_code == 429


def test_successful_sign_ins_are_not_counted(limited_app, make_user):
    user = make_user(Role.VIEWER)
    for _ in range(PER_IP + 2):
        assert api_sign_in(limited_app.test_client(), user.email, TEST_PASSWORD).status_code == 200


def test_other_endpoints_are_never_limited(limited_app, redis):
    client = limited_app.test_client()
    for _ in range(PER_IP + 2):
        response = client.get("/api/v1/")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    assert list(redis.scan_iter("LIMITS:*")) == []  # the limiter did not even look
    failed = page_sign_in(client, unique_email(), "wrong password")
    assert failed.status_code == 401 and failed.headers["X-RateLimit-Limit"]
    keys = sorted(key.decode() for key in redis.scan_iter("LIMITS:*"))
    namespace = key_namespace(limited_app.config["PAYSYSTEM_SETTINGS"].database_url)
    assert keys and all(key.startswith(f"LIMITS:{{LIMITER/{namespace}:login/") for key in keys)


def test_without_redis_sign_in_still_works_and_is_still_limited(settings, make_user):
    app = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0",
                             login_limit_per_account=f"{PER_ACCOUNT} per 15 minutes"))
    client = app.test_client()
    user = make_user(Role.SELLER)
    assert page_sign_in(client, user.email, TEST_PASSWORD).status_code == 302
    for _ in range(PER_ACCOUNT):
        assert page_sign_in(app.test_client(), user.email, "wrong password").status_code == 401
    assert page_sign_in(app.test_client(), user.email, TEST_PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_counter(settings, make_user):
    app = create_app(replace(settings, trusted_proxy_hops=1, login_limit_per_ip="2 per 15 minutes"))
    client = app.test_client()
    user = make_user(Role.VIEWER)

    def attempt(ip, password):
        return client.post("/api/v1/auth/token", json={"email": user.email, "password": password},
                           headers={"X-Forwarded-For": ip})

    for _ in range(2):
        assert attempt("203.0.113.7", "wrong password").status_code == 401
    assert attempt("203.0.113.7", TEST_PASSWORD).status_code == 429
    assert attempt("198.51.100.9", TEST_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"login_limit_per_account": "lots"}, "LOGIN_LIMIT_PER_ACCOUNT"),
        ({"login_limit_per_ip": ""}, "LOGIN_LIMIT_PER_IP"),
        ({"trusted_proxy_hops": -1}, "TRUSTED_PROXY_HOPS"),
    ],
)
def test_malformed_limit_settings_are_refused_at_start(settings, changes, message):
    from settings import ConfigError

    with pytest.raises(ConfigError, match=message):
        create_app(replace(settings, **changes))
