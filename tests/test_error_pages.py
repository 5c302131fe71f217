"""Error pages in the portal's own words (issue 14, item 7); the API keeps its JSON errors."""

from __future__ import annotations

from models import Role
from tests.watching_support import sign_in


def test_browser_errors_say_why_and_what_next(client, make_user):
    missing = client.get("/videos/987654321/edit")
    assert missing.status_code in (302, 404)
    sign_in(client, make_user(Role.VIEWER))
    forbidden = client.get("/videos/upload")
    html = forbidden.get_data(as_text=True)
    assert forbidden.status_code == 403 and "Uploading needs a seller account" in html
    assert "You don't have the permission" not in html and 'href="/auth/account"' in html
    not_found = client.get("/no-such-page")
    html = not_found.get_data(as_text=True)
    assert not_found.status_code == 404 and "We could not find that" in html and 'href="/videos"' in html
    assert "The requested URL was not found on the server" not in html
    bad = client.get("/videos?page=zero")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "page: Input should be a valid integer" in html and "not right" in html


def test_the_api_keeps_its_json_errors(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404 and response.is_json and set(response.get_json()) == {"error", "message"}
