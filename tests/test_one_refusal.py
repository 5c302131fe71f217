"""Issue 19, items 1 and 2: every page and endpoint reads its arguments with a query model
(portal/queries), so a hostile value is the same refusal everywhere — 422 `invalid_request`
with a message naming the field (JSON for the API, the page with the message for people),
never a 500.

The parameters are not listed by hand: a page's come from the query model it reads, an
endpoint's from /api/v1/openapi.json (spectree builds it from the same models), and the hostile
values from each parameter's type.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from models import Role
from portal.api.openapi import openapi_document
from portal.queries import accounts, catalog, figures, money, ops
from tests.ops_support import signed_in
from tests.watching_support import bearer

NUMBERS = ["²", "٣", "３", "9" * 25, "-1", "1e3", "0x10"]
DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "²", "26-1-1"]
MONTHS = ["9999-12", "2026-13", "²"]
CHOICES = ["²", "DROP TABLE", "9" * 25]
# Arguments a page or endpoint needs to get as far as reading the one under test.
REQUIRED = {"from": "2026-01-01", "to": "2026-01-31"}
PATH_VALUES = {"video_id": "{vid}", "day": "2026-01-01", "month": "2026-01", "run_id": "1", "user_id": "1", "plan_id": "1",
               "ad_id": "1", "session_id": "1", "backfill_id": "1", "filename": "x"}

# Each page that takes arguments, with the query model it reads.
PAGES: dict[str, type] = {
    "/dashboard": figures.DashboardQuery,
    "/settlements": figures.SettlementsPageQuery,
    "/settlements.csv": figures.SettlementsPageQuery,
    "/settlements/{vid}/2026-01-01": figures.ReceiptQuery,
    "/videos/{vid}/stats": figures.SeriesQuery,
    "/videos/{vid}/stats.csv": figures.SeriesQuery,
    "/videos/{vid}/ledger.csv": figures.SeriesQuery,
    "/restatements": figures.RestatementsQuery,
    "/videos": catalog.VideosQuery,
    "/admin/users/": accounts.AdminUsersQuery,
    "/admin/runs/": ops.RunsQuery,
    "/admin/status/": ops.StatusQuery,
    "/admin/ads/impressions": ops.AdImpressionsQuery,
    "/admin/plans/": ops.PlansQuery,
    "/statements": money.SellerQuery,
    "/payouts": money.SellerQuery,
}


def _kind(schema: dict[str, Any]) -> str | None:
    """What sort of value a parameter's JSON schema takes: number, date, month, choice; None for free text."""
    options = schema.get("anyOf", [schema])
    for option in options:
        if option.get("type") == "integer":
            return "number"
        if option.get("format") == "date":
            return "date"
        if option.get("pattern", "").startswith("^[0-9]{4}-[0-9]{2}$"):
            return "month"
        if "enum" in option or "const" in option or "$ref" in option:
            return "choice"
    return None


HOSTILE = {"number": NUMBERS, "date": DATES, "month": MONTHS, "choice": CHOICES}


