"""Issue 19, item 2: the sites that answered with a hand-written `abort(status)`, or turned our own
errors into HTTP by hand, now raise a `DomainError` that the one handler answers (portal/errors.py,
portal/error_pages.py). Each is driven here with a bad request, once as a person (the error page,
`data-status` and the reason) and once as a script (`{"error": code, "message"}`): the same status
both ways, a stable code, a message a person understands.
"""

from __future__ import annotations

import html
from dataclasses import replace
from io import BytesIO

import pytest

from models import Role
from settings import OAuthProvider
from tests.ops_support import signed_in
from tests.watching_support import add_ad, add_video, bearer

JSON = {"Accept": "application/json"}


def _one_refusal(client, method: str, url: str, status: int, code: str, words: str, *,  # type: ignore[no-untyped-def]
                 data: dict | None = None, headers: dict | None = None) -> None:
    """`url` refused with `status` and `code` as JSON, and as the error page naming `words`."""
    page = client.open(url, method=method, data=data, headers=headers or {})
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == status, (url, page.status_code, text[:400])
    assert f'data-status="{status}"' in text and words in text, (url, text[:1500])
    answer = client.open(url, method=method, data=data, headers={**(headers or {}), **JSON})
    assert answer.status_code == status, (url, answer.status_code)
    body = answer.get_json()
    assert body["error"] == code and words in body["message"], (url, body)


@pytest.fixture
def admin(app, make_user):  # type: ignore[no-untyped-def]
    return signed_in(app, make_user(Role.ADMIN))


def test_a_page_for_another_role_is_the_403_refusal(app, make_user):
    viewer = signed_in(app, make_user(Role.VIEWER))
    _one_refusal(viewer, "GET", "/videos/mine", 403, "forbidden", "Uploading needs a seller account")
    _one_refusal(viewer, "GET", "/admin/runs/", 403, "forbidden", "This page is for administrators")


def test_a_form_without_its_token_is_the_one_csrf_refusal(admin, session_factory):
    ad = add_ad(session_factory)
    _one_refusal(admin, "POST", f"/admin/ads/{ad.id}/active", 400, "csrf_failed", "The form expired",
                 data={"active": "0"})
    page = admin.post(f"/admin/ads/{ad.id}/delete")
    assert page.status_code == 400 and "<h1>Form expired</h1>" in page.get_data(as_text=True)
    # CSRFProtect takes the token from the X-CSRFToken header too; the views' own forms used to
    # refuse that a second time (abort(400) that could never run once CSRFProtect had passed).
    switched = admin.post(f"/admin/ads/{ad.id}/active", data={"active": "0"}, headers={"X-CSRFToken": admin.csrf})
    assert switched.status_code == 302


def test_another_sellers_video_or_a_missing_ad_is_the_404_refusal(app, admin, make_user, session_factory):
    owner, other = make_user(Role.SELLER), signed_in(app, make_user(Role.SELLER))
    video = add_video(session_factory, owner)
    words = f"There is no video {video.id} of yours."
    for method, url in (("GET", f"/videos/{video.id}/edit"), ("GET", f"/videos/{video.id}/delete"),
                        ("POST", f"/videos/{video.id}/published")):
        _one_refusal(other, method, url, 404, "unknown_video", words, data={"published": "0", "csrf_token": other.csrf})
    _one_refusal(admin, "POST", "/admin/ads/999999999/active", 404, "unknown_ad", "There is no ad 999999999.",
                 data={"active": "1", "csrf_token": admin.csrf})


def test_requeue_by_get_is_405_with_allow(admin):
    _one_refusal(admin, "GET", "/admin/rq/requeue/batch", 405, "method_not_allowed", "send it as a POST")
    assert admin.get("/admin/rq/requeue/batch").headers["Allow"] == "POST"


