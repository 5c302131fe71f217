"""Seller portal pages. Each URL serves the whole page, or with `HX-Request` only the fragment
htmx asked for (named by `HX-Target`), with `Vary: HX-Request`; switches push their URL so
a view can be bookmarked and the back button works."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from models import Role, User
from models.business_time import today
from models.catalog.cards import has_videos
from models.figures.cache import month_scopes
from models.figures.period_calendar import period_start
from models.figures.period_comparison import comparison
from models.figures.period_windows import (
    PRESET_LABELS,
    PeriodError,
    PeriodWindow,
    period_window,
)
from models.figures.receipts import day_receipt, period_receipt
from models.figures.restatement_pages import restatement_list, restatement_page
from models.figures.scope import FigureError, check_range, seller_scope, seller_video
from models.figures.series import daily_series, dashboard_scopes, view_ledger
from models.figures.settlements import settlement_lines, settlement_table
from models.figures.summary import tier_progress
from models.figures.tables import Metric, PeriodKind
from models.figures.top import top5
from models.formatting import duration, number, signed_pct, signed_won, won
from models.ttl_memo import TtlMemo
from portal.auth import role_required
from portal.csv_export import csv_response
from portal.database import db_session
from portal.figures import figure_cache
from portal.queries import figures as queries
from portal.queries.audience import VideoPageQuery
from portal.queries.parse import INVALID_STATUS, RequestInvalid, parse_query, path_day
from portal.read_replica import figure_session, figures_from_replica
from portal.seller_portal import charts
from portal.settings import settings

bp = Blueprint("seller_portal", __name__)



@bp.app_template_filter("won")
def _won(amount: int) -> str:
    return won(amount)


@bp.app_template_filter("won_change")
def _won_change(amount: int) -> str:
    return signed_won(amount)


@bp.app_template_filter("duration")
def _duration(seconds: int) -> str:
    return duration(seconds)


@bp.app_template_filter("num")
def _num(value: int) -> str:
    return number(value)


@bp.app_template_filter("pct")
def _pct(value: float | None) -> str:
    return signed_pct(value)


@bp.app_template_filter("kst")
def _kst(iso: str) -> str:
    """An ISO UTC instant in the business time zone, labelled."""
    tz = settings().tz
    moment = datetime.fromisoformat(iso).astimezone(tz)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def scope_seller() -> tuple[int | None, list[User]]:
    """The seller whose figures are shown: yourself, or for an admin the `seller_id` filter
    (none: platform-wide), with the sellers an admin can pick from."""
    # The API's own query model reads `seller_id` (portal/api/stats_schemas.py): one parser for
    # both, which refuses a malformed one from anybody, as the API does.
    requested = parse_query(queries.SummaryQuery).seller_id
    seller_id = seller_scope(current_user.role, current_user.id, requested)
    if not current_user.is_admin:
        return seller_id, []
    sellers = list(db_session().scalars(select(User).where(User.role == Role.SELLER).order_by(User.display_name)))
    return seller_id, sellers


def _render(template: str, fragments: dict[str, str], **context: Any) -> ResponseReturnValue:
    """The page, or with HX-Request the fragment its HX-Target names (the first by default)."""
    fragment = _fragment_name(fragments)
    return _varied(render_template(fragments[fragment] if fragment else template, **context))


def _varied(body: str) -> ResponseReturnValue:
    """The answer to a URL that serves a page or, to htmx, one of its fragments."""
    response = make_response(body)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@dataclass(frozen=True)
class FormError:
    """An argument the page refuses, shown beside its form (issue 21, item 10; issue 19, item 1)."""

    field: str | None  # the parameter at fault ("from", "to", "page", …); None: the range as a whole
    message: str
    first: str  # the dates as sent, shown again in the fields
    last: str


def _form_query(model: type[Any]) -> tuple[Any, FormError | None]:
    """The page's query read by its query model. A value it refuses is not an error page but a
    FormError shown beside the form: the query is read again without that parameter (without
    From/To for a refused range), so the page around still shows. A second bad parameter is the
    one refusal's error page (422)."""
    try:
        return parse_query(model), None
    except RequestInvalid as exc:
        dropped = ("from", "to") if exc.field in (None, "from", "to") else (exc.field,)
        # Not parsing: the query string as sent, less the refused parameter, read again by the model.
        rest = {name: value for name, value in request.args.lists() if name not in dropped}
        try:
            query = parse_query(model, rest)
        except RequestInvalid:
            raise exc from None
        return query, _form_error(exc.field, exc.problem if exc.field in (None, "from", "to") else exc.message)


