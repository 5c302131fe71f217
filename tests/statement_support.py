"""A §13 money scene for the page, API and browser tests: a month (February 2026) of real
batch output finalized, one seller paid (payout sent and marked paid), one carried below the
threshold, one carried without payout details, and a seller without any statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from models import User
from models.accounts.passwords import hash_password
from models.money.payout_details import DetailsInput, account_cipher, set_payout_details
from models.money.payouts import create_payout_run, import_results, transfer_file
from models.money.statements import finalize_month
from settings import Settings
from tests.batch_support import Backend, World, add_plan
from tests.mail_support import Inbox, smtp_server
from tests.money_support import month_world, reset, run_month
from tests.support import TEST_PASSWORD, unique_email

FEB = date(2026, 2, 1)
RICH_PLAN = [(1, None, 10_000_000, 50_000_000)]  # 1,000 won a view, 5,000 won an ad view
ACCOUNT = "110-123-456789"
DETAILS = DetailsInput(legal_name="김민수", kind="individual", bank_code="088", account_number=ACCOUNT,
                       holder_name="김민수")


@dataclass
class MoneyScene:
    settings: Settings  # the backend's, with the scene's payout threshold
    paid: User
    below: User  # carried: below the threshold
    no_details: User  # carried: no payout details
    stranger: User  # a seller without any statement
    admin: User
    earnings: dict[int, int]  # from the final statements
    run_id: int


def cipher(settings: Settings):  # type: ignore[no-untyped-def]
    return account_cipher(settings.payout_details_keys, settings.secret_key)


def _new_user(conn, role: str, name: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(insert(User).values(email=unique_email(role), display_name=name, role=role, is_active=True,
                                            password_hash=hash_password(TEST_PASSWORD))).inserted_primary_key[0]


def money_scene(backend: Backend, *, pay: bool = True, finalize: bool = True) -> MoneyScene:
    """Build the scene on `backend` (emptied first). With `pay=False` the month has no payout
    run yet; with `finalize=False` it is not even final (every day of it is)."""
    reset(backend)
    world = World()
    add_plan(backend.engine, world, date(2026, 1, 1), "daily", RICH_PLAN)
    _, sellers = month_world(backend, [FEB], sellers=3, videos=6, sessions_per_month=90)
    run_month(backend, FEB)
    with backend.engine.begin() as conn:
        conn.execute(text("UPDATE users SET password_hash = :h"), {"h": hash_password(TEST_PASSWORD)})
        earnings = {int(s): int(e) for s, e in conn.execute(text(
            "SELECT seller_id, SUM(total_amount) FROM video_daily_settlements GROUP BY seller_id"))}
        admin_id = _new_user(conn, "admin", "admin")
        stranger_id = _new_user(conn, "seller", "stranger")
    below, no_details, paid = sorted(sellers, key=lambda s: earnings[s])
    settings = replace(backend.settings, payout_threshold_won=earnings[below] + 1)
    with Session(bind=backend.engine) as session:
        for seller in (below, paid):
            set_payout_details(session, cipher(settings), session.get(User, seller), TEST_PASSWORD, DETAILS)
    if finalize:
        finalize_month(backend.engine, FEB, backend.settings.tz)
    run_id = 0
    if pay and finalize:
        with Session(bind=backend.engine) as session:
            admin = session.get(User, admin_id)
        run_id = create_payout_run(backend.engine, FEB, threshold_won=settings.payout_threshold_won).run_id
        transfer_file(backend.engine, cipher(settings), run_id, admin)
        with backend.engine.connect() as conn:
            reference, net = conn.execute(text("SELECT reference, net FROM payouts WHERE seller_id = :s"),
                                          {"s": paid}).one()
        import_results(backend.engine, f"reference,status,amount,reason\n{reference},paid,{net},\n")
    with Session(bind=backend.engine, expire_on_commit=False) as session:
        users = {u.id: u for u in session.query(User).all()}
        session.expunge_all()
    return MoneyScene(settings, users[paid], users[below], users[no_details], users[stranger_id], users[admin_id],
                      earnings, run_id)


@contextmanager
def scene_app(backend: Backend, **scene_options: bool) -> Iterator[tuple[MoneyScene, object, Inbox]]:
    """The scene, and a portal app over it whose mail goes to a real SMTP server's inbox."""
    from portal import create_app

    scene = money_scene(backend, **scene_options)
    with smtp_server() as (inbox, port):
        yield scene, create_app(replace(scene.settings, smtp_host="127.0.0.1", smtp_port=port)), inbox


@pytest.fixture(scope="module")
def money_backend(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A scratch MariaDB database for a test module's money scene (a fixture, made known in conftest.py)."""
    made = Backend("mariadb", redis_url, tmp_path_factory.mktemp("money"))
    yield made
    made.close()
