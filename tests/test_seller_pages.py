"""Seller portal pages on the generated data set: numbers against the batch tables, htmx
fragments, scoping (another seller's ids are 404, viewers 403), admins' filter, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import VideoDailySettlement, VideoDailyStats
from tests.portal_support import signed_in_client
from tests.support import TEST_PASSWORD


@pytest.fixture
def app(portal_app):
    return portal_app


@pytest.fixture
def data(portal_data):
    return portal_data


_client = signed_in_client


def _won(amount: int) -> str:
    return f"₩{amount:,}"


def test_a_seller_lands_on_the_dashboard_after_signing_in(app, data):
    client = app.test_client()
    page = client.get("/auth/signin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/auth/signin", data={"csrf_token": token, "email": data.sellers[0].email,
                                                 "password": TEST_PASSWORD, "next": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")


def test_dashboard_shows_cards_charts_and_the_same_numbers_as_the_tables(app, data):
    seller = data.sellers[0]
    client = _client(app, seller)
    # The page-wide period (issue 22): yesterday alone, against the day before.
    response = client.get(f"/dashboard?date={data.last}&range=custom&from={data.last}&to={data.last}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    with Session(data.backend.engine) as s:
        views = s.scalar(select(func.coalesce(func.sum(VideoDailyStats.views), 0)).where(
            VideoDailyStats.seller_id == seller.id, VideoDailyStats.day == data.last))
        top = s.execute(select(VideoDailyStats.video_id, VideoDailyStats.views).where(
            VideoDailyStats.seller_id == seller.id, VideoDailyStats.day == data.last, VideoDailyStats.views > 0)
            .order_by(VideoDailyStats.views.desc(), VideoDailyStats.video_id).limit(5)).all()
    card = html[html.index('data-card="period"'):]
    card = card[:card.index("</article>")]
    views_block = card[card.index('data-figure-name="views"'):]
    assert f'<span class="value">{views:,}</span>' in views_block
    assert "data-figure=" in html and "/static/vendor/plotly.min." in html and "Show as table" in html
    top5 = html[html.index('id="top5"'):html.index('id="progress-title"')]
    ids = [int(v) for v in re.findall(r"/videos/(\d+)/stats", top5)]
    assert ids == [vid for vid, _ in top]
    assert "Asia/Seoul" in html and "<script>" not in html


def test_top5_switch_returns_only_the_fragment_to_htmx(app, data):
    client = _client(app, data.sellers[1])
    url = f"/dashboard?metric=watch_seconds&period=month&date={data.last}"
    response = client.get(url, headers={"HX-Request": "true", "HX-Target": "top5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Vary"].startswith("HX-Request")
    assert html.lstrip().startswith('<section id="top5"') and "<html" not in html
    assert 'data-metric="watch_seconds"' in html and "hx-push-url" in html
    revenue = client.get("/dashboard?range=7", headers={"HX-Request": "true", "HX-Target": "revenue"})
    assert revenue.get_data(as_text=True).lstrip().startswith('<section id="revenue"')
    assert client.get(url).get_data(as_text=True).lstrip().lower().startswith("<!doctype html>")


def test_settlement_history_matches_the_batch_tables_and_receipts_match(app, data):
    seller = data.sellers[2]
    client = _client(app, seller)
    with Session(data.backend.engine) as s:
        lines = s.scalars(select(VideoDailySettlement).where(VideoDailySettlement.seller_id == seller.id)
                          .order_by(VideoDailySettlement.total_amount.desc())).all()
    html = client.get(f"/settlements?granularity=day&from={data.first}&to={data.last}&sort=total_amount&dir=desc"
                      ).get_data(as_text=True)
    totals = re.findall(r'<td class="num total"[^>]*>([^<]+)</td>', html)
    assert totals[:50] == [_won(r.total_amount) for r in lines[:50]]
    assert totals[-1] == _won(sum(r.total_amount for r in lines))  # the range total in the footer
    for granularity in ("week", "month"):
        page = client.get(f"/settlements?granularity={granularity}&from={data.first}&to={data.last}")
        assert page.status_code == 200
        assert re.findall(r'<td class="num total"[^>]*>([^<]+)</td>', page.get_data(as_text=True))[-1] == totals[-1]
    line = lines[0]
    receipt = client.get(f"/settlements/{line.video_id}/{line.day}", headers={"HX-Request": "true",
                                                                            "HX-Target": "receipt"})
    body = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and body.lstrip().startswith('<dialog id="receipt"')
    assert f"Total {_won(line.total_amount)} · stored {_won(line.total_amount)}" in body and "✓ matches" in body
    week = client.get(f"/settlements/{line.video_id}/{line.day}?granularity=week").get_data(as_text=True)
    assert "✓ matches" in week


def test_per_video_page_shows_series_and_ledger(app, data):
    seller = data.sellers[0]
    vid = data.videos[seller.id][0]
    html = _client(app, seller).get(f"/videos/{vid}/stats?from={data.first}&to={data.last}").get_data(as_text=True)
    with Session(data.backend.engine) as s:
        row = s.scalars(select(VideoDailyStats).where(VideoDailyStats.video_id == vid)
                        .order_by(VideoDailyStats.day)).first()
    started = row.views + row.rejected_own_video + row.rejected_repeat
    ledger = html[html.index(f'<tr data-day="{row.day}">'):]
    cells = re.findall(r'<td class="num"[^>]*>([^<]+)</td>', ledger)[:4]
    assert cells == [f"{started:,}", f"{row.views:,}", f"{row.rejected_own_video:,}", f"{row.rejected_repeat:,}"]
    assert "more views to the 1.1 won bracket" in html


def test_another_sellers_ids_are_not_found_and_viewers_are_refused(app, data):
    seller = data.sellers[0]
    other = data.other_seller_video(seller)
    client = _client(app, seller)
    for url in (f"/videos/{other}/stats", f"/videos/{other}/stats.csv", f"/videos/{other}/ledger.csv",
                f"/settlements/{other}/{data.last}", f"/settlements/{other}/{data.last}?granularity=month",
                f"/settlements?video_id={other}", f"/settlements.csv?video_id={other}&from={data.first}"):
        assert client.get(url).status_code == 404, url
    # A forged seller_id is ignored for a seller: the figures stay their own.
    html = client.get(f"/settlements?seller_id={data.sellers[1].id}&from={data.first}&to={data.last}&granularity=month"
                      ).get_data(as_text=True)
    assert not set(map(int, re.findall(r'data-video-id="(\d+)"', html))) - set(data.videos[seller.id])
    viewer = _client(app, data.viewer)
    for url in ("/dashboard", "/settlements", "/settlements.csv", f"/videos/{other}/stats",
                f"/settlements/{other}/{data.last}", f"/videos/{other}/ledger.csv"):
        assert viewer.get(url).status_code == 403, url


def test_admin_sees_the_platform_and_filters_by_seller(app, data):
    client = _client(app, data.admin)
    everyone = client.get(f"/settlements?granularity=month&from={data.first}&to={data.last}").get_data(as_text=True)
    assert set(map(int, re.findall(r'data-video-id="(\d+)"', everyone))) == set(data.world.sellers)
    seller = data.sellers[1]
    one = client.get(f"/settlements?granularity=month&from={data.first}&to={data.last}&seller_id={seller.id}")
    assert set(map(int, re.findall(r'data-video-id="(\d+)"', one.get_data(as_text=True)))) == set(data.videos[seller.id])
    assert client.get(f"/dashboard?seller_id={seller.id}").status_code == 200
    assert client.get("/dashboard?seller_id=abc").status_code == 422


def test_bad_input_gets_a_4xx_with_a_message(app, data):
    client = _client(app, data.sellers[0])
    assert client.get("/dashboard?date=2026-02-31").status_code == 422
    assert client.get("/dashboard?metric=likes").status_code == 422
    response = client.get("/settlements?from=2026-03-01&to=2026-01-01")
    assert response.status_code == 422 and "before the start" in response.get_data(as_text=True)
    assert client.get("/settlements?granularity=year").status_code == 422
    assert client.get("/settlements?sort=password").status_code == 422
    assert client.get("/settlements?page=0").status_code == 422
    # Issue 19, item 1: a refused argument other than the range is shown beside the form too (the
    # page re-renders without it), naming the field, with the same 422 as the API.
    response = client.get("/settlements?sort=password")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html
    assert re.search(r'data-range-error>sort: [^<]+</p>', html)


def test_settlement_csv_has_bom_header_plain_integers_and_neutralised_formulas(app, data):
    seller = data.sellers[1]  # owns the video titled =HYPERLINK("x")
    response = _client(app, seller).get(f"/settlements.csv?granularity=day&from={data.first}&to={data.last}")
    raw = response.get_data()
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["period_start", "period_end", "video_id", "title"]
    with Session(data.backend.engine) as s:
        stored = s.scalars(select(VideoDailySettlement).where(VideoDailySettlement.seller_id == seller.id)).all()
    assert len(rows) - 1 == len(stored)
    assert sorted(int(r[8]) for r in rows[1:]) == sorted(r.total_amount for r in stored)
    titles = {r[3] for r in rows[1:]}
    assert "'=HYPERLINK(\"x\")" in titles and not any(t.startswith("=") for t in titles)
    assert any("서울" in t or "고양이" in t or "한강" in t for t in titles)
    ledger = _client(app, seller).get(f"/videos/{data.videos[seller.id][0]}/ledger.csv?from={data.first}&to={data.last}")
    lrows = list(csv.reader(io.StringIO(ledger.get_data().decode("utf-8-sig"))))
    assert lrows[0][0] == "day" and len(lrows) == 33


def _new_seller(data, name: str):
    """A seller signed up just now, without a video, in the portal's data set."""
    from models import Role
    from models.accounts.service import create_user

    with Session(data.backend.engine) as s:
        user = create_user(s, email=f"{name}@portal.test", password=TEST_PASSWORD, role=Role.SELLER,
                           display_name=name)
        s.commit()
        s.refresh(user)
        s.expunge(user)
    return user


