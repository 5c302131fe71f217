"""The audience pages (issue 22) on the generated data set: the content table (full page or
fragment, sorting, paging, CSV, links), the last 48 hours (estimate, polling), the dashboard's
period comparison; scoping (viewers 403, another seller's video 404, admins choose)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.business_time import today
from models.figures.content_table import content_table
from models.figures.period_comparison import comparison
from models.figures.period_windows import period_window
from tests.portal_support import TZ, signed_in_client


@pytest.fixture
def app(portal_app):
    return portal_app


@pytest.fixture
def data(portal_data):
    return portal_data


_client = signed_in_client


def test_content_page_and_its_fragment(app, data):
    seller = data.sellers[0]
    client = _client(app, seller)
    page = client.get("/content?range=90&sort=revenue&dir=desc")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Vary"].startswith("HX-Request")
    assert html.lstrip().lower().startswith("<!doctype html>") and 'id="content-table"' in html
    window = period_window("90", today(TZ))
    with Session(data.backend.engine) as s:
        table = content_table(s, None, seller.id, window.first, window.last, today(TZ), sort="revenue")
    ids = [int(v) for v in re.findall(r'<tr data-video-id="(\d+)">', html)]
    assert ids == [r["video_id"] for r in table["rows"]]
    for r in table["rows"]:
        assert f'/videos/{r["video_id"]}/stats"' in html  # a link to each video's page
    revenues = re.findall(r'<td class="num" data-label="Revenue">([^<]+)</td>', html)
    assert revenues[:-1] == [f"₩{r['revenue']:,}" for r in table["rows"]]
    assert revenues[-1] == f"₩{table['totals']['revenue']:,}"
    fragment = client.get("/content?range=90&sort=title&dir=asc", headers={"HX-Request": "true",
                                                                           "HX-Target": "content-table"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="content-table"') and "<html" not in body
    assert 'hx-push-url="true"' in body and 'aria-sort="ascending"' in body
    assert fragment.headers["Vary"].startswith("HX-Request")


def test_content_csv_is_the_whole_table(app, data):
    seller = data.sellers[1]
    client = _client(app, seller)
    answer = client.get(f"/content.csv?range=custom&from={data.first}&to={data.last}&sort=views&dir=desc")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["video_id", "title", "views", "watch_seconds", "average_view_seconds", "ad_views",
                       "revenue_won", "rpm_won"]
    with Session(data.backend.engine) as s:
        table = content_table(s, None, seller.id, data.first, data.last, today(TZ), per_page=500)
    assert [int(r[0]) for r in rows[1:]] == [r["video_id"] for r in table["rows"]]
    assert sum(int(r[6]) for r in rows[1:]) == table["totals"]["revenue"]


def test_content_paging_and_admin_scope(app, data):
    admin = _client(app, data.admin)
    html = admin.get("/content?range=90").get_data(as_text=True)
    platform = {int(v) for v in re.findall(r'<tr data-video-id="(\d+)">', html)}  # other tests add videos too
    assert len(platform) > len(data.videos[data.sellers[0].id]) and "platform-wide" in html
    other = data.sellers[2]
    one = admin.get(f"/content?range=90&seller_id={other.id}").get_data(as_text=True)
    assert {int(v) for v in re.findall(r'<tr data-video-id="(\d+)">', one)} == set(data.videos[other.id])
    assert _client(app, data.viewer).get("/content").status_code == 403
    assert _client(app, data.sellers[0]).get("/content?sort=nope").status_code == 422
    bad = _client(app, data.sellers[0]).get("/content?range=custom&from=2026-03-05&to=2026-03-01")
    assert bad.status_code == 422 and "data-range-error" in bad.get_data(as_text=True)


def test_last_48_hours_page_polls_and_says_estimate(app, data):
    seller = data.sellers[0]
    client = _client(app, seller)
    page = client.get("/audience/last-48-hours")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Vary"].startswith("HX-Request")
    assert 'hx-trigger="every 60s"' in html and "estimate" in html and "data-figure=" in html
    assert len(re.findall(r'<tr data-hour=', html)) == 48 and "KST" in html
    fragment = client.get("/audience/last-48-hours", headers={"HX-Request": "true", "HX-Target": "last-48-hours"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="last-48-hours"')
    assert client.get(f"/audience/last-48-hours?video_id={data.other_seller_video(seller)}").status_code == 404
    assert _client(app, data.viewer).get("/audience/last-48-hours").status_code == 403


def test_dashboard_cards_compare_with_the_previous_period(app, data):
    seller = data.sellers[2]
    client = _client(app, seller)
    first = data.last - timedelta(days=6)
    html = client.get(f"/dashboard?range=custom&from={first}&to={data.last}").get_data(as_text=True)
    card = html[html.index('data-card="period"'):]
    card = card[:card.index("</article>")]
    assert f"vs previous period {first - timedelta(days=7)} – {first - timedelta(days=1)}" in card
    with Session(data.backend.engine) as s:
        views = comparison(s, None, seller.id, period_window("custom", today(TZ), first, data.last), TZ)[
            "figures"]["views"]
    block = card[card.index('data-figure-name="views"'):]
    assert f'<span class="value">{views["value"]:,}</span>' in block
    assert f'data-delta="{views["delta"]}"' in block and f"was {views['previous']:,}" in block
    assert "previous period (total)" in html  # the chart's muted trace


def test_video_page_compares_its_period_with_the_previous(app, data):
    seller = data.sellers[1]
    vid = data.videos[seller.id][2]
    client = _client(app, seller)
    html = client.get(f"/videos/{vid}/stats?range=7").get_data(as_text=True)
    window = period_window("7", today(TZ))
    with Session(data.backend.engine) as s:
        views = comparison(s, None, seller.id, window, TZ, video_id=vid)["figures"]["views"]
    card = html[html.index('data-card="period"'):]
    block = card[card.index('data-figure-name="views"'):]
    assert f'<span class="value">{views["value"]:,}</span>' in block and f'data-delta="{views["delta"]}"' in block
    assert "previous period (views)" in html and 'data-range="7"' in html
    assert len(re.findall(r'<tr data-day=', html)) == 7
    fragment = client.get(f"/videos/{vid}/stats?range=last_month", headers={"HX-Request": "true",
                                                                          "HX-Target": "video-figures"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="video-figures"')


def test_a_figure_that_is_zero_in_both_periods_is_not_called_new(app, data):
    """Nothing before and nothing now is no change, not "new" (a figure that grew from zero is)."""
    client = _client(app, data.sellers[0])
    empty = client.get("/dashboard?range=custom&from=2001-01-01&to=2001-01-07").get_data(as_text=True)
    assert 'data-figure-name="views"' in empty and "±0 · was 0" in empty
    assert 'class="change' not in empty
    busy = client.get("/dashboard?range=90").get_data(as_text=True)
    assert 'class="change' in busy
