"""Payout details (§13): where a seller's money goes, validated, the account encrypted.

- Business registration numbers (사업자등록번호) are 10 digits whose last is a check digit
  (weights 1 3 7 1 3 7 1 3 5, plus the tens of the ninth digit × 5).
- Bank codes: the Korean bank list below (the one home of it; forms offer these).
- The account number is stored only as a Fernet token and its last 4 digits. Keys come from
  PAYOUT_DETAILS_KEY (comma-separated, MultiFernet: the first encrypts, all decrypt);
  rotation: prepend the new key, run `rotate_account_keys` (`paysystem rotate-payout-key`),
  then drop the old one. Without a key (development, tests) one is derived from SECRET_KEY
  with a warning; production refuses to start without it (settings.validate).
- A change needs the seller's password again (a stolen session alone cannot redirect the
  money) and is recorded; the result names the changed fields so the caller can mail them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.passwords import verify_password
from models.accounts.users import User
from models.base import utcnow
from models.errors import DomainError
from models.money.tables import Payout, PayoutDetails, PayoutDetailsChange
from models.money.withholding import BUSINESS, INDIVIDUAL

log = logging.getLogger(__name__)

BANKS: dict[str, str] = {
    "002": "KDB산업은행", "003": "IBK기업은행", "004": "KB국민은행", "011": "NH농협은행", "020": "우리은행",
    "023": "SC제일은행", "027": "한국씨티은행", "031": "대구은행", "032": "부산은행", "034": "광주은행",
    "035": "제주은행", "037": "전북은행", "039": "경남은행", "045": "새마을금고", "048": "신협",
    "071": "우체국", "081": "하나은행", "088": "신한은행", "089": "케이뱅크", "090": "카카오뱅크",
    "092": "토스뱅크",
}
_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_ACCOUNT = re.compile(r"^\d{10,16}$")


class InvalidPayoutDetails(DomainError):
    """Refused details; `fields` maps each refused field to its message (for the form, which
    shows each next to its field), `message` joins them (for the API and the command line)."""

    kind = "invalid"
    code = "invalid_payout_details"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **kwargs: str) -> None:
        super().__init__(message, **kwargs)
        self.fields = fields or {}


class WrongPassword(DomainError):
    kind = "forbidden"
    code = "wrong_password"


def business_number_ok(number: str) -> bool:
    """Whether a 10-digit business registration number's check digit is right."""
    if not re.fullmatch(r"\d{10}", number):
        return False
    digits = [int(c) for c in number]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=False)) + digits[8] * 5 // 10
    return (10 - total % 10) % 10 == digits[9]


