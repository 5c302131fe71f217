"""Plotly figures built on the server (plotly Python); the browser only draws them.

Axes carry readable labels: money as won with thousands separators, watch time as h:mm
(tick positions chosen here, since plotly has no duration axis). Days that are not
final are drawn hatched and named in the tick label, so an estimate never looks settled.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from portal.seller_portal.formatting import hmm

_STATUS_PATTERN = {"final": "", "live": "/", "stale": "x", "pending": "."}
_NICE_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 7200, 14400, 28800)


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(title={"text": title, "font": {"size": 15}}, margin={"l": 70, "r": 20, "t": 40, "b": 60},
                      height=320, template="plotly_white",
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
                      yaxis={"title": {"text": y_title}, "rangemode": "tozero"}, font={"family": "system-ui"})
    return fig


def duration_ticks(top: int) -> dict[str, Any]:
    """About five h:mm ticks from 0 to `top` seconds, at a round number of minutes."""
    step = next((m * 60 for m in _NICE_MINUTES if top / (m * 60) <= 5), _NICE_MINUTES[-1] * 60)
    values = list(range(0, max(top, step) + step, step))
    return {"tickvals": values, "ticktext": [hmm(v) for v in values]}


def count_step(top: int) -> int:
    """A whole-number tick step giving at most about five ticks up to `top`: 1, 2, 5, 10, 20, 50, …"""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if top / step <= 5:
                return step
        magnitude *= 10


def top5_figure(top: dict[str, Any]) -> str:
    """Horizontal bars, best at the top."""
    items = list(reversed(top["items"]))
    watch = top["metric"] == "watch_seconds"
    labels = [f"{i['rank']}. {i['title'][:40]}" for i in items]
    values = [i["value"] for i in items]
    text = [hmm(v) if watch else f"{v:,}" for v in values]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", text=text, textposition="auto",
                           hovertemplate="%{y}: %{text}<extra></extra>", marker_color="#2f6fde"))
    what = "watch time (h:mm)" if watch else "views"
    _layout(fig, f"Top-5 by {what}", "")
    fig.update_layout(height=280, margin={"l": 220, "r": 20, "t": 40, "b": 40})
    if watch:
        fig.update_xaxes(title_text="watch time (h:mm)", **duration_ticks(max(values, default=0)))
    else:
        fig.update_xaxes(title_text="views", tickformat=",d", tick0=0, dtick=count_step(max(values, default=0)))
    return fig.to_json()


def _day_labels(days: list[dict[str, Any]]) -> list[str]:
    return [d["day"][5:] + ("" if d["status"] == "final" else f" ({d['status']})") for d in days]


def revenue_figure(series: dict[str, Any]) -> str:
    """Video vs ad revenue per day, stacked; non-final days hatched and labelled."""
    days = series["days"]
    x = _day_labels(days)
    patterns = [_STATUS_PATTERN[d["status"]] for d in days]
    fig = go.Figure()
    for name, key, color in (("video revenue", "video_amount", "#2f6fde"), ("ad revenue", "ad_amount", "#f0a030")):
        fig.add_bar(x=x, y=[d[key] for d in days], name=name, marker={"color": color, "pattern": {"shape": patterns}},
                    customdata=[f"₩{d[key]:,}" for d in days], hovertemplate="%{x}: %{customdata}<extra>" + name +
                    "</extra>")
    _layout(fig, "Revenue per day (won)", "won")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(tickformat=",d", tickprefix="₩")
    fig.update_xaxes(type="category", title_text="business day (KST); hatched: not final")
    return fig.to_json()


def video_series_figure(series: dict[str, Any]) -> str:
    """Views (bars) and watch time (line, right axis, h:mm) of one video per day."""
    days = series["days"]
    x = _day_labels(days)
    watch = [d["watch_seconds"] for d in days]
    fig = go.Figure()
    fig.add_bar(x=x, y=[d["views"] for d in days], name="views", marker_color="#2f6fde",
                hovertemplate="%{x}: %{y:,d} views<extra></extra>")
    fig.add_scatter(x=x, y=watch, name="watch time", yaxis="y2", mode="lines+markers", line_color="#d0453a",
                    customdata=[hmm(w) for w in watch], hovertemplate="%{x}: %{customdata}<extra>watch time</extra>")
    _layout(fig, "Views and watch time per day", "views")
    fig.update_yaxes(tickformat=",d")
    fig.update_layout(yaxis2={"title": {"text": "watch time (h:mm)"}, "overlaying": "y", "side": "right",
                              "rangemode": "tozero", **duration_ticks(max(watch, default=0))})
    fig.update_xaxes(type="category", title_text="business day (KST)")
    return fig.to_json()