@pytest.mark.parametrize(("url", "form", "status", "code", "words"), [
    ("/admin/runs/backfill", {"first": "2020-02-02", "last": "2020-02-01"}, 400, "backwards_range",
     "The range ends (2020-02-01) before it starts (2020-02-02)."),
    ("/admin/runs/backfill", {"first": "2001-01-01", "last": "2020-12-31"}, 422, "range_too_long",
     "A backfill covers at most 3660 days"),
    ("/admin/runs/day", {"day": "2999-01-01"}, 409, "conflict", "is not over yet"),
    ("/admin/runs/day", {"day": "1990-01-01"}, 422, "date_out_of_range", "The first day"),
    ("/admin/runs/backfills/999999999/cancel", {}, 404, "not_found", "There is no backfill 999999999."),
])
def test_a_refused_run_button_is_the_one_refusal_and_htmx_gets_the_reason_in_the_fragment(
        admin, url, form, status, code, words):
    data = {**form, "csrf_token": admin.csrf}
    _one_refusal(admin, "POST", url, status, code, words, data=data)
    fragment = admin.post(url, data=data, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and words in html.unescape(fragment.get_data(as_text=True))


def test_a_refused_account_change_is_the_409_refusal(app, make_user):
    me = make_user(Role.ADMIN)
    client = signed_in(app, me)
    _one_refusal(client, "POST", f"/admin/users/{me.id}/role", 409, "conflict",
                 "You cannot change your own role; ask another admin.", data={"role": "viewer", "csrf_token": client.csrf})
    _one_refusal(client, "POST", f"/admin/users/{me.id}/active", 409, "conflict",
                 "You cannot deactivate your own account", data={"active": "0", "csrf_token": client.csrf})


def _upload(client, url: str, headers: dict, **fields: str):  # type: ignore[no-untyped-def]
    data = {"title": "A clip", **fields, "file": (BytesIO(b"not read: the form is refused first"), "clip.webm")}
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


@pytest.mark.parametrize(("role", "url", "flag"), [(Role.SELLER, "/api/v1/videos", "published"),
                                                   (Role.ADMIN, "/api/v1/ads", "active")])
def test_an_upload_flag_is_read_by_its_model(app, make_user, settings, role, url, flag):
    """The API's upload flags go through a query model: a bad one is the one 422 naming the field."""
    client, headers = app.test_client(), bearer(make_user(role), settings)
    for value in ("maybe", "²", "tru"):
        refused = _upload(client, url, headers, **{flag: value})
        assert refused.status_code == 422, refused.get_data(as_text=True)
        body = refused.get_json()
        assert body["error"] == "invalid_request" and body["message"].startswith(f"{flag}: "), body
    missing = _upload(client, url, headers, title="")
    assert missing.status_code == 422 and missing.get_json()["message"] == "A title is required."


def test_missing_media_and_videos_in_the_api_are_404_with_their_codes(app, make_user, settings):
    client, headers = app.test_client(), bearer(make_user(Role.VIEWER), settings)
    for url, code in (("/api/v1/videos/999999999", "unknown_video"), ("/api/v1/videos/999999999/media", "unknown_video"),
                      ("/api/v1/ads/999999999/media", "unknown_ad")):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 404 and answer.get_json()["error"] == code, (url, answer.get_json())


def test_a_sign_in_provider_that_cannot_be_reached_is_the_502_refusal(settings):
    from portal import create_app

    # Port 9 (discard) is closed here: the discovery request is refused at once.
    dead = OAuthProvider(name="dead", client_id="portal", client_secret="secret", label="Dead SSO",
                         server_metadata_url="http://127.0.0.1:9/.well-known/openid-configuration")
    app = create_app(replace(settings, oauth_providers=(dead,)))
    client = app.test_client()
    page = client.get("/auth/signin").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    _one_refusal(client, "POST", "/auth/social/dead/start", 502, "upstream_failed",
                 "Dead SSO cannot be reached right now", data={"csrf_token": token, "role": "viewer"})


def test_the_role_in_a_sign_in_state_is_read_by_the_callback_query():
    from portal.queries.accounts import SocialCallbackQuery

    assert SocialCallbackQuery(state="seller.Zx9").state_role == Role.SELLER
    for state in ("admin.Zx9", "", "seller", "².Zx9"):
        assert SocialCallbackQuery(state=state).state_role is (Role.SELLER if state == "seller" else None)


def test_the_attempted_account_is_read_by_a_model_that_never_refuses(app):
    """The per-account sign-in limit is keyed before the view runs: a malformed e-mail names no
    account (the view's own form or schema refuses it), it never fails the request."""
    from portal.login_limits import attempted_account

    for kwargs, key in (({"data": {"email": "  Someone@Example.COM "}}, "account:someone@example.com"),
                        ({"json": {"email": "A@B.kr", "password": "x"}}, "account:a@b.kr"),
                        ({"json": {"email": 5}}, ""), ({"json": ["a@b.kr"]}, ""), ({"data": {"email": ""}}, ""),
                        ({"data": {"email": "x" * 300}}, "account:" + "x" * 254)):
        with app.test_request_context("/auth/signin", method="POST", **kwargs):
            assert attempted_account() == key, kwargs
    token = app.test_client().post("/api/v1/auth/token", json={"email": ["a@b.kr"], "password": "x"})
    assert token.status_code == 400 and token.get_json()["error"] == "invalid_request"  # the endpoint's pinned status



# ------------------------------------------------------------------ brief B2: the API's converting excepts


@pytest.mark.parametrize(("page_url", "form", "body", "status", "code"), [
    ("/admin/runs/backfill", {"first": "2020-02-02", "last": "2020-02-01"}, {"first": "2020-02-02", "last": "2020-02-01"},
     400, "backwards_range"),
    ("/admin/runs/day", {"day": "2999-01-01"}, {"first": "2999-01-01"}, 409, "conflict"),
    ("/admin/runs/backfill", {"first": "2001-01-01", "last": "2020-12-31"}, {"first": "2001-01-01", "last": "2020-12-31"},
     422, "range_too_long"),
])
def test_a_refused_batch_request_is_the_same_refusal_on_the_page_and_the_api(
        app, admin, make_user, settings, page_url, form, body, status, code):
    page = admin.post(page_url, data={**form, "csrf_token": admin.csrf}, headers=JSON)
    api = app.test_client().post("/api/v1/admin/runs", json=body, headers=bearer(make_user(Role.ADMIN), settings))
    assert (page.status_code, page.get_json()["error"]) == (api.status_code, api.get_json()["error"]) == (status, code)
    assert page.get_json()["message"].rstrip(".").lower() == api.get_json()["message"].rstrip(".").lower()


def test_unknown_runs_and_backfills_are_the_apis_404_not_found(app, admin, make_user, settings):
    client, headers = app.test_client(), bearer(make_user(Role.ADMIN), settings)
    for method, url, words in (("GET", "/api/v1/admin/runs/999999999", "There is no batch run 999999999."),
                               ("POST", "/api/v1/admin/runs/999999999/retry", "There is no batch run 999999999."),
                               ("POST", "/api/v1/admin/backfills/999999999/cancel", "there is no backfill 999999999")):
        answer = client.open(url, method=method, headers=headers)
        assert (answer.status_code, answer.get_json()) == (404, {"error": "not_found", "message": words}), url
    page = admin.post("/admin/runs/backfills/999999999/cancel", data={"csrf_token": admin.csrf}, headers=JSON)
    assert (page.status_code, page.get_json()["error"]) == (404, "not_found")


def test_a_refused_account_change_is_the_same_409_on_the_api(app, make_user, settings):
    me = make_user(Role.ADMIN)
    answer = app.test_client().patch(f"/api/v1/admin/users/{me.id}", json={"active": False}, headers=bearer(me, settings))
    assert answer.status_code == 409
    assert answer.get_json() == {"error": "conflict", "message": "you cannot deactivate your own account; ask another admin"}


def test_a_plan_body_that_is_no_json_is_the_422_refusal(app, make_user, settings):
    answer = app.test_client().post("/api/v1/admin/plans", data={"name": "Form"},
                                    headers=bearer(make_user(Role.ADMIN), settings))
    assert answer.status_code == 422 and answer.get_json()["error"] == "invalid_request"


# ------------------------------------------------------------------ brief B2: bodies read by their models


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"json": ["a@b.kr", "x"]}, "body: send a JSON object (Content-Type: application/json)"),
    ({"json": {"email": "  ", "password": "x"}}, "email: Value error, the e-mail address is blank"),
    ({"json": {"email": "a@b.kr"}}, "password: Field required"),
    ({"data": {"email": "a@b.kr"}}, "password: Field required"),
    ({"data": {"email": "", "password": "x"}}, "email: Field required"),
    ({"data": "{bad json", "content_type": "application/json"}, "email: Field required"),
])
def test_a_sign_in_body_without_credentials_is_the_documented_400(app, kwargs, message):
    answer = app.test_client().post("/api/v1/auth/token", **kwargs)
    assert (answer.status_code, answer.get_json()) == (400, {"error": "invalid_request", "message": message})


