"""JSON API tokens: issue, use, revoke; every refusal is a JSON error without data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from flask import jsonify

from models import Role
from portal import create_app
from portal.api.auth import api_auth, current_api_user
from portal.api.tokens import ISSUER, issue_token
from portal.redis_client import revocations
from tests.support import TEST_PASSWORD, free_port, reset_login_limits, unique_email

SELLER_SECRET = {"revenue_krw": 1_234_567}


@pytest.fixture(autouse=True)
def _fresh_login_limits(redis_url):
    yield
    reset_login_limits(redis_url)


@pytest.fixture(scope="module")
def api_app(settings):
    """The portal plus one seller-only endpoint, to prove the role check of `api_auth`."""
    app = create_app(settings)

    @api_auth(Role.SELLER)
    def seller_figures():
        return jsonify(seller=current_api_user().id, **SELLER_SECRET)

    app.add_url_rule("/api/v1/test/seller-figures", "seller_figures", seller_figures)
    return app


@pytest.fixture
def api(api_app):
    return api_app.test_client()


def token_for(api, email, password=TEST_PASSWORD):
    response = api.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == code and body["message"]
    assert set(body) == {"error", "message"}  # no data beside the error


def test_a_token_carries_sub_role_jti_and_lives_60_minutes(api, make_user, settings):
    user = make_user(Role.SELLER)
    response = api.post("/api/v1/auth/token", json={"email": user.email.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["role"] == "seller"
    assert 3590 <= body["expires_in"] <= 3600
    claims = jwt.decode(body["access_token"], settings.secret_key, algorithms=["HS256"], issuer=ISSUER)
    assert claims["sub"] == str(user.id) and claims["role"] == "seller" and len(claims["jti"]) == 32
    assert claims["exp"] - claims["iat"] == 3600
    me = api.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.get_json()["email"] == user.email
    assert "password_hash" not in me.get_json()


def test_form_encoded_credentials_work_too(api, make_user):
    user = make_user(Role.VIEWER)
    response = api.post("/api/v1/auth/token", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200 and response.get_json()["role"] == "viewer"


def test_wrong_password_and_unknown_user_are_refused_alike(api, make_user):
    user = make_user(Role.SELLER)
    assert_refused(api.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong password"}),
                   401, "invalid_credentials")
    assert_refused(api.post("/api/v1/auth/token", json={"email": unique_email(), "password": TEST_PASSWORD}),
                   401, "invalid_credentials")


@pytest.mark.parametrize("body", [None, {}, {"email": "a@b.cd"}, {"email": 3, "password": "x"}, ["a", "b"]])
def test_a_malformed_token_request_is_a_400(api, body):
    response = api.post("/api/v1/auth/token", json=body) if body is not None else api.post("/api/v1/auth/token")
    assert_refused(response, 400, "invalid_request")


def test_missing_expired_and_forged_tokens_are_401(api, make_user, settings):
    user = make_user(Role.SELLER)
    assert_refused(api.get("/api/v1/me"), 401, "missing_token")
    assert_refused(api.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401, "missing_token")

    expired, _ = issue_token(user, settings, now=datetime.now(UTC) - timedelta(hours=2))
    assert_refused(api.get("/api/v1/me", headers=bearer(expired)), 401, "token_expired")

    now = datetime.now(UTC)
    payload = {"iss": ISSUER, "sub": str(user.id), "role": "admin", "jti": "f" * 32,
               "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp())}
    forged = jwt.encode(payload, "another-secret-" + "y" * 40, algorithm="HS256")
    assert_refused(api.get("/api/v1/me", headers=bearer(forged)), 401, "invalid_token")
    unsigned = jwt.encode(payload, None, algorithm="none")
    assert_refused(api.get("/api/v1/me", headers=bearer(unsigned)), 401, "invalid_token")
    genuine = token_for(api, user.email)
    head, body, signature = genuine.split(".")
    tampered = f"{head}.{jwt.utils.base64url_encode(jwt.utils.base64url_decode(body).replace(b'seller', b'admin')).decode()}.{signature}"
    assert_refused(api.get("/api/v1/me", headers=bearer(tampered)), 401, "invalid_token")


def test_logout_revokes_the_token_until_it_would_expire(api, make_user, redis):
    user = make_user(Role.VIEWER)
    token = token_for(api, user.email)
    other = token_for(api, user.email)
    revoked = api.post("/api/v1/auth/logout", headers=bearer(token))
    assert revoked.status_code == 200 and revoked.get_json()["revoked"] is True
    jti = revoked.get_json()["jti"]
    assert 3500 < redis.ttl(revocations(api.application).denylist_prefix + jti) <= 3601
    assert_refused(api.get("/api/v1/me", headers=bearer(token)), 401, "token_revoked")
    assert_refused(api.post("/api/v1/auth/logout", headers=bearer(token)), 401, "token_revoked")
    # Only that token: another one of the same user still works.
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_roles_are_enforced_per_endpoint(api, make_user):
    viewer, seller, admin = make_user(Role.VIEWER), make_user(Role.SELLER), make_user(Role.ADMIN)
    viewer_token, seller_token, admin_token = (token_for(api, u.email) for u in (viewer, seller, admin))

    assert_refused(api.get("/api/v1/test/seller-figures", headers=bearer(viewer_token)), 403, "forbidden")
    assert_refused(api.get("/api/v1/test/seller-figures"), 401, "missing_token")
    figures = api.get("/api/v1/test/seller-figures", headers=bearer(seller_token))
    assert figures.status_code == 200 and figures.get_json()["revenue_krw"] == 1_234_567

    assert_refused(api.get("/api/v1/admin/users", headers=bearer(seller_token)), 403, "forbidden")
    assert_refused(api.patch(f"/api/v1/admin/users/{viewer.id}", json={"role": "admin"},
                             headers=bearer(seller_token)), 403, "forbidden")
    # Admins pass every role check.
    assert api.get("/api/v1/test/seller-figures", headers=bearer(admin_token)).status_code == 200
    assert api.get("/api/v1/admin/users", headers=bearer(admin_token)).status_code == 200


def test_a_demoted_user_loses_access_at_once(api, make_user, session_factory):
    from models import User

    seller = make_user(Role.SELLER)
    token = token_for(api, seller.email)
    with session_factory() as session:
        session.get(User, seller.id).role = Role.VIEWER
        session.commit()
    assert_refused(api.get("/api/v1/test/seller-figures", headers=bearer(token)), 403, "forbidden")


def test_without_redis_the_database_vouches_for_tokens_and_records_a_logout(settings, make_user, session_factory):
    from models.accounts.revoked_tokens import RevokedToken

    app = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    api = app.test_client()
    user = make_user(Role.VIEWER)
    token = token_for(api, user.email)  # issuing needs no Redis; the limiter counts in memory
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    revoked = api.post("/api/v1/auth/logout", headers=bearer(token))
    assert revoked.status_code == 200, revoked.get_json()
    with session_factory() as session:
        row = session.get(RevokedToken, revoked.get_json()["jti"])
        assert row is not None and row.user_id == user.id
    assert_refused(api.get("/api/v1/me", headers=bearer(token)), 401, "token_revoked")
    # Switching the account off still ends its other tokens without Redis (the users row decides).
    from models import User

    other = token_for(api, user.email)
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 200
    with session_factory() as session:
        session.get(User, user.id).is_active = False
        session.commit()
    assert_refused(api.get("/api/v1/me", headers=bearer(other)), 401, "invalid_token")



def test_a_remembered_token_still_expires_on_time_and_needs_the_same_key(make_user, settings):
    """Verified tokens are remembered per process; expiry is checked on every use, and a
    token remembered under one key is not accepted under another."""
    import time

    from portal.api.tokens import TokenError, decode_token

    user = make_user(Role.VIEWER)
    token, claims = issue_token(user, settings)
    assert decode_token(token, settings).jti == claims.jti
    with pytest.raises(TokenError) as forged:
        decode_token(token, replace(settings, secret_key="another-" + "k" * 40))
    assert forged.value.code == "invalid_token"

    almost = datetime.now(UTC) - timedelta(seconds=settings.jwt_ttl_seconds - 2)
    token, claims = issue_token(user, settings, now=almost)
    assert decode_token(token, settings).jti == claims.jti
    assert decode_token(token, settings).jti == claims.jti  # the remembered claims
    time.sleep(max(0.0, (claims.expires_at - datetime.now(UTC)).total_seconds()) + 0.1)
    with pytest.raises(TokenError) as expired:
        decode_token(token, settings)
    assert expired.value.code == "token_expired"
