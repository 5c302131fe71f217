"""Read endpoints of the statistics and settlements (`/api/v1`): the same query functions as
the pages, validated and shaped by the pydantic models in `portal/api/stats_schemas.py`.

Sellers see their own videos only (another seller's video is 404, a list is empty);
admins see the platform or, with `seller_id`, one seller; viewers get 403.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError

from models import Role
from models.business_time import today
from models.seller_figures import (
    FigureError,
    cards,
    daily_series,
    day_receipt,
    period_receipt,
    restatement_list,
    settlement_table,
    tier_progress,
    top5,
    view_ledger,
)
from models.stats import Metric, PeriodKind
from portal.api import stats_schemas as schema
from portal.api.auth import api_auth, current_api_user
from portal.api.blueprint import api_bp
from portal.database import db_session
from portal.errors import api_error
from portal.figures import figure_cache
from portal.settings import settings

Q = TypeVar("Q", bound=BaseModel)


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _query(model: type[Q], **extra: Any) -> Q:
    """The query string validated by `model`; a 422 with the first problem otherwise."""
    try:
        return model.model_validate({**request.args.to_dict(), **extra})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        raise _Invalid(f"{where}: {first['msg']}") from None


def _seller(query: schema._Query) -> int | None:
    """Sellers are always scoped to themselves; admins choose (None: platform-wide)."""
    user = current_api_user()
    return query.seller_id if user.role == Role.ADMIN else user.id


def _answer(model: type[BaseModel], body: dict[str, Any]) -> ResponseReturnValue:
    return jsonify(model.model_validate(body).model_dump(mode="json"))


def _refusal(exc: FigureError) -> ResponseReturnValue:
    if exc.kind == "not_found":
        return api_error(404, exc.code, exc.message)
    return api_error(422, exc.code, exc.message)


def _handled(view):  # type: ignore[no-untyped-def]
    """Map validation and figure errors to the API's error shape."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            return view(*args, **kwargs)
        except _Invalid as exc:
            return api_error(422, "invalid_request", exc.message)
        except FigureError as exc:
            return _refusal(exc)

    return wrapped


@api_bp.get("/stats/summary")
@api_auth(Role.SELLER)
@_handled
def stats_summary() -> ResponseReturnValue:
    """Yesterday's and month-to-date cards with their changes, and tier progress."""
    query = _query(schema.SummaryQuery)
    seller_id, tz = _seller(query), settings().tz
    body = cards(db_session(), figure_cache(), seller_id, tz)
    return _answer(schema.Summary, {**body, "timezone": settings().timezone,
                                    "tier_progress": tier_progress(db_session(), seller_id, tz)})


@api_bp.get("/stats/top5")
@api_auth(Role.SELLER)
@_handled
def stats_top5() -> ResponseReturnValue:
    query = _query(schema.Top5Query)
    tz = settings().tz
    day = query.day or today(tz) - timedelta(days=1)
    return _answer(schema.Top5, top5(db_session(), figure_cache(), _seller(query), Metric(query.metric),
                                     PeriodKind(query.period), day, tz))


@api_bp.get("/settlements")
@api_auth(Role.SELLER)
@_handled
def settlements_list() -> ResponseReturnValue:
    query = _query(schema.SettlementsQuery)
    return _answer(schema.SettlementPage, settlement_table(
        db_session(), figure_cache(), _seller(query), query.granularity, query.first, query.last, settings().tz,
        video_id=query.video_id, sort=query.sort, descending=query.direction == "desc", page=query.page,
        per_page=query.per_page))


@api_bp.get("/settlements/<int:video_id>/<day>")
@api_auth(Role.SELLER)
@_handled
def settlement_receipt(video_id: int, day: str) -> ResponseReturnValue:
    """The arithmetic of a video-day (brackets) or, with granularity week/month, its days."""
    query = _query(schema.ReceiptQuery)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise _Invalid(f"day: must be a date like 2026-03-01, got {day[:40]!r}") from None
    if query.granularity == "day":
        return _answer(schema.DayReceipt, day_receipt(db_session(), _seller(query), video_id, when))
    return _answer(schema.PeriodReceipt, period_receipt(db_session(), _seller(query), video_id, query.granularity,
                                                        when))


def _last_30_days() -> dict[str, str]:
    """`from` / `to` as given, by default the 30 days ending today (business time)."""
    current = today(settings().tz)
    defaults = {"from": (current - timedelta(days=29)).isoformat(), "to": current.isoformat()}
    return {k: request.args.get(k, v) for k, v in defaults.items()}


@api_bp.get("/videos/<int:video_id>/stats")
@api_auth(Role.SELLER)
@_handled
def video_stats(video_id: int) -> ResponseReturnValue:
    query = _query(schema.SeriesQuery, **_last_30_days())
    return _answer(schema.Series, daily_series(db_session(), figure_cache(), _seller(query), query.first, query.last,
                                               settings().tz, video_id))


@api_bp.get("/videos/<int:video_id>/ledger")
@api_auth(Role.SELLER)
@_handled
def video_ledger(video_id: int) -> ResponseReturnValue:
    query = _query(schema.SeriesQuery, **_last_30_days())
    return _answer(schema.Ledger, view_ledger(db_session(), figure_cache(), _seller(query), video_id, query.first,
                                              query.last, settings().tz))


@api_bp.get("/restatements")
@api_auth(Role.SELLER)
@_handled
def restatements() -> ResponseReturnValue:
    """Every restatement of the caller's videos, newest first (empty for another seller's video)."""
    query = _query(schema.RestatementsQuery)
    items = restatement_list(db_session(), _seller(query), query.first, query.last, query.video_id)
    return _answer(schema.RestatementList, {"items": items})