def test_a_new_seller_gets_what_to_do_and_the_upload_button_not_zero_cards(app, data):
    """Issue 21, item 5: no twelve zero cards marked "new", but an empty state with the upload button."""
    seller = _new_seller(data, "fresh-seller")
    response = _client(app, seller).get("/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    state = html[html.index("data-empty-state"):]
    assert "Upload your first video" in state and 'href="/videos/upload"' in state
    assert "data-card=" not in html and ">new<" not in html
    # An admin looking at that seller is told so, without an upload button of their own.
    admin = _client(app, data.admin).get(f"/dashboard?seller_id={seller.id}").get_data(as_text=True)
    assert "This seller has no videos yet" in admin and 'href="/videos/upload"' not in admin
    # A seller with videos still gets the cards.
    assert "data-card=" in _client(app, data.sellers[0]).get("/dashboard").get_data(as_text=True)


def test_days_without_anything_to_compute_say_no_data_and_future_days_are_not_listed(app, data):
    """Issue 21, item 6: not "pending" before the first video or for event-less days; no future days."""
    from datetime import date, timedelta

    seller = data.sellers[0]
    vid = data.videos[seller.id][0]  # uploaded 2026-01-01, no plays before the data set's first day
    client = _client(app, seller)
    html = client.get(f"/videos/{vid}/stats?from=2025-12-30&to=2026-01-02").get_data(as_text=True)
    ledger_days = re.findall(r'<tr data-day="([^"]+)">', html)
    assert ledger_days == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]
    table = html[html.index('aria-label="Figures per day"'):html.index("View ledger")]
    assert table.count(">no data</span>") == 4 and "status-pending" not in table
    assert "data-status-legend" in html and "before the first upload" in html
    tomorrow = data.last + timedelta(days=2)
    later = client.get(f"/videos/{vid}/stats?from={data.last}&to={tomorrow + timedelta(days=3)}").get_data(as_text=True)
    listed = [date.fromisoformat(d) for d in re.findall(r'<tr data-day="([^"]+)">', later)]
    assert listed == [data.last, data.last + timedelta(days=1)]  # yesterday and today, nothing after
    revenue = client.get(f"/dashboard?range=custom&from={data.last}&to={tomorrow}").get_data(as_text=True)
    chart_days = re.findall(r"<tr><td[^>]*>(\d{4}-\d\d-\d\d)</td>", revenue[revenue.index('id="revenue"'):])
    assert chart_days == [data.last.isoformat(), (data.last + timedelta(days=1)).isoformat()]


