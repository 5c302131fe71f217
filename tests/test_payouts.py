"""§13 payouts on MariaDB with the real batch: payout details (check digit, banks, encryption,
password), payout runs once under parallel callers, withholding, carries, paid/failed, the
transfer file and the result CSV."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from models import Role
from models.money.payout_details import (
    DetailsInput,
    InvalidPayoutDetails,
    WrongPassword,
    business_number_ok,
    decrypt_account,
    development_key,
    rotate_account_keys,
    set_payout_details,
    shown_details,
)
from settings import generate_fernet_key
from tests.support import TEST_PASSWORD

VALID_BUSINESS = "1248100998"  # a published, valid number (check digit 8)
INDIVIDUAL = DetailsInput(legal_name="김민수", kind="individual", bank_code="088", account_number="110-123-456789",
                          holder_name="김민수")


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
            set_payout_details(session, settings, seller, "not the password", INDIVIDUAL)
        for bad, message in [
            (DetailsInput("x", "business", "088", "1101234567", "x", "1248100997"), "business registration"),
            (DetailsInput("x", "business", "088", "1101234567", "x", None), "business registration"),
            (DetailsInput("x", "individual", "999", "1101234567", "x"), "unknown bank code"),
            (DetailsInput("x", "individual", "088", "12-34", "x"), "10 to 16 digits"),
            (DetailsInput(" ", "individual", "088", "1101234567", "x"), "legal name"),
            (DetailsInput("x", "company", "088", "1101234567", "x"), "individual or a business"),
        ]:
            with pytest.raises(InvalidPayoutDetails, match=message):
                set_payout_details(session, settings, seller, TEST_PASSWORD, bad)
        assert session.execute(text("SELECT COUNT(*) FROM payout_details WHERE seller_id = :s"),
                               {"s": seller.id}).scalar() == 0

        changed = set_payout_details(session, settings, seller, TEST_PASSWORD, INDIVIDUAL)
        assert set(changed.fields) == {"legal_name", "kind", "bank_code", "holder_name", "account_number"}
        stored = session.execute(text("SELECT account_encrypted, account_last4 FROM payout_details "
                                      "WHERE seller_id = :s"), {"s": seller.id}).one()
        assert "123456789" not in stored[0] and stored[1] == "6789"
        assert decrypt_account(settings, stored[0]) == "110123456789"
        shown = shown_details(session, seller.id)
        assert shown.account_last4 == "6789" and shown.bank_name == "신한은행"
        assert "110123456789" not in repr(shown)

        again = set_payout_details(session, settings, seller, TEST_PASSWORD,
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
        set_payout_details(session, old, seller, TEST_PASSWORD, INDIVIDUAL)
        # (the other tests' rows here were stored with the development key)
        rotated = replace(settings, payout_details_keys=(generate_fernet_key(), *old.payout_details_keys,
                                                         development_key(settings.secret_key)))
        assert rotate_account_keys(session, rotated) >= 1
        token = session.execute(text("SELECT account_encrypted FROM payout_details WHERE seller_id = :s"),
                                {"s": seller.id}).scalar()
        new_only = replace(settings, payout_details_keys=rotated.payout_details_keys[:1])
        assert decrypt_account(new_only, token) == "110123456789"
        with pytest.raises(InvalidPayoutDetails):
            decrypt_account(old, token)


def _session(engine):
    return Session(bind=engine)
