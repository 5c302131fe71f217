"""The portal's Plotly figures are valid against plotly's schema (the pages skip validation for
speed), and their axes read as won / durations with units / whole views."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from portal.seller_portal import charts

DAYS = [{"day": f"2026-11-{i:02d}", "status": status, "views": i * 3, "watch_seconds": i * 1_000,
         "video_amount": i * 1_000, "ad_amount": i * 12_345}
        for i, status in enumerate(["final"] * 25 + ["stale", "pending", "live"], start=1)]


@pytest.mark.parametrize("metric", ["views", "watch_seconds"])
def test_top5_figure_is_valid_with_readable_axis(metric):
    top = {"metric": metric, "items": [{"rank": r, "video_id": r, "title": f"비디오 {r}", "value": 7_300 // r}
                                       for r in range(1, 6)]}
    figure = go.Figure(json.loads(charts.top5_figure(top)))  # raises on any invalid property
    axis = figure.layout.xaxis
    if metric == "watch_seconds":
        assert axis.ticktext[:3] == ("0 s", "30 min", "1 h") and figure.data[0].text[-1] == "2 h 1 min"
    else:
        assert axis.tickformat == ",d" and axis.dtick == 2_000


def test_revenue_and_video_figures_are_valid_and_mark_days_that_are_not_final():
    revenue = go.Figure(json.loads(charts.revenue_figure({"days": DAYS}, "Asia/Seoul")))
    assert revenue.layout.barmode == "stack" and revenue.layout.yaxis.tickprefix == "₩"
    assert list(revenue.data[0].x[-3:]) == ["11-26 (stale)", "11-27 (pending)", "11-28 (live)"]
    assert list(revenue.data[0].marker.pattern.shape[-3:]) == ["x", ".", "/"]
    assert revenue.data[1].customdata[0] == "₩12,345"
    assert revenue.layout.yaxis.dtick == 100_000  # whole-won steps: 28 × 13,345 at the top
    quiet = go.Figure(json.loads(charts.revenue_figure(
        {"days": [{**d, "video_amount": 0, "ad_amount": 0} for d in DAYS]}, "Asia/Seoul")))
    assert quiet.layout.yaxis.dtick == 1 and quiet.layout.yaxis.rangemode == "tozero"  # never ₩0, ₩1, ₩1
    video = go.Figure(json.loads(charts.video_series_figure({"days": DAYS}, "Asia/Seoul")))
    assert video.layout.yaxis2.ticktext[-1] == "8 h" and video.data[1].yaxis == "y2"


def test_tick_steps():
    assert [charts.count_step(n) for n in (0, 5, 6, 11, 99, 123_456)] == [1, 1, 2, 5, 20, 50_000]
    assert charts.duration_ticks(0)["ticktext"][:2] == ["0 s", "1 min"]
    assert charts.duration_ticks(36_000)["ticktext"] == ["0 s", "2 h", "4 h", "6 h", "8 h", "10 h"]


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (7, "7 s"), (60, "1 min"), (423, "7 min 3 s"), (3600, "1 h"), (31_260, "8 h 41 min"),
    (31_299, "8 h 41 min"), (4_442_400, "1,234 h"), (-5, "0 s"), (7.9, "7 s"),
])
def test_durations_carry_their_units(seconds, text):
    """Issue 21, item 2: "0:07" read as seven minutes; every duration now says its units."""
    from models.formatting import duration

    assert duration(seconds) == text
