"""The API's progress route is in Flask's url_map too (the fast path still answers first);
one error model (kind → HTTP status); one parser of paging arguments."""

from __future__ import annotations

from flask import url_for
from werkzeug.test import Client

from models import Role
from models.catalog.service import CatalogError
from models.errors import DomainError
from models.playback.watch_rules import PlaybackError
from portal.errors import STATUS_OF_KIND, status_of
from tests.watching_support import add_video, bearer


def test_the_api_progress_route_is_known_to_flask(app, client, settings, make_user, session_factory):
    viewer, seller = make_user(Role.VIEWER), make_user(Role.SELLER)
    video = add_video(session_factory, seller, seconds=60)
    auth = bearer(viewer, settings)
    sid = client.post(f"/api/v1/videos/{video.id}/sessions", headers=auth).get_json()["session_id"]
    with app.test_request_context():
        path = url_for("api.progress", video_id=video.id, session_id=sid)
    assert path == f"/api/v1/videos/{video.id}/sessions/{sid}/progress"
    # Flask alone (without the fast path in front of it) gives the same answer.
    flask_only = Client(app.wsgi_app.wrapped)
    reply = flask_only.post(path, json={"position_ms": 1000, "state": "paused"}, headers=auth)
    assert reply.status_code == 200
    assert reply.get_json() == {"session_id": sid, "position_ms": 1000, "status": "PAUSE", "ended": False}
    refused = flask_only.post(path, json={"position_ms": -1}, headers=auth)
    assert (refused.status_code, refused.get_json()["error"]) == (422, "negative_value")
    # One 413 code for the endpoint, whichever layer refuses the body (issue 19, item 2): the fast
    # path (over 16 KB) and Flask's body limit (over MAX_BODY_KB) both say too_large.
    big = b'{"position_ms": 1000, "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    for answered_by in (client, flask_only):
        for body in (b'{"position_ms": 1000, "pad": "' + b"x" * (20 * 1024) + b'"}', big):
            too_large = answered_by.post(path, data=body, content_type="application/json", headers=auth)
            assert (too_large.status_code, too_large.get_json()["error"]) == (413, "too_large"), len(body)


def test_every_domain_error_has_the_one_shape():
    for error in (CatalogError("There is no video 7.", kind="not_found", code="unknown_video"),
                  PlaybackError("conflict", "session_ended", "ended")):
        assert isinstance(error, DomainError)
        assert (error.kind, error.code) in {("not_found", "unknown_video"), ("conflict", "session_ended")}
    assert status_of(CatalogError("A title is required.")) == 422
    assert status_of(PlaybackError("unauthorized", "account_disabled", "off")) == 401
    assert STATUS_OF_KIND["not_found"] == 404 and STATUS_OF_KIND["forbidden"] == 403


def test_one_paging_parser_refuses_bad_values_everywhere(client, make_user):
    """Pages and the API read `page` with the same query models (portal/queries): the same 422."""
    from tests.watching_support import sign_in

    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    for url in ("/videos?page=0", "/videos?page=abc", "/admin/users/?page=-2", "/admin/users/?page=x",
                "/admin/runs/?page=0", "/api/v1/videos?page=0"):
        response = client.get(url)
        assert response.status_code == 422, url
        assert b"page: " in response.data, url  # the message names the field, on the page and in the JSON
    assert client.get("/admin/users/?page=1").status_code == 200
    assert client.get("/videos?page=1").status_code == 200
