"""Passwords are hashed at argon2-cffi's standard cost (RFC 9106's low-memory profile); only the
test suite lowers it for its own accounts (tests/conftest.py), so the real cost is checked in a
process of its own."""

from __future__ import annotations

import subprocess
import sys

from settings import PROJECT_ROOT

_HASH = """
from argon2 import extract_parameters
from models.accounts import passwords
if {minimal}:
    passwords.hash_at_minimal_cost()
stored = passwords.hash_password("a-long-password-1")
p = extract_parameters(stored)
print(p.time_cost, p.memory_cost, p.parallelism, passwords.verify_password(stored, "a-long-password-1"))
"""


def _parameters(minimal: bool) -> list[str]:
    return subprocess.run([sys.executable, "-c", _HASH.format(minimal=minimal)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=True).stdout.split()


def test_a_process_hashes_at_the_standard_cost_and_the_suite_at_the_minimal_one() -> None:
    assert _parameters(minimal=False) == ["3", "65536", "4", "True"]
    assert _parameters(minimal=True) == ["1", "8", "1", "True"]
