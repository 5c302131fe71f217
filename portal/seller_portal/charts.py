"""Plotly figures built on the server; the browser only draws them (plotly.js).

The figures are plain Plotly figure specs serialised by plotly's own JSON encoder without
re-validating them on every request: building them as `graph_objects` costs about 30 ms
per chart, more than the whole rest of a page. The test suite validates every figure
these functions make against plotly's schema (`plotly.graph_objects.Figure`), so a wrong
property still fails there.

Every string of a figure is escaped in one place, `_json`: Plotly draws a subset of HTML in
labels, hovers, tick texts and legends, so a video titled `<a href="https://evil.example">x</a>`
became a live link in the platform Top-5 (issue 18, item 9). Only the hover templates we write
ourselves keep their markup (`<extra>`); the values they show are data, escaped with the rest.

Axes carry readable labels: money as won with thousands separators, watch time with units
(tick positions chosen here, since plotly has no duration axis). Days that are not final
are drawn hatched and named in the tick label, so an estimate never looks settled.
"""

from __future__ import annotations

from html import escape
from typing import Any

import plotly.io as pio

from models.formatting import duration

# A day without data is zero and says so in the table; its bar is empty, so it is not named.
_STATUS_PATTERN = {"final": "", "no_data": "", "live": "/", "stale": "x", "pending": "."}
_UNNAMED = ("final", "no_data")
_NICE_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 7200, 14400, 28800)
BLUE, ORANGE, RED = "#2f6fde", "#f0a030", "#d0453a"
# No Plotly template: plotly.py's templates ("plotly_white") add ~20 KB to every chart's JSON
# for styling plotly.js's own defaults already give a light chart; the few looks we want are
# set on the layout below.
_GRID = "#e5ecf6"


def _layout(title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}}, "margin": {"l": 70, "r": 20, "t": 40, "b": 60},
        "height": 320, "plot_bgcolor": "white", "paper_bgcolor": "white",
        "xaxis": {"gridcolor": _GRID, "automargin": True},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": _GRID, "zerolinecolor": _GRID},
        "font": {"family": "system-ui"},
    }
    layout.update(extra)
    return layout


def _escaped(node: Any, key: str = "") -> Any:
    """`node` with every string escaped for Plotly's HTML subset (`&`, `<`, `>`; Plotly decodes the
    entities back to the characters), except our own `*template` strings and the plain-data template."""
    if isinstance(node, str):
        return node if key.endswith("template") else escape(node, quote=False)
    if isinstance(node, dict):
        return {k: v if k.endswith("template") else _escaped(v, k) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_escaped(v, key) for v in node]
    return node


def _json(data: list[dict[str, Any]], layout: dict[str, Any]) -> str:
    """The figure as JSON, its text escaped (the one place: every figure we build ends here)."""
    return pio.to_json({"data": _escaped(data), "layout": _escaped(layout)}, validate=False)


def count_step(top: int) -> int:
    """A whole-number tick step giving at most about five ticks up to `top`: 1, 2, 5, 10, 20, 50, …"""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if top / step <= 5:
                return step
        magnitude *= 10


def duration_ticks(top: int) -> dict[str, Any]:
    """About five duration ticks ("30 min", "1 h") from 0 to `top` seconds, at round minutes."""
    step = next((m * 60 for m in _NICE_MINUTES if top / (m * 60) <= 5), _NICE_MINUTES[-1] * 60)
    values = list(range(0, max(top, step) + step, step))
    return {"tickvals": values, "ticktext": [duration(v) for v in values]}


def top5_figure(top: dict[str, Any]) -> str:
    """Horizontal bars, best at the top."""
    items = list(reversed(top["items"]))
    watch = top["metric"] == "watch_seconds"
    values = [i["value"] for i in items]
    bar = {"type": "bar", "orientation": "h", "x": values, "y": [f"{i['rank']}. {i['title'][:40]}" for i in items],
           "text": [duration(v) if watch else f"{v:,}" for v in values], "textposition": "auto",
           "hovertemplate": "%{y}: %{text}<extra></extra>", "marker": {"color": BLUE}}
    if watch:
        xaxis = {"title": {"text": "watch time"}, **duration_ticks(max(values, default=0))}
    else:
        xaxis = {"title": {"text": "views"}, "tickformat": ",d", "tick0": 0, "dtick": count_step(max(values, default=0))}
    what = "watch time" if watch else "views"
    return _json([bar], _layout(f"Top-5 by {what}", "", height=280, xaxis=xaxis,
                                margin={"l": 220, "r": 20, "t": 40, "b": 40}))


def _day_labels(days: list[dict[str, Any]]) -> list[str]:
    return [d["day"][5:] + ("" if d["status"] in _UNNAMED else f" ({d['status']})") for d in days]


MUTED = "#9aa3ae"


def previous_trace(previous: list[dict[str, Any]], x: list[str], key: str, name: str,
                   money: bool = False, yaxis: str | None = None) -> dict[str, Any]:
    """The previous period drawn over this one (issue 22): a muted dotted line, its n-th day over
    this period's n-th day; the hover names the previous day itself."""
    values = [d[key] for d in previous][:len(x)]
    shown = [f"₩{v:,}" if money else (duration(v) if key == "watch_seconds" else f"{v:,}") for v in values]
    trace = {"type": "scatter", "mode": "lines+markers", "name": name, "x": x[:len(values)], "y": values,
             "line": {"color": MUTED, "dash": "dot", "width": 2}, "marker": {"color": MUTED, "size": 5},
             "customdata": [[d["day"], v] for d, v in zip(previous, shown, strict=False)],
             "hovertemplate": "%{customdata[0]}: %{customdata[1]}<extra>" + name + "</extra>"}
    if yaxis:
        trace["yaxis"] = yaxis
    return trace