def test_the_sign_in_form_is_read_by_the_same_model_as_the_json(app, make_user):
    from tests.support import TEST_PASSWORD

    user = make_user(Role.VIEWER)
    for kwargs in ({"data": {"email": user.email, "password": TEST_PASSWORD}},
                   {"json": {"email": user.email.upper(), "password": TEST_PASSWORD}}):
        answer = app.test_client().post("/api/v1/auth/token", **kwargs)
        assert answer.status_code == 200 and answer.get_json()["token_type"] == "Bearer", kwargs


def test_player_bodies_keep_their_own_codes():
    from portal.queries.parse import RequestInvalid, parse_body
    from portal.queries.playback import AdViewBody, OpenSessionBody, ProgressBody

    cases = [(ProgressBody, None, "invalid_json", "Send a JSON object with Content-Type: application/json."),
             (ProgressBody, [1], "invalid_json", "Send a JSON object with Content-Type: application/json."),
             (ProgressBody, {}, "missing_field", "position_ms is required."),
             (ProgressBody, {"position_ms": "{x}"}, "not_a_number", "position_ms must be a number, got '{x}'."),
             (ProgressBody, {"position_ms": -3, "state": "stopped"}, "invalid_state",
              "state must be 'playing' or 'paused', got 'stopped'."),
             (ProgressBody, {"position_ms": -3}, "negative_value", "position_ms cannot be negative (got -3)."),
             (ProgressBody, {"position_ms": 1, "seek_to_ms": float("inf")}, "not_a_number",
              "seek_to_ms must be a number, got inf."),
             (AdViewBody, {"ad_id": 1}, "missing_field", "slot_index is required."),
             (OpenSessionBody, {"start_position_ms": False}, "not_a_number", "start_position_ms must be a number, got False.")]
    for model, body, code, message in cases:
        with pytest.raises(RequestInvalid) as refused:
            parse_body(model, body)
        assert (refused.value.status, refused.value.code, refused.value.message) == (422, code, message), body
    report = parse_body(ProgressBody, {"position_ms": 1000.6, "state": "paused", "seek_to_ms": None, "extra": 1})
    assert (report.position_ms, report.playing, report.seek_to_ms) == (1001, False, None)
    assert parse_body(OpenSessionBody, {}).start_position_ms is None


