"""§9 pricing, its one home (models/money/pricing.py): the SQL form and the Python form of the
bracket rule agree on random plans (hypothesis) and both give the §9 vectors; the rule of
which plan applies on a day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text

from models.money.pricing import Plan, Tier, amount, in_force_on, plan_spans, price_sql
from models.money.settlement import PricingBasis
from models.sql_dialect import Dialect
from tests.batch_support import DEFAULT_TIERS

TIERS = [Tier(*t) for t in DEFAULT_TIERS]
VECTORS = [(99_999, 99_999, 999_990), (100_000, 100_000, 1_000_000), (100_009, 100_009, 1_000_108),
           (150_000, 155_000, 1_600_000), (1_200_000, 1_490_000, 17_300_000)]


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def sql_engine(request, engine) -> Engine:  # type: ignore[no-untyped-def]
    return engine if request.param == "mariadb" else create_engine("sqlite://")


def sql_amount(engine: Engine, tiers: list[Tier], units: int, before: int, ad: bool) -> int:
    """The SQL form evaluated by the database, with the row's figures as bound values."""
    with engine.connect() as conn:
        params: dict = {"units": units, "before": before}
        expr = price_sql(Dialect(conn), tiers, "(:before)", "(:units)", ad, params, "p")
        return int(conn.execute(text(f"SELECT {expr}"), params).scalar_one())


@pytest.mark.parametrize(("units", "video_amount", "ad_amount"), VECTORS)
def test_both_forms_give_the_spec_vectors(sql_engine, units, video_amount, ad_amount):
    assert amount(TIERS, units) == sql_amount(sql_engine, TIERS, units, 0, False) == video_amount
    assert amount(TIERS, units, ad=True) == sql_amount(sql_engine, TIERS, units, 0, True) == ad_amount


def test_both_forms_give_the_lifetime_vector(sql_engine):
    assert amount(TIERS, 600_000, 550_000) == sql_amount(sql_engine, TIERS, 600_000, 550_000, False) == 810_000


@st.composite
def plans(draw) -> list[Tier]:  # type: ignore[no-untyped-def]
    """Contiguous brackets from unit 1, the last one open-ended, with any rates."""
    widths = draw(st.lists(st.integers(1, 2_000_000), min_size=0, max_size=4))
    tiers, start = [], 1
    for width in widths:
        tiers.append(Tier(start, start + width - 1, draw(st.integers(0, 300_000)), draw(st.integers(0, 300_000))))
        start += width
    tiers.append(Tier(start, None, draw(st.integers(0, 300_000)), draw(st.integers(0, 300_000))))
    return tiers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tiers=plans(), units=st.integers(0, 5_000_000), before=st.integers(0, 5_000_000), ad=st.booleans())
def test_the_sql_form_and_the_python_form_agree(sql_engine, tiers, units, before, ad):
    assert sql_amount(sql_engine, tiers, units, before, ad) == amount(tiers, units, before, ad=ad)


def test_the_plan_in_force_is_the_latest_effective_on_or_before_the_day():
    day = date(2026, 3, 1)
    first = Plan(1, PricingBasis.DAILY, day)
    second = Plan(2, PricingBasis.LIFETIME, day + timedelta(days=10))
    assert plan_spans([first, second], day - timedelta(days=5), day - timedelta(days=1)) == []
    assert plan_spans([first, second], day + timedelta(days=9), day + timedelta(days=9)) == [
        (first, day + timedelta(days=9), day + timedelta(days=9))]
    assert plan_spans([first, second], day + timedelta(days=10), day + timedelta(days=10)) == [
        (second, day + timedelta(days=10), day + timedelta(days=10))]
    assert plan_spans([first, second], day) == [(first, day, day + timedelta(days=9)),
                                                (second, day + timedelta(days=10), None)]


@given(st.sets(st.integers(0, 60), max_size=6), st.integers(-5, 70))
def test_the_one_day_form_of_the_plan_rule_agrees_with_the_spans(offsets, offset):
    """`in_force_on` (used where one day's plan is wanted: data status, used plans) picks the plan
    whose span covers the day, and nothing before the first plan."""
    start = date(2026, 1, 1)
    plans = [Plan(i, PricingBasis.DAILY, start + timedelta(days=o)) for i, o in enumerate(sorted(offsets), 1)]
    day = start + timedelta(days=offset)
    covering = [plan for plan, first, last in plan_spans(plans, day, day)]
    chosen = in_force_on(plans, day)
    assert covering == ([chosen] if chosen is not None else [])
