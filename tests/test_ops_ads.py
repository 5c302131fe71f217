"""Ad impressions per ad per business day, from the ad views: the page, the API and who may
read them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from models import Role
from models.db import make_sessionmaker
from portal import create_app
from tests.batch_support import DAY0, Backend, busy_world
from tests.ops_support import (
    assert_admin_only_page,
    bearer,
    clients_by_role,
    make_account,
    tokens_by_role,
)

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def world_app(redis_url, tmp_path_factory, media_root):
    backend = Backend("mariadb", redis_url, tmp_path_factory.mktemp("ads"))
    world = busy_world(backend, days=3)
    app = create_app(replace(backend.settings, media_root=media_root))
    yield backend, world, app
    backend.close()


def test_impressions_per_ad_and_day_match_the_ad_views(world_app):
    backend, world, app = world_app
    factory = make_sessionmaker(backend.engine)
    counted_sessions = {s["id"] for s in world.sessions if s["counted"]}
    expected = Counter(v["day"] for v in world.ad_views)
    expected_counted = Counter(v["day"] for v in world.ad_views if v["session_id"] in counted_sessions)
    last = DAY0 + timedelta(days=2)
    headers = bearer(app.test_client(), make_account(factory, Role.ADMIN))
    body = app.test_client().get(f"/api/v1/admin/ads/impressions?from={DAY0}&to={last}", headers=headers).get_json()
    [ad] = body["ads"]
    assert {d["day"]: d["impressions"] for d in ad["days"]} == {d.isoformat(): n for d, n in expected.items()}
    assert {d["day"]: d["counted"] for d in ad["days"]} == {d.isoformat(): n for d, n in expected_counted.items()}
    assert ad["impressions"] == len(world.ad_views)

    from tests.ops_support import signed_in

    admin = signed_in(app, make_account(factory, Role.ADMIN))
    page = admin.get(f"/admin/ads/impressions?from={DAY0}&to={last}").get_data(as_text=True)
    assert f'data-total-ad-id="{ad["ad_id"]}">{len(world.ad_views):,}<br>' in page
    fragment = admin.get(f"/admin/ads/impressions?from={DAY0}&to={last}", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).startswith('<div id="impressions"')
    assert admin.get("/admin/ads/impressions?from=2026-03-05&to=2026-03-01").status_code == 422
    assert admin.get("/admin/ads/impressions?from=2020-01-01&to=2026-03-01").status_code == 422
    assert admin.get("/admin/ads/impressions?from=soon").status_code == 422
    assert app.test_client().get("/api/v1/admin/ads/impressions?to=x", headers=headers).status_code == 422


def test_impressions_page_and_api_are_for_admins_only(world_app):
    backend, _, app = world_app
    factory = make_sessionmaker(backend.engine)
    assert_admin_only_page(clients_by_role(app, factory), "/admin/ads/impressions")
    tokens = tokens_by_role(app, factory)
    client = app.test_client()
    assert client.get("/api/v1/admin/ads/impressions", headers=tokens["anonymous"]).status_code == 401
    assert client.get("/api/v1/admin/ads/impressions", headers=tokens["viewer"]).status_code == 403
    assert client.get("/api/v1/admin/ads/impressions", headers=tokens["seller"]).status_code == 403
    assert client.get("/api/v1/admin/ads/impressions", headers=tokens["admin"]).status_code == 200


@pytest.mark.slow
@pytest.mark.browser
def test_impressions_page_in_chromium(world_app, page):
    from tests.conftest import LiveServer
    from tests.support import TEST_PASSWORD

    backend, _, app = world_app
    admin = make_account(make_sessionmaker(backend.engine), Role.ADMIN)
    server = LiveServer(app).start()
    try:
        page.goto(server.url + "/auth/signin?next=/admin/ads/impressions")
        page.get_by_label("E-mail").fill(admin.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/admin/ads/impressions")
        page.get_by_label("From").fill(DAY0.isoformat())
        page.get_by_label("To").fill((DAY0 + timedelta(days=4)).isoformat())
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"**from={DAY0.isoformat()}**")
        page.locator(f"#impressions tr[data-day='{DAY0.isoformat()}']").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ops_ad_impressions.png"), full_page=True)
    finally:
        server.stop()