def _cases(path: str, params: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(url, parameter, value as sent) for each hostile value of each typed parameter, alone and
    as the first of a repeated parameter (an array: the first value counts)."""
    cases = []
    for name, schema in params.items():
        kind = _kind(schema)
        if kind is None:
            continue
        base = "&".join(f"{k}={v}" for k, v in REQUIRED.items() if k in params and k != name)
        for value in HOSTILE[kind]:
            for query in (f"{name}={value}", f"{name}={value}&{name}=1"):
                cases.append((f"{path}?{query}" + (f"&{base}" if base else ""), name, value))
    return cases


def _page_params(model: type) -> dict[str, dict[str, Any]]:
    return model.model_json_schema(by_alias=True)["properties"]  # type: ignore[attr-defined]


def _api_cases(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    cases = []
    for path, item in openapi_document(app)["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        params = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p["in"] == "query"}
        if not params:
            continue
        cases += _cases(re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], path), params)
    return cases


@pytest.fixture(scope="module")
def admin_clients(app, session_factory):  # type: ignore[no-untyped-def]
    """(page client, API headers, a video's id) of an admin: the pages of a video need a real one,
    or they answer 404 for it once the arguments are read."""
    from models.accounts.service import create_user
    from tests.support import TEST_PASSWORD, unique_email
    from tests.watching_support import add_video

    users = {}
    with session_factory() as db:
        for role in (Role.ADMIN, Role.SELLER):
            users[role] = create_user(db, email=unique_email("refusals"), password=TEST_PASSWORD, role=role)
        db.commit()
        for user in users.values():
            db.refresh(user)
            db.expunge(user)
    video = add_video(session_factory, users[Role.SELLER])
    admin = users[Role.ADMIN]
    return signed_in(app, admin), bearer(admin, app.config["PAYSYSTEM_SETTINGS"]), str(video.id)


def _wrong(response, name: str) -> str | None:  # type: ignore[no-untyped-def]
    """Why `response` is not the one refusal of a bad `name`, or None."""
    if response.status_code != 422:
        return f"status {response.status_code}"
    if response.is_json:
        body = response.get_json()
        if body.get("error") != "invalid_request" or not body.get("message", "").startswith(name):
            return f"body {body}"
        return None
    text = html.unescape(response.get_data(as_text=True))
    return None if f"{name}:" in text or name in ("from", "to") and "date" in text else "the page does not name it"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_hostile_argument_on_a_page_is_422_naming_the_field(app, admin_clients, page):
    client, _, vid = admin_clients
    cases = _cases(page.format(vid=vid), _page_params(PAGES[page]))
    assert cases, page
    wrong = []
    for url, name, _value in cases:
        response = client.get(url)
        problem = _wrong(response, name)
        if problem:
            wrong.append(f"{url}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_a_hostile_argument_on_any_endpoint_is_422_invalid_request(app, admin_clients):
    _, headers, vid = admin_clients
    client = app.test_client()
    cases = [(url.replace("{vid}", vid), name, value) for url, name, value in _api_cases(app)]
    assert len({url.split("?")[0] for url, _, _ in cases}) >= 10  # every GET endpoint with a query model
    wrong = []
    for url, name, _value in cases:
        problem = _wrong(client.get(url, headers=headers), name)
        if problem:
            wrong.append(f"{url}: {problem}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("url", ["/settlements?page=", "/api/v1/videos?page=", "/videos?page=", "/admin/runs/?page=",
                                 "/admin/users/?role=", "/dashboard?seller_id="])
def test_an_empty_argument_is_its_default_on_a_form_and_the_lenient_queries(admin_clients, url):
    """A form sends an empty field for "not chosen": the default applies (not a refusal, not a 500)."""
    client, headers, _ = admin_clients
    assert client.get(url, headers=headers).status_code == 200


# The posted forms and sign-in arguments read by a model (issue 19, item 1, second part): (method, url,
# data, the field named). "{user}" is a real account, so the form is what is refused.
FORMS = [
    ("GET", "/auth/signup?role=admin", None, "role"),
    ("GET", "/auth/signup?role=²", None, "role"),
    ("GET", "/auth/signin?next=" + "x" * 3000, None, "next"),
    ("POST", "/admin/users/{user}/role", {"role": "owner"}, "role"),
    ("POST", "/admin/users/{user}/role", {}, "role"),
    ("POST", "/admin/users/{user}/active", {"active": "maybe"}, "active"),
    ("POST", "/admin/users/{user}/active", {"active": "²"}, "active"),
    ("POST", "/admin/money/finalize", {"month": "2026-13"}, "month"),
    ("POST", "/admin/money/finalize", {"month": "9999-12"}, "month"),
    ("POST", "/admin/money/holds", {"seller_id": "9" * 25, "reason": "x"}, "seller_id"),
    ("POST", "/admin/money/holds", {"seller_id": "٣", "reason": "x"}, "seller_id"),
    ("POST", "/admin/plans/", {"name": "n" * 500, "basis": "daily"}, "name"),
    ("POST", "/admin/ads/1/active", {"active": "yes"}, "active"),
    ("POST", "/admin/ads/1/active", {}, "active"),
]


@pytest.mark.parametrize(("method", "url", "data", "name"), FORMS)
def test_a_hostile_form_value_is_the_one_422_naming_the_field(app, make_user, method, url, data, name):
    """Pages answer it as the page with the reason; the sign-in pages are asked by a visitor."""
    target = make_user(Role.VIEWER)
    client = app.test_client() if url.startswith("/auth/") else signed_in(app, make_user(Role.ADMIN))
    url = url.replace("{user}", str(target.id))
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={**data, "csrf_token": client.csrf})
    assert _wrong(response, name) is None, (url, response.status_code, response.get_data(as_text=True)[:300])


def test_an_htmx_row_shows_the_refusal_in_the_row_with_the_one_status(app, make_user):
    """htmx swaps the row even for the refusal: the reason stands beside the role picker."""
    target = make_user(Role.VIEWER)
    client = signed_in(app, make_user(Role.ADMIN))
    row = client.post(f"/admin/users/{target.id}/role", data={"role": "owner"},
                      headers={"HX-Request": "true", "X-CSRFToken": client.csrf})
    assert row.get_data(as_text=True).startswith(f'<tr id="user-{target.id}"')
    assert "role:" in html.unescape(row.get_data(as_text=True))


@pytest.mark.parametrize(("next_url", "landing"), [("/auth/account", "/auth/account"), ("https://evil.example/x", "/"),
                                                   ("//evil.example/x", "/"), ("/\\evil.example", "/")])
def test_next_read_by_the_model_still_leads_only_to_this_site(app, make_user, next_url, landing):
    """The security rule stays (portal/auth/redirects.py safe_next): a signed-in person sent to the
    sign-in or sign-up page goes on to `next` only when it is a path here."""
    client = signed_in(app, make_user(Role.VIEWER))
    for page in ("/auth/signin", "/auth/signup"):
        response = client.get(page, query_string={"next": next_url})
        assert response.status_code == 302 and response.headers["Location"] == landing, page
