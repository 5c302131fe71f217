"""§9 money rules, one home: which price plan applies on a day, and how brackets price units.

Each rule is here in its two forms, side by side:

- *which plan applies on day D*: the plan with the latest `effective_from` on or before D,
  in force until the day before the next plan's date. `plan_spans` is the rule over a
  sorted list of plans; `plans_in_force` / `plan_for_day` read the plans (one query, any
  range of days) and apply it. The batch and every page call these.
- *how brackets price `units` units numbered from `before` + 1*: each unit is priced at the
  rate of the bracket it falls in, each bracket's share floored to whole won, then summed.
  `bracket_lines` / `amount` are the Python form (the portal shows a seller the arithmetic
  behind a line, bracket by bracket); `price_sql` is the SQL form the batch evaluates for a
  whole partition at once. tests/test_pricing.py checks with hypothesis that they agree, and
  both against the §9 vectors.

Rates are integers in ten-thousandths of a won (`RATE_SCALE`), so both forms are exact
integer arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session, SessionTransaction, selectinload

from models.money.settlement import RATE_SCALE, PricePlan, PricingBasis
from models.sql_dialect import Dialect


@dataclass(frozen=True)
class Plan:
    id: int
    basis: PricingBasis
    effective_from: date


class TierLike(Protocol):
    """A bracket: units `from_unit` … `to_unit` (open-ended when None) at these rates.

    `PriceTier` rows and `Tier` tuples both are.
    """

    @property
    def from_unit(self) -> int: ...
    @property
    def to_unit(self) -> int | None: ...
    @property
    def view_rate_e4(self) -> int: ...
    @property
    def ad_rate_e4(self) -> int: ...


@dataclass(frozen=True)
class Tier:
    from_unit: int
    to_unit: int | None
    view_rate_e4: int
    ad_rate_e4: int


# ------------------------------------------------------------------ which plan applies on day D


def plan_spans(plans: list[Plan], first: date, last: date | None = None) -> list[tuple[Plan, date, date | None]]:
    """The rule over `plans` sorted by `effective_from`: each plan covering part of `first` …
    `last` (open when None), with the days it covers there."""
    spans: list[tuple[Plan, date, date | None]] = []
    for index, plan in enumerate(plans):
        until = plans[index + 1].effective_from - timedelta(days=1) if index + 1 < len(plans) else None
        start = max(plan.effective_from, first)
        end = until if last is None else (last if until is None else min(until, last))
        if end is not None and end < start:
            continue
        spans.append((plan, start, end))
    return spans


class Dated(Protocol):
    @property
    def effective_from(self) -> date: ...


D = TypeVar("D", bound=Dated)


def in_force_on(plans: Sequence[D], day: date) -> D | None:
    """The rule for one day over plans sorted by `effective_from` (plans, rows, anything dated):
    the latest that took effect on or before `day`; None before the first."""
    chosen = None
    for plan in plans:
        if plan.effective_from > day:
            break
        chosen = plan
    return chosen


def plans_in_force(conn: Connection, first: date, last: date | None = None) -> list[tuple[Plan, date, date | None]]:
    """The plans covering `first` … `last` (open when None), each with the days it covers there."""
    rows = conn.execute(
        text("SELECT id, basis, effective_from FROM price_plans ORDER BY effective_from")
    ).all()
    plans = [Plan(int(r.id), PricingBasis(r.basis), as_date(r.effective_from)) for r in rows]
    return plan_spans(plans, first, last)


def plan_for_day(conn: Connection, day: date) -> Plan | None:
    """The plan in force on `day`, or None when no plan is effective yet (settling would invent prices)."""
    spans = plans_in_force(conn, day, day)
    return spans[0][0] if spans else None


_PLAN_ROWS = "paysystem.plan_rows"  # session.info: {day: plan row} of the current transaction


def plan_row_for_day(session: Session, day: date) -> PricePlan | None:
    """The plan in force on `day` as its ORM row with its brackets, for pages that show a
    seller the plan behind a figure; the rule itself is `plan_for_day`'s.

    Remembered for the rest of the session's transaction (a dashboard asks for today's plan
    twice: three queries each); the memo ends with the transaction, so a plan created and
    committed since is seen by the next one."""
    memo = session.info.setdefault(_PLAN_ROWS, {})
    if day not in memo:
        plan = plan_for_day(session.connection(), day)
        memo[day] = None if plan is None else session.get(PricePlan, plan.id, options=[selectinload(PricePlan.tiers)])
    return memo[day]


@event.listens_for(Session, "after_transaction_end")
def _forget_plan_rows(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PLAN_ROWS, None)


def as_date(value: object) -> date:
    """A DATE column's value as a date (SQLite's text SQL returns it as a string)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def tiers_of(conn: Connection, plan_id: int) -> list[Tier]:
    return [Tier(*r) for r in conn.execute(text(
        "SELECT from_unit, to_unit, view_rate_e4, ad_rate_e4 FROM price_tiers WHERE plan_id = :p ORDER BY position"
    ), {"p": plan_id})]


# ------------------------------------------- how brackets price units numbered from before + 1


@dataclass(frozen=True)
class BracketLine:
    """One bracket's share of a day's units: `units` priced at `rate_e4` / 10,000 won."""

    from_unit: int
    to_unit: int | None
    units: int
    rate_e4: int
    amount: int


def bracket_lines(tiers: list[TierLike], units: int, before: int = 0, *, ad: bool = False) -> list[BracketLine]:
    """Python form: the brackets that units `before + 1 … before + units` fall into, with their
    floored amounts."""
    if units < 0 or before < 0:
        raise ValueError("units and units before the day cannot be negative")
    first, last = before + 1, before + units
    lines: list[BracketLine] = []
    for tier in sorted(tiers, key=lambda t: t.from_unit):
        top = last if tier.to_unit is None else min(last, tier.to_unit)
        count = top - max(first, tier.from_unit) + 1
        if count <= 0:
            continue
        rate = tier.ad_rate_e4 if ad else tier.view_rate_e4
        lines.append(BracketLine(tier.from_unit, tier.to_unit, count, rate, count * rate // RATE_SCALE))
    return lines


def amount(tiers: list[TierLike], units: int, before: int = 0, *, ad: bool = False) -> int:
    """Python form: the whole-won amount of `units` units numbered from `before` + 1."""
    return sum(line.amount for line in bracket_lines(tiers, units, before, ad=ad))


def price_sql(d: Dialect, tiers: list[TierLike], before: str, units: str, ad: bool, params: dict,
              prefix: str) -> str:
    """SQL form: a scalar expression pricing `units` units numbered from `before` + 1 (both SQL
    expressions of the row); each bracket's units times its rate, floored, summed.

    The plan's few brackets become bound parameters (added to `params` under `prefix`), so
    pricing a row needs no join.
    """
    terms = []
    for i, tier in enumerate(tiers):
        params[f"{prefix}lo{i}"] = tier.from_unit
        params[f"{prefix}r{i}"] = tier.ad_rate_e4 if ad else tier.view_rate_e4
        last = f"({before} + {units})"
        if tier.to_unit is not None:
            params[f"{prefix}hi{i}"] = tier.to_unit
            last = d.least(f":{prefix}hi{i}", last)
        count = d.greatest(f"{last} - {d.greatest(f':{prefix}lo{i}', f'{before} + 1')} + 1", "0")
        terms.append(d.idiv(f"{count} * :{prefix}r{i}", RATE_SCALE))
    return " + ".join(terms) if terms else "0"
