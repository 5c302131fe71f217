"""Password hashing with argon2 (argon2-cffi's recommended parameters)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# PasswordHasher()'s defaults
_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def hash_at_minimal_cost() -> None:
    """For the test suite only (tests/conftest.py): new hashes at argon2's cheapest setting.

    The suite makes thousands of accounts, and at the standard cost (3 passes over 64 MiB, about
    60 ms of both cores each) hashing was the largest share of its CPU time (a whole run: 615 s
    of CPU before, 384 s after, both on a busy machine). Hashes carry their parameters, so either
    kind verifies anywhere, and a server started by a test upgrades a cheap hash on sign-in."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(24))


def verify_password(password_hash: str | None, password: str) -> bool:
    """False for a wrong password and for accounts without a password (social-only).

    Without a hash it still runs one argon2 verification against a decoy, so an unknown
    e-mail or a social-only account cannot be told apart from a wrong password by timing.
    """
    try:
        if not password_hash:
            _hasher.verify(_decoy_hash(), password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
