"""The portal's memo of day statuses (issue 11): the same answer as `day_statuses`, asked of
the database at most once per TTL, and again as soon as the TTL is over."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event

from models.business_time import today
from models.figures.data_status import day_statuses
from models.figures.status_memo import StatusMemo

TZ = ZoneInfo("Asia/Seoul")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Asked:
    """Counts the status queries (the grouped MAX over play_sessions) sent on `engine`."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.count, self.engine = 0, engine

    def __enter__(self) -> Asked:
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        self.count += "play_sessions" in statement


def test_statuses_are_kept_for_the_ttl_and_no_longer(db, engine):
    clock = Clock()
    memo = StatusMemo(5, clock=clock)
    current = today(TZ)
    first, last = current - timedelta(days=3), current
    exact = {d: s.status.value for d, s in day_statuses(db, first, last, TZ).items()}
    with Asked(engine) as asked:
        assert memo.statuses(db, first, last, TZ) == exact
        assert exact[current] == "live" and exact[first] != "final"
        assert asked.count == 1
        clock.now += 4.9
        kept = memo.statuses(db, first, last, TZ)
        kept[first] = "final"  # a copy: a caller cannot change what others are told
        assert memo.statuses(db, first, last, TZ) == exact
        assert asked.count == 1
        assert memo.statuses(db, first, last - timedelta(days=1), TZ) != exact  # another range, its own entry
        assert asked.count == 2
        clock.now += 0.2  # past the bound: asked again
        assert memo.statuses(db, first, last, TZ) == exact
        assert asked.count == 3


def test_a_zero_ttl_asks_every_time(db, engine):
    memo = StatusMemo(0)
    current = today(TZ)
    with Asked(engine) as asked:
        assert memo.statuses(db, current, current, TZ) == {current: "live"}
        assert memo.statuses(db, current, current, TZ) == {current: "live"}
        assert asked.count == 2


def test_the_plan_row_of_a_day_is_read_once_per_transaction(db, engine):
    """A dashboard asks for today's plan twice (live estimate, tier progress): one read per
    transaction, forgotten when it ends."""
    from models.money.pricing import plan_row_for_day

    class PlanQueries(Asked):
        def _note(self, conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            self.count += "FROM price_plans" in statement

    current = today(TZ)
    db.rollback()
    with PlanQueries(engine) as asked:
        first = plan_row_for_day(db, current)
        once = asked.count
        assert once >= 1
        assert plan_row_for_day(db, current) is first
        assert asked.count == once
        db.rollback()  # the transaction ends: the next one reads again (a new plan may exist)
        plan_row_for_day(db, current)
        assert asked.count > once
