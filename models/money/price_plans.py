"""Managing effective-dated price plans (§9, issue 12): list, create, edit, delete.

The rules every plan obeys, checked here for the page and the API alike:
- a name, a basis (daily / lifetime) and an effective date, one plan per date;
- brackets contiguous from unit 1 and ascending, only the last one open-ended;
- per-view and per-ad-view rates non-negative won with at most 4 decimals;
- a plan a computed day already used (a settlement row priced with it, or a succeeded run
  of a day it is in force on) is immutable: it can only be superseded by a later plan.

Which plan is in force on a day, and the bracket arithmetic, stay in `models.money.pricing`; a
plan dated in the past makes the computed days it now covers stale
(`models.figures.data_status.day_statuses`), and a re-run re-prices them.

Service functions are units of work: they commit, or raise PlanError having changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.base import utcnow
from models.batch.tables import BatchRun, RunState
from models.business_time import today
from models.errors import DomainError
from models.figures.data_status import day_statuses
from models.figures.date_window import DateOutOfRange, DayWindow
from models.money.pricing import in_force_on, plans_in_force
from models.money.settlement import (
    PricePlan,
    PriceTier,
    PricingBasis,
    VideoDailySettlement,
    rate_to_scaled,
)

MAX_RATE = Decimal(1_000_000)  # won per unit: beyond any real price, far from BIGINT overflow
MAX_UNIT = 10**15
MAX_BRACKETS = 20
NAME_LENGTH = 100


class PlanError(DomainError, ValueError):
    """A plan request that cannot be honoured (`invalid`, `conflict`, `not_found`); `code` is stable
    for clients; the message is safe to show."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message, kind=kind, code=code)


@dataclass(frozen=True)
class Bracket:
    from_unit: int
    to_unit: int | None
    view_rate: Decimal
    ad_rate: Decimal


@dataclass(frozen=True)
class PlanInput:
    name: str
    basis: PricingBasis
    effective_from: date
    brackets: list[Bracket]


def _invalid(code: str, message: str) -> PlanError:
    return PlanError("invalid", code, message)


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise _invalid("invalid_bracket", f"{what} must be a whole number")
    try:
        number = int(str(value).strip().replace(",", ""))
    except (TypeError, ValueError):
        raise _invalid("invalid_bracket", f"{what} must be a whole number, got {str(value)[:30]!r}") from None
    if not 1 <= number <= MAX_UNIT:
        raise _invalid("invalid_bracket", f"{what} must be between 1 and {MAX_UNIT:,}")
    return number