def _form_error(field: str | None, message: str) -> FormError:
    return FormError(field, message, _sent("from"), _sent("to"))


def _sent(name: str) -> str:
    """A date field as sent (its first value), to show again in the form."""
    values = request.args.getlist(name)  # not parsing: the text as typed, echoed into the field
    return values[0] if values else ""


def _with_status(response: ResponseReturnValue, error: FormError | None) -> ResponseReturnValue:
    """A page whose form refused an argument answers 422, the status of every refused argument
    (htmx swaps it all the same: js/form-errors.js)."""
    if error is not None:
        response = make_response(response)
        response.status_code = INVALID_STATUS
    return response


def page_period(current: date, query: Any) -> PeriodWindow:
    """The page-wide period of a query with `range` (and `from` / `to` for `custom`): the dashboard's,
    the content table's and the per-video page's (models/figures/period_windows.py)."""
    if query.range == "custom":
        return period_window("custom", current, query.first or current - timedelta(days=27), query.last or current)
    return period_window(query.range, current)


def _checked_period(current: date, query: Any, range_error: FormError | None) -> tuple[PeriodWindow, FormError | None]:
    """The page's period, or with a refused From/To (inverted, too long) today alone and the error
    for the form (the period's figures show the message instead)."""
    if range_error is None:
        try:
            window = page_period(current, query)
            check_range(window.first, window.last)
            return window, None
        except (FigureError, PeriodError) as exc:
            range_error = _form_error(None, exc.message)
    return period_window("custom", current, current, current), range_error


# ---------------------------------------------------------------------------------- dashboard


DASHBOARD_RESTATEMENTS = 5  # the latest few; the rest on /restatements
_DASHBOARD_FRAGMENTS = {"top5": "seller/_top5.html", "revenue": "seller/_revenue.html"}
_RENDERED = "paysystem.dashboard_rendered"


def _rendered_memo() -> TtlMemo[Markup]:
    """The process's rendered dashboards (`dashboard` says for how long and why)."""
    memo = current_app.extensions.get(_RENDERED)
    if memo is None:
        memo = current_app.extensions[_RENDERED] = TtlMemo(settings().figure_status_ttl_seconds, max_entries=256)
    return memo