def development_key(secret_key: str) -> str:
    """The Fernet key used when PAYOUT_DETAILS_KEY is unset (development and tests only)."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"payout-details:" + secret_key.encode()).digest()).decode()


def account_cipher(keys: Sequence[str], secret_key: str) -> MultiFernet:
    """The cipher of account numbers from PAYOUT_DETAILS_KEY's keys (first encrypts, all
    decrypt), or the development key derived from SECRET_KEY when there are none."""
    if not keys:
        log.warning("PAYOUT_DETAILS_KEY is not set: payout account numbers are encrypted with a key derived "
                    "from SECRET_KEY (development only)")
        keys = [development_key(secret_key)]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_account(cipher: MultiFernet, account: str) -> str:
    return cipher.encrypt(account.encode()).decode()


def decrypt_account(cipher: MultiFernet, token: str) -> str:
    """The clear account number (for the admins' transfer file only)."""
    try:
        return cipher.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise InvalidPayoutDetails("an account number cannot be decrypted with PAYOUT_DETAILS_KEY "
                                   "(was a key removed before rotating?)", code="undecryptable_account") from exc


@dataclass(frozen=True)
class DetailsInput:
    legal_name: str
    kind: str  # individual | business
    bank_code: str
    account_number: str
    holder_name: str
    business_number: str | None = None


def _clean(details: DetailsInput) -> DetailsInput:
    """The details normalised, or InvalidPayoutDetails naming every refused field at once."""
    name, holder = details.legal_name.strip(), details.holder_name.strip()
    account = re.sub(r"[\s-]", "", details.account_number)
    business = re.sub(r"[\s-]", "", details.business_number or "") or None
    problems: dict[str, str] = {}
    if not name or len(name) > 100:
        problems["legal_name"] = "the legal name is required (at most 100 characters)"
    if details.kind not in (INDIVIDUAL, BUSINESS):
        problems["kind"] = "the payee is an individual or a business"
    if details.kind == BUSINESS and (business is None or not business_number_ok(business)):
        problems["business_number"] = "the business registration number is not valid (10 digits, check digit)"
    if details.bank_code not in BANKS:
        problems["bank_code"] = f"unknown bank code {details.bank_code!r}"
    if not _ACCOUNT.match(account):
        problems["account_number"] = "the account number must be 10 to 16 digits"
    if not holder or len(holder) > 100:
        problems["holder_name"] = "the account holder's name is required (at most 100 characters)"
    if problems:
        raise InvalidPayoutDetails("; ".join(problems.values()), fields=problems)
    if details.kind == INDIVIDUAL:
        business = None
    return DetailsInput(name, details.kind, details.bank_code, account, holder, business)


def check_details(details: DetailsInput) -> DetailsInput:
    """The details normalised, or InvalidPayoutDetails naming every refused field (a form checks
    them before asking whether the password is right, so every problem shows at once)."""
    return _clean(details)


@dataclass(frozen=True)
class DetailsChanged:
    """What changed (field names, never values): the seam for the "details changed" mail."""

    seller_id: int
    fields: tuple[str, ...]
    changed_at: datetime


def set_payout_details(session: Session, cipher: MultiFernet, seller: User, password: str,
                       details: DetailsInput) -> DetailsChanged:
    """Validate and store the seller's payout details after checking their password; commits."""
    if not verify_password(seller.password_hash, password):
        raise WrongPassword("the password is not right")
    clean = _clean(details)
    now = utcnow()
    row = session.get(PayoutDetails, seller.id, with_for_update=True)
    if row is None:
        row = PayoutDetails(seller_id=seller.id)
        session.add(row)
        old_account = None
    else:
        old_account = decrypt_account(cipher, row.account_encrypted)
    changed = [f for f in ("legal_name", "kind", "business_number", "bank_code", "holder_name")
               if getattr(row, f, None) != getattr(clean, f)]
    if old_account != clean.account_number:
        changed.append("account_number")
        row.account_encrypted = encrypt_account(cipher, clean.account_number)
        row.account_last4 = clean.account_number[-4:]
    for f in ("legal_name", "kind", "business_number", "bank_code", "holder_name"):
        setattr(row, f, getattr(clean, f))
    row.updated_at = now
    if changed:
        session.add(PayoutDetailsChange(seller_id=seller.id, changed_by=seller.id, changed_at=now,
                                        fields=",".join(changed)))
    session.commit()
    return DetailsChanged(seller.id, tuple(changed), now)


@dataclass(frozen=True)
class ShownDetails:
    """What may be shown of the details: never the account number, only its last 4 digits."""

    legal_name: str
    kind: str
    business_number: str | None
    bank_code: str
    bank_name: str
    account_last4: str
    holder_name: str


def shown_details(session: Session, seller_id: int) -> ShownDetails | None:
    row = session.get(PayoutDetails, seller_id)
    if row is None:
        return None
    return ShownDetails(row.legal_name, row.kind, row.business_number, row.bank_code, BANKS.get(row.bank_code, "?"),
                        row.account_last4, row.holder_name)


def rotate_account_keys(session: Session, cipher: MultiFernet) -> int:
    """Re-encrypt every stored account number (details and payouts) with the first key;
    returns how many; commits. All or nothing: a token no key opens refuses the rotation."""
    count = 0
    try:
        for row in session.scalars(select(PayoutDetails).with_for_update()):
            row.account_encrypted = cipher.rotate(row.account_encrypted.encode()).decode()
            count += 1
        for payout in session.scalars(select(Payout).with_for_update()):
            payout.account_encrypted = cipher.rotate(payout.account_encrypted.encode()).decode()
            count += 1
    except InvalidToken as exc:
        session.rollback()
        raise InvalidPayoutDetails("an account number cannot be decrypted with any PAYOUT_DETAILS_KEY; "
                                   "nothing was re-encrypted", code="undecryptable_account") from exc
    session.commit()
    return count
