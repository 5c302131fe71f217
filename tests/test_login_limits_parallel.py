"""Defect 3 of issue 13: sign-in limits hold under parallel attempts (atomic counting)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from models import Role
from portal import create_app
from tests.conftest import LiveServer
from tests.security_support import at_once, post_json
from tests.support import TEST_PASSWORD, reset_login_limits, unique_email

PER_ACCOUNT, PER_IP, PARALLEL = 3, 5, 12


@pytest.fixture(autouse=True)
def _fresh_login_limits(redis_url):  # type: ignore[no-untyped-def]
    reset_login_limits(redis_url)
    yield
    reset_login_limits(redis_url)


@pytest.fixture(scope="module")
def limited_server(settings):  # type: ignore[no-untyped-def]
    app = create_app(replace(settings, login_limit_per_account=f"{PER_ACCOUNT} per 15 minutes",
                             login_limit_per_ip=f"{PER_IP} per 15 minutes"))
    server = LiveServer(app).start()
    yield server
    server.stop()


def _statuses(server, emails: list[str], password: str) -> Counter:  # type: ignore[type-arg]
    replies = at_once(len(emails), lambda i: post_json(f"{server.url}/api/v1/auth/token",
                                                       {"email": emails[i], "password": password}))
    return Counter(r.status_code for r in replies)


def test_parallel_wrong_passwords_cannot_pass_the_account_limit(limited_server, make_user):
    user = make_user(Role.VIEWER)
    statuses = _statuses(limited_server, [user.email] * PARALLEL, "wrong password")
    assert statuses == Counter({401: PER_ACCOUNT, 429: PARALLEL - PER_ACCOUNT}), statuses
    assert _statuses(limited_server, [user.email], TEST_PASSWORD) == Counter({429: 1})


def test_parallel_wrong_passwords_cannot_pass_the_ip_limit(limited_server):
    statuses = _statuses(limited_server, [unique_email("guess") for _ in range(PARALLEL)], "wrong password")
    assert statuses == Counter({401: PER_IP, 429: PARALLEL - PER_IP}), statuses


def test_right_passwords_are_given_back_after_their_check(limited_server, make_user):
    """An attempt holds its place in the limit while its password is checked (that is what
    makes the count atomic) and gives it back when the password was right."""
    user = make_user(Role.VIEWER)
    for _ in range(2):
        assert _statuses(limited_server, [user.email] * PER_ACCOUNT, TEST_PASSWORD) == Counter({200: PER_ACCOUNT})
    assert _statuses(limited_server, [user.email] * PER_ACCOUNT, "wrong password") == Counter({401: PER_ACCOUNT})