@bp.get("/dashboard")
@role_required(Role.SELLER)
@figures_from_replica
def dashboard() -> ResponseReturnValue:
    """Cards, the Top-5 chart, the revenue chart, tier progress and recent restatements.

    Its figures cost ~25 ms of queries and rendering (today's live estimate from the raw
    events, tier progress, two charts and their tables), and a seller reloads and switches
    it often, so a process keeps the rendered dashboard — or fragment — for
    FIGURE_STATUS_TTL_SECONDS (models/ttl_memo.py), the bound the portal already gives its data
    statuses. The key holds the versions of every figure scope it shows (one query), so a
    batch run's new figures appear at once; only the live estimate, tier progress and the
    restatement list may lag by that much. The page around it (who is signed in, the CSRF
    token) is rendered for each request."""
    tz = settings().tz
    seller_id, sellers = scope_seller()
    session, cache = figure_session(), figure_cache()
    current = today(tz)
    query, range_error = _form_query(queries.DashboardQuery)
    metric, period = Metric(query.metric), PeriodKind(query.period)
    top_day = query.day or current - timedelta(days=1)
    window, range_error = _checked_period(current, query, range_error)
    preset, first, last = window.preset, window.first, window.last
    state = {"metric": metric.value, "period": period.value, "date": top_day.isoformat(), "range": preset,
             "from": first.isoformat(), "to": last.isoformat(), "seller_id": seller_id}
    fragment = _fragment_name(_DASHBOARD_FRAGMENTS)
    # A seller who never uploaded gets what to do next instead of a wall of zeros (issue 21, item 5).
    new_seller = fragment is None and seller_id is not None and not has_videos(session, seller_id, ever=True)
    # One query for the versions of all its figures, the previous period's included.
    versions = cache.versions(dashboard_scopes(period, top_day, first, last, tz)
                              + month_scopes(window.previous_first, min(window.previous_last, current)))
    key = (fragment, current_user.is_admin, current, new_seller, range_error, tuple(state.items()),
           tuple(versions.items()))

    def render() -> Markup:
        top = top5(session, cache, seller_id, metric, period, top_day, tz)
        compare = comparison(session, cache, seller_id, window, tz)
        step = {PeriodKind.DAY: timedelta(days=1), PeriodKind.WEEK: timedelta(days=7), PeriodKind.MONTH: None}[period]
        if step is None:
            prev_day = period_start(PeriodKind.MONTH, date.fromisoformat(top["first"]) - timedelta(days=1))
            next_day = date.fromisoformat(top["last"]) + timedelta(days=1)
        else:
            prev_day, next_day = top_day - step, top_day + step
        context: dict[str, Any] = dict(
            state=state, sellers=sellers, seller_id=seller_id, top=top, top_json=charts.top5_figure(top),
            prev_day=prev_day.isoformat(), next_day=next_day.isoformat(), compare=compare,
            revenue_json=charts.revenue_figure({"days": compare["days"]}, settings().timezone,
                                               previous=compare["previous_days"]), presets=PRESET_LABELS,
            tz_name=settings().timezone, url=_dashboard_url, new_seller=new_seller, range_error=range_error,
            period_url=lambda preset: _dashboard_url(state, range=preset),
        )
        if fragment is None and not new_seller:
            context.update(# Platform-wide, the per-video tier progress would list every video: pick a seller.
                           progress=tier_progress(session, seller_id, tz) if seller_id is not None else [],
                           restated=restatement_page(session, seller_id, per_page=DASHBOARD_RESTATEMENTS))
        return Markup(render_template(_DASHBOARD_FRAGMENTS[fragment] if fragment else "seller/_dashboard.html",
                                      **context))

    body = _rendered_memo().get_or_make(key, render)
    return _with_status(_varied(body if fragment else render_template("seller/dashboard.html", body=body)),
                        range_error if fragment in (None, "revenue") else None)


def _fragment_name(fragments: dict[str, str]) -> str | None:
    """With HX-Request, the fragment its HX-Target names (the first by default); None: the page."""
    if not request.headers.get("HX-Request"):
        return None
    target = request.headers.get("HX-Target", "")
    return target if target in fragments else next(iter(fragments))


def _dashboard_url(state: dict[str, Any], **changes: Any) -> str:
    args = {**state, **changes}
    if args.get("range") != "custom":
        args.pop("from", None)
        args.pop("to", None)
    return url_for("seller_portal.dashboard", **{k: v for k, v in args.items() if v is not None})


# ---------------------------------------------------------------------------------- settlements


def _settlement_args() -> tuple[dict[str, Any], FormError | None]:
    """The page's query, read by the API's settlements model (with the page's default range), and
    what is wrong with its arguments."""
    query, error = _form_query(queries.SettlementsPageQuery)
    return {"granularity": query.granularity, "first": query.first, "last": query.last, "video_id": query.video_id,
            "sort": query.sort, "descending": query.direction == "desc", "page": query.page}, error


@bp.get("/settlements")
@role_required(Role.SELLER)
@figures_from_replica
def settlements() -> ResponseReturnValue:
    """Daily, weekly or monthly settlement lines per video, sorted and paged, with totals."""
    return _settlements_page()


def _settlements_page(receipt: dict[str, Any] | None = None) -> ResponseReturnValue:
    """The settlement history; with `receipt`, that receipt open over it (its own URL, issue 21,
    item 3: a receipt link carries the table's state, so the URL opened directly shows the same
    page with the receipt open)."""
    seller_id, sellers = scope_seller()
    args, range_error = _settlement_args()
    table = settlement_table(figure_session(), figure_cache(), seller_id, args["granularity"], args["first"],
                             args["last"], settings().tz, video_id=args["video_id"], sort=args["sort"],
                             descending=args["descending"], page=args["page"], per_page=50)
    state = {"granularity": table["granularity"], "from": table["first"], "to": table["last"],
             "sort": table["sort"], "dir": "desc" if table["descending"] else "asc", "page": table["page"],
             "seller_id": seller_id, "video_id": args["video_id"]}

    def link(endpoint: str = "seller_portal.settlements", **changes: Any) -> str:
        merged = {**state, **changes}
        return url_for(endpoint, **{k: v for k, v in merged.items() if v is not None})

    context = dict(table=table, state=state, link=link, sellers=sellers, seller_id=seller_id,
                   tz_name=settings().timezone, range_error=range_error)
    if receipt is None:
        return _with_status(_render("seller/settlements.html", {"settlement-table": "seller/_settlement_table.html"},
                                    receipt=None, **context), range_error)
    return _with_status(_varied(render_template("seller/settlements.html", receipt=receipt,
                                                close_url=_receipt_close_url(), **context)), range_error)


