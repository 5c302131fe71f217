"""The period calendar's Python form and its SQL form agree (models/figures/period_calendar.py):
the batch groups its week and month rollups with the SQL, the portal reads them with the Python."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from models.db import make_engine
from models.figures.period_calendar import (
    month_starts,
    period_end,
    period_range,
    period_start,
    period_start_sql,
    periods_span,
    rollup_periods,
)
from models.figures.tables import PeriodKind, RollupPeriod
from models.sql_dialect import Dialect
from tests.support import create_mysql_database, drop_mysql_database

# Two years around a leap day, plus the ends of the calendar's range.
DAYS = [date(2023, 12, 1) + timedelta(days=i) for i in range(800)] + [date(1, 1, 1) + timedelta(days=7),
                                                                    date(9999, 12, 25)]


def _sql_starts(engine, kind: PeriodKind) -> list[date]:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        dialect = Dialect(conn)
        conn.execute(text("CREATE TEMPORARY TABLE calendar_days (n INTEGER, day DATE)"))
        conn.execute(text("INSERT INTO calendar_days (n, day) VALUES (:n, :day)"),
                     [{"n": i, "day": d.isoformat()} for i, d in enumerate(DAYS)])
        try:
            rows = conn.execute(text(f"SELECT {period_start_sql(dialect, kind, 'day')} FROM calendar_days ORDER BY n"))
            return [value if isinstance(value, date) else date.fromisoformat(value) for (value,) in rows]
        finally:
            conn.execute(text("DROP TEMPORARY TABLE calendar_days" if dialect.mysql else "DROP TABLE calendar_days"))


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def engine(request):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = create_engine("sqlite://")
        yield engine
        engine.dispose()
        return
    url = create_mysql_database("paysystem_calendar")  # an empty one: the test needs no tables of ours
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_mysql_database(url)


@pytest.mark.parametrize("kind", list(PeriodKind))
def test_sql_and_python_give_the_same_period_start(engine, kind: PeriodKind) -> None:  # type: ignore[no-untyped-def]
    assert _sql_starts(engine, kind) == [period_start(kind, d) for d in DAYS]


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    assert period_range(PeriodKind.WEEK, date(2024, 3, 3)) == (date(2024, 2, 26), date(2024, 3, 3))  # a Sunday
    assert period_range(PeriodKind.WEEK, date(2024, 3, 4)) == (date(2024, 3, 4), date(2024, 3, 10))  # a Monday
    assert period_range(PeriodKind.MONTH, date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_range(PeriodKind.DAY, date(2024, 2, 10)) == (date(2024, 2, 10), date(2024, 2, 10))
    assert periods_span("week", date(2024, 2, 28), date(2024, 3, 1)) == (date(2024, 2, 26), date(2024, 3, 3))
    assert period_end("month", date(2023, 12, 31)) == date(2023, 12, 31)
    assert month_starts(date(2023, 12, 31), date(2024, 2, 1)) == [date(2023, 12, 1), date(2024, 1, 1),
                                                                 date(2024, 2, 1)]
    assert rollup_periods(date(2024, 3, 1)) == [(RollupPeriod.WEEK, date(2024, 2, 26), date(2024, 3, 3)),
                                                (RollupPeriod.MONTH, date(2024, 3, 1), date(2024, 3, 31))]
    for day in DAYS[:400]:
        for kind in PeriodKind:
            start, end = period_range(kind, day)
            assert start <= day <= end and period_start(kind, end) == start
    with pytest.raises(ValueError):
        period_start("year", date(2024, 1, 1))
