"""Defect 6 of issue 13: only upload routes accept large bodies; everything else is refused
with 413 before the body is read or parsed."""

from __future__ import annotations

import io
import re
import time

from models import Role
from tests.watching_support import bearer, csrf_token, sign_in

MB = 1024 * 1024


def test_a_64_mb_json_body_to_the_public_token_endpoint_is_refused_unread(client):
    body = b'{"email": "a@example.com", "password": "' + b"x" * (64 * MB) + b'"}'
    started = time.monotonic()
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert re.search(r"at most [\d,]+ KB", response.get_json()["message"])
    assert time.monotonic() - started < 5


def test_every_non_upload_route_refuses_a_body_over_the_limit(app, client, make_user, settings):
    viewer = make_user(Role.VIEWER)
    sign_in(client, viewer)
    big = b"{" + b" " * (2 * MB) + b"}"
    headers = {**bearer(viewer, settings), "X-CSRFToken": csrf_token(client)}
    for url in ("/api/v1/videos/1/sessions", "/api/v1/videos/1/sessions/1/ad-views", "/videos/1/sessions",
                "/auth/signin", "/auth/signup", "/api/v1/admin/users/1"):
        method = "PATCH" if url.startswith("/api/v1/admin") else "POST"
        response = client.open(url, method=method, data=big, content_type="application/json", headers=headers)
        assert response.status_code == 413, (url, response.status_code)
    form = client.post("/auth/signin", data={"csrf_token": csrf_token(client), "email": "x" * (2 * MB)})
    assert form.status_code == 413


def test_upload_routes_still_take_large_files(client, make_user, settings):
    seller = make_user(Role.SELLER)
    sign_in(client, seller)
    blob = b"\0" * (3 * MB)  # not a video: refused for what it is, not for its size
    api = client.post("/api/v1/videos", headers=bearer(seller, settings),
                      data={"title": "Big", "file": (io.BytesIO(blob), "big.webm")}, content_type="multipart/form-data")
    assert api.status_code == 422, api.get_json()
    page = client.post("/videos/upload", data={"csrf_token": csrf_token(client), "title": "Big",
                                               "file": (io.BytesIO(blob), "big.webm")},
                       content_type="multipart/form-data")
    assert page.status_code == 422
