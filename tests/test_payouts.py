"""§13 payouts on MariaDB with the real batch: payout details (check digit, banks, encryption,
password), payout runs once under parallel callers, withholding, carries, paid/failed, the
transfer file and the result CSV."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from models import Role, User
from models.accounts.passwords import hash_password
from models.business_time import days_between, month_range
from models.money import ledger
from models.money.payout_details import (
    DetailsInput,
    InvalidPayoutDetails,
    WrongPassword,
    account_cipher,
    business_number_ok,
    decrypt_account,
    development_key,
    rotate_account_keys,
    set_payout_details,
    shown_details,
)
from models.money.payouts import (
    BadResultFile,
    NotAllowed,
    PayoutRefused,
    create_payout_run,
    import_results,
    is_verified,
    place_hold,
    record_result,
    release_hold,
    transfer_file,
)
from models.money.statements import finalize_month
from settings import Settings, generate_fernet_key
from tests.batch_support import Backend, World, add_plan
from tests.money_support import expected_lines, month_world, parallel, reset, run_month
from tests.support import TEST_PASSWORD, unique_email
from tests.test_cli import run_cli

VALID_BUSINESS = "1248100998"  # a published, valid number (check digit 8)
INDIVIDUAL = DetailsInput(legal_name="김민수", kind="individual", bank_code="088", account_number="110-123-456789",
                          holder_name="김민수")


def _cipher(settings: Settings):
    return account_cipher(settings.payout_details_keys, settings.secret_key)


@pytest.mark.parametrize(("number", "ok"), [
    (VALID_BUSINESS, True), ("1248100997", False), ("2208162517", True), ("2208162518", False),
    ("124810099", False), ("12481009981", False), ("12481OO998", False),
])
def test_business_registration_check_digit(number, ok):
    assert business_number_ok(number) is ok


def test_details_are_validated_encrypted_and_need_the_password(settings, make_user, session_factory):
    seller = make_user(Role.SELLER)
    with session_factory() as session:
        with pytest.raises(WrongPassword):
            set_payout_details(session, _cipher(settings), seller, "not the password", INDIVIDUAL)
        for bad, message in [
            (DetailsInput("x", "business", "088", "1101234567", "x", "1248100997"), "business registration"),
            (DetailsInput("x", "business", "088", "1101234567", "x", None), "business registration"),
            (DetailsInput("x", "individual", "999", "1101234567", "x"), "unknown bank code"),
            (DetailsInput("x", "individual", "088", "12-34", "x"), "10 to 16 digits"),
            (DetailsInput(" ", "individual", "088", "1101234567", "x"), "legal name"),
            (DetailsInput("x", "company", "088", "1101234567", "x"), "individual or a business"),
        ]:
            with pytest.raises(InvalidPayoutDetails, match=message):
                set_payout_details(session, _cipher(settings), seller, TEST_PASSWORD, bad)
        assert session.execute(text("SELECT COUNT(*) FROM payout_details WHERE seller_id = :s"),
                               {"s": seller.id}).scalar() == 0

        changed = set_payout_details(session, _cipher(settings), seller, TEST_PASSWORD, INDIVIDUAL)
        assert set(changed.fields) == {"legal_name", "kind", "bank_code", "holder_name", "account_number"}
        stored = session.execute(text("SELECT account_encrypted, account_last4 FROM payout_details "
                                      "WHERE seller_id = :s"), {"s": seller.id}).one()
        assert "123456789" not in stored[0] and stored[1] == "6789"
        assert decrypt_account(_cipher(settings), stored[0]) == "110123456789"
        shown = shown_details(session, seller.id)
        assert shown.account_last4 == "6789" and shown.bank_name == "신한은행"
        assert "110123456789" not in repr(shown)

        again = set_payout_details(session, _cipher(settings), seller, TEST_PASSWORD,
                                   DetailsInput("김민수", "business", "088", "110123456789", "김민수", VALID_BUSINESS))
        assert again.fields == ("kind", "business_number")
        changes = session.execute(text("SELECT fields FROM payout_details_changes WHERE seller_id = :s ORDER BY id"),
                                  {"s": seller.id}).scalars().all()
        assert changes == ["legal_name,kind,bank_code,holder_name,account_number", "kind,business_number"]


def test_account_keys_rotate(settings, make_user, session_factory):
    from dataclasses import replace

    old = replace(settings, payout_details_keys=(generate_fernet_key(),))
    seller = make_user(Role.SELLER)
    with session_factory() as session:
        set_payout_details(session, _cipher(old), seller, TEST_PASSWORD, INDIVIDUAL)
        # (the other tests' rows here were stored with the development key)
        rotated = replace(settings, payout_details_keys=(generate_fernet_key(), *old.payout_details_keys,
                                                         development_key(settings.secret_key)))
        assert rotate_account_keys(session, _cipher(rotated)) >= 1
        token = session.execute(text("SELECT account_encrypted FROM payout_details WHERE seller_id = :s"),
                                {"s": seller.id}).scalar()
        new_only = replace(settings, payout_details_keys=rotated.payout_details_keys[:1])
        assert decrypt_account(_cipher(new_only), token) == "110123456789"
        with pytest.raises(InvalidPayoutDetails):
            decrypt_account(_cipher(old), token)
        with pytest.raises(InvalidPayoutDetails, match="nothing was re-encrypted"):  # the old key alone
            rotate_account_keys(session, _cipher(old))
        assert session.execute(text("SELECT account_encrypted FROM payout_details WHERE seller_id = :s"),
                               {"s": seller.id}).scalar() == token


# ------------------------------------------------------------------ payout runs (real batch, MariaDB)

FEB = date(2026, 2, 1)
# Money is what these tests check, not the batch's partitioning (tests/test_batch_*.py): one
# partition per day runs the months they need in half the time.
BACKEND_SETTINGS = {"batch_partitions": 1}
RICH_PLAN = [(1, None, 10_000_000, 50_000_000)]  # 1,000 won a view, 5,000 won an ad view


@dataclass
class Scene:
    backend: Backend
    settings: Settings
    sellers: list[int]
    earnings: dict[int, int]  # from the raw rows
    paid: list[int]
    admin: User
    viewer: User


def _user(conn, user_id):
    return Session(bind=conn).get(User, user_id)


def _scene(backend) -> Scene:
    reset(backend)
    world = World()
    add_plan(backend.engine, world, date(2026, 1, 1), "daily", RICH_PLAN)
    world2, sellers = month_world(backend, [FEB], sellers=5, videos=10, sessions_per_month=150)
    world2.plans = world.plans
    run_month(backend, FEB)
    finalize_month(backend.engine, FEB, backend.settings.tz)
    lines = expected_lines(backend, world2, set(days_between(*month_range(FEB))), FEB)
    earnings = {s: sum(v[4] for (seller, _), v in lines.items() if seller == s) for s in sellers}
    ranked = sorted(sellers, key=lambda s: earnings[s])
    smallest, no_details, held, individual, business = ranked
    settings = backend.with_settings(payout_threshold_won=earnings[smallest] + 1)
    with backend.engine.begin() as conn:
        conn.execute(text("UPDATE users SET password_hash = :h"), {"h": hash_password(TEST_PASSWORD)})
        admin_id = conn.execute(insert(User).values(email=unique_email("admin"), display_name="admin", role="admin",
                                                    is_active=True)).inserted_primary_key[0]
    with Session(bind=backend.engine) as session:
        admin = session.get(User, admin_id)
        with pytest.raises(NotAllowed):
            place_hold(session, held, "fraud review", session.get(User, individual))
        stale = place_hold(session, individual, "checked, fine", admin)
        assert release_hold(session, stale, admin) is True and release_hold(session, stale, admin) is False
        place_hold(session, held, "fraud review", admin)
        for seller in (smallest, held, individual):
            set_payout_details(session, _cipher(settings), session.get(User, seller), TEST_PASSWORD,
                               replace(INDIVIDUAL, account_number=f"1100000{seller:05d}"))
        set_payout_details(session, _cipher(settings), session.get(User, business), TEST_PASSWORD,
                           DetailsInput("주식회사 페이", "business", "004", f"2200000{business:05d}", "주식회사 페이",
                                        VALID_BUSINESS))
    with backend.engine.connect() as conn:
        admin, viewer = _user(conn, admin_id), _user(conn, world2.sessions[0]["viewer_id"])
    return Scene(backend, settings, sellers, earnings, [individual, business], admin, viewer)


def _payouts(backend):
    with backend.engine.connect() as conn:
        return {r.seller_id: r for r in conn.execute(text("SELECT * FROM payouts"))}


def test_a_payout_run_pays_the_eligible_once_and_carries_the_rest(backend):
    scene = _scene(backend)
    results, errors = parallel(6, lambda engine: create_payout_run(engine, FEB, threshold_won=scene.settings.payout_threshold_won), backend.url)
    assert len(results) == 1 and len(errors) == 5
    assert all(isinstance(e, PayoutRefused) and e.code == "payout_run_exists" for e in errors), errors
    run = results[0]
    smallest, no_details, held, individual, business = sorted(scene.sellers, key=lambda s: scene.earnings[s])
    assert run.carried == {smallest: "below_threshold", no_details: "no_payout_details", held: "on_hold"}
    payouts = _payouts(backend)
    assert set(payouts) == {individual, business}
    for seller, kind in ((individual, "individual"), (business, "business")):
        p = payouts[seller]
        gross = scene.earnings[seller]
        income = gross * 3 // 100 // 10 * 10 if kind == "individual" else 0
        income, local = (income, income // 10 // 10 * 10) if income >= 1000 else (0, 0)
        assert (p.gross, p.income_tax, p.local_tax, p.net, p.state) == (
            gross, income, local, gross - income - local, "scheduled")
    assert payouts[individual].income_tax > 0
    with backend.engine.connect() as conn:
        assert ledger.check(conn) == []
        assert ledger.balances(conn) == {s: (0 if s in scene.paid else e) for s, e in scene.earnings.items()}
        carried = dict(conn.execute(text("SELECT seller_id, balance FROM payout_carries")).all())
    assert carried == {s: scene.earnings[s] for s in (smallest, no_details, held)}
    with pytest.raises(PayoutRefused, match="already exists"):
        create_payout_run(backend.engine, "2026-02", threshold_won=scene.settings.payout_threshold_won)
    with pytest.raises(PayoutRefused, match="not final"):
        create_payout_run(backend.engine, "2026-03", threshold_won=scene.settings.payout_threshold_won)


def test_transfer_file_results_and_failure_returning_the_gross(backend):
    scene = _scene(backend)
    run = create_payout_run(backend.engine, FEB, threshold_won=scene.settings.payout_threshold_won)
    individual, business = scene.paid
    with pytest.raises(NotAllowed):
        transfer_file(backend.engine, _cipher(scene.settings), run.run_id, scene.viewer)
    csv_text = transfer_file(backend.engine, _cipher(scene.settings), run.run_id, scene.admin)
    payouts = _payouts(backend)
    rows = [line.split(",") for line in csv_text.strip().split("\n")]
    assert rows[0] == ["bank_code", "account_number", "holder", "net", "reference"]
    assert sorted(rows[1:]) == sorted([
        ["088", f"1100000{individual:05d}", "김민수", str(payouts[individual].net), payouts[individual].reference],
        ["004", f"2200000{business:05d}", "주식회사 페이", str(payouts[business].net), payouts[business].reference]])
    assert {p.state for p in _payouts(backend).values()} == {"sent"}
    with backend.engine.connect() as conn:
        assert conn.execute(text("SELECT exported_by, `rows` FROM payout_transfer_exports")).all() == [
            (scene.admin.id, 2)]

    ref_i, ref_b = payouts[individual].reference, payouts[business].reference
    header = "reference,status,amount,reason\n"
    for bad, message in [
        (header + f"{ref_i},paid,{payouts[individual].net},\nPS-000000-1,paid,5,\n", "unknown reference"),
        (header + f"{ref_i},paid,{payouts[individual].net + 1},\n", "does not match"),
        (header + f"{ref_i},paid,{payouts[individual].net},\n{ref_i},paid,{payouts[individual].net},\n", "twice"),
        (header + f"{ref_i},bounced,{payouts[individual].net},\n", "paid or failed"),
        (header + f"{ref_b},failed,{payouts[business].net},\n", "needs a reason"),
        ("ref,status\n", "first line"),
    ]:
        with pytest.raises(BadResultFile, match=message):
            import_results(backend.engine, bad)
        assert {p.state for p in _payouts(backend).values()} == {"sent"}  # nothing half-applied

    settled = import_results(backend.engine, header + f"{ref_i},paid,{payouts[individual].net},\n"
                                                      f"{ref_b},failed,{payouts[business].net},account closed\n")
    assert [s[0] for s in settled.paid] == [ref_i] and [s[0] for s in settled.failed] == [ref_b]
    after = _payouts(backend)
    assert (after[individual].state, after[business].state, after[business].failure_reason) == (
        "paid", "failed", "account closed")
    with pytest.raises(BadResultFile, match="only a sent payout"):
        record_result(backend.engine, ref_i, "failed", reason="late")
    with backend.engine.connect() as conn:
        assert ledger.check(conn) == []
        balances = ledger.balances(conn)
        assert balances[individual] == 0 and balances[business] == scene.earnings[business]
        taxes = conn.execute(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_postings "
                                  "WHERE account = 'tax_withheld'")).scalar()
        assert taxes == after[individual].income_tax + after[individual].local_tax
    assert run_cli("ledger-check", env={"DATABASE_URL": backend.url}).returncode == 0
    with backend.engine.begin() as conn:  # a payout's taxes moved to cash: still balanced, but wrong
        conn.execute(text("UPDATE ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id "
                          "SET p.amount = p.amount + 10 WHERE e.kind = 'payout' AND p.account = 'cash' "
                          "AND e.seller_id = :s"), {"s": individual})
        conn.execute(text("UPDATE ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id "
                          "SET p.amount = p.amount - 10 WHERE e.kind = 'payout' AND p.account = 'tax_withheld' "
                          "AND e.seller_id = :s"), {"s": individual})
    broken = run_cli("ledger-check", env={"DATABASE_URL": backend.url})
    assert broken.returncode == 1 and "does not post its gross, taxes and net" in broken.stderr


def test_is_verified_is_the_accounts_rule():
    assert is_verified(User(email="x@example.test", email_verified_at=None)) is False
    assert is_verified(User(email="x@example.test", email_verified_at=datetime(2026, 1, 1, tzinfo=UTC))) is True


@pytest.mark.parametrize(("balance", "held", "has_details", "verified", "reason"), [
    (-5, False, True, True, "negative_balance"),
    (50_000, True, True, True, "on_hold"),
    (9_999, False, True, True, "below_threshold"),
    (10_000, False, False, True, "no_payout_details"),
    (10_000, False, True, False, "email_not_verified"),
    (10_000, False, True, True, None),
])
def test_why_a_balance_is_carried(balance, held, has_details, verified, reason):
    from models.money.payouts import carry_reason
    from models.money.tables import PayoutDetails

    seller = User(email="s@example.test", email_verified_at=datetime(2026, 1, 1, tzinfo=UTC) if verified else None)
    details = PayoutDetails(seller_id=1) if has_details else None
    assert carry_reason(balance, 10_000, held, details, seller) == reason