def revenue_figure(series: dict[str, Any], zone: str, previous: list[dict[str, Any]] | None = None) -> str:
    """Video vs ad revenue per day, stacked; non-final days hatched and labelled; with `previous`,
    the previous period's total revenue per day over it."""
    days = series["days"]
    x = _day_labels(days)
    patterns = [_STATUS_PATTERN[d["status"]] for d in days]
    bars = [{"type": "bar", "name": name, "x": x, "y": [d[key] for d in days],
             "marker": {"color": color, "pattern": {"shape": patterns}},
             "customdata": [f"₩{d[key]:,}" for d in days],
             "hovertemplate": "%{x}: %{customdata}<extra>" + name + "</extra>"}
            for name, key, color in (("video revenue", "video_amount", BLUE), ("ad revenue", "ad_amount", ORANGE))]
    if previous is not None:
        bars.append(previous_trace(previous, x, "total_amount", "previous period (total)", money=True))
    layout = _layout("Revenue per day (won)", "won", barmode="stack",
                     xaxis={"type": "category", "title": {"text": f"business day ({zone})"}})
    # Whole-won ticks: plotly's own steps repeat a label (₩0, ₩1, ₩1) when the amounts are small.
    top = max((d["video_amount"] + d["ad_amount"] for d in (*days, *(previous or []))), default=0)
    layout["yaxis"].update(tickformat=",d", tickprefix="₩", tick0=0, dtick=count_step(top), rangemode="tozero")
    return _json(bars, layout)


def video_series_figure(series: dict[str, Any], zone: str, previous: list[dict[str, Any]] | None = None) -> str:
    """Views (bars) and watch time (line, right axis, with units) of one video per day; with
    `previous`, the previous period's views over them (issue 22)."""
    days = series["days"]
    x = _day_labels(days)
    watch = [d["watch_seconds"] for d in days]
    views = [d["views"] for d in days]
    data = [
        {"type": "bar", "name": "views", "x": x, "y": views, "marker": {"color": BLUE},
         "hovertemplate": "%{x}: %{y:,d} views<extra></extra>"},
        {"type": "scatter", "name": "watch time", "x": x, "y": watch, "yaxis": "y2", "mode": "lines+markers",
         "line": {"color": RED}, "customdata": [duration(w) for w in watch],
         "hovertemplate": "%{x}: %{customdata}<extra>watch time</extra>"},
    ]
    if previous is not None:
        data.append(previous_trace(previous, x, "views", "previous period (views)"))
        views = views + [d["views"] for d in previous]
    layout = _layout("Views and watch time per day", "views",
                     xaxis={"type": "category", "title": {"text": f"business day ({zone})"}},
                     yaxis2={"title": {"text": "watch time"}, "overlaying": "y", "side": "right",
                             "rangemode": "tozero", **duration_ticks(max(watch, default=0))})
    # Whole views only: without a step, an empty range gets ticks 0, 0.5, 1 printed "0, 1, 1".
    layout["yaxis"].update(tickformat=",d", tick0=0, dtick=count_step(max(views, default=0)))
    return _json(data, layout)


def retention_figure(retention: Any) -> str:
    """Share of the views still watching at each whole percent of the video, ad slots marked
    (a models/figures/retention.py `Retention` with views)."""
    pcts = list(range(len(retention.curve)))
    shares = [100 * s for s in retention.curve]
    slots = retention.ad_slot_pcts
    data = [
        {"type": "scatter", "name": "still watching", "x": pcts, "y": shares, "mode": "lines",
         "line": {"color": BLUE, "shape": "hv"}, "fill": "tozeroy",
         "hovertemplate": "at %{x} % of the video: %{y:.1f} % of views<extra></extra>"},
        {"type": "scatter", "name": "ad break", "x": slots,
         "y": [shares[min(100, int(p))] for p in slots], "mode": "markers",
         "marker": {"color": ORANGE, "symbol": "diamond", "size": 11, "line": {"color": "white", "width": 1}},
         "hovertemplate": "ad break at %{x:.0f} %<extra></extra>"},
    ]
    layout = _layout("Audience retention", "views still watching (%)",
                     xaxis={"title": {"text": "position in the video (% of its length)"}, "range": [0, 100],
                            "ticksuffix": " %", "gridcolor": _GRID},
                     shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": p, "x1": p, "y0": 0, "y1": 1,
                              "line": {"color": ORANGE, "dash": "dot", "width": 1}} for p in slots])
    layout["yaxis"].update(range=[0, 100], ticksuffix=" %")
    return _json(data, layout)
def hourly_views_figure(body: dict[str, Any]) -> str:
    """Counted views per hour of the last 48 hours (issue 22), labelled in the business time zone;
    every bar an estimate (hatched, as the portal draws live days)."""
    hours = body["hours"]
    x = [h["label"] for h in hours]
    views = [h["views"] for h in hours]
    bar = {"type": "bar", "name": "views (estimate)", "x": x, "y": views,
           "marker": {"color": BLUE, "pattern": {"shape": "/"}},
           "hovertemplate": "%{x}: %{y:,d} views (estimate)<extra></extra>"}
    layout = _layout("Views per hour, last 48 hours (estimate)", "views",
                     xaxis={"type": "category", "title": {"text": f"hour ({body['timezone']})"}, "nticks": 12, "automargin": True,
                            "tickangle": -45})
    layout["yaxis"].update(tickformat=",d", tick0=0, dtick=count_step(max(views, default=0)))
    return _json([bar], layout)