def _rate(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise _invalid("invalid_rate", f"{what} must be a number of won")
    if isinstance(value, float):
        value = repr(value)  # the shortest text of the JSON number, e.g. 1.1, not 1.100000000000000088
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise _invalid("invalid_rate", f"{what} must be a number of won, got {str(value)[:30]!r}") from None
    if not rate.is_finite() or rate < 0:
        raise _invalid("invalid_rate", f"{what} cannot be negative")
    if rate > MAX_RATE:
        raise _invalid("invalid_rate", f"{what} cannot exceed {MAX_RATE:,} won")
    try:
        rate_to_scaled(rate)
    except ValueError:
        raise _invalid("invalid_rate", f"{what} has more than 4 decimal places ({value})") from None
    return rate


def parse_plan(name: Any, basis: Any, effective_from: Any, brackets: Any, *, window: DayWindow) -> PlanInput:
    """Check a plan as sent by the page or the API; PlanError names the first broken rule.

    `window` is the app's date window (`models.figures.date_window.day_window(settings)`): a plan dated
    year 1 or 9999 was accepted, and pricing a day under it (or listing the days it makes
    stale) overflowed."""
    if not isinstance(name, str) or not name.strip():
        raise _invalid("invalid_name", "the plan needs a name")
    if len(name.strip()) > NAME_LENGTH:
        raise _invalid("invalid_name", f"the name is longer than {NAME_LENGTH} characters")
    if basis not in {b.value for b in PricingBasis}:
        raise _invalid("invalid_basis", "basis must be 'daily' or 'lifetime'")
    if isinstance(effective_from, date):
        effective = effective_from
    else:
        try:
            effective = date.fromisoformat(str(effective_from).strip())
        except ValueError:
            raise _invalid("invalid_date", f"the effective date must be YYYY-MM-DD, got {str(effective_from)[:30]!r}") \
                from None
    try:
        window.check(effective, "the effective date")
    except DateOutOfRange as exc:
        raise _invalid("invalid_date", exc.message.rstrip(".")) from None
    if not isinstance(brackets, list) or not brackets:
        raise _invalid("invalid_brackets", "the plan needs at least one bracket")
    if len(brackets) > MAX_BRACKETS:
        raise _invalid("invalid_brackets", f"a plan has at most {MAX_BRACKETS} brackets")
    parsed: list[Bracket] = []
    for number, raw in enumerate(brackets, start=1):
        if not isinstance(raw, dict):
            raise _invalid("invalid_bracket", f"bracket {number} must be an object")
        last = number == len(brackets)
        start = _whole(raw.get("from_unit"), f"bracket {number}'s first unit")
        top = raw.get("to_unit")
        end = None if top is None or str(top).strip() == "" else _whole(top, f"bracket {number}'s last unit")
        expected = 1 if number == 1 else (parsed[-1].to_unit or 0) + 1
        if start != expected:
            raise _invalid("brackets_not_contiguous",
                           f"bracket {number} must start at unit {expected:,}"
                           + (" (brackets start at 1)" if number == 1 else " (right after the previous bracket)"))
        if end is None and not last:
            raise _invalid("open_bracket_not_last", f"only the last bracket can be open-ended, not bracket {number}")
        if end is not None and last:
            raise _invalid("last_bracket_closed", "the last bracket must be open-ended (no last unit)")
        if end is not None and end < start:
            raise _invalid("brackets_not_ascending", f"bracket {number} ends ({end:,}) before it starts ({start:,})")
        parsed.append(Bracket(start, end, _rate(raw.get("view_rate"), f"bracket {number}'s rate per view"),
                              _rate(raw.get("ad_rate"), f"bracket {number}'s rate per ad view")))
    return PlanInput(name.strip(), PricingBasis(basis), effective, parsed)


def list_plans(session: Session) -> list[PricePlan]:
    return list(session.scalars(select(PricePlan).order_by(PricePlan.effective_from.desc())
                                .options(selectinload(PricePlan.tiers))))


def get_plan(session: Session, plan_id: int) -> PricePlan:
    plan = session.scalar(select(PricePlan).where(PricePlan.id == plan_id).options(selectinload(PricePlan.tiers)))
    if plan is None:
        raise PlanError("not_found", "not_found", f"there is no price plan {plan_id}")
    return plan


def plan_span(session: Session, plan: PricePlan) -> tuple[date, date | None]:
    """The days `plan` is in force on (the rule is models.money.pricing's)."""
    for spanned, first, last in plans_in_force(session.connection(), plan.effective_from):
        if spanned.id == plan.id:
            return first, last
    return plan.effective_from, plan.effective_from - timedelta(days=1)  # superseded on its own date: never


def used_plan_ids(session: Session) -> set[int]:
    """Plans a computed day used: they priced a settlement row, or a run that succeeded on a
    day they are in force on started after they were created (a day without settlements)."""
    used = set(session.scalars(select(VideoDailySettlement.plan_id).distinct()))
    runs = session.execute(select(BatchRun.day, func.max(BatchRun.started_at))
                           .where(BatchRun.state == RunState.SUCCEEDED).group_by(BatchRun.day)).all()
    if runs:
        plans = sorted(session.execute(select(PricePlan.effective_from, PricePlan.id, PricePlan.created_at)).all())
        for day, started in runs:
            plan = in_force_on(plans, day)
            if plan is not None and started is not None and started >= plan.created_at:
                used.add(plan.id)
    return used


def is_used(session: Session, plan: PricePlan) -> bool:
    if session.scalar(select(exists().where(VideoDailySettlement.plan_id == plan.id))):
        return True
    first, last = plan_span(session, plan)
    condition = [BatchRun.state == RunState.SUCCEEDED, BatchRun.day >= first, BatchRun.started_at >= plan.created_at]
    if last is not None:
        condition.append(BatchRun.day <= last)
    return bool(session.scalar(select(exists().where(*condition))))


def _tiers(brackets: list[Bracket]) -> list[PriceTier]:
    return [PriceTier(position=i, from_unit=b.from_unit, to_unit=b.to_unit, view_rate_e4=rate_to_scaled(b.view_rate),
                      ad_rate_e4=rate_to_scaled(b.ad_rate)) for i, b in enumerate(brackets, start=1)]


def _date_taken(session: Session, effective: date, plan_id: int | None = None) -> None:
    query = select(PricePlan.id).where(PricePlan.effective_from == effective)
    other = session.scalar(query)
    if other is not None and other != plan_id:
        raise PlanError("conflict", "date_taken",
                        f"plan {other} already takes effect on {effective.isoformat()}; one plan per date")


def _commit(session: Session, effective: date) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another admin saved a plan for the same date a moment earlier
        raise PlanError("conflict", "date_taken",
                        f"a plan already takes effect on {effective.isoformat()}; one plan per date") from None


def create_plan(session: Session, data: PlanInput, created_by: int | None = None) -> PricePlan:
    _date_taken(session, data.effective_from)
    plan = PricePlan(name=data.name, basis=data.basis, effective_from=data.effective_from, created_at=utcnow(),
                     created_by=created_by, tiers=_tiers(data.brackets))
    session.add(plan)
    _commit(session, data.effective_from)
    return plan


def _unused(session: Session, plan: PricePlan, verb: str) -> None:
    if is_used(session, plan):
        raise PlanError("conflict", "plan_in_use",
                        f"plan {plan.id} already priced computed days, so it cannot be {verb}; "
                        "create a later plan to supersede it")


def update_plan(session: Session, plan_id: int, data: PlanInput) -> PricePlan:
    """Replace an unused plan's name, basis, date and brackets. Its creation time becomes now,
    so days it newly covers are judged against this version (data status)."""
    plan = get_plan(session, plan_id)
    _unused(session, plan, "edited")
    _date_taken(session, data.effective_from, plan.id)
    plan.name, plan.basis, plan.effective_from, plan.created_at = data.name, data.basis, data.effective_from, utcnow()
    plan.tiers.clear()
    session.flush()
    plan.tiers.extend(_tiers(data.brackets))
    _commit(session, data.effective_from)
    return plan


def delete_plan(session: Session, plan_id: int) -> None:
    plan = get_plan(session, plan_id)
    _unused(session, plan, "deleted")
    session.delete(plan)
    session.commit()


def plan_payload(plan: PricePlan, used: bool) -> dict[str, Any]:
    """A plan as the API shows it: rates as exact decimal strings."""
    return {
        "id": plan.id, "name": plan.name, "basis": plan.basis.value,
        "effective_from": plan.effective_from.isoformat(), "created_at": plan.created_at.isoformat(),
        "used": used,
        "brackets": [{"from_unit": t.from_unit, "to_unit": t.to_unit, "view_rate": format(t.view_rate.normalize(), "f"),
                      "ad_rate": format(t.ad_rate.normalize(), "f")} for t in plan.tiers],
    }


def stale_days(session: Session, plan: PricePlan, tz: ZoneInfo) -> list[date]:
    """The computed days `plan` now covers that were priced before it existed: the days a
    backfill must re-price (empty for a plan dated today or later)."""
    first, last = plan_span(session, plan)
    yesterday = today(tz) - timedelta(days=1)
    last = min(last, yesterday) if last is not None else yesterday
    if last < first:
        return []
    return [d.day for d in day_statuses(session, first, last, tz).values() if d.plan_changed]