def test_a_receipt_url_opened_directly_is_the_settlement_page_with_the_receipt_open(app, data):
    """Issue 21, item 3: the receipt has its own URL; opened directly it is the whole page (the table
    the receipt link was on, from the state the link carries) with the receipt's dialog open."""
    seller = data.sellers[2]
    client = _client(app, seller)
    table = client.get(f"/settlements?granularity=day&from={data.first}&to={data.last}&sort=total_amount&dir=desc"
                       ).get_data(as_text=True)
    link = re.search(r'<a href="(/settlements/\d+/[^"]+)" hx-get="[^"]+" hx-target="#receipt"', table).group(1)
    link = link.replace("&amp;", "&")
    assert "sort=total_amount" in link and f"from={data.first}" in link
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.lstrip().lower().startswith("<!doctype html>")
    assert "HX-Request" in page.headers["Vary"]
    assert re.findall(r'<td class="num total"[^>]*>([^<]+)</td>', html) == re.findall(r'<td class="num total"[^>]*>([^<]+)</td>',
                                                                                table)
    dialog = html[html.index('<dialog id="receipt"'):html.index("</dialog>")]
    assert "data-open" in dialog and "✓ matches" in dialog and 'data-close-url="/settlements?' in dialog
    assert "/static/js/receipt." in html
    # The table's own page has the dialog closed and empty.
    assert "data-open" not in table[table.index('<dialog id="receipt"'):]