@bp.get("/settlements.csv")
@role_required(Role.SELLER)
@figures_from_replica
def settlements_csv() -> ResponseReturnValue:
    seller_id, _ = scope_seller()
    args = parse_query(queries.SettlementsPageQuery)  # a download: a bad range is the 422 error page
    args = {"granularity": args.granularity, "first": args.first, "last": args.last, "video_id": args.video_id}
    rows = settlement_lines(figure_session(), seller_id, args["granularity"], args["first"], args["last"],
                            args["video_id"])
    first_row = next(rows, None)  # validates the arguments before the download starts

    def all_rows():  # type: ignore[no-untyped-def]
        for row in ([first_row] if first_row else []):
            yield _csv_line(row)
        for row in rows:
            yield _csv_line(row)

    name = f"settlements-{args['granularity']}-{args['first']}-{args['last']}.csv"
    return csv_response(name, ["period_start", "period_end", "video_id", "title", "views", "ad_views",
                               "video_amount_won", "ad_amount_won", "total_won"], all_rows())


def _csv_line(row: dict[str, Any]) -> list[Any]:
    return [row["period_start"], row["period_end"], row["video_id"], row["title"], row["views"], row["ad_views"],
            row["video_amount"], row["ad_amount"], row["total_amount"]]


@bp.get("/settlements/<int:video_id>/<day>")
@role_required(Role.SELLER)
@figures_from_replica
def receipt(video_id: int, day: str) -> ResponseReturnValue:
    """The arithmetic behind one line: a video-day's brackets, or a week's / month's days. To htmx
    the receipt dialog alone; opened directly, the settlement history with it open."""
    seller_id, _ = scope_seller()
    granularity = parse_query(queries.ReceiptQuery).granularity
    when = path_day(day)
    if granularity == "day":
        body = day_receipt(figure_session(), seller_id, video_id, when)
    else:
        body = period_receipt(figure_session(), seller_id, video_id, granularity, when)
    if _fragment_name({"receipt": "seller/_receipt.html"}):
        return _varied(render_template("seller/_receipt.html", receipt=body, tz_name=settings().timezone,
                                       close_url=_receipt_close_url()))
    return _settlements_page(body)


def _receipt_close_url() -> str:
    """Where closing a receipt leads: the settlement table it was opened from (its state rides on
    the receipt's URL)."""
    # Not parsing: the table's query string (already read by its model) copied into the link back.
    return url_for("seller_portal.settlements", **{k: v for k, v in request.args.items() if v})


# ---------------------------------------------------------------------------------- per video


def _video_range() -> tuple[date, date]:
    """The range of a per-video download (a bad range is the 422 error page there)."""
    query = parse_query(queries.SeriesQuery)
    return query.first, query.last


