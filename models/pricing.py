"""Which price plan is in force on a day, and the §9 bracket arithmetic in Python.

The batch computes amounts in SQL for whole partitions at once; this module is the
readable version the portal uses to show a seller the arithmetic behind one line
(bracket by bracket), so both must follow the same rule: units numbered
`before + 1 … before + units`, each bracket floored to whole won, then summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.settlement import RATE_SCALE, PricePlan, PriceTier


class NoPlanInForce(LookupError):
    """No price plan is effective on the day: settling it would invent prices."""


def plan_in_force(session: Session, day: date) -> PricePlan:
    plan = session.scalar(
        select(PricePlan)
        .where(PricePlan.effective_from <= day)
        .order_by(PricePlan.effective_from.desc())
        .limit(1)
        .options(selectinload(PricePlan.tiers))
    )
    if plan is None:
        raise NoPlanInForce(f"no price plan is in force on {day.isoformat()}")
    return plan


@dataclass(frozen=True)
class BracketLine:
    """One bracket's share of a day's units: `units` priced at `rate_e4` / 10,000 won."""

    from_unit: int
    to_unit: int | None
    units: int
    rate_e4: int
    amount: int


def bracket_lines(tiers: list[PriceTier], units: int, before: int = 0, *, ad: bool = False) -> list[BracketLine]:
    """The brackets that units `before + 1 … before + units` fall into, with their floored amounts."""
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


def amount(tiers: list[PriceTier], units: int, before: int = 0, *, ad: bool = False) -> int:
    return sum(line.amount for line in bracket_lines(tiers, units, before, ad=ad))