RANGE_FORMS = {  # page, its htmx target and the prefix of its From/To fields' ids
    "dashboard": ("/dashboard?range=custom&", "revenue", "rev"),
    "settlements": ("/settlements?granularity=day&", "settlement-table", "st"),
    "video": ("/videos/{vid}/stats?", "video-figures", "vs"),
}
BAD_RANGES = {  # what is wrong: the query, the field at fault (None: both), words of the message
    "inverted": ("from=2026-03-01&to=2026-01-01", None, "before the start date"),
    "too long": ("from=2024-01-01&to=2026-01-01", None, "at most 366 days"),
    "outside the window": ("from=1990-01-01&to=2026-01-01", "from", "must be from 2000-01-01"),
}


@pytest.mark.parametrize("form", sorted(RANGE_FORMS))
@pytest.mark.parametrize("problem", sorted(BAD_RANGES))
def test_a_refused_custom_range_is_explained_next_to_its_fields(app, data, form, problem):
    """Issue 21, item 10: an inverted range, a range over the limit or a date outside the window is
    not silently ignored: the form says what is wrong next to the fields (aria-describedby), the
    whole page answers 422, and so does the htmx fragment, which carries the message too."""
    seller = data.sellers[0]
    path, target, prefix = RANGE_FORMS[form]
    query, field, words = BAD_RANGES[problem]
    url = path.format(vid=data.videos[seller.id][0]) + query
    client = _client(app, seller)
    for headers in ({}, {"HX-Request": "true", "HX-Target": target}):
        response = client.get(url, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (url, headers)
        if headers:
            assert html.lstrip().startswith(f'<section id="{target}"') and "<html" not in html
        else:
            assert html.lstrip().lower().startswith("<!doctype html>")
        error = re.search(rf'<p id="{prefix}-range-error" class="field-error" role="alert" data-range-error>([^<]+)</p>',
                          html)
        assert error and words in error.group(1), html[:300]
        for name in ("from", "to"):
            tag = re.search(rf'<input id="{prefix}-{name}"[^>]*>', html).group(0)
            assert f'aria-describedby="{prefix}-range-error"' in tag
            assert ('aria-invalid="true"' in tag) == (field in (None, name)), (name, tag)
        region = html[html.index(f'<section id="{target}"'):]
        assert "data-figure=" not in region[:region.index("</section>")]  # no chart of a range nobody asked for
    # A good range of the same form still answers 200 without a message.
    good = client.get(path.format(vid=data.videos[seller.id][0]) + f"from={data.first}&to={data.last}")
    assert good.status_code == 200 and "data-range-error" not in good.get_data(as_text=True)


def _restated_seller(data, name: str, count: int):
    """A seller with one video whose days were restated `count` times (restatement i: day i, was
    ₩100, now ₩100 + i − 3, so some are worth more and some less), as the batch records them."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from models import Restatement, Video

    seller = _new_seller(data, name)
    with data.backend.engine.begin() as conn:
        vid = conn.execute(insert(Video).values(
            seller_id=seller.id, title=f"{name} 영상", description="", media_path="x.webm", content_type="video/webm",
            size_bytes=1, duration_seconds=60, is_published=True,
            created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
        for i in range(count):
            figures = {f"{side}_{n}": 0 for side in ("was", "now") for n in
                       ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount")}
            conn.execute(insert(Restatement).values(
                day=data.first + timedelta(days=i), video_id=vid, seller_id=seller.id, run_id=None,
                recorded_at=datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=i), reason="events_changed",
                was_total_amount=100, now_total_amount=100 + i - 3, **figures))
    return seller, vid


def test_restatements_show_titles_net_changes_receipts_and_all_of_them_on_their_own_pages(app, data):
    """Issue 21, item 7: titles, a receipt link and the net change of each restatement and in total;
    the dashboard shows the latest few with a link to all, /restatements pages through every one."""
    seller, vid = _restated_seller(data, "restated-seller", 12)
    client = _client(app, seller)
    total = sum(i - 3 for i in range(12))  # +30
    dashboard = client.get("/dashboard").get_data(as_text=True)
    panel = dashboard[dashboard.index('id="restated-title"'):]
    rows = re.findall(r'<tr data-restatement="\d+">', panel)
    assert len(rows) == 5  # the latest few, newest first
    newest = data.first + timedelta(days=11)
    assert "restated-seller 영상" in panel and f'href="/settlements/{vid}/{newest}"' in panel
    assert re.findall(r'data-net-change="(-?\d+)"', panel) == ["8", "7", "6", "5", "4"]
    assert "+₩8" in panel and "The latest 5 of 12" in panel and f"+₩{total}" in panel
    assert 'href="/restatements' in panel and "See all restatements" in panel
    first = client.get("/restatements?per_page=5")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "Page 1 of 3" in html and f"+₩{total}" in html
    older = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    last_page = client.get(older.replace("page=2", "page=3"), headers={"HX-Request": "true",
                                                                       "HX-Target": "restatement-list"})
    fragment = last_page.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="restatement-list"') and "Page 3 of 3" in fragment
    assert re.findall(r'data-net-change="(-?\d+)"', fragment) == ["-2", "-3"]  # the oldest two
    assert "−₩3" in fragment and "HX-Request" in last_page.headers["Vary"]
    # One video's restatements, from its statistics page.
    video_page = client.get(f"/videos/{vid}/stats").get_data(as_text=True)
    assert f'href="/restatements?video_id={vid}"' in video_page
    assert client.get("/restatements?page=0").status_code == 422


def test_the_restatements_api_pages_and_totals(app, data):
    from tests.watching_support import bearer

    seller, vid = _restated_seller(data, "restated-api-seller", 7)
    headers = bearer(seller, data.backend.settings)
    client = app.test_client()
    body = client.get("/api/v1/restatements?per_page=3&page=3", headers=headers).get_json()
    assert body["total_rows"] == 7 and body["pages"] == 3 and body["page"] == 3 and body["per_page"] == 3
    assert body["net_change_total"] == sum(i - 3 for i in range(7))
    [oldest] = body["items"]
    assert oldest["title"] == "restated-api-seller 영상" and oldest["net_change"] == -3
    assert oldest["day"] == data.first.isoformat()
    assert client.get("/api/v1/restatements?per_page=501", headers=headers).status_code == 422
