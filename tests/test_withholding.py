"""§13 withholding: the spec's vectors, and random grosses against a plain recomputation."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.money.withholding import BUSINESS, INDIVIDUAL, withhold

VECTORS = [(10_000, 0, 0, 10_000), (33_333, 0, 0, 33_333), (33_334, 1_000, 100, 32_234),
           (123_456, 3_700, 370, 119_386), (1_000_000, 30_000, 3_000, 967_000)]


@pytest.mark.parametrize(("gross", "income", "local", "net"), VECTORS)
def test_spec_vectors(gross, income, local, net):
    result = withhold(gross, INDIVIDUAL)
    assert (result.income_tax, result.local_tax, result.net) == (income, local, net)


def _plain(gross: int) -> tuple[int, int]:
    """The rule read off the spec with decimals: 3 %, truncated to tens; 10 % of it, truncated."""
    ten = Decimal(10)
    income = (Decimal(gross) * Decimal("0.03") / ten).quantize(Decimal(1), rounding=ROUND_DOWN) * ten
    if income < 1000:
        return 0, 0
    local = (income * Decimal("0.1") / ten).quantize(Decimal(1), rounding=ROUND_DOWN) * ten
    return int(income), int(local)


@given(st.integers(min_value=0, max_value=10**13))
def test_individuals_match_a_plain_recomputation(gross):
    result = withhold(gross, INDIVIDUAL)
    assert (result.income_tax, result.local_tax) == _plain(gross)
    assert result.net == gross - result.income_tax - result.local_tax


@given(st.integers(min_value=0, max_value=10**13))
def test_businesses_have_nothing_withheld(gross):
    result = withhold(gross, BUSINESS)
    assert (result.income_tax, result.local_tax, result.net) == (0, 0, gross)


def test_negative_gross_is_refused():
    with pytest.raises(ValueError):
        withhold(-1)
