"""Withholding on a payout (SPEC §13), in whole won and integer arithmetic only.

Individuals: income tax = 3 % of the gross truncated to a multiple of 10 won; local income
tax = 10 % of the income tax truncated to a multiple of 10 won; both 0 when the income tax
is under 1,000 won. Registered businesses: nothing withheld. This module is the one home
of that rule: payout runs and any page showing a payout call `withhold`.
"""

from __future__ import annotations

from dataclasses import dataclass

INDIVIDUAL = "individual"
BUSINESS = "business"
# Under this the income tax (and with it the local tax) is not withheld at all.
MINIMUM_INCOME_TAX_WON = 1_000


@dataclass(frozen=True)
class Withholding:
    gross: int
    income_tax: int
    local_tax: int

    @property
    def net(self) -> int:
        return self.gross - self.income_tax - self.local_tax


def _truncate_to_ten(won: int) -> int:
    return won // 10 * 10


def withhold(gross: int, kind: str = INDIVIDUAL) -> Withholding:
    """The taxes withheld from a payout of `gross` won to a payee of `kind`."""
    if gross < 0:
        raise ValueError("a payout cannot be negative")
    if kind == BUSINESS:
        return Withholding(gross, 0, 0)
    if kind != INDIVIDUAL:
        raise ValueError(f"unknown payee kind {kind!r}")
    income = _truncate_to_ten(gross * 3 // 100)
    if income < MINIMUM_INCOME_TAX_WON:
        return Withholding(gross, 0, 0)
    return Withholding(gross, income, _truncate_to_ten(income // 10))