def test_the_browser_players_refusals_are_json_whatever_it_accepts(app, make_user, session_factory):
    video = add_video(session_factory, make_user(Role.SELLER))
    anonymous = app.test_client()
    token = anonymous.get("/auth/signin").get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"')[0]
    out = anonymous.post(f"/videos/{video.id}/sessions", json={}, headers={"X-CSRFToken": token})
    assert (out.status_code, out.get_json()["error"]) == (401, "not_signed_in")
    viewer = signed_in(app, make_user(Role.VIEWER))
    csrf = {"X-CSRFToken": viewer.csrf}
    assert viewer.get(f"/videos/{video.id + 999}/history").get_json()["error"] == "unknown_video"
    opened = viewer.post(f"/videos/{video.id}/sessions", json={"start_position_ms": "0"}, headers=csrf)
    assert (opened.status_code, opened.get_json()["error"]) == (422, "not_a_number")
    sid = viewer.post(f"/videos/{video.id}/sessions", headers=csrf).get_json()["session_id"]
    for body, code in (({"data": "x", "content_type": "text/plain"}, "invalid_json"),
                       ({"json": {"position_ms": "12"}}, "not_a_number"), ({"json": {}}, "missing_field")):
        answer = viewer.post(f"/videos/{video.id}/sessions/{sid}/progress", headers=csrf, **body)
        assert (answer.status_code, answer.get_json()["error"]) == (422, code), body
    unknown = viewer.get(f"/videos/{video.id}/sessions/{sid + 999}")
    assert (unknown.status_code, unknown.get_json()["error"]) == (404, "unknown_session")
    # The player page itself is still the person's 404 page.
    page = viewer.get(f"/videos/{video.id + 999}")
    assert page.status_code == 404 and 'data-status="404"' in page.get_data(as_text=True)