@bp.get("/videos/<int:video_id>/stats")
@role_required(Role.SELLER)
@figures_from_replica
def video_stats(video_id: int) -> ResponseReturnValue:
    """Daily series, view ledger (counted and filtered by reason), tier progress, restatements."""
    seller_id, _ = scope_seller()
    tz = settings().tz
    session, cache = figure_session(), figure_cache()
    query, range_error = _form_query(VideoPageQuery)
    if query.range is None:
        # No preset: a custom period of `from` / `to`, which default to the 30 days ending today, so
        # the page opens on today's live estimate (§10) as it always has, and the links of before work.
        query = query.model_copy(update={"range": "custom"})
    window, range_error = _checked_period(today(tz), query, range_error)
    first, last = window.first, window.last
    video = seller_video(session, seller_id, video_id)
    compare = comparison(session, cache, seller_id, window, tz, video_id=video_id)
    series = daily_series(session, cache, seller_id, first, last, tz, video_id)
    ledger = view_ledger(session, cache, seller_id, video_id, first, last, tz)
    restated = restatement_list(session, seller_id, first, last, video_id=video_id)  # flags the days shown
    state = {"range": window.preset, "from": first.isoformat(), "to": last.isoformat(),
             "seller_id": seller_id if current_user.is_admin else None}  # as scope_seller read it

    def period_url(preset: str) -> str:
        args = {**state, "range": preset}
        if preset != "custom":
            args.pop("from")
            args.pop("to")
        return url_for("seller_portal.video_stats", video_id=video_id, **{k: v for k, v in args.items() if v})

    page = _render("seller/video_stats.html", {"video-figures": "seller/_video_figures.html"},
                   video=video, series=series, ledger=ledger,
                   chart_json=charts.video_series_figure(series, settings().timezone,
                                                         previous=compare["previous_days"]),
                   compare=compare, state=state, presets=PRESET_LABELS, period_url=period_url,
                   progress=tier_progress(session, seller_id, tz, video_id=video_id),
                   restated=restatement_page(session, seller_id, video_id=video_id, per_page=DASHBOARD_RESTATEMENTS),
                   restated_days={r["day"] for r in restated},
                   first=first.isoformat(), last=last.isoformat(), tz_name=settings().timezone, range_error=range_error)
    return _with_status(page, range_error)


@bp.get("/videos/<int:video_id>/stats.csv")
@role_required(Role.SELLER)
@figures_from_replica
def video_stats_csv(video_id: int) -> ResponseReturnValue:
    seller_id, _ = scope_seller()
    first, last = _video_range()
    series = daily_series(figure_session(), figure_cache(), seller_id, first, last, settings().tz, video_id)
    rows = ([d["day"], d["status"], d["views"], d["watch_seconds"], d["ad_views"], d["video_amount"], d["ad_amount"],
             d["total_amount"]] for d in series["days"])
    return csv_response(f"video-{video_id}-{first}-{last}.csv",
                        ["day", "status", "views", "watch_seconds", "ad_views", "video_amount_won", "ad_amount_won",
                         "total_won"], rows)


@bp.get("/videos/<int:video_id>/ledger.csv")
@role_required(Role.SELLER)
@figures_from_replica
def ledger_csv(video_id: int) -> ResponseReturnValue:
    seller_id, _ = scope_seller()
    first, last = _video_range()
    ledger = view_ledger(figure_session(), figure_cache(), seller_id, video_id, first, last, settings().tz)
    rows = ([d["day"], d["started"], d["counted"], d["own_video"], d["repeat_within_30s"], d["avg_watch_seconds"]]
            for d in ledger["days"])
    return csv_response(f"video-{video_id}-ledger-{first}-{last}.csv",
                        ["day", "sessions_started", "counted", "filtered_own_video", "filtered_repeat_within_30s",
                         "avg_watch_seconds_per_view"], rows)


# ---------------------------------------------------------------------------------- restatements


@bp.get("/restatements")
@role_required(Role.SELLER)
@figures_from_replica
def restatements() -> ResponseReturnValue:
    """Every restatement of the caller's videos (one video with `video_id`), newest first, a page at
    a time, with titles, net changes and receipts (issue 21, item 7: the dashboard shows a few)."""
    seller_id, sellers = scope_seller()
    query = parse_query(queries.RestatementsQuery)
    restated = restatement_page(figure_session(), seller_id, first=query.first, last=query.last,
                                video_id=query.video_id, page=query.page, per_page=query.per_page)
    state = {"seller_id": seller_id, "video_id": query.video_id, "from": query.first, "to": query.last,
             "per_page": query.per_page if query.per_page != 50 else None}

    def link(**changes: Any) -> str:
        merged = {**state, **changes}
        return url_for("seller_portal.restatements", **{k: v for k, v in merged.items() if v is not None})

    return _render("seller/restatements.html", {"restatement-list": "seller/_restatement_list.html"},
                   restated=restated, state=state, link=link, sellers=sellers, seller_id=seller_id,
                   tz_name=settings().timezone)
