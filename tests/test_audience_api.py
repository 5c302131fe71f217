"""The audience endpoints (issue 22): answers equal to the model functions, §2 scoping (another
seller's video 404, admins choose with seller_id, viewers 403), bad values 422, the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.business_time import today
from models.figures.content_table import content_table
from models.figures.period_windows import period_window
from tests.portal_support import TZ, api_getter


@pytest.fixture
def api(portal_app, portal_data):
    return api_getter(portal_app, portal_data)


def test_content_is_the_table_of_the_model_and_scoped(api, portal_data):
    seller = portal_data.sellers[0]
    answer = api(seller, "/audience/content?period=90&sort=revenue&dir=desc&per_page=2")
    assert answer.status_code == 200
    body = answer.get_json()
    window = period_window("90", today(TZ))
    with Session(portal_data.backend.engine) as s:
        expected = content_table(s, None, seller.id, window.first, window.last, today(TZ), sort="revenue",
                                 per_page=2)
    assert body["rows"] == expected["rows"] and body["totals"] == expected["totals"]
    assert body["total_rows"] == len(portal_data.videos[seller.id]) and body["pages"] == 2
    assert {r["video_id"] for r in body["rows"]} <= set(portal_data.videos[seller.id])
    # A seller's forged seller_id is ignored; an admin picks the seller.
    forged = api(seller, f"/audience/content?period=90&seller_id={portal_data.sellers[1].id}").get_json()
    assert {r["video_id"] for r in forged["rows"]} <= set(portal_data.videos[seller.id])
    other = portal_data.sellers[1]
    chosen = api(portal_data.admin, f"/audience/content?period=90&seller_id={other.id}&per_page=500").get_json()
    assert {r["video_id"] for r in chosen["rows"]} == set(portal_data.videos[other.id])
    assert api(portal_data.viewer, "/audience/content").status_code == 403


def test_comparison_and_its_previous_period(api, portal_data):
    seller = portal_data.sellers[1]
    first, last = portal_data.first + timedelta(days=10), portal_data.last
    body = api(seller, f"/audience/comparison?period=custom&from={first}&to={last}").get_json()
    assert body["previous_last"] == (first - timedelta(days=1)).isoformat()
    assert body["previous_first"] == (first - timedelta(days=(last - first).days + 1)).isoformat()
    views = body["figures"]["views"]
    assert views["value"] == sum(d["views"] for d in body["days"])
    assert views["previous"] == sum(d["views"] for d in body["previous_days"])
    assert views["delta"] == views["value"] - views["previous"]
    vid = portal_data.videos[seller.id][0]
    one = api(seller, f"/audience/comparison?period=7&video_id={vid}").get_json()
    assert one["video_id"] == vid and len(one["days"]) == 7
    assert api(seller, f"/audience/comparison?video_id={portal_data.other_seller_video(seller)}").status_code == 404


def test_last_48_hours_is_an_estimate_of_every_hour(api, portal_data):
    seller = portal_data.sellers[2]
    body = api(seller, "/audience/last-48-hours").get_json()
    assert body["estimate"] is True and len(body["hours"]) == 48 and body["timezone"] == "Asia/Seoul"
    assert body["hours"][0]["local_start"].endswith("+09:00")
    assert api(seller, f"/audience/last-48-hours?video_id={portal_data.other_seller_video(seller)}"
               ).status_code == 404


@pytest.mark.parametrize("url", [
    "/audience/content?period=8", "/audience/content?sort=nope", "/audience/content?dir=up",
    "/audience/content?page=0", "/audience/content?per_page=501", "/audience/content?period=custom",
    "/audience/content?period=custom&from=2026-03-05&to=2026-03-01",
    "/audience/content?period=custom&from=2024-01-01&to=2026-03-01",
    "/audience/comparison?period=custom&from=1000-01-01&to=2026-03-01",
    "/audience/comparison?video_id=abc", "/audience/comparison?video_id=0",
    "/audience/last-48-hours?video_id=99999999999999999999", "/audience/comparison?seller_id=-1",
])
def test_bad_values_are_422(api, portal_data, url):
    answer = api(portal_data.sellers[0], url)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.get_json()["error"]


def test_the_openapi_document_describes_the_audience_endpoints(portal_app):
    document = portal_app.test_client().get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/audience/content", "/api/v1/audience/comparison", "/api/v1/audience/last-48-hours"):
        operation = document["paths"][path]["get"]
        assert "422" in operation["responses"] and operation["tags"] == ["audience"]
    names = {p["name"] for p in document["paths"]["/api/v1/audience/content"]["get"]["parameters"]}
    assert {"period", "from", "to", "sort", "dir", "page", "per_page", "seller_id"} <= names
